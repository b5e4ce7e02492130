"""BuildDataFrame: tabulate the results of a folder of CSC runs in one CSV.

Default: the classification table, four rows per run (weighted F1 over all classes and F1 of
glacier ice, for phase 1 (CNN) and phase 2 (CSC)), from the pooled OvPdat_*.npz label files
of each run. With --calving: the calving-front error table (mode, median, mean and standard
deviation of the one-directional front distances of each run, manual to predicted, as
published; beside them, per run, Front_MDE_m, the mean distance error of the CaFFe benchmark
with both directions pooled, MDE_Count and Images_no_front, the images with a manual front but
no predicted one, counted apart and not scored). With --valley-margin DIR: the valley-margin
error table (predicted rock boundaries against the VM_<stem>.tif rasters in DIR); it also
writes each image's margin distances as <run>/valley_margins/<stem>_vmdistances.npy. Each run is
described (patch size, tile size, bands, CNN training, glacier, validation) from its run.json,
else from whole tokens of its folder name (Hel/Jak/Sto, NIR or RGBNIR, joint, patch<k>, _50_).
Validation comes from CSC.py --validation seen|unseen (or a Validation column of the jobs
CSV); without it, from the model's training record, else the paper's rule on a glacier token
of the run folder's name (Helheim Seen, Jakobshavn and Store Unseen). Where each field came
from is logged. Unfinished runs and images (not marked
complete in run.json) are skipped with a warning naming them; run folders without run.json
are read as published, complete runs.
"""
# ==== USER INPUTS ====
RunsDir = "Results"              # RUNS_DIR: folder holding one sub-folder per CSC run
OutCSV = "FinalDataFrame.csv"    # --out: the table to write (CSV)
Subsample = 10000000             # --subsample: at most this many pixels per run for F1 (0: all)
Seed = 0                         # --seed: seed of the pixel subsample
Calving = False                  # --calving: build the calving-front error table instead
ValleyMargin = ""                # --valley-margin: folder of VM_<stem>.tif; valley-margin table
PixelSize = 0.0                  # --pixel-size: metres per pixel of PNG rasters (0: none); GeoTIFFs use their own, and a value that disagrees with it is refused
ModeBin = 10.0                   # --mode-bin: Mode of the distances in bins of this many metres (0: the exact most common value, as published)
# ==== END OF USER INPUTS ====

import logging
from pathlib import Path

from seeice.results.margins import valley_margin_table
from seeice.results.tables import calving_table, classification_table
from seeice.io.atomic import write_csv
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError

log = logging.getLogger("seeice.sweeps.batch")


def main(cfg):
    if cfg.Calving and cfg.ValleyMargin:
        raise ConfigError("--calving and --valley-margin each build their own table; give one "
                          "of them per run of BuildDataFrame.")
    if cfg.Calving:
        table = calving_table(cfg.RunsDir, mode_bin=cfg.ModeBin)
    elif cfg.ValleyMargin:
        table = valley_margin_table(cfg.RunsDir, cfg.ValleyMargin,
                                    pixel_size=cfg.PixelSize or None, mode_bin=cfg.ModeBin)
    else:
        table = classification_table(cfg.RunsDir, subsample=cfg.Subsample, seed=cfg.Seed)
    out = Path(cfg.OutCSV)
    write_csv(out, table)
    save_run_config(out.parent, cfg, script="BuildDataFrame.py", filename=f"{out.stem}.run.json",
                    extra={"runs": sorted(table["Run"].unique().tolist())})
    log.info("wrote %s (%d rows, %d runs)", out, len(table), table["Run"].nunique())


if __name__ == "__main__":
    run_script(__file__, main)

"""SweepSummary: one figure summarising a parameter sweep of CSC runs.

Per glacier: weighted F1 by patch size and by tile size, phase 1 (CNN) against phase 2 (CSC),
and the calving-front error (median and mean) by patch size. The tables behind it are built as
BuildDataFrame does (F1 from the pooled OvPdat_*.npz files of each run, subsampled; front
errors from the *_cfdistances.npy files). Unfinished runs and images (not marked complete in
run.json) are skipped with a warning naming them.
"""
# ==== USER INPUTS ====
RunsDir = "Results"              # RUNS_DIR: folder holding one sub-folder per CSC run
OutPNG = "SweepSummary.png"      # --out: the figure to write
Subsample = 10000000             # --subsample: at most this many pixels per run for F1 (0: all)
Seed = 0                         # --seed: seed of the pixel subsample
DPI = 150                        # --dpi: figure resolution
# ==== END OF USER INPUTS ====

import logging
from pathlib import Path

from seeice.results.figures import sweep_summary_figure
from seeice.results.tables import calving_table, classification_table
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config
from seeice.errors import DataError

log = logging.getLogger("seeice.sweeps.batch")


def main(cfg):
    classes = classification_table(cfg.RunsDir, subsample=cfg.Subsample, seed=cfg.Seed)
    try:
        fronts = calving_table(cfg.RunsDir)
    except DataError as exc:
        log.warning("no calving-front panels: %s", exc)
        fronts = None
    out = Path(cfg.OutPNG)
    sweep_summary_figure(classes, fronts, out, dpi=cfg.DPI)
    save_run_config(out.parent, cfg, script="SweepSummary.py", filename=f"{out.stem}.run.json",
                    extra={"runs": sorted(classes["Run"].unique().tolist())})
    log.info("wrote %s", out)


if __name__ == "__main__":
    run_script(__file__, main)

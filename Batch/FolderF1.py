"""FolderF1: the pooled per-class report of one CSC run folder, for both phases.

Pools the run's OvPdat_*.npz label files (ours, or the published arr_0 layout), drops pixels
labelled 0 in truth, CNN or CSC, draws at most Subsample pixels, and reports per class the
precision, recall, F1 and support of phase one (CNN tiles) and phase two (CSC), with the
accuracy and the macro and weighted averages, as the published FolderF1 printed them. The run's
description (glacier, patch size, tile size, bands, CNN training) is logged with it. The
reports are written as one CSV (column CSC_Phase 1 / 2). An unfinished run (run.json not marked
complete) is refused; only the images run.json lists as complete are read.
"""
# ==== USER INPUTS ====
RunDir = "Results/Hel_S2_patch7"  # RUN_DIR: one CSC run folder (<OutFolder>_patch<k>)
OutCSV = ""                       # --out: the report CSV to write (empty: RUN_DIR/folder_f1.csv)
Subsample = 1000000               # --subsample: at most this many pixels (0: all)
Seed = 0                          # --seed: seed of the pixel subsample
# ==== END OF USER INPUTS ====

import logging
from pathlib import Path

from seeice.config.inputs import save_run_config
from seeice.config.runner import run_script
from seeice.io.atomic import write_csv
from seeice.results.folder_report import folder_report

log = logging.getLogger("seeice.sweeps.batch")


def main(cfg):
    run_dir = Path(cfg.RunDir)
    report = folder_report(run_dir, subsample=cfg.Subsample, seed=cfg.Seed)
    out = Path(cfg.OutCSV) if cfg.OutCSV else run_dir / "folder_f1.csv"
    write_csv(out, report)
    save_run_config(out.parent, cfg, script="FolderF1.py", filename=f"{out.stem}.run.json")
    log.info("wrote %s", out)


if __name__ == "__main__":
    run_script(__file__, main)

"""ErrorHistogram: histogram of the calving-front errors of one CSC run.

Pools the run's <stem>_cfdistances.npy files (distance in metres from each manual front pixel
to the nearest predicted front pixel), draws their histogram in 10 m bins, logs the share of
errors under 100 m with the mode, median, mean and standard deviation, and warns about every
image with an error over 1000 m (a catastrophic front). An unfinished run (run.json not marked
complete) is refused; only the images run.json lists as complete are read.
"""
# ==== USER INPUTS ====
RunDir = "Results/Hel_S2_patch7"  # RUN_DIR: one CSC run folder (<OutFolder>_patch<k>)
OutPNG = ""                       # --out: the figure to write (empty: RUN_DIR/error_histogram.png)
BinM = 10.0                       # --bin: bin width in metres
DPI = 150                         # --dpi: figure resolution
# ==== END OF USER INPUTS ====

import logging
from pathlib import Path

import numpy as np

from seeice.metrics.distances import distance_stats, error_histogram
from seeice.results.completeness import require_complete_run
from seeice.results.figures import error_histogram_figure
from seeice.results.tables import run_front_distances
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config
from seeice.errors import DataError, InputFileError

log = logging.getLogger("seeice.sweeps.batch")


def main(cfg):
    run_dir = Path(cfg.RunDir)
    if not run_dir.is_dir():
        raise InputFileError(f"run folder {run_dir} does not exist. Give one CSC run folder "
                             "(<OutFolder>_patch<k>).")
    require_complete_run(run_dir)
    per_image = run_front_distances(run_dir)
    if not per_image:
        raise DataError(f"{run_dir} holds no *_cfdistances.npy files: no front was validated in "
                        "this run (EDGE_ rasters missing, or no front found).")
    distances = np.concatenate(list(per_image.values()))
    _, _, share = error_histogram(distances, cfg.BinM)
    stats = distance_stats(distances)
    log.info("%s: %d front pixels from %d image(s); %.1f %% of errors under 100 m", run_dir.name,
             distances.size, len(per_image), 100 * share)
    log.info("mode %.0f m, median %.1f m, mean %.1f m, st.dev %.1f m", stats["mode"],
             stats["median"], stats["mean"], stats["std"])
    out = Path(cfg.OutPNG) if cfg.OutPNG else run_dir / "error_histogram.png"
    error_histogram_figure(distances, out, title=f"{run_dir.name}: calving-front error",
                           bin_m=cfg.BinM, dpi=cfg.DPI)
    save_run_config(out.parent, cfg, script="ErrorHistogram.py", filename=f"{out.stem}.run.json",
                    extra={"share_under_100m": share, "statistics": stats,
                           "images": sorted(per_image)})
    log.info("wrote %s", out)


if __name__ == "__main__":
    run_script(__file__, main)

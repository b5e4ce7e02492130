"""ErrorHistogram: histogram of the calving-front errors of one CSC run.

Pools the run's <stem>_cfdistances.npy files (distance in metres from each manual front pixel
to the nearest predicted front pixel), draws their histogram in 10 m bins, logs the share of
errors under 100 m with the mode, median, mean and standard deviation, and warns about every
image with an error over Catastrophic metres (a catastrophic front; 1000 m as published), each
of which also gets a histogram of its own, <out>_<stem>.png beside the run's figure (as the
published CalvingFront_ErrorHist drew them). An unfinished run (run.json not marked
complete) is refused; only the images run.json lists as complete are read.
"""
# ==== USER INPUTS ====
RunDir = "Results/Hel_S2_patch7"  # RUN_DIR: one CSC run folder (<OutFolder>_patch<k>)
OutPNG = ""                       # --out: the figure to write (empty: RUN_DIR/error_histogram.png)
BinM = 10.0                       # --bin: bin width in metres
DPI = 150                         # --dpi: figure resolution
ModeBin = 10.0                    # --mode-bin: Mode of the errors in bins of this many metres (0: the exact most common value, as published)
Catastrophic = 1000.0             # --catastrophic: images with a front error over this many metres get a histogram of their own (0: none)
# ==== END OF USER INPUTS ====

import logging
from pathlib import Path

import numpy as np

from seeice.metrics.distances import distance_stats, error_histogram, warn_catastrophic
from seeice.results.completeness import require_complete_run
from seeice.results.figures import error_histogram_figure
from seeice.results.tables import run_front_distances
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError, DataError

log = logging.getLogger("seeice.sweeps.batch")


def main(cfg):
    run_dir = Path(cfg.RunDir)
    require_complete_run(run_dir)
    if cfg.Catastrophic < 0:
        raise ConfigError(f"--catastrophic must be metres >= 0 (0: no per-image histograms), "
                          f"got {cfg.Catastrophic}.")
    per_image = run_front_distances(run_dir, warn=False)
    if not per_image:
        raise DataError(f"{run_dir} holds no *_cfdistances.npy files: no front was validated in "
                        "this run (EDGE_ rasters missing, or no front found).")
    distances = np.concatenate(list(per_image.values()))
    _, _, share = error_histogram(distances, cfg.BinM)
    stats = distance_stats(distances, cfg.ModeBin)
    log.info("%s: %d front pixels from %d image(s); %.1f %% of errors under 100 m", run_dir.name,
             distances.size, len(per_image), 100 * share)
    log.info("mode %.1f m, median %.1f m, mean %.1f m, st.dev %.1f m", stats["mode"],
             stats["median"], stats["mean"], stats["std"])
    out = Path(cfg.OutPNG) if cfg.OutPNG else run_dir / "error_histogram.png"
    error_histogram_figure(distances, out, title=f"{run_dir.name}: calving-front error",
                           bin_m=cfg.BinM, dpi=cfg.DPI, mode_bin=cfg.ModeBin)
    catastrophic = {}
    for stem, image_distances in per_image.items():
        if cfg.Catastrophic and warn_catastrophic(image_distances, f"run {run_dir.name}, image "
                                                  f"{stem}", limit_m=cfg.Catastrophic):
            catastrophic[stem] = out.with_name(f"{out.stem}_{stem}{out.suffix}")
            error_histogram_figure(image_distances, catastrophic[stem],
                                   title=f"Catastrophic error for {stem}", bin_m=cfg.BinM,
                                   dpi=cfg.DPI, mode_bin=cfg.ModeBin)
            log.info("wrote %s", catastrophic[stem])
    save_run_config(out.parent, cfg, script="ErrorHistogram.py", filename=f"{out.stem}.run.json",
                    extra={"share_under_100m": share, "statistics": stats,
                           "images": sorted(per_image),
                           "catastrophic_images": {k: str(v) for k, v in catastrophic.items()}})
    log.info("wrote %s", out)


if __name__ == "__main__":
    run_script(__file__, main)

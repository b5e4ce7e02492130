"""ClearJoint: keep validation out of sample after joint fine-tuning.

In every joint-training run (its CNN was fine-tuned jointly: run.json model training says
"joint": true or names the model it was fine-tuned from; for runs without run.json, "joint" in
the folder name) removes the results of the images used in the joint fine-tuning:
OvPdat_*.npz, CNN_/CSC_ report CSVs, *_cfdistances.npy, *_classified.tif, *_front.gpkg and
the CSC figures, and drops their rows from summary.csv. Runs with a single-glacier CNN are
left alone. Use --dry-run first to list what would go.
"""
# ==== USER INPUTS ====
RunsDir = "Results"     # RUNS_DIR: folder holding one sub-folder per CSC run
JointImages = ""        # --joint-images: images used in joint fine-tuning (empty: run.json list)
DryRun = False          # --dry-run: list the files that would be removed, remove nothing
# ==== END OF USER INPUTS ====

from pathlib import Path

from seeice.results.cleanup import clear_joint
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config


def main(cfg):
    removed = clear_joint(cfg.RunsDir, cfg.JointImages or None, dry_run=cfg.DryRun)
    if removed and not cfg.DryRun:
        save_run_config(Path(cfg.RunsDir), cfg, script="ClearJoint.py",
                        filename="clear_joint.run.json",
                        extra={"removed": [str(p) for p in removed]})


if __name__ == "__main__":
    run_script(__file__, main)

"""ClearJoint: keep validation out of sample after joint fine-tuning.

In every joint-training run (its CNN was fine-tuned jointly: run.json model training says
"joint": true or names the model it was fine-tuned from) removes the results of the images
used in the joint fine-tuning: OvPdat_*.npz, CNN_/CSC_ report CSVs, *_cfdistances.npy,
*_classified.tif, *_front.gpkg and the CSC figures, and drops their rows from summary.csv.
Runs with a single-glacier CNN are left alone. Which runs are joint is read from run.json,
never from folder names: published run folders (without run.json) are touched only when
--joint-runs names them. Unfinished runs (run.json not marked complete) are skipped. Use
--dry-run first to list what would go.
"""
# ==== USER INPUTS ====
RunsDir = "Results"     # RUNS_DIR: folder holding one sub-folder per CSC run
JointImages = ""        # --joint-images: images used in joint fine-tuning (empty: run.json list)
JointRuns = ""          # --joint-runs: comma-separated folder names of joint-training runs without run.json (published runs); runs with run.json are judged from it
DryRun = False          # --dry-run: list the files that would be removed, remove nothing
# ==== END OF USER INPUTS ====

from pathlib import Path

from seeice.results.cleanup import clear_joint
from seeice.config.runner import run_script
from seeice.config.inputs import save_run_config


def main(cfg):
    joint_runs = [name.strip() for name in str(cfg.JointRuns or "").split(",") if name.strip()]
    removed = clear_joint(cfg.RunsDir, cfg.JointImages or None, dry_run=cfg.DryRun,
                          joint_runs=joint_runs)
    if removed and not cfg.DryRun:
        save_run_config(Path(cfg.RunsDir), cfg, script="ClearJoint.py",
                        filename="clear_joint.run.json",
                        extra={"removed": [str(p) for p in removed]})


if __name__ == "__main__":
    run_script(__file__, main)

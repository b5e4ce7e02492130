"""CSC_Batch: run CNN-supervised classification for every row of a jobs CSV.

Columns: Model, DataSource, OutFolder, ExpShortHand, Dims, PatchSize, TileSize, WholeImage,
Patience, Done. A further column named for a user input of CSC_Application/CSC.py (CNNsamples,
SmallestElement, ... or its flag name) sets that input for its row; other columns are kept and
not used. Relative paths in the CSV start from the CSV's folder. The whole CSV is checked
first: every bad row and column is reported and nothing runs. Each row needs an output folder
of its own (rows sharing one, and duplicate rows, are refused), the CSV must be writable, and
an existing output folder is replaced only when its run.json says it is the same job's
unfinished run. Done is set to 1 and the CSV saved as each job finishes, so a rerun after a
crash skips finished jobs. A failing job gets a one-line reason in an Error column; the sweep
goes on and exits non-zero at the end.
"""
# ==== USER INPUTS ====
JobsCSV = "Batch/jobs_example.csv"  # JOBS: the jobs CSV
ModelFolder = "demo_output/model"   # --model-folder: folder of the phase-one models named in Model
Start = 0                           # --start: first job (0-based row) to consider
CoolDown = 0.0                      # --cool-down: seconds to wait between jobs (GPU cooling)
Engine = "local"                    # --engine {local,ray}: run jobs here one by one, or in parallel on Ray
MaxRetries = 0                      # --max-retries: times Ray may rerun a job whose worker died (0: the job is reported failed, never silently rerun)
Address: str = None                 # --address: Ray cluster address (default: a local Ray)
# ==== END OF USER INPUTS ====

import logging

from seeice.config.runner import run_script

log = logging.getLogger("seeice")


def main(cfg):
    from seeice.sweeps.batch import run_sweep

    result = run_sweep(cfg.JobsCSV, cfg.ModelFolder, start=cfg.Start, cool_down=cfg.CoolDown,
                       engine=cfg.Engine, address=cfg.Address, max_retries=cfg.MaxRetries)
    return 0 if result.ok else 1


if __name__ == "__main__":
    run_script(__file__, main)

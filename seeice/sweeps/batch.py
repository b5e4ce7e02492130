"""Batch sweeps: run CSC for every row of a jobs CSV, resume-safe and failure-isolated.

Jobs CSV columns (DESIGN section 6): ``Model`` (name in the model folder, extension
optional), ``DataSource`` (folder of images), ``OutFolder`` (prefix; ``_patch<k>`` is
appended), ``ExpShortHand`` (experiment name), ``Dims`` (3 or 4), ``PatchSize`` (1, 3, 5, 7,
15), ``TileSize`` (the model's), ``WholeImage`` (1 or 0), ``Patience``, ``Done`` (0 or 1).
Other columns are kept as they are, in their order.

* The whole CSV is checked before any job starts; every bad row and column is reported at
  once and nothing runs.
* Every job writes an output folder of its own: rows that share one, and duplicate rows, are
  refused up front. A job's existing output folder is removed only when its run.json says it
  is that job's own unfinished run (see :mod:`seeice.sweeps.ownership`); any other is left
  alone and the sweep refuses to start. A read-only CSV is refused before the first job.
* ``Done`` is set to 1 and the CSV saved atomically as soon as a job finishes, so a crash
  loses at most the job in progress; a rerun skips finished jobs, takes a job whose folder
  holds its own complete run as done, and redoes unfinished ones from a clean output folder.
* A failing job records a one-line reason in an ``Error`` column; the sweep goes on.
* Relative paths in the CSV resolve against the CSV's folder; a column named for a CSC user
  input sets it for its row (see :mod:`seeice.sweeps.columns`).
"""

from __future__ import annotations

import logging
import os
import shutil
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from tqdm.auto import tqdm

from seeice.config.run_record import JOB_KEY
from seeice.errors import JobsError, one_line
from seeice.io.atomic import write_csv
from seeice.sweeps.columns import input_columns, log_unused_columns
from seeice.sweeps.jobs import (
    check_jobs,
    is_done,
    job_config,
    job_key,
    job_output_folder,
    read_jobs,
    run_job,
)
from seeice.sweeps.ownership import (
    DONE,
    REFUSE,
    REPLACE,
    job_identity,
    output_folder_action,
    refuse_message,
)
from seeice.defaults import MAX_RETRIES
from seeice.sweeps.job_log import job_logging
from seeice.sweeps.ray_engine import check_max_retries, run_on_ray

log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    """Outcome of a sweep: jobs finished now, jobs skipped as done, and failures."""

    finished: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def run_sweep(jobs_csv: str | os.PathLike, model_folder: str | os.PathLike, start: int = 0,
              cool_down: float = 0.0, engine: str = "local", address: str | None = None,
              runner: Callable[[dict], str] = run_job, progress: bool = True,
              max_retries: int = MAX_RETRIES) -> SweepResult:
    """Run every unfinished job of a jobs CSV.

    Parameters
    ----------
    jobs_csv : path-like
        The jobs CSV; updated in place (atomically) after every job.
    model_folder : path-like
        Folder of the phase-one models named in the ``Model`` column.
    start : int
        First job (row index, 0-based) to consider.
    cool_down : float
        Seconds to wait between jobs (to let a GPU cool); 0 for none.
    engine : {"local", "ray"}
        Run jobs one after another here, or in parallel on Ray.
    address : str, optional
        Ray cluster address (``--engine ray``); a local Ray when None.
    runner : callable
        Runs one job's CSC config; returns a note. Replaceable for tests.
    max_retries : int
        ``--engine ray``: times Ray may rerun a job whose worker died (0: reported failed).

    Each job's log is written to ``job.log`` in its output folder, on either engine.

    Returns
    -------
    SweepResult

    Raises
    ------
    JobsError
        The CSV fails the up-front check (every problem listed); nothing ran and nothing was
        removed. Or the CSV could not be saved after a job (the sweep stops; that job's
        outputs are kept).
    """
    if engine not in ("local", "ray"):
        raise JobsError(f"unknown engine {engine!r}; use 'local' or 'ray'.")
    check_max_retries(max_retries)
    jobs_csv = Path(jobs_csv)
    jobs = read_jobs(jobs_csv)
    problems = check_jobs(jobs, model_folder, start, jobs_csv=jobs_csv)
    if problems:
        raise JobsError(f"{jobs_csv} has {len(problems)} problem(s); no job was run and no "
                        "folder was touched. " + "; ".join(problems) + ".")
    columns = input_columns(jobs.columns)
    log_unused_columns(columns)
    base = Path(os.path.abspath(jobs_csv)).parent  # relative paths in the CSV start here
    if "Error" not in jobs.columns:
        jobs["Error"] = ""
    result = SweepResult()
    pending = []
    for index, job in jobs.iterrows():
        if index < start:
            continue
        if is_done(job["Done"]):
            result.skipped.append(index)
        else:
            pending.append(index)
    log.info("sweep of %s: %d job(s) to run, %d already done", jobs_csv.name, len(pending),
             len(result.skipped))

    def record(index: int, note: str | None, error: str | None) -> None:
        if error is None:
            jobs.loc[index, "Done"] = "1"
            jobs.loc[index, "Error"] = note or ""
            result.finished.append(index)
        else:
            jobs.loc[index, "Error"] = error
            result.failed[index] = error
            log.error("job %d (%s) failed: %s", index, jobs.loc[index, "ExpShortHand"], error)
        try:
            write_csv(jobs_csv, jobs)
        except OSError as exc:
            state = "finished" if error is None else "failed"
            raise JobsError(f"job {index} {state}, but {jobs_csv} could not be saved "
                            f"({one_line(exc)}); the sweep stops here. The job's outputs are "
                            "kept: make the CSV writable and run the sweep again (a job whose "
                            "folder holds its complete run is then marked Done without "
                            "rerunning).") from None

    configs = {}
    for index in list(pending):
        job = jobs.loc[index]
        identity = job_identity(jobs_csv, index, job_key(job, columns))
        out = job_output_folder(job, base)
        action, detail = output_folder_action(out, identity)
        if action == REFUSE:  # changed since the check
            raise JobsError(refuse_message(f"row {index + 2} (job {index})", out, detail) + ".")
        if action == DONE:
            log.info("job %d: %s holds this job's complete run (run.json); marked Done "
                     "without rerunning.", index, out)
            pending.remove(index)
            record(index, "", None)
            continue
        if action == REPLACE:
            log.info("job %d: removing its own unfinished run in %s (run.json status %s)",
                     index, out, detail)
            shutil.rmtree(out)
        configs[index] = {**job_config(job, model_folder, base, columns), JOB_KEY: identity}

    if engine == "local":
        bar = tqdm(pending, desc="jobs", unit="job", disable=not progress)
        for position, index in enumerate(bar):
            bar.set_postfix_str(f"{jobs.loc[index, 'ExpShortHand']} k{jobs.loc[index, 'PatchSize']}")
            try:
                with job_logging(configs[index]):
                    note, error = runner(configs[index]), None
            except Exception as exc:  # one job's failure must not stop the sweep
                log.debug("job %d traceback:\n%s", index, traceback.format_exc())
                note, error = None, one_line(exc)
            record(index, note, error)
            if cool_down > 0 and position < len(pending) - 1:
                time.sleep(cool_down)
    elif engine == "ray":
        for index, note, error in run_on_ray(configs, runner, address=address,
                                             progress=progress, max_retries=max_retries,
                                             labels={i: str(jobs.loc[i, "ExpShortHand"])
                                                     for i in pending}):
            record(index, note, error)
    else:
        raise JobsError(f"unknown engine {engine!r}; use 'local' or 'ray'.")

    log.info("sweep finished: %d job(s) done now, %d skipped as done, %d failed",
             len(result.finished), len(result.skipped), len(result.failed))
    for index, error in result.failed.items():
        log.error("  job %d (%s): %s", index, jobs.loc[index, "ExpShortHand"], error)
    return result

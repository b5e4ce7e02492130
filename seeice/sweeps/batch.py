"""Batch sweeps: run CSC for every row of a jobs CSV, resume-safe and failure-isolated.

Jobs CSV columns (DESIGN section 6): ``Model`` (name in the model folder, extension
optional), ``DataSource`` (folder of images), ``OutFolder`` (prefix; ``_patch<k>`` is
appended), ``ExpShortHand`` (experiment name), ``Dims`` (3 or 4), ``PatchSize`` (1, 3, 5, 7,
15), ``TileSize`` (the model's), ``WholeImage`` (1 or 0), ``Patience``, ``Done`` (0 or 1).
Other columns are kept as they are, in their order.

* The whole CSV is checked before any job starts; every bad row and column is reported at
  once and nothing runs.
* ``Done`` is set to 1 and the CSV saved atomically as soon as a job finishes, so a crash
  loses at most the job in progress; a rerun skips finished jobs and redoes unfinished ones
  from a clean output folder.
* A failing job records a one-line reason in an ``Error`` column; the sweep goes on.
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

import pandas as pd
from tqdm.auto import tqdm

from seeice.errors import InputFileError, JobsError, SeeIceError
from seeice.io.atomic import write_csv
from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES

log = logging.getLogger(__name__)

REQUIRED_COLUMNS = ("Model", "DataSource", "OutFolder", "ExpShortHand", "Dims", "PatchSize",
                    "TileSize", "WholeImage", "Patience", "Done")
MODEL_EXTENSIONS = (".keras", ".h5")


@dataclass
class SweepResult:
    """Outcome of a sweep: jobs finished now, jobs skipped as done, and failures."""

    finished: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed


def read_jobs(path: str | os.PathLike) -> pd.DataFrame:
    """Read a jobs CSV as text, keeping every column and its order.

    Values stay strings so that the user's columns are written back exactly as they were.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"jobs CSV {path} does not exist.")
    try:
        jobs = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise JobsError(f"{path} is not a readable CSV: {exc}") from None
    jobs.columns = [c.strip() for c in jobs.columns]
    return jobs


def find_model(model_folder: str | os.PathLike, name: str) -> Path | None:
    """The model file for a jobs-CSV ``Model`` entry, or None when absent."""
    folder = Path(model_folder)
    candidate = folder / name
    if candidate.suffix in MODEL_EXTENSIONS and candidate.is_file():
        return candidate
    for ext in MODEL_EXTENSIONS:
        with_ext = folder / f"{name}{ext}"
        if with_ext.is_file():
            return with_ext
    return None


def _int(value: str) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def is_done(value: str) -> bool:
    return _int(value) == 1


def check_jobs(jobs: pd.DataFrame, model_folder: str | os.PathLike,
               start: int = 0) -> list[str]:
    """Every problem of a jobs table, one line each (empty when the table is good).

    Missing columns are reported first; then, for every job that would run (row index >=
    ``start`` and not done), bad values, missing folders and models, and Dims or TileSize
    that do not match the model's metadata.
    """
    from seeice.io.model_store import load_metadata

    missing = [c for c in REQUIRED_COLUMNS if c not in jobs.columns]
    if missing:
        return [f"missing column(s): {', '.join(missing)} (required: "
                f"{', '.join(REQUIRED_COLUMNS)})"]
    problems = []
    metadata_cache: dict[Path, object] = {}
    for index, job in jobs.iterrows():
        if index < start or is_done(job["Done"]):
            continue
        where = f"row {index + 2} (job {index})"
        if _int(job["Done"]) not in (0, 1):
            problems.append(f"{where}, column Done: {job['Done']!r} is not 0 or 1")
        patch = _int(job["PatchSize"])
        if patch not in SUPPORTED_PATCH_SIZES:
            problems.append(f"{where}, column PatchSize: {job['PatchSize']!r} is not one of "
                            f"{', '.join(map(str, SUPPORTED_PATCH_SIZES))}")
        for column in ("Dims", "TileSize", "Patience"):
            if _int(job[column]) is None or _int(job[column]) < 0:
                problems.append(f"{where}, column {column}: {job[column]!r} is not a whole number")
        if _int(job["WholeImage"]) not in (0, 1):
            problems.append(f"{where}, column WholeImage: {job['WholeImage']!r} is not 0 or 1")
        if not str(job["ExpShortHand"]).strip():
            problems.append(f"{where}, column ExpShortHand: empty")
        if not str(job["OutFolder"]).strip():
            problems.append(f"{where}, column OutFolder: empty")
        if not Path(job["DataSource"]).is_dir():
            problems.append(f"{where}, column DataSource: folder {job['DataSource']!r} does not exist")
        model_path = find_model(model_folder, str(job["Model"]))
        if model_path is None:
            problems.append(f"{where}, column Model: no {job['Model']!r} (.keras or .h5) in "
                            f"{model_folder}")
            continue
        try:
            if model_path not in metadata_cache:
                metadata_cache[model_path] = load_metadata(model_path)
            metadata = metadata_cache[model_path]
        except SeeIceError as exc:
            problems.append(f"{where}, column Model: {exc}")
            continue
        if _int(job["Dims"]) is not None and _int(job["Dims"]) != metadata.bands:
            problems.append(f"{where}, column Dims: {job['Dims']} but model {model_path.name} "
                            f"uses {metadata.bands} bands")
        if _int(job["TileSize"]) is not None and _int(job["TileSize"]) != metadata.tile_size:
            problems.append(f"{where}, column TileSize: {job['TileSize']} but model "
                            f"{model_path.name} was trained on {metadata.tile_size} px tiles")
    return problems


def job_config(job: pd.Series, model_folder: str | os.PathLike) -> dict:
    """The CSC user inputs (header names of ``CSC.py``) for one job row."""
    model_path = find_model(model_folder, str(job["Model"]))
    if model_path is None:
        raise InputFileError(f"model {job['Model']!r} not found in {model_folder}.")
    return {
        "ModelName": str(model_path),
        "PredictPath": str(job["DataSource"]),
        "ScorePath": str(job["OutFolder"]),
        "Experiment": str(job["ExpShortHand"]),
        "Ndims": _int(job["Dims"]),
        "Kernel_size": _int(job["PatchSize"]),
        "size": _int(job["TileSize"]),
        "WholeImage": _int(job["WholeImage"]),
        "Patience": _int(job["Patience"]),
        "Progress": False,
    }


def job_output_folder(job: pd.Series) -> Path:
    """``<OutFolder>_patch<k>``, the folder a job writes."""
    return Path(f"{job['OutFolder']}_patch{_int(job['PatchSize'])}")


def run_job(config: dict) -> str:
    """Run one job through the same library call as ``CSC.py``; return a note ('' if clean)."""
    from seeice.pipeline.csc import run_csc

    run = run_csc(config, script="CSC_Batch.py")
    if len(run.failed):
        names = ", ".join(run.failed["Image"].astype(str))
        return f"{len(run.failed)} of {len(run.summary)} image(s) failed: {names}"
    return ""


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:500]


def run_sweep(jobs_csv: str | os.PathLike, model_folder: str | os.PathLike, start: int = 0,
              cool_down: float = 0.0, engine: str = "local", address: str | None = None,
              runner: Callable[[dict], str] = run_job, progress: bool = True) -> SweepResult:
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

    Returns
    -------
    SweepResult

    Raises
    ------
    JobsError
        The CSV fails the up-front check (every problem listed); nothing ran.
    """
    jobs_csv = Path(jobs_csv)
    jobs = read_jobs(jobs_csv)
    problems = check_jobs(jobs, model_folder, start)
    if problems:
        raise JobsError(f"{jobs_csv} has {len(problems)} problem(s); no job was run. "
                        + "; ".join(problems) + ".")
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
        write_csv(jobs_csv, jobs)

    configs = {}
    for index in pending:
        out = job_output_folder(jobs.loc[index])
        if out.exists():
            log.info("job %d: removing the unfinished output folder %s", index, out)
            shutil.rmtree(out)
        configs[index] = job_config(jobs.loc[index], model_folder)

    if engine == "local":
        bar = tqdm(pending, desc="jobs", unit="job", disable=not progress)
        for position, index in enumerate(bar):
            bar.set_postfix_str(f"{jobs.loc[index, 'ExpShortHand']} k{jobs.loc[index, 'PatchSize']}")
            try:
                note = runner(configs[index])
                record(index, note, None)
            except Exception as exc:  # one job's failure must not stop the sweep
                log.debug("job %d traceback:\n%s", index, traceback.format_exc())
                record(index, None, _one_line(exc))
            if cool_down > 0 and position < len(pending) - 1:
                time.sleep(cool_down)
    elif engine == "ray":
        from seeice.sweeps.ray_engine import run_on_ray

        for index, note, error in run_on_ray(configs, address=address, runner=runner,
                                             progress=progress,
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

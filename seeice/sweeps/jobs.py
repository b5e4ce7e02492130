"""The jobs CSV: reading, checking every row before anything runs, and turning a row into CSC user inputs.

Columns (DESIGN section 6): ``Model``, ``DataSource``, ``OutFolder``, ``ExpShortHand``,
``Dims``, ``PatchSize``, ``TileSize``, ``WholeImage``, ``Patience``, ``Done``. A further column
named for a CSC user input (``CNNsamples``, ...) sets it for its row
(:mod:`seeice.sweeps.columns`). Relative paths in the CSV resolve against the CSV's folder.

Every row must have an output folder of its own: two rows (done or not) that resolve to one
folder, and duplicate rows, are refused before anything runs. An existing output folder is
replaced only when its run.json says it is the same job's unfinished run
(:mod:`seeice.sweeps.ownership`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from seeice.errors import InputFileError, JobsError, SeeIceError
from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES
from seeice.sweeps.columns import (
    InputColumns,
    input_columns,
    job_overrides,
    resolve_path,
)
from seeice.sweeps.ownership import (
    REFUSE,
    csv_write_problem,
    job_identity,
    output_folder_action,
    refuse_message,
)

REQUIRED_COLUMNS = ("Model", "DataSource", "OutFolder", "ExpShortHand", "Dims", "PatchSize",
                    "TileSize", "WholeImage", "Patience", "Done")
MODEL_EXTENSIONS = (".keras", ".h5")


def read_jobs(path: str | os.PathLike) -> pd.DataFrame:
    """Read a jobs CSV as text, keeping every column and its order.

    Values stay strings so that the user's columns are written back exactly as they were.
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"jobs CSV {path} does not exist.")
    separator = _other_separator(path)
    if separator:
        raise JobsError(f"{path} separates its columns with {separator!r}, not ','; the jobs CSV "
                        "is comma-separated (the sweep writes it back so after every job). Save "
                        "it comma-separated (in a spreadsheet: CSV with ',' as the field "
                        "separator) and run again.")
    try:
        jobs = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise JobsError(f"{path} is not a readable CSV: {exc}") from None
    jobs.columns = [c.strip() for c in jobs.columns]
    return jobs


def _other_separator(path: Path) -> str | None:
    """The field separator of a CSV saved with ';', tab or '|' instead of ',' (from its header
    line: the required column names split by it), else None."""
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as handle:
            header = handle.readline()
    except OSError:
        return None
    if "," in header:
        return None
    for separator in (";", "\t", "|"):
        names = {name.strip() for name in header.split(separator)}
        if len(names) > 1 and names & set(REQUIRED_COLUMNS):
            return separator
    return None


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


def _where(index: int) -> str:
    return f"row {index + 2} (job {index})"


def check_jobs(jobs: pd.DataFrame, model_folder: str | os.PathLike, start: int = 0,
               jobs_csv: str | os.PathLike | None = None) -> list[str]:
    """Every problem of a jobs table, one line each (empty when the table is good).

    Missing columns are reported first; then extra columns that cannot set a CSC input; for
    every job that would run (row index >= ``start`` and not done), bad values, missing
    folders and models, and Dims or TileSize that do not match the model's metadata; then, over
    all rows (done or not), duplicate rows and rows that share an output folder.

    Parameters
    ----------
    jobs : pandas.DataFrame
        From :func:`read_jobs`.
    model_folder : path-like
        Folder of the phase-one models.
    start : int
        First job (row index) that would run.
    jobs_csv : path-like, optional
        The CSV the table was read from. When given, relative paths resolve against its folder,
        the CSV must be writable, and every existing output folder of a job that would run
        must be that job's own unfinished run (see :mod:`seeice.sweeps.ownership`).
    """
    from seeice.io.model_store import load_metadata

    missing = [c for c in REQUIRED_COLUMNS if c not in jobs.columns]
    if missing:
        return [f"missing column(s): {', '.join(missing)} (required: "
                f"{', '.join(REQUIRED_COLUMNS)}); add them to the header line, as in "
                "Batch/jobs_example.csv"]
    base = _base(jobs_csv)
    columns = input_columns(jobs.columns)
    problems = list(columns.problems)
    if jobs_csv is not None:
        problem = csv_write_problem(jobs_csv)
        if problem:
            problems.append(problem)
    metadata_cache: dict[Path, object] = {}
    for index, job in jobs.iterrows():
        if index < start or is_done(job["Done"]):
            continue
        where = _where(index)
        problems += job_overrides(job, columns, where)[1]
        if _int(job["Done"]) not in (0, 1):
            problems.append(f"{where}, column Done: {job['Done']!r} is not 0 or 1")
        patch = _int(job["PatchSize"])
        if patch not in SUPPORTED_PATCH_SIZES:
            problems.append(f"{where}, column PatchSize: {job['PatchSize']!r} is not one of "
                            f"{', '.join(map(str, SUPPORTED_PATCH_SIZES))}; write one of them")
        for column in ("Dims", "TileSize", "Patience"):
            if _int(job[column]) is None or _int(job[column]) < 0:
                problems.append(f"{where}, column {column}: {job[column]!r} is not a whole number; "
                                f"write one (digits only, such as 4)")
        if _int(job["WholeImage"]) not in (0, 1):
            problems.append(f"{where}, column WholeImage: {job['WholeImage']!r} is not 0 or 1")
        if not str(job["ExpShortHand"]).strip():
            problems.append(f"{where}, column ExpShortHand: empty")
        if not str(job["OutFolder"]).strip():
            problems.append(f"{where}, column OutFolder: empty")
        source = resolve_path(job["DataSource"], base)
        if not source.is_dir():
            read_as = "" if str(source) == str(job["DataSource"]).strip() else \
                f" (read as {source}: relative paths in a jobs CSV start from its folder)"
            problems.append(f"{where}, column DataSource: folder {job['DataSource']!r} does not "
                            f"exist{read_as}; correct the cell")
        model_path = find_model(model_folder, str(job["Model"]))
        if model_path is None:
            problems.append(f"{where}, column Model: no {job['Model']!r} (.keras or .h5) in "
                            f"{model_folder}; put the model there, correct the cell, or give "
                            "the folder that holds it with --model-folder")
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
    problems += _folder_problems(jobs, columns, start, jobs_csv)
    return problems


def _base(jobs_csv: str | os.PathLike | None) -> Path | None:
    """The folder that relative paths of a jobs CSV start from (None: the working directory)."""
    return None if jobs_csv is None else Path(os.path.abspath(jobs_csv)).parent


def job_key(job: pd.Series, columns: InputColumns) -> dict:
    """The cells that define a job: the required columns but Done, and CSC-input columns."""
    names = [c for c in REQUIRED_COLUMNS if c != "Done"] + list(columns.overrides)
    return {name: str(job[name]).strip() for name in names}


def _folder_problems(jobs: pd.DataFrame, columns: InputColumns, start: int,
                     jobs_csv: str | os.PathLike | None) -> list[str]:
    """Duplicate rows, rows sharing an output folder, and existing folders not the job's own."""
    base = _base(jobs_csv)
    problems, by_folder, by_key = [], {}, {}
    for index, job in jobs.iterrows():
        key = tuple(job_key(job, columns).items())
        by_key.setdefault(key, []).append(index)
        if str(job["OutFolder"]).strip() and _int(job["PatchSize"]) is not None:
            folder = Path(os.path.abspath(job_output_folder(job, base)))
            by_folder.setdefault(os.path.normcase(str(folder)), []).append(index)
    clashing = set()
    for indices in by_key.values():
        if len(indices) > 1:
            clashing.update(indices)
            problems.append(f"rows {', '.join(str(i + 2) for i in indices)} (jobs "
                            f"{', '.join(map(str, indices))}) are duplicates of one job; delete "
                            "all but one of them")
    for folder, indices in by_folder.items():
        if len(indices) > 1 and not set(indices) <= clashing:
            clashing.update(indices)
            problems.append(f"rows {', '.join(str(i + 2) for i in indices)} (jobs "
                            f"{', '.join(map(str, indices))}) all write the output folder "
                            f"{folder}, and each run needs its own (a later job would replace "
                            "or mix with an earlier one's results): give them different "
                            "OutFolder values (_patch<k> is appended to OutFolder)")
    if jobs_csv is None:
        return problems
    for index, job in jobs.iterrows():
        if index < start or is_done(job["Done"]) or index in clashing \
                or not str(job["OutFolder"]).strip() or _int(job["PatchSize"]) is None:
            continue
        out = job_output_folder(job, base)
        action, detail = output_folder_action(
            out, job_identity(jobs_csv, index, job_key(job, columns)))
        if action == REFUSE:
            problems.append(refuse_message(_where(index), out, detail))
    return problems


def job_config(job: pd.Series, model_folder: str | os.PathLike,
               base: str | os.PathLike | None = None,
               columns: InputColumns | None = None) -> dict:
    """The CSC user inputs (header names of ``CSC.py``) for one job row.

    Parameters
    ----------
    job : pandas.Series
        The row (cells as text).
    model_folder : path-like
        Folder of the phase-one models (relative to the working directory).
    base : path-like, optional
        The jobs CSV's folder, which relative ``DataSource`` and ``OutFolder`` paths start
        from; None: the working directory.
    columns : InputColumns, optional
        The CSV's extra columns (:func:`seeice.sweeps.columns.input_columns`); by default
        sorted out from the row's own columns. Those that name a CSC input set it.

    Raises
    ------
    JobsError
        A cell of an input column is not a valid value of its input.
    """
    model_path = find_model(model_folder, str(job["Model"]))
    if model_path is None:
        raise InputFileError(f"model {job['Model']!r} not found in {model_folder}.")
    overrides, problems = job_overrides(job, columns or input_columns(job.index),
                                        f"job {job.name}")
    if problems:
        raise JobsError("; ".join(problems) + ".")
    return {
        "ModelName": os.path.abspath(model_path),
        "PredictPath": str(resolve_path(job["DataSource"], base)),
        "ScorePath": str(resolve_path(job["OutFolder"], base)),
        "Experiment": str(job["ExpShortHand"]),
        "Ndims": _int(job["Dims"]),
        "Kernel_size": _int(job["PatchSize"]),
        "size": _int(job["TileSize"]),
        "WholeImage": _int(job["WholeImage"]),
        "Patience": _int(job["Patience"]),
        **overrides,
        "Progress": False,
    }


def job_output_folder(job: pd.Series, base: str | os.PathLike | None = None) -> Path:
    """``<OutFolder>_patch<k>``, the folder a job writes (relative OutFolder from ``base``)."""
    return Path(f"{resolve_path(job['OutFolder'], base)}_patch{_int(job['PatchSize'])}")


def run_job(config: dict) -> str:
    """Run one job through the same library call as ``CSC.py``; return a note ('' if clean)."""
    from seeice.pipeline.csc import run_csc

    run = run_csc(config, script="CSC_Batch.py")
    if len(run.failed):
        names = ", ".join(run.failed["Image"].astype(str))
        return f"{len(run.failed)} of {len(run.summary)} image(s) failed: {names}"
    return ""

"""The jobs CSV: reading, checking every row before anything runs, and turning a row into CSC user inputs.

Columns (DESIGN section 6): ``Model``, ``DataSource``, ``OutFolder``, ``ExpShortHand``,
``Dims``, ``PatchSize``, ``TileSize``, ``WholeImage``, ``Patience``, ``Done``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from seeice.errors import InputFileError, JobsError, SeeIceError
from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES

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

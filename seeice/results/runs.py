"""Run discovery and description: which folders are CSC runs, and what each run was (DESIGN section 6).

A *run* is one output folder of the CNN-supervised classification, ``<OutFolder>_patch<k>/``.
It holds, per image ``<stem>`` and experiment ``<exp>`` (the experiment name with ``k<k>``
appended):

* ``OvPdat_<stem>_<exp>.npz``: arrays ``truth``, ``cnn``, ``csc``, shape (n,), uint8, the
  labels of the scored pixels, and the same as the published ``arr_0``, (n, 3) int32 (runs
  made by the published scripts hold only ``arr_0``; :mod:`seeice.io.ovpdat` reads both);
* ``CNN_<stem>_<exp>.csv`` and ``CSC_<stem>_<exp>.csv``: the classification reports;
* ``<stem>_cfdistances.npy``: shape (m,), the distance in metres from each manual front
  pixel to the nearest predicted front pixel;
* ``<stem>_classified.tif``: the class raster (front = NClasses + 1);
* ``CSC_<exp>_<stem>.png``: the 4-part figure;
* ``run.json``: the resolved inputs (``config``), the model metadata (``model``), the
  class scheme (``scheme``) and the completeness record (``status``, ``images_complete``;
  see :mod:`seeice.config.run_record` and :mod:`seeice.results.completeness`).

The run's description (patch size, tile size, bands, CNN training, glacier, validation)
is :func:`seeice.results.describe.run_metadata`.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from seeice.classes import GLACIER_SCHEME, ClassScheme, scheme_from_dict
from seeice.errors import ConfigError, DataError, InputFileError

log = logging.getLogger(__name__)


#: Metadata columns shared by every table, in order.
METADATA_COLUMNS = ("Patch_Size", "Tile_Size", "Bands", "CNN_Training", "Glacier", "Validation")
OVPDAT_PATTERN = "OvPdat_*.npz"
CFDIST_PATTERN = "*_cfdistances.npy"
CLASSIFIED_PATTERNS = ("*_classified.tif", "*_classified.tiff", "*_classified.png")
_RESULT_PATTERNS = (OVPDAT_PATTERN, CFDIST_PATTERN, *CLASSIFIED_PATTERNS, "CNN_*.csv", "CSC_*.csv")
IMAGE_LIST_KEYS = ("images", "training_images", "train_images", "image_stems")
PATCH_KEYS = ("Kernel_size", "PatchSize", "patch_size")
TILE_KEYS = ("size", "TileSize", "tile_size")
BANDS_KEYS = ("Ndims", "Dims", "bands")
PREDICT_KEYS = ("PredictPath", "DataSource", "predict_dir")


def _has(folder: Path, patterns: Iterable[str]) -> bool:
    return any(next(folder.glob(p), None) is not None for p in patterns)


def find_runs(runs_dir: str | os.PathLike, patterns: Sequence[str] = _RESULT_PATTERNS,
              what: str = "CSC result files") -> list[Path]:
    """Run folders in ``runs_dir``: its sub-folders (depth 1) holding result files.

    ``runs_dir`` itself counts as a run when it holds result files directly, so that a single
    run folder can be given too.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (``<OutFolder>_patch<k>/``).
    patterns : sequence of str
        Glob patterns of the files that make a folder a run (``OvPdat_*.npz`` for the
        classification table, ``*_cfdistances.npy`` for the front table, ...).
    what : str
        Description of those files, for the error message.

    Returns
    -------
    list of pathlib.Path
        Sorted by folder name.

    Raises
    ------
    InputFileError
        ``runs_dir`` does not exist.
    DataError
        No run folder was found.
    """
    runs_dir = Path(runs_dir)
    if not runs_dir.is_dir():
        raise InputFileError(f"runs folder {runs_dir} does not exist. Give the folder that holds "
                             "one sub-folder per CSC run (<OutFolder>_patch<k>).")
    runs = [runs_dir] if _has(runs_dir, patterns) else []
    runs += sorted((d for d in runs_dir.iterdir()
                    if d.is_dir() and not d.name.startswith(".") and _has(d, patterns)),
                   key=lambda d: d.name)
    if not runs:
        raise DataError(f"no CSC runs found in {runs_dir}: no sub-folder holds {what} "
                        f"({', '.join(patterns)}). Give the folder that holds the run folders "
                        "(<OutFolder>_patch<k>) written by CSC_Application.")
    return runs


def read_run_record(run_dir: str | os.PathLike) -> dict | None:
    """The run's ``run.json`` as a dict, or None when the run has none.

    Raises
    ------
    DataError
        ``run.json`` exists but is not a JSON object.
    """
    path = Path(run_dir) / "run.json"
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} is not valid JSON ({exc}). Repair it, or delete it so that the "
                        "run is described from its folder name.") from None
    if not isinstance(record, dict):
        raise DataError(f"{path} must hold a JSON object with 'config', 'model' and 'scheme'.")
    return record


def record_section(record: dict | None, key: str) -> dict:
    value = (record or {}).get(key)
    return value if isinstance(value, dict) else {}


def joint_training(record: dict | None) -> bool | None:
    """Whether a run's phase-one CNN was trained jointly, from its run.json alone.

    Read from the model's training record (``model.training`` in run.json): True for
    ``joint: true`` or a fine-tuning (``fine_tuned_from`` or ``fine_tuned_on``); False for
    ``joint: false`` or a training record with neither; None when there is no training record
    (or no run.json). Folder names are never read.
    """
    training = record_section(record_section(record, "model"), "training")
    if "joint" in training:
        return bool(training["joint"])
    if training.get("fine_tuned_from") or training.get("fine_tuned_on"):
        return True
    return False if training else None


def first_value(mapping: dict, *keys):
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def as_int(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def bands_label(count) -> str | None:
    if isinstance(count, (list, tuple)):
        count = len(count)
    count = as_int(count)
    if count is None:
        return None
    return "NIR_RGB" if count == 4 else "RGB"


def run_experiment(run_dir: str | os.PathLike, record: dict | None = None) -> str | None:
    """The experiment name used in the run's file names (with ``k<k>`` appended), or None.

    Taken from run.json (``experiment_name``; else config ``Experiment``, with or without the
    ``k<k>`` suffix, whichever names existing files) or, without run.json, inferred from the
    file names of images whose stem is known from ``<stem>_classified.*`` or
    ``<stem>_cfdistances.npy``.
    """
    run_dir = Path(run_dir)
    record = read_run_record(run_dir) if record is None else record
    names = [p.name for p in run_dir.iterdir() if p.is_file()]
    config = record_section(record, "config")
    exp = first_value(config, "Experiment", "experiment")
    if (record or {}).get("experiment_name"):
        return str(record["experiment_name"])
    if exp:
        patch = as_int(first_value(config, *PATCH_KEYS))
        candidates = [str(exp)]
        if patch is not None:
            candidates += [f"{exp}k{patch}", f"{exp}_k{patch}"]
        for candidate in candidates:
            if any(n.endswith((f"_{candidate}.npz", f"_{candidate}.csv"))
                   or (n.startswith(f"CSC_{candidate}_") and n.endswith(".png")) for n in names):
                return candidate
    stems = set(_known_stems(run_dir))
    found: dict[str, int] = {}
    for name in names:
        for prefix, suffix in (("OvPdat_", ".npz"), ("CNN_", ".csv"), ("CSC_", ".csv")):
            if name.startswith(prefix) and name.endswith(suffix):
                core = name[len(prefix):-len(suffix)]
                owners = [s for s in stems if core.startswith(s + "_")]
                if owners:
                    exp_name = core[len(max(owners, key=len)) + 1:]
                    found[exp_name] = found.get(exp_name, 0) + 1
    return max(found, key=found.get) if found else None


def _known_stems(run_dir: Path) -> list[str]:
    """Image stems named exactly by ``<stem>_classified.*`` and ``<stem>_cfdistances.npy``."""
    stems = set()
    for pattern in (*CLASSIFIED_PATTERNS, CFDIST_PATTERN):
        tail = pattern[1:]
        stems.update(p.name[:-len(tail)] for p in run_dir.glob(pattern))
    return sorted(stems)


def run_images(run_dir: str | os.PathLike, record: dict | None = None) -> list[str]:
    """Stems of the images of a run (sorted): those listed in run.json (``images``) and those
    named by its result files."""
    run_dir = Path(run_dir)
    record = read_run_record(run_dir) if record is None else record
    stems = set(_known_stems(run_dir))
    listed = (record or {}).get("images")
    if isinstance(listed, list):
        stems.update(Path(str(name)).stem for name in listed)
    exp = run_experiment(run_dir, record)
    if exp:
        tail = f"_{exp}.npz"
        stems.update(p.name[len("OvPdat_"):-len(tail)] for p in run_dir.glob(OVPDAT_PATTERN)
                     if p.name.endswith(tail))
    return sorted(stems)


def run_scheme(run_dir: str | os.PathLike, record: dict | None = None) -> ClassScheme:
    """The class scheme of a run: run.json ``scheme``, else the model's, else the glacier one."""
    record = read_run_record(run_dir) if record is None else record
    data = record_section(record, "scheme") or record_section(record_section(record, "model"), "scheme")
    if not data:
        return GLACIER_SCHEME
    try:
        return scheme_from_dict(data, source=f"{Path(run_dir) / 'run.json'} scheme")
    except (ConfigError, ValueError, TypeError) as exc:
        raise DataError(f"{Path(run_dir) / 'run.json'}: the class scheme cannot be read ({exc}).") \
            from None


def metadata_columns(meta: dict) -> dict:
    return {"Patch_Size": meta["patch_size"], "Tile_Size": meta["tile_size"],
            "Bands": meta["bands"], "CNN_Training": meta["cnn_training"],
            "Glacier": meta["glacier"], "Validation": meta["validation"]}


def typed_columns(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    for column in ("Patch_Size", "Tile_Size", "CSC_Phase", "N_Pixels", "Count"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame



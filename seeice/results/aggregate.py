"""Results aggregation over a folder of CSC runs (DESIGN section 6).

A *run* is one output folder of the CNN-supervised classification, ``<OutFolder>_patch<k>/``.
It holds, per image ``<stem>`` and experiment ``<exp>`` (the experiment name with ``k<k>``
appended):

* ``OvPdat_<stem>_<exp>.npz``: arrays ``truth``, ``cnn``, ``csc``, shape (n,), uint8, the
  labels of the scored pixels;
* ``CNN_<stem>_<exp>.csv`` and ``CSC_<stem>_<exp>.csv``: the classification reports;
* ``<stem>_cfdistances.npy``: shape (m,), the distance in metres from each manual front
  pixel to the nearest predicted front pixel;
* ``<stem>_classified.tif``: the class raster (front = NClasses + 1);
* ``CSC_<exp>_<stem>.png``: the 4-part figure;
* ``run.json``: the resolved inputs (``config``), the model metadata (``model``) and the
  class scheme (``scheme``).

This module turns a folder of such runs into tables (one row per run and statistic) and
figures. The run's description (patch size, tile size, bands, CNN training, glacier,
validation) comes from ``run.json``; for runs made elsewhere, from the published folder
naming (see :func:`run_metadata`).

Statistics of a set of distances (:func:`distance_stats`): mode, median, mean and standard
deviation (population, ``ddof=0``). The mode is taken of the distances rounded to the
nearest multiple of 10 m (bins of 10 m centred on 0, 10, 20, ... m), so that with 10 m
pixels an exact hit counts as 0 m and the answer is a multiple of 10 m.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from seeice.io.atomic import atomic_path, write_csv
from seeice.classes import GLACIER_SCHEME, ClassScheme, scheme_from_dict
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.io.raster import list_images, read_image, read_labels

log = logging.getLogger(__name__)

#: Statistics of a set of distances, in table order.
STATISTICS = ("Mode", "Median", "Mean", "St.Dev")
#: Metadata columns shared by every table, in order.
METADATA_COLUMNS = ("Patch_Size", "Tile_Size", "Bands", "CNN_Training", "Glacier", "Validation")
#: Columns of :func:`classification_table`.
CLASSIFICATION_COLUMNS = ("F1", "F1_Class", "Patch_Size", "Tile_Size", "Bands", "CNN_Training",
                          "CSC_Phase", "Glacier", "Validation", "Run", "N_Pixels")
#: Columns of :func:`calving_table` and :func:`valley_margin_table`.
DISTANCE_COLUMNS = ("Run", "Statistic", "Error_m", *METADATA_COLUMNS, "Count")

DEFAULT_SUBSAMPLE = 10_000_000
DEFAULT_BIN_M = 10.0
CATASTROPHIC_ERROR_M = 1000.0
MIN_CONTOUR_VERTICES = 100
DEFAULT_ROCK_CLASSES = (6, 7)

#: Glacier name tokens of the published folder naming.
GLACIER_TOKENS = {"hel": "Helheim", "jak": "Jakobshavn", "sto": "Store"}
#: Published convention for runs without run.json: phase one was trained on Helheim.
PUBLISHED_VALIDATION = {"Helheim": "Seen", "Jakobshavn": "Unseen", "Store": "Unseen"}

_OVPDAT = "OvPdat_*.npz"
_CFDIST = "*_cfdistances.npy"
_CLASSIFIED = ("*_classified.tif", "*_classified.tiff", "*_classified.png")
_RESULT_PATTERNS = (_OVPDAT, _CFDIST, *_CLASSIFIED, "CNN_*.csv", "CSC_*.csv")
_IMAGE_LIST_KEYS = ("images", "training_images", "train_images", "image_stems")
_PATCH_KEYS = ("Kernel_size", "PatchSize", "patch_size")
_TILE_KEYS = ("size", "TileSize", "tile_size")
_BANDS_KEYS = ("Ndims", "Dims", "bands")
_PREDICT_KEYS = ("PredictPath", "DataSource", "predict_dir")


# --------------------------------------------------------------------------------------------
# Finding runs and reading their description
# --------------------------------------------------------------------------------------------

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


def _section(record: dict | None, key: str) -> dict:
    value = (record or {}).get(key)
    return value if isinstance(value, dict) else {}


def _first(mapping: dict, *keys):
    for key in keys:
        if mapping.get(key) not in (None, ""):
            return mapping[key]
    return None


def _as_int(value) -> int | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return int(number) if number.is_integer() else None


def _bands_label(count) -> str | None:
    if isinstance(count, (list, tuple)):
        count = len(count)
    count = _as_int(count)
    if count is None:
        return None
    return "NIR_RGB" if count == 4 else "RGB"


def _glacier_token(text: str) -> str | None:
    """Glacier of the published naming: Hel/Jak/Sto at the start of a name token."""
    match = re.search(r"(?:^|[_\-\s./\\])(hel|jak|sto)", text, flags=re.IGNORECASE)
    return GLACIER_TOKENS[match.group(1).lower()] if match else None


def _validation_token(name: str) -> str | None:
    tokens = {t.lower() for t in re.split(r"[_\-\s.]+", name)}
    if "unseen" in tokens:
        return "Unseen"
    if "seen" in tokens:
        return "Seen"
    return None


def _normalise_validation(value) -> str | None:
    text = str(value).strip().lower()
    if text in {"seen", "unseen"}:
        return text.capitalize()
    return str(value) if value not in (None, "") else None


def parse_run_name(name: str) -> dict:
    """Describe a run from its folder name (the published naming).

    Read: the glacier from a name token starting with Hel, Jak or Sto (Helheim, Jakobshavn,
    Store); the patch size from the last ``patch<k>`` (else ``_k<k>``); the tile size from the
    first all-digit token (``_50_``, ``_75_``, ``_100_``); ``NIR`` anywhere (any case) gives
    NIR_RGB, else RGB; ``joint`` anywhere gives Joint, else Single; validation from a token
    ``seen``/``unseen``, else the published convention (phase one trained on Helheim: Helheim
    Seen, Jakobshavn and Store Unseen), else "Unknown".

    Examples
    --------
    >>> parse_run_name("Jak_VGG16_joint_50_RGBNIR_fp16_patch7")["patch_size"]
    7
    """
    patches = re.findall(r"patch(\d+)", name, flags=re.IGNORECASE)
    if patches:
        patch = int(patches[-1])
    else:
        ks = re.findall(r"(?:^|_)k(\d+)(?=_|$)", name)
        patch = int(ks[-1]) if ks else None
    tokens = re.split(r"[_\-\s]+", name)
    digits = [int(t) for t in tokens if t.isdigit() and 2 <= len(t) <= 4]
    glacier = _glacier_token(name)
    validation = _validation_token(name) or PUBLISHED_VALIDATION.get(glacier) or "Unknown"
    return {"patch_size": patch,
            "tile_size": digits[0] if digits else None,
            "bands": "NIR_RGB" if "nir" in name.lower() else "RGB",
            "cnn_training": "Joint" if "joint" in name.lower() else "Single",
            "glacier": glacier,
            "validation": validation}


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
    config = _section(record, "config")
    exp = _first(config, "Experiment", "experiment")
    if (record or {}).get("experiment_name"):
        return str(record["experiment_name"])
    if exp:
        patch = _as_int(_first(config, *_PATCH_KEYS))
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
    for pattern in (*_CLASSIFIED, _CFDIST):
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
        stems.update(p.name[len("OvPdat_"):-len(tail)] for p in run_dir.glob(_OVPDAT)
                     if p.name.endswith(tail))
    return sorted(stems)


def run_scheme(run_dir: str | os.PathLike, record: dict | None = None) -> ClassScheme:
    """The class scheme of a run: run.json ``scheme``, else the model's, else the glacier one."""
    record = read_run_record(run_dir) if record is None else record
    data = _section(record, "scheme") or _section(_section(record, "model"), "scheme")
    if not data:
        return GLACIER_SCHEME
    try:
        return scheme_from_dict(data, source=f"{Path(run_dir) / 'run.json'} scheme")
    except (ConfigError, ValueError, TypeError) as exc:
        raise DataError(f"{Path(run_dir) / 'run.json'}: the class scheme cannot be read ({exc}).") \
            from None


def run_metadata(run_dir: str | os.PathLike, record: dict | None = None) -> dict:
    """Describe a run: patch size, tile size, bands, CNN training, glacier and validation.

    Each field comes from ``run.json`` when it says so, else from the folder name
    (:func:`parse_run_name`, the published naming, for runs made elsewhere):

    * ``patch_size``: config ``Kernel_size`` (or ``PatchSize``, ``patch_size``);
    * ``tile_size``: config ``size`` (or ``TileSize``, ``tile_size``), else the model's
      ``tile_size``;
    * ``bands``: the model's ``bands`` (else config ``Ndims``): 4 gives "NIR_RGB", else "RGB";
    * ``cnn_training``: "Joint" when the model's ``training`` has ``joint: true`` or records a
      fine-tuning (``fine_tuned_from``, ``fine_tuned_on``), "Single" for ``joint: false``,
      else from the folder name (``joint`` in it);
    * ``glacier``: config ``Glacier``, else a Hel/Jak/Sto token of the folder name or of
      ``PredictPath``, else the name of the ``PredictPath`` folder;
    * ``validation`` ("Seen"/"Unseen"): config ``Validation``; else, when the model's
      ``training`` lists the glaciers it was trained on (``glaciers``), Seen for those; else,
      when it lists its training images (``images``), Seen when the run scored one of them;
      else a ``seen``/``unseen`` token of the folder name; else "Unknown" (with a warning; set
      ``Validation`` in the CSC inputs). Without run.json the published convention applies
      (Helheim Seen, Jakobshavn and Store Unseen).

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    record : dict, optional
        Its run.json content, when already read.

    Returns
    -------
    dict
        Keys ``patch_size`` (int or None), ``tile_size`` (int or None), ``bands``,
        ``cnn_training``, ``glacier`` (str or None), ``validation``.
    """
    run_dir = Path(run_dir)
    record = read_run_record(run_dir) if record is None else record
    from_name = parse_run_name(run_dir.name)
    if record is None:
        meta = from_name
    else:
        config = _section(record, "config")
        model = _section(record, "model")
        training = _section(model, "training")
        patch = _as_int(_first(config, *_PATCH_KEYS))
        tile = _as_int(_first(config, *_TILE_KEYS)) \
            or _as_int(model.get("tile_size"))
        bands = _bands_label(_first(model, "bands")) or _bands_label(_first(config, *_BANDS_KEYS))
        if "joint" in training:
            cnn_training = "Joint" if training.get("joint") else "Single"
        elif training.get("fine_tuned_from") or training.get("fine_tuned_on"):
            cnn_training = "Joint"
        else:
            cnn_training = from_name["cnn_training"]
        predict = str(_first(config, *_PREDICT_KEYS) or "")
        glacier = _first(config, "Glacier")
        glacier = (str(glacier) if glacier is not None else None) or _glacier_token(run_dir.name) \
            or (_glacier_token(predict) if predict else None) \
            or (Path(predict).name if predict else None)
        validation = _normalise_validation(_first(config, "Validation"))
        if validation is None and isinstance(training.get("glaciers"), list) and glacier:
            seen = {str(g).lower() for g in training["glaciers"]}
            validation = "Seen" if glacier.lower() in seen else "Unseen"
        if validation is None:
            listed = next((training[k] for k in _IMAGE_LIST_KEYS
                           if isinstance(training.get(k), list)), None)
            if listed is not None:
                trained = {Path(str(s)).stem for s in listed}
                validation = "Seen" if trained & set(run_images(run_dir, record)) else "Unseen"
        if validation is None:
            validation = _validation_token(run_dir.name)
        meta = {"patch_size": patch if patch is not None else from_name["patch_size"],
                "tile_size": tile if tile is not None else from_name["tile_size"],
                "bands": bands or from_name["bands"],
                "cnn_training": cnn_training,
                "glacier": glacier,
                "validation": validation or "Unknown"}
    missing = [k for k, v in meta.items() if v is None or v == "Unknown"]
    if missing:
        log.warning("run %s: %s unknown (not in run.json nor in the folder name). Set them in the "
                    "CSC inputs (for validation: Validation = Seen/Unseen) or name the folder "
                    "like Hel_VGG16_50_RGBNIR_patch7.", run_dir.name, ", ".join(missing))
    return meta


def _metadata_columns(meta: dict) -> dict:
    return {"Patch_Size": meta["patch_size"], "Tile_Size": meta["tile_size"],
            "Bands": meta["bands"], "CNN_Training": meta["cnn_training"],
            "Glacier": meta["glacier"], "Validation": meta["validation"]}


def _typed(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    frame = frame.reindex(columns=list(columns))
    for column in ("Patch_Size", "Tile_Size", "CSC_Phase", "N_Pixels", "Count"):
        if column in frame:
            frame[column] = frame[column].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------

def load_ovpdat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one ``OvPdat`` file: (truth, cnn, csc), each shape (n,), uint8.

    Raises
    ------
    DataError
        The file is not an npz with 1-D ``truth``, ``cnn``, ``csc`` arrays of one length.
    """
    path = Path(path)
    try:
        with np.load(path) as data:
            arrays = tuple(np.asarray(data[k]).ravel() for k in ("truth", "cnn", "csc"))
    except KeyError as exc:
        raise DataError(f"{path.name} lacks the array {exc}; an OvPdat file holds 'truth', 'cnn' "
                        "and 'csc'. Re-run the CSC for this image.") from None
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as an npz file ({exc}). Delete it and re-run "
                        "the CSC for this image.") from None
    if len({a.size for a in arrays}) != 1:
        raise DataError(f"{path.name}: truth, cnn and csc have different lengths "
                        f"{[a.size for a in arrays]}. Re-run the CSC for this image.")
    return arrays


def pool_labels(run_dir: str | os.PathLike, subsample: int | None = DEFAULT_SUBSAMPLE,
                seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool a run's ``OvPdat`` files; drop pixels labelled 0 anywhere; subsample.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    subsample : int or None
        Keep at most this many pixels, drawn without replacement (seeded); None or 0 keeps all.
    seed : int
        Seed of the subsample.

    Returns
    -------
    truth, cnn, csc : numpy.ndarray
        Shape (n,) each, uint8, no zeros; the order of the files (sorted by name) and of the
        pixels within them, or the order of the draw.
    """
    if subsample is not None and (isinstance(subsample, bool) or int(subsample) < 0):
        raise ConfigError(f"subsample must be a pixel count >= 0 (0: all pixels), got "
                          f"{subsample!r}.")
    files = sorted(Path(run_dir).glob(_OVPDAT))
    if not files:
        raise DataError(f"{run_dir} holds no OvPdat_*.npz files.")
    parts = [load_ovpdat(f) for f in files]
    truth, cnn, csc = (np.concatenate([p[i] for p in parts]).astype(np.uint8) for i in range(3))
    keep = (truth != 0) & (cnn != 0) & (csc != 0)
    truth, cnn, csc = truth[keep], cnn[keep], csc[keep]
    if subsample and truth.size > subsample:
        rng = np.random.default_rng(seed)
        idx = rng.choice(truth.size, size=int(subsample), replace=False)
        truth, cnn, csc = truth[idx], cnn[idx], csc[idx]
    return truth, cnn, csc


def f1_scores(truth: np.ndarray, predicted: np.ndarray, glacier_class: int | None
              ) -> tuple[float, float]:
    """Weighted F1 over all classes, and the F1 of the glacier class.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        Shape (n,), class labels.
    glacier_class : int or None
        The glacier-ice class. Its F1 is NaN when the scheme has none, or when the class is in
        neither ``truth`` nor ``predicted`` (undefined).

    Returns
    -------
    (float, float)
        Weighted F1 (weights = support in ``truth``) and glacier F1.
    """
    from sklearn.metrics import f1_score

    if truth.size == 0:
        return float("nan"), float("nan")
    weighted = float(f1_score(truth, predicted, average="weighted", zero_division=0))
    if glacier_class is None or not (np.any(truth == glacier_class)
                                     or np.any(predicted == glacier_class)):
        glacier = float("nan")
    else:
        glacier = float(f1_score(truth, predicted, labels=[glacier_class], average=None,
                                 zero_division=0)[0])
    return weighted, glacier


def classification_table(runs_dir: str | os.PathLike, subsample: int | None = DEFAULT_SUBSAMPLE,
                         seed: int = 0) -> pd.DataFrame:
    """F1 of phase one (CNN) and phase two (CSC) per run: four rows per run.

    For each run folder holding ``OvPdat_*.npz`` files (see :func:`pool_labels`): weighted F1
    over all classes and F1 of glacier ice (the scheme's glacier class, 4 by default), for
    phase 1 and phase 2.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder).
    subsample : int or None
        At most this many pixels per run (published: 10 million); None or 0: all.
    seed : int
        Seed of the subsample (the same for every run).

    Returns
    -------
    pandas.DataFrame
        Columns :data:`CLASSIFICATION_COLUMNS`: F1, F1_Class (All / Glacier), Patch_Size,
        Tile_Size, Bands, CNN_Training, CSC_Phase (1 / 2), Glacier, Validation, Run (folder
        name) and N_Pixels (pixels scored).
    """
    from tqdm.auto import tqdm

    rows = []
    runs = find_runs(runs_dir, (_OVPDAT,), "OvPdat_*.npz label files")
    for run in tqdm(runs, desc="classification", unit="run", disable=None):
        record = read_run_record(run)
        meta = _metadata_columns(run_metadata(run, record))
        glacier_class = run_scheme(run, record).glacier
        truth, cnn, csc = pool_labels(run, subsample, seed)
        if truth.size == 0:
            log.warning("run %s: no pixel is labelled in truth, CNN and CSC alike; its F1 is NaN.",
                        run.name)
        for phase, predicted in ((1, cnn), (2, csc)):
            weighted, glacier = f1_scores(truth, predicted, glacier_class)
            for f1_class, value in (("All", weighted), ("Glacier", glacier)):
                rows.append({"F1": value, "F1_Class": f1_class, "CSC_Phase": phase, **meta,
                             "Run": run.name, "N_Pixels": truth.size})
        log.info("run %s: %d pixels, weighted F1 phase 1 %.3f, phase 2 %.3f", run.name,
                 truth.size, rows[-4]["F1"], rows[-2]["F1"])
    return _typed(pd.DataFrame(rows), CLASSIFICATION_COLUMNS)


# --------------------------------------------------------------------------------------------
# Distances: statistics, calving front, valley margins, histogram
# --------------------------------------------------------------------------------------------

def distance_stats(distances: np.ndarray, bin_m: float = DEFAULT_BIN_M) -> dict:
    """Mode, median, mean and standard deviation of distances in metres.

    Parameters
    ----------
    distances : numpy.ndarray
        Shape (n,), metres, n > 0.
    bin_m : float
        The mode is the most frequent value of the distances rounded to the nearest multiple of
        ``bin_m`` (ties: the smallest).

    Returns
    -------
    dict
        ``mode``, ``median``, ``mean``, ``std`` (population standard deviation), floats.
    """
    d = np.asarray(distances, dtype=np.float64).ravel()
    if d.size == 0:
        raise DataError("no distances to summarise.")
    binned = np.rint(d / bin_m).astype(np.int64)
    values, counts = np.unique(binned, return_counts=True)
    return {"mode": float(values[np.argmax(counts)] * bin_m), "median": float(np.median(d)),
            "mean": float(np.mean(d)), "std": float(np.std(d))}


def _check_distances(d: np.ndarray, source: str) -> np.ndarray:
    d = np.asarray(d, dtype=np.float64).ravel()
    if d.size and (not np.all(np.isfinite(d)) or d.min() < 0):
        raise DataError(f"{source} holds negative, NaN or infinite distances; distances are "
                        "metres >= 0. Re-run the CSC for this image.")
    return d


def load_distances(path: str | os.PathLike) -> np.ndarray:
    """Read one ``<stem>_cfdistances.npy``: shape (m,), float64 metres."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise DataError(f"{path} cannot be read as an .npy array ({exc}). Delete it and re-run "
                        "the CSC for this image.") from None
    return _check_distances(data, path.name)


def warn_catastrophic(distances: np.ndarray, source: str,
                      limit_m: float = CATASTROPHIC_ERROR_M) -> bool:
    """Log a warning when any distance exceeds ``limit_m`` (1000 m); return whether it did."""
    d = np.asarray(distances)
    if d.size and float(d.max()) > limit_m:
        log.warning("%s: catastrophic error, largest distance %.0f m (over %.0f m); check "
                    "its front.", source, float(d.max()), limit_m)
        return True
    return False


def run_front_distances(run_dir: str | os.PathLike, warn: bool = True) -> dict[str, np.ndarray]:
    """A run's front distances per image: ``{stem: distances (m,)}``, sorted by stem.

    With ``warn``, images with an error over 1000 m are logged as warnings.
    """
    run_dir = Path(run_dir)
    out = {}
    for path in sorted(run_dir.glob(_CFDIST)):
        stem = path.name[:-len(_CFDIST) + 1]
        out[stem] = load_distances(path)
        if warn:
            warn_catastrophic(out[stem], f"run {run_dir.name}, image {stem}")
    return out


def _distance_rows(run: Path, meta: dict, distances: np.ndarray) -> list[dict]:
    stats = distance_stats(distances)
    return [{"Run": run.name, "Statistic": label, "Error_m": stats[key], **meta,
             "Count": distances.size}
            for label, key in zip(STATISTICS, ("mode", "median", "mean", "std"))]


def calving_table(runs_dir: str | os.PathLike) -> pd.DataFrame:
    """Calving-front error per run: the four statistics of its pooled front distances.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder); runs are those holding
        ``*_cfdistances.npy`` files.

    Returns
    -------
    pandas.DataFrame
        Long format, four rows per run (Statistic Mode, Median, Mean, St.Dev; see
        :func:`distance_stats`), columns :data:`DISTANCE_COLUMNS`: Run, Statistic, Error_m,
        the metadata columns and Count (distances pooled). A warning is logged for every image
        with an error over 1000 m.
    """
    rows = []
    for run in find_runs(runs_dir, (_CFDIST,), "*_cfdistances.npy front distances"):
        per_image = run_front_distances(run)
        pooled = np.concatenate(list(per_image.values()))
        if pooled.size == 0:
            log.warning("run %s: its front distance files are empty; skipped.", run.name)
            continue
        meta = _metadata_columns(run_metadata(run))
        rows += _distance_rows(run, meta, pooled)
    if not rows:
        raise DataError(f"no front distances in {runs_dir}: every *_cfdistances.npy is empty.")
    return _typed(pd.DataFrame(rows), DISTANCE_COLUMNS)


def margin_distances(classes: np.ndarray, margin: np.ndarray, pixel_size: float,
                     rock_classes: Sequence[int] = DEFAULT_ROCK_CLASSES,
                     min_vertices: int = MIN_CONTOUR_VERTICES) -> np.ndarray:
    """Distance from every valley-margin pixel to the nearest predicted rock boundary.

    The predicted boundary: contours of the rock mask (``classes`` in ``rock_classes``) at
    level 0.5 (``skimage.measure.find_contours``) with more than ``min_vertices`` vertices;
    each vertex (row, col) marks pixel (floor(row), floor(col)).

    Parameters
    ----------
    classes : numpy.ndarray
        Shape (H, W), the classified raster.
    margin : numpy.ndarray
        Shape (H, W), non-zero on the manual valley-margin pixels.
    pixel_size : float
        Metres per pixel.
    rock_classes : sequence of int
        Classes that form the rock mask.
    min_vertices : int
        Shorter contours are ignored.

    Returns
    -------
    numpy.ndarray
        Shape (n_margin_pixels,), metres; empty when there is no margin pixel or no boundary
        contour long enough.
    """
    from scipy.spatial import cKDTree
    from skimage.measure import find_contours

    if classes.shape != margin.shape:
        raise RasterError(f"classified raster is {classes.shape[0]} x {classes.shape[1]} pixels "
                          f"but the valley margin raster is {margin.shape[0]} x {margin.shape[1]}; "
                          "the VM_ raster must be on the image's grid.")
    rock = np.isin(classes, np.asarray(rock_classes))
    boundary = np.zeros(classes.shape, dtype=bool)
    for contour in find_contours(rock.astype(np.float32), 0.5):
        if contour.shape[0] > min_vertices:
            rc = np.floor(contour).astype(np.int64)
            rc[:, 0] = np.clip(rc[:, 0], 0, classes.shape[0] - 1)
            rc[:, 1] = np.clip(rc[:, 1], 0, classes.shape[1] - 1)
            boundary[rc[:, 0], rc[:, 1]] = True
    predicted = np.argwhere(boundary)
    manual = np.argwhere(margin != 0)
    if predicted.size == 0 or manual.size == 0:
        return np.zeros(0, dtype=np.float64)
    distances, _ = cKDTree(predicted.astype(np.float64)).query(manual.astype(np.float64))
    return np.asarray(distances, dtype=np.float64) * float(pixel_size)


def _find_vm(vm_dir: Path, stem: str) -> Path | None:
    for ext in (".tif", ".tiff", ".png", ".TIF", ".TIFF", ".PNG"):
        candidate = vm_dir / f"VM_{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


def run_margin_distances(run_dir: str | os.PathLike, vm_dir: str | os.PathLike,
                         pixel_size: float | None = None,
                         rock_classes: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Valley-margin distances of a run per image: ``{stem: distances (n,)}``.

    Each ``<stem>_classified.tif`` is compared with ``VM_<stem>.tif`` in ``vm_dir`` (see
    :func:`margin_distances`). Images without a VM raster, and images without a predicted
    boundary, are skipped with a warning.

    Parameters
    ----------
    pixel_size : float, optional
        Metres per pixel for rasters without georeferencing (PNG); georeferenced rasters use
        their transform.
    rock_classes : sequence of int, optional
        Default: the rock classes of the run's scheme (6 and 7 in the glacier scheme).
    """
    run_dir, vm_dir = Path(run_dir), Path(vm_dir)
    if rock_classes is None:
        rock_classes = run_scheme(run_dir).rock or DEFAULT_ROCK_CLASSES
    out = {}
    paths = sorted(p for pattern in _CLASSIFIED for p in run_dir.glob(pattern))
    for path in paths:
        stem = path.name[:path.name.rindex("_classified")]
        vm_path = _find_vm(vm_dir, stem)
        if vm_path is None:
            log.warning("run %s: no VM_%s.tif in %s; image skipped.", run_dir.name, stem, vm_dir)
            continue
        raster = read_image(path, bands=1)
        size = raster.pixel_size or pixel_size
        if size is None:
            raise DataError(f"{path} has no georeferencing, so its pixel size is unknown. Give "
                            "the pixel size in metres (--pixel-size).")
        classes = raster.data[..., 0]
        margin = read_labels(vm_path, shape=classes.shape)
        d = margin_distances(classes, margin, size, rock_classes)
        if d.size == 0:
            log.warning("run %s, image %s: no predicted rock boundary longer than %d vertices "
                        "(or no margin pixel); image skipped.", run_dir.name, stem,
                        MIN_CONTOUR_VERTICES)
            continue
        out[stem] = d
    return out


def valley_margin_table(runs_dir: str | os.PathLike, vm_dir: str | os.PathLike,
                        pixel_size: float | None = None,
                        rock_classes: Sequence[int] | None = None) -> pd.DataFrame:
    """Valley-margin error per run: the four statistics of its pooled margin distances.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder); runs are those holding
        ``<stem>_classified.tif`` rasters.
    vm_dir : path-like
        Folder of the manual ``VM_<stem>.tif`` rasters.
    pixel_size, rock_classes : optional
        See :func:`run_margin_distances`.

    Returns
    -------
    pandas.DataFrame
        As :func:`calving_table`: columns :data:`DISTANCE_COLUMNS`, four rows per run.
    """
    vm_dir = Path(vm_dir)
    if not vm_dir.is_dir():
        raise InputFileError(f"valley margin folder {vm_dir} does not exist. Give the folder of "
                             "the VM_<stem>.tif rasters.")
    rows = []
    for run in find_runs(runs_dir, _CLASSIFIED, "<stem>_classified.tif rasters"):
        per_image = run_margin_distances(run, vm_dir, pixel_size, rock_classes)
        if not per_image:
            continue
        rows += _distance_rows(run, _metadata_columns(run_metadata(run)),
                               np.concatenate(list(per_image.values())))
    if not rows:
        raise DataError(f"no valley margin could be compared: no classified raster in {runs_dir} "
                        f"has a VM_<stem>.tif in {vm_dir} and a predicted rock boundary.")
    return _typed(pd.DataFrame(rows), DISTANCE_COLUMNS)


def error_histogram(distances: np.ndarray, bin_m: float = DEFAULT_BIN_M
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """Histogram of distances in bins of ``bin_m`` metres from 0, and the share under 100 m.

    Parameters
    ----------
    distances : numpy.ndarray
        Shape (n,), metres >= 0, n > 0.
    bin_m : float
        Bin width (10 m).

    Returns
    -------
    counts : numpy.ndarray
        Shape (k,), int; bin i holds ``i * bin_m <= d < (i + 1) * bin_m``.
    edges : numpy.ndarray
        Shape (k + 1,): 0, bin_m, ..., k * bin_m, with k * bin_m > max(d).
    share_under_100m : float
        Fraction (0..1) of distances below 100 m.
    """
    if bin_m <= 0:
        raise ConfigError(f"the histogram bin width must be positive, got {bin_m}.")
    d = _check_distances(distances, "the distances")
    if d.size == 0:
        raise DataError("no distances to draw a histogram of.")
    n_bins = int(np.floor(d.max() / bin_m)) + 1
    edges = np.arange(n_bins + 1, dtype=np.float64) * bin_m
    counts = np.bincount(np.minimum((d // bin_m).astype(np.int64), n_bins - 1),
                         minlength=n_bins)
    return counts, edges, float(np.mean(d < 100.0))


def _save_figure(fig, path: str | os.PathLike, dpi: int) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def error_histogram_figure(distances: np.ndarray, path: str | os.PathLike,
                           title: str | None = None, bin_m: float = DEFAULT_BIN_M,
                           dpi: int = 150) -> Path:
    """Save a histogram of front (or margin) errors with the share under 100 m, atomically.

    Parameters
    ----------
    distances : numpy.ndarray
        Shape (n,), metres.
    path : path-like
        Target image (``.png``; other matplotlib formats follow the extension).
    title : str, optional
        Figure title (the run name).
    """
    from matplotlib.figure import Figure

    counts, edges, share = error_histogram(distances, bin_m)
    stats = distance_stats(distances)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    ax.bar(edges[:-1], counts, width=bin_m, align="edge", color="#03719c", edgecolor="white",
           linewidth=0.3)
    ax.axvline(100, color="red", linestyle="--", linewidth=1)
    ax.set_xlabel("Error [m]")
    ax.set_ylabel("Pixels")
    ax.set_title(title or "Error histogram")
    ax.text(0.98, 0.95,
            f"{100 * share:.1f} % under 100 m\nmode {stats['mode']:.0f} m, median "
            f"{stats['median']:.1f} m\nmean {stats['mean']:.1f} m, st.dev {stats['std']:.1f} m\n"
            f"n = {np.asarray(distances).size}",
            transform=ax.transAxes, ha="right", va="top", fontsize=9)
    return _save_figure(fig, path, dpi)


# --------------------------------------------------------------------------------------------
# Keeping validation out of sample
# --------------------------------------------------------------------------------------------

def image_result_files(run_dir: str | os.PathLike, stem: str, experiment: str | None
                       ) -> list[Path]:
    """The per-image result files of ``stem`` in a run folder.

    With the experiment known, exactly: ``OvPdat_<stem>_<exp>.npz``, ``CNN_<stem>_<exp>.csv``,
    ``CSC_<stem>_<exp>.csv``, the figure ``CSC_<exp>_<stem>.png``, ``<stem>_cfdistances.npy``,
    the front ``<stem>_front.gpkg`` and ``<stem>_classified.tif/.tiff/.png`` (with GDAL
    ``.aux.xml`` side files). Without it, every file whose name holds ``<stem>`` between
    ``_`` or the name's start and ``_``, ``.`` or its end (which can also catch an image whose
    stem ends in ``_<stem>``), except ``run.json`` and ``summary.csv``.
    """
    run_dir = Path(run_dir)
    files = [p for p in run_dir.iterdir() if p.is_file()]
    if experiment is None:
        bounded = re.compile(rf"(?:^|_){re.escape(stem)}(?=[_.]|$)")
        return sorted(p for p in files if p.name not in ("run.json", "summary.csv")
                      and bounded.search(p.name))
    exact = {f"OvPdat_{stem}_{experiment}.npz", f"CNN_{stem}_{experiment}.csv",
             f"CSC_{stem}_{experiment}.csv", f"CSC_{experiment}_{stem}.png",
             f"{stem}_cfdistances.npy", f"{stem}_front.gpkg"}
    exact |= {f"{stem}_classified{ext}" for ext in (".tif", ".tiff", ".png")}
    exact |= {name + ".aux.xml" for name in list(exact)}
    return sorted(p for p in files if p.name in exact)


def clear_joint(runs_dir: str | os.PathLike, joint_images_dir: str | os.PathLike | None,
                dry_run: bool = False) -> list[Path]:
    """Remove from joint-training runs the results of the images used in joint fine-tuning.

    So that validation stays out of sample: a CNN fine-tuned jointly on some images must not
    be scored on them.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder). Only runs whose metadata say
        ``cnn_training == "Joint"`` are touched.
    joint_images_dir : path-like or None
        Folder of the images used in joint fine-tuning (their stems, via
        :func:`seeice.io.raster.list_images`). None: each run's own list, the model's
        ``training.fine_tuned_on`` in run.json.
    dry_run : bool
        List what would be removed, remove nothing.

    The rows of those images are also dropped from each run's ``summary.csv`` (rows with a
    cell that names the image: its stem, file name or path).

    Returns
    -------
    list of pathlib.Path
        The files removed (or, in a dry run, that would be removed), sorted.
    """
    stems = None
    if joint_images_dir not in (None, ""):
        stems = sorted({p.stem for p in list_images(joint_images_dir)})
        if not stems:
            raise DataError(f"{joint_images_dir} holds no images. Give the folder of the images "
                            "used in joint fine-tuning (SCLS_ companions are ignored).")
    removed = []
    joint_runs = 0
    for run in find_runs(runs_dir):
        record = read_run_record(run)
        if run_metadata(run, record)["cnn_training"] != "Joint":
            continue
        joint_runs += 1
        run_stems = stems
        if run_stems is None:
            listed = _section(_section(record, "model"), "training").get("fine_tuned_on") or []
            run_stems = sorted({Path(str(s)).stem for s in listed})
            if not run_stems:
                log.warning("run %s: run.json names no fine-tuning images (model training "
                            "'fine_tuned_on'); give --joint-images.", run.name)
                continue
        experiment = run_experiment(run, record)
        if experiment is None:
            log.warning("run %s: experiment name unknown; matching files by image name only.",
                        run.name)
        files = sorted({f for stem in run_stems
                        for f in image_result_files(run, stem, experiment)})
        for f in files:
            if dry_run:
                log.info("would remove %s", f)
            else:
                f.unlink()
                log.info("removed %s", f)
        removed += files
        _drop_summary_rows(run / "summary.csv", run_stems, dry_run)
    if joint_runs == 0:
        log.warning("no joint-training run in %s; nothing to remove.", runs_dir)
    log.info("%s %d file(s) from %d joint-training run(s).",
             "would remove" if dry_run else "removed", len(removed), joint_runs)
    return sorted(removed)


def _drop_summary_rows(path: Path, stems: Sequence[str], dry_run: bool) -> int:
    """Drop from a run's ``summary.csv`` the rows of ``stems`` (a cell naming the image)."""
    if not path.is_file():
        return 0
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        log.warning("%s cannot be read as CSV; left unchanged.", path)
        return 0
    wanted = set(stems)

    def names_image(cell: str) -> bool:
        return cell in wanted or Path(cell).stem in wanted or Path(cell).name in wanted

    hit = table.apply(lambda row: any(names_image(str(c)) for c in row), axis=1) \
        if len(table) else pd.Series([], dtype=bool)
    n = int(hit.sum())
    if n:
        if dry_run:
            log.info("would drop %d row(s) from %s", n, path)
        else:
            write_csv(path, table[~hit])
            log.info("dropped %d row(s) from %s", n, path)
    return n


# --------------------------------------------------------------------------------------------
# Sweep summary figure
# --------------------------------------------------------------------------------------------

def sweep_summary_figure(class_table: pd.DataFrame, calving_table: pd.DataFrame | None,
                         path: str | os.PathLike, dpi: int = 150) -> Path:
    """Summarise a parameter sweep in one figure, one row of panels per glacier.

    Panels: (1) weighted F1 (all classes) by patch size, one colour per tile size, phase 2
    solid and phase 1 dashed; (2) weighted F1 by tile size, phase 1 against phase 2;
    (3) calving-front error (median solid, mean dotted) by patch size, one colour per tile
    size. Values are means over the runs that share the plotted keys (bands, CNN training).

    Parameters
    ----------
    class_table : pandas.DataFrame
        From :func:`classification_table`.
    calving_table : pandas.DataFrame or None
        From :func:`calving_table`; None or empty: the front panels say so.
    path : path-like
        Target image, written atomically.
    """
    from matplotlib.figure import Figure

    if class_table is None or class_table.empty:
        raise DataError("the classification table is empty; nothing to summarise.")
    f1 = class_table[class_table["F1_Class"] == "All"].copy()
    f1["Glacier"] = f1["Glacier"].fillna("unknown glacier")
    glaciers = sorted(f1["Glacier"].unique(), key=str)
    cal = None
    if calving_table is not None and not calving_table.empty:
        cal = calving_table.copy()
        cal["Glacier"] = cal["Glacier"].fillna("unknown glacier")
    tiles = sorted(int(t) for t in f1["Tile_Size"].dropna().unique())
    colours = {t: c for t, c in zip(tiles, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                            "#66a61e", "#e6ab02", "#a6761d", "#666666"] * 4)}

    fig = Figure(figsize=(13, 3.6 * len(glaciers)))
    axes = fig.subplots(len(glaciers), 3, squeeze=False)
    for row, glacier in enumerate(glaciers):
        ax1, ax2, ax3 = axes[row]
        sub = f1[f1["Glacier"] == glacier]
        by_patch = sub.dropna(subset=["Patch_Size", "Tile_Size"])
        for tile in tiles:
            t = by_patch[by_patch["Tile_Size"] == tile]
            for phase, style in ((2, "-o"), (1, "--s")):
                p = t[t["CSC_Phase"] == phase].groupby("Patch_Size")["F1"].mean()
                if len(p):
                    ax1.plot(p.index.astype(int), p.values, style, color=colours[tile],
                             label=f"tile {tile}, phase {phase}", markersize=4)
        patches = sorted(int(k) for k in by_patch["Patch_Size"].unique())
        if patches:
            ax1.set_xticks(patches)
            ax3.set_xticks(patches)
        ax1.set_title(f"{glacier}: F1 by patch size")
        ax1.set_xlabel("Patch size [px]")
        ax1.set_ylabel("Weighted F1")

        by_tile = sub.dropna(subset=["Tile_Size"])
        for phase, style, colour in ((1, "--s", "#777777"), (2, "-o", "#03719c")):
            p = by_tile[by_tile["CSC_Phase"] == phase].groupby("Tile_Size")["F1"].mean()
            if len(p):
                ax2.plot(p.index.astype(int), p.values, style, color=colour,
                         label=f"phase {phase}", markersize=4)
        tile_ticks = sorted(int(t) for t in by_tile["Tile_Size"].unique())
        if tile_ticks:
            ax2.set_xticks(tile_ticks)
        ax2.set_title(f"{glacier}: F1 by tile size")
        ax2.set_xlabel("Tile size [px]")
        ax2.set_ylabel("Weighted F1")

        ax3.set_title(f"{glacier}: front error by patch size")
        ax3.set_xlabel("Patch size [px]")
        ax3.set_ylabel("Error [m]")
        c = None if cal is None else cal[cal["Glacier"] == glacier].dropna(subset=["Patch_Size"])
        if c is None or c.empty:
            ax3.text(0.5, 0.5, "no calving front results", ha="center", va="center",
                     transform=ax3.transAxes)
        else:
            for tile, group in c.groupby(c["Tile_Size"].fillna(-1)):
                colour = colours.get(int(tile), "#444444")
                label = f"tile {int(tile)}" if tile != -1 else "tile ?"
                for stat, style in (("Median", "-o"), ("Mean", ":^")):
                    p = group[group["Statistic"] == stat].groupby("Patch_Size")["Error_m"].mean()
                    if len(p):
                        ax3.plot(p.index.astype(int), p.values, style, color=colour,
                                 label=f"{label}, {stat.lower()}", markersize=4)
        for ax in (ax1, ax2, ax3):
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save_figure(fig, path, dpi)


__all__ = [
    "STATISTICS", "CLASSIFICATION_COLUMNS", "DISTANCE_COLUMNS", "find_runs", "read_run_record",
    "parse_run_name", "run_metadata", "run_scheme", "run_experiment", "run_images",
    "load_ovpdat", "pool_labels", "f1_scores", "classification_table", "distance_stats",
    "load_distances", "warn_catastrophic", "run_front_distances", "calving_table",
    "margin_distances", "run_margin_distances", "valley_margin_table", "error_histogram",
    "error_histogram_figure", "image_result_files", "clear_joint", "sweep_summary_figure",
]

"""Results tables over a folder of runs: pooled F1 of both phases and front-distance statistics (DESIGN section 6).

One row per run and statistic; the run's description columns come from
:func:`seeice.results.describe.run_metadata`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from seeice.defaults import MODE_BIN_M, SUBSAMPLE_PIXELS
from seeice.errors import ConfigError, DataError
from seeice.io.ovpdat import read_ovpdat
from seeice.metrics.distances import (
    PREDICTED_CFDIST_SUFFIX,
    STATISTICS,
    distance_stats,
    load_distances,
    pooled_mean_distance_error,
    warn_catastrophic,
)
from seeice.results.completeness import complete_runs, keep_complete_images
from seeice.results.describe import run_metadata
from seeice.results.runs import (
    CFDIST_PATTERN,
    METADATA_COLUMNS,
    OVPDAT_PATTERN,
    find_runs,
    metadata_columns,
    read_run_record,
    run_scheme,
    typed_columns,
)

log = logging.getLogger(__name__)

#: Columns of :func:`classification_table`.
CLASSIFICATION_COLUMNS = ("F1", "F1_Class", "Patch_Size", "Tile_Size", "Bands", "CNN_Training",
                          "CSC_Phase", "Glacier", "Validation", "Run", "N_Pixels")
#: Columns of :func:`calving_table` and :func:`valley_margin_table`.
DISTANCE_COLUMNS = ("Run", "Statistic", "Error_m", *METADATA_COLUMNS, "Count")
#: Columns of :func:`calving_table`: those of the distance tables, then the run's mean distance
#: error (both directions pooled, CaFFe), the distances it pools and the images without a
#: predicted front (counted apart, not scored).
CALVING_COLUMNS = (*DISTANCE_COLUMNS, "Front_MDE_m", "MDE_Count", "Images_no_front")
DEFAULT_SUBSAMPLE = SUBSAMPLE_PIXELS


def load_ovpdat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one ``OvPdat`` file, ours or published: (truth, cnn, csc), each shape (n,), uint8.

    See :func:`seeice.io.ovpdat.read_ovpdat`.
    """
    return read_ovpdat(path)


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
        pixels within them, or the order of the draw. Only images that run.json lists as
        complete are pooled (all of them in runs without run.json).
    """
    if subsample is not None and (isinstance(subsample, bool) or int(subsample) < 0):
        raise ConfigError(f"subsample must be a pixel count >= 0 (0: all pixels), got "
                          f"{subsample!r}.")
    files = sorted(Path(run_dir).glob(OVPDAT_PATTERN))
    if not files:
        raise DataError(f"{run_dir} holds no OvPdat_*.npz files.")
    files = keep_complete_images(run_dir, files)
    if not files:
        raise DataError(f"{run_dir}: none of its OvPdat_*.npz files belongs to an image that "
                        "run.json lists as complete (images_complete). Rerun the run.")
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
    runs = complete_runs(find_runs(runs_dir, (OVPDAT_PATTERN,), "OvPdat_*.npz label files"),
                         runs_dir)
    for run in tqdm(runs, desc="classification", unit="run", disable=None):
        record = read_run_record(run)
        meta = metadata_columns(run_metadata(run, record))
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
    return typed_columns(pd.DataFrame(rows), CLASSIFICATION_COLUMNS)


def run_front_distances(run_dir: str | os.PathLike, warn: bool = True) -> dict[str, np.ndarray]:
    """A run's front distances per image: ``{stem: distances (m,)}``, sorted by stem.

    With ``warn``, images with an error over 1000 m are logged as warnings. Only images that
    run.json lists as complete are read (all of them in runs without run.json).
    """
    run_dir = Path(run_dir)
    out = {}
    for path in keep_complete_images(run_dir, sorted(run_dir.glob(CFDIST_PATTERN))):
        stem = path.name[:-len(CFDIST_PATTERN) + 1]
        out[stem] = load_distances(path)
        if warn:
            warn_catastrophic(out[stem], f"run {run_dir.name}, image {stem}")
    return out


def distance_rows(run: Path, meta: dict, distances: np.ndarray,
                  mode_bin: float = MODE_BIN_M) -> list[dict]:
    stats = distance_stats(distances, mode_bin)
    return [{"Run": run.name, "Statistic": label, "Error_m": stats[key], **meta,
             "Count": distances.size}
            for label, key in zip(STATISTICS, ("mode", "median", "mean", "std"))]


def run_mean_distance_error(run_dir: str | os.PathLike, stems: list[str]) -> dict:
    """A run's mean distance error, both directions of its scored images pooled.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    stems : list of str
        Its scored images (those with ``<stem>_cfdistances.npy``).

    Returns
    -------
    dict
        As :func:`seeice.metrics.distances.pooled_mean_distance_error`; ``mde`` is NaN when an
        image lacks ``<stem>_cfdistances_predicted.npy`` (a run written before the second
        direction was kept, or a published run: said once), and ``n_without_front`` is the
        count of images of ``summary.csv`` with a manual front but no predicted one (NaN when
        the summary does not say which images had a manual front).
    """
    run_dir = Path(run_dir)
    pairs, missing = [], []
    for stem in stems:
        second = run_dir / f"{stem}{PREDICTED_CFDIST_SUFFIX}"
        if not second.is_file():
            missing.append(stem)
            continue
        pairs.append((load_distances(run_dir / f"{stem}_cfdistances.npy"),
                      load_distances(second)))
    result = pooled_mean_distance_error(pairs)
    if missing:
        log.info("run %s: no predicted-to-manual distances for %d image(s) (%s): its mean "
                 "distance error (Front_MDE_m) is left empty; rerun the CSC to get it.",
                 run_dir.name, len(missing), ", ".join(missing[:5]))
        result["mde"] = float("nan")
    result["n_without_front"] = float("nan")
    summary = run_dir / "summary.csv"
    if summary.is_file():
        frame = pd.read_csv(summary)
        if {"Manual_front", "Front_found"} <= set(frame.columns):
            done = frame["Error"].fillna("").astype(str) == "" if "Error" in frame else True
            manual = frame["Manual_front"].astype(str).str.lower() == "true"
            found = frame["Front_found"].astype(str).str.lower() == "true"
            result["n_without_front"] = int((manual & ~found & done).sum())
    return result


def calving_table(runs_dir: str | os.PathLike, mode_bin: float = MODE_BIN_M) -> pd.DataFrame:
    """Calving-front error per run: the four statistics of its pooled front distances.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder); runs are those holding
        ``*_cfdistances.npy`` files.
    mode_bin : float
        The Mode is that of the distances rounded to this many metres (10); 0 gives the exact
        most common value (published).

    Returns
    -------
    pandas.DataFrame
        Long format, four rows per run (Statistic Mode, Median, Mean, St.Dev; see
        :func:`distance_stats`) of the published one-directional distances (every manual front
        pixel to the nearest predicted one), columns :data:`CALVING_COLUMNS`: Run, Statistic,
        Error_m, the metadata columns, Count (distances pooled), and, the same on the run's
        four rows, Front_MDE_m (the mean distance error of CaFFe: both directions pooled, see
        :func:`run_mean_distance_error`), MDE_Count (distances it pools) and Images_no_front
        (images with a manual front but no predicted front: counted, not scored). A warning
        is logged for every image with an error over 1000 m.
    """
    rows = []
    runs = complete_runs(find_runs(runs_dir, (CFDIST_PATTERN,),
                                   "*_cfdistances.npy front distances"), runs_dir)
    for run in runs:
        per_image = run_front_distances(run)
        if not per_image:
            log.warning("run %s: no complete image has front distances; skipped.", run.name)
            continue
        pooled = np.concatenate(list(per_image.values()))
        if pooled.size == 0:
            log.warning("run %s: its front distance files are empty; skipped.", run.name)
            continue
        meta = metadata_columns(run_metadata(run))
        mde = run_mean_distance_error(run, list(per_image))
        rows += [{**row, "Front_MDE_m": mde["mde"], "MDE_Count": mde["n_distances"],
                  "Images_no_front": mde["n_without_front"]}
                 for row in distance_rows(run, meta, pooled, mode_bin)]
    if not rows:
        raise DataError(f"no front distances in {runs_dir}: every *_cfdistances.npy is empty.")
    table = typed_columns(pd.DataFrame(rows), CALVING_COLUMNS)
    for column in ("MDE_Count", "Images_no_front"):
        table[column] = table[column].astype("Int64")
    return table

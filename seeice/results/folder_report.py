"""Pooled per-class report of one run folder, for both phases (the published FolderF1)."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd

from seeice.defaults import FOLDER_SUBSAMPLE_PIXELS
from seeice.errors import DataError
from seeice.metrics.reports import classification_report_frame, format_report
from seeice.results.completeness import require_complete_run
from seeice.results.describe import run_metadata
from seeice.results.runs import run_scheme
from seeice.results.tables import pool_labels

log = logging.getLogger(__name__)

#: Columns of :func:`folder_report`.
FOLDER_REPORT_COLUMNS = ("Run", "CSC_Phase", "Class", "Precision", "Recall", "F1_score",
                         "Support")


def folder_report(run_dir: str | os.PathLike, subsample: int | None = FOLDER_SUBSAMPLE_PIXELS,
                  seed: int = 0) -> pd.DataFrame:
    """Per-class precision, recall, F1 and support of one run, pooled over its images.

    The run's ``OvPdat`` files (ours or published) are pooled and pixels labelled 0 in truth,
    CNN or CSC dropped (:func:`seeice.results.tables.pool_labels`), then subsampled; the
    reports of phase one (CNN tiles) and phase two (CSC) are logged and returned.

    Parameters
    ----------
    run_dir : path-like
        One run folder; refused when its run.json is not marked complete (a folder without
        run.json is a published, complete run).
    subsample : int or None
        At most this many pixels, drawn without replacement (seeded); None or 0: all
        (published FolderF1: 1 million).
    seed : int
        Seed of the subsample.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`FOLDER_REPORT_COLUMNS`: for ``CSC_Phase`` 1 then 2, one row per class
        present in the pooled truth or prediction (named by the run's class scheme), then
        ``Accuracy``, ``Macro_avg`` and ``Weighted_avg``, values rounded to 3 digits.

    Raises
    ------
    InputFileError
        The run folder does not exist.
    DataError
        The run is unfinished, holds no OvPdat file, or no pixel is labelled in all three.
    """
    run_dir = Path(run_dir)
    record = require_complete_run(run_dir)
    truth, cnn, csc = pool_labels(run_dir, subsample, seed)
    if truth.size == 0:
        raise DataError(f"run {run_dir.name}: no pixel is labelled in truth, CNN and CSC alike; "
                        "there is nothing to score.")
    scheme = run_scheme(run_dir, record)
    meta = run_metadata(run_dir, record)
    log.info("run %s: glacier %s, patch size %s, tile size %s, %s bands, %s CNN training, %s; "
             "%d pixels scored", run_dir.name, meta["glacier"], meta["patch_size"],
             meta["tile_size"], meta["bands"], meta["cnn_training"], meta["validation"],
             truth.size)
    frames = []
    for phase, predicted, what in ((1, cnn, "CNN tiled classification"),
                                   (2, csc, "CNN-supervised classification")):
        labels = [int(c) for c in np.union1d(np.unique(truth), np.unique(predicted))]
        names = [scheme.label(c) if c <= scheme.front_value else f"class {c}" for c in labels]
        report = classification_report_frame(truth, predicted, names, labels)
        log.info("%s", format_report(report, f"{what} results for {run_dir.name}"))
        frames.append(report.assign(Run=run_dir.name, CSC_Phase=phase))
    return pd.concat(frames, ignore_index=True).reindex(columns=list(FOLDER_REPORT_COLUMNS))

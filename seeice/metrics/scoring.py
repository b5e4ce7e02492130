"""Validation of one classified image against its labels and manual front (DESIGN 5, step 8).

* Classification: the phase-one (CNN) and final (CSC) class rasters are scored against the
  ``SCLS_`` labels on the labelled pixels (label 0 is excluded). The report is a table with
  the columns ``Class, Precision, Recall, F1_score, Support``: one row per class present in
  the labels or the prediction (the scheme's class names), then ``Accuracy``, ``Macro_avg``
  and ``Weighted_avg``. Labelled pixels that the classifier left unclassified (0) count as
  misses of their true class and lower the accuracy; they get no row of their own.
* Scored pixels: the truth, CNN and CSC labels of the labelled pixels, as saved in
  ``OvPdat_<stem>_<exp>.npz`` for pooling across images.
* Calving front: for every manual front pixel, the distance in metres to the nearest
  predicted front pixel, and the mode, median, mean and standard deviation of those
  distances.
"""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from seeice.classes import ClassScheme
from seeice.errors import DataError, FrontNotFoundError, RasterError
from seeice.metrics.distances import distance_stats  # noqa: F401  (re-exported for per-image scoring)
from seeice.metrics.reports import classification_report_frame

log = logging.getLogger(__name__)

#: Pixels counted per step by :func:`label_pairs` (bounded memory on whole granules).
SCORE_BLOCK_PIXELS = 4_000_000

"""Names of the summary rows in the phase-two reports (DESIGN 5.8)."""


def _same_shape(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape != b.shape:
        raise RasterError(f"{name_a} is {a.shape} but {name_b} is {b.shape}; both must cover "
                          "the same pixels (H, W).")


def score_classification(truth: np.ndarray, predicted: np.ndarray,
                         scheme: ClassScheme) -> pd.DataFrame:
    """Classification report of ``predicted`` against ``truth`` on the labelled pixels.

    Parameters
    ----------
    truth : numpy.ndarray
        (H, W) labels, 0 = unlabelled (excluded), 1..n classes.
    predicted : numpy.ndarray
        (H, W) classes, 0 = unclassified, 1..n. Score the classes without the front painted
        (:attr:`seeice.fronts.detection.FrontResult.classes_refined`); a front value would get a row
        named "calving front".
    scheme : ClassScheme
        Gives the class names.

    Returns
    -------
    pandas.DataFrame
        Columns ``Class, Precision, Recall, F1_score, Support``; rows: the classes present
        in the labelled truth or its prediction (by class number), then ``Accuracy`` (value
        in ``F1_score``; Precision and Recall empty; Support = scored pixels),
        ``Macro_avg`` and ``Weighted_avg``. Values rounded to 3 digits.

    Raises
    ------
    RasterError
        The shapes differ.
    DataError
        No pixel is labelled, or a class value lies outside 0..255 (class rasters are uint8).
    """
    truth = np.asarray(truth)
    predicted = np.asarray(predicted)
    _same_shape("the label raster", truth, "the classification", predicted)
    t, p, counts = label_pairs(truth, predicted)
    if not counts.size:
        raise DataError("the label raster has no labelled pixel (all 0); nothing to score.")
    labels = [int(c) for c in np.union1d(t, p) if c != 0]
    names = [scheme.label(c) if c <= scheme.front_value else f"class {c}" for c in labels]
    return classification_report_frame(t, p, names, labels, sample_weight=counts)


def label_pairs(truth: np.ndarray, predicted: np.ndarray
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (truth, predicted) pairs of the labelled pixels and how many pixels each has.

    Counted row block by row block, so that a whole granule (120 million pixels) is scored
    in bounded memory; the report of the pairs weighted by their counts is the report of
    the pixels.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        (H, W) classes 0..255; pixels with ``truth == 0`` are not counted.

    Returns
    -------
    truth_classes, predicted_classes, counts : numpy.ndarray
        Shape (m,) each, int64, m <= 65 536: the pairs that occur, in increasing order of
        (truth, predicted), and their pixel counts.
    """
    truth = np.atleast_2d(np.asarray(truth))
    truth = truth.reshape(truth.shape[0], -1)
    predicted = np.asarray(predicted).reshape(truth.shape)
    if truth.size and (int(truth.min()) < 0 or int(predicted.min()) < 0
                       or int(truth.max()) > 255 or int(predicted.max()) > 255):
        raise DataError("class values must lie in 0..255 to be scored; give uint8 class "
                        "rasters.")
    counts = np.zeros(256 * 256, dtype=np.int64)
    step = max(1, SCORE_BLOCK_PIXELS // max(1, truth.shape[1]))
    for r0 in range(0, truth.shape[0], step):
        t = truth[r0:r0 + step].astype(np.int64).ravel()
        p = predicted[r0:r0 + step].astype(np.int64).ravel()
        labelled = t != 0
        counts += np.bincount(t[labelled] * 256 + p[labelled], minlength=256 * 256)
    codes = np.flatnonzero(counts)
    return codes // 256, codes % 256, counts[codes]


def weighted_f1(frame: pd.DataFrame) -> float:
    """The weighted-average F1 of a report from :func:`score_classification`."""
    rows = frame.loc[frame["Class"] == "Weighted_avg", "F1_score"]
    if rows.empty:
        raise DataError("the report has no Weighted_avg row; make it with "
                        "seeice.metrics.scoring.score_classification.")
    return float(rows.iloc[0])


def scored_pixels(truth: np.ndarray, cnn: np.ndarray, csc: np.ndarray
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Truth, CNN and CSC labels of the labelled pixels (truth != 0), as saved in OvPdat.

    Parameters
    ----------
    truth, cnn, csc : numpy.ndarray
        (H, W) labels, phase-one classes and final classes (without the front painted).

    Returns
    -------
    truth, cnn, csc : numpy.ndarray
        Shape (n,) each, uint8, n = number of labelled pixels, in row-major order.
    """
    truth, cnn, csc = (np.asarray(a) for a in (truth, cnn, csc))
    _same_shape("the label raster", truth, "the CNN classification", cnn)
    _same_shape("the label raster", truth, "the CSC classification", csc)
    keep = truth != 0
    return (truth[keep].astype(np.uint8), cnn[keep].astype(np.uint8),
            csc[keep].astype(np.uint8))


def front_distances(manual_front: np.ndarray, predicted_front: np.ndarray,
                    pixel_size_m: float) -> np.ndarray:
    """Distance from every manual front pixel to the nearest predicted front pixel.

    Parameters
    ----------
    manual_front : numpy.ndarray
        (H, W) bool (or non-zero on front pixels), the digitised front (``EDGE_``).
    predicted_front : numpy.ndarray
        (H, W) bool, the detected front.
    pixel_size_m : float
        Pixel size in metres (square pixels).

    Returns
    -------
    numpy.ndarray
        Shape (n_manual,), float64 metres, for the manual front pixels in row-major order.
        Distances are between pixel centres (Euclidean).

    Raises
    ------
    RasterError
        The shapes differ.
    FrontNotFoundError
        The predicted front is empty.
    DataError
        The manual front is empty or the pixel size is not positive.
    """
    manual = np.asarray(manual_front) != 0
    predicted = np.asarray(predicted_front) != 0
    _same_shape("the manual front", manual, "the predicted front", predicted)
    if not np.isfinite(pixel_size_m) or pixel_size_m <= 0:
        raise DataError(f"pixel size must be a positive number of metres, got {pixel_size_m}. "
                        "Give PixelSize for images without georeferencing.")
    if not predicted.any():
        raise FrontNotFoundError("no predicted front pixel: front distances are undefined.")
    if not manual.any():
        raise DataError("the manual front (EDGE_ raster) has no front pixel.")
    # Nearest predicted pixel of each manual pixel, by a k-d tree of the front pixels: the
    # distances of a Euclidean distance transform, without its (H, W) float rasters.
    distance, _ = cKDTree(np.argwhere(predicted)).query(np.argwhere(manual))
    return np.asarray(distance, dtype=np.float64) * float(pixel_size_m)


def front_distances_both_ways(manual_front: np.ndarray, predicted_front: np.ndarray,
                              pixel_size_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Front distances in both directions, for the mean distance error of the field's benchmark.

    The mean distance error (MDE) of Gourmelon et al. (2022, CaFFe) pools both directions:
    every manual front pixel to the nearest predicted one, and every predicted front pixel to
    the nearest manual one; ``np.mean(np.concatenate(both))``. The first direction alone is
    the published one-directional error (:func:`front_distances`).

    Parameters
    ----------
    manual_front, predicted_front : numpy.ndarray
        (H, W), non-zero on front pixels.
    pixel_size_m : float
        Pixel size in metres.

    Returns
    -------
    manual_to_predicted : numpy.ndarray
        Shape (n_manual,), metres.
    predicted_to_manual : numpy.ndarray
        Shape (n_predicted,), metres.

    Raises
    ------
    FrontNotFoundError, DataError, RasterError
        As :func:`front_distances`.
    """
    manual_to_predicted = front_distances(manual_front, predicted_front, pixel_size_m)
    predicted_to_manual = front_distances(predicted_front, manual_front, pixel_size_m)
    return manual_to_predicted, predicted_to_manual

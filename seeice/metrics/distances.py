"""Statistics of front and margin distances in metres: mode, median, mean, standard deviation, histograms.

Statistics of a set of distances (:func:`distance_stats`): mode, median, mean and standard
deviation (population, ``ddof=0``). The mode is taken of the distances rounded to the
nearest multiple of 10 m (bins of 10 m centred on 0, 10, 20, ... m), so that with 10 m
pixels an exact hit counts as 0 m and the answer is a multiple of 10 m. A bin of 0 gives the
published mode, the most common exact value (``statistics.mode``).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np

from seeice.defaults import CATASTROPHIC_ERROR_M, HISTOGRAM_BIN_M
from seeice.errors import ConfigError, DataError

log = logging.getLogger(__name__)

#: Statistics of a set of distances, in table order.
STATISTICS = ("Mode", "Median", "Mean", "St.Dev")
DEFAULT_BIN_M = HISTOGRAM_BIN_M


def exact_mode(distances: np.ndarray) -> float:
    """The most common exact value, ties to the first met: ``statistics.mode`` (published).

    With 10 m pixels the distances are 10 x sqrt(integer), so exact values repeat; this is the
    mode of the published scripts.
    """
    d = np.asarray(distances, dtype=np.float64).ravel()
    if d.size == 0:
        raise DataError("no distances to summarise.")
    values, first, counts = np.unique(d, return_index=True, return_counts=True)
    most = counts == counts.max()
    return float(values[most][np.argmin(first[most])])


def distance_stats(distances: np.ndarray, bin_m: float = DEFAULT_BIN_M) -> dict:
    """Mode, median, mean and standard deviation of distances in metres.

    Parameters
    ----------
    distances : numpy.ndarray
        Shape (n,), metres, n > 0.
    bin_m : float
        The mode is the most frequent value of the distances rounded to the nearest multiple of
        ``bin_m`` (ties: the smallest); 0 gives the exact most frequent value as the published
        scripts took it (:func:`exact_mode`).

    Returns
    -------
    dict
        ``mode``, ``median``, ``mean``, ``std`` (population standard deviation), floats.
    """
    d = np.asarray(distances, dtype=np.float64).ravel()
    if d.size == 0:
        raise DataError("no distances to summarise.")
    if bin_m < 0:
        raise ConfigError(f"the mode bin must be metres >= 0 (0: exact mode), got {bin_m}.")
    if bin_m == 0:
        mode = exact_mode(d)
    else:
        binned = np.rint(d / bin_m).astype(np.int64)
        values, counts = np.unique(binned, return_counts=True)
        mode = float(values[np.argmax(counts)] * bin_m)
    return {"mode": mode, "median": float(np.median(d)), "mean": float(np.mean(d)),
            "std": float(np.std(d))}


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


#: File of the distances from each predicted front pixel to the nearest manual front pixel
#: (the second direction of the mean distance error), beside ``<stem>_cfdistances.npy``.
PREDICTED_CFDIST_SUFFIX = "_cfdistances_predicted.npy"


def mean_distance_error(manual_to_predicted: np.ndarray, predicted_to_manual: np.ndarray
                        ) -> float:
    """The mean distance error (MDE) of the CaFFe benchmark (Gourmelon et al. 2022), metres.

    Both directions pooled: the mean of the distances from every manual front pixel to the
    nearest predicted one and from every predicted front pixel to the nearest manual one.
    The published one-directional statistics use the first direction alone. Images without a
    predicted front have no MDE; they are counted apart (:func:`pooled_mean_distance_error`).

    Parameters
    ----------
    manual_to_predicted : numpy.ndarray
        Shape (n_manual,), metres >= 0.
    predicted_to_manual : numpy.ndarray
        Shape (n_predicted,), metres >= 0.

    Returns
    -------
    float
        ``mean(concatenate([manual_to_predicted, predicted_to_manual]))``.

    Raises
    ------
    DataError
        Either direction is empty (no manual or no predicted front pixel).

    Examples
    --------
    >>> mean_distance_error(np.array([0.0, 10.0]), np.array([30.0]))
    13.333333333333334
    """
    m2p = _check_distances(manual_to_predicted, "the manual-to-predicted distances")
    p2m = _check_distances(predicted_to_manual, "the predicted-to-manual distances")
    if m2p.size == 0 or p2m.size == 0:
        raise DataError("the mean distance error needs front pixels on both sides (manual "
                        "and predicted); one of them is empty.")
    return float(np.mean(np.concatenate([m2p, p2m])))


def pooled_mean_distance_error(pairs: list[tuple[np.ndarray, np.ndarray]],
                               n_without_front: int = 0) -> dict:
    """The mean distance error of a set of images, both directions of all of them pooled.

    Parameters
    ----------
    pairs : list of (numpy.ndarray, numpy.ndarray)
        Per scored image: (manual-to-predicted (n,), predicted-to-manual (m,)), metres.
    n_without_front : int
        Images with a manual front but no predicted front: counted, not scored.

    Returns
    -------
    dict
        ``mde`` (float metres; NaN when no image is scored), ``n_distances`` (pooled count),
        ``n_images`` (images scored), ``n_without_front``.
    """
    pooled = [_check_distances(d, "the front distances") for pair in pairs for d in pair]
    values = np.concatenate(pooled) if pooled else np.zeros(0)
    return {"mde": float(np.mean(values)) if values.size else float("nan"),
            "n_distances": int(values.size), "n_images": len(pairs),
            "n_without_front": int(n_without_front)}

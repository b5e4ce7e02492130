"""Training samples for the phase-two patch classifier.

For each class present in an image's phase-one class raster, a random set of pixels of that
class is drawn (without replacement, at most ``samples_per_class``); each sample is the
k x k window of the normalised image centred on the drawn pixel, labelled with the class.
Only pixels whose whole window lies inside the image are eligible (the k//2 border is
excluded), and class 0 (unclassified) is never sampled. With a valid mask, only pixels whose
whole window lies in valid data are eligible: no window touches no-data (DESIGN 5.3).
"""

from __future__ import annotations

import logging

import numpy as np

from seeice.checks import positive_int
from seeice.defaults import SAMPLES_PER_CLASS
from seeice.errors import ConfigError, DataError, RasterError
from seeice.io.validity import window_valid

logger = logging.getLogger(__name__)

DEFAULT_SAMPLES_PER_CLASS = SAMPLES_PER_CLASS
_CHUNK_VALUES = 16_000_000  # values gathered per step (64 MB of float32)


def _as_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def sample_windows(
    image: np.ndarray,
    class_raster: np.ndarray,
    k: int,
    samples_per_class: int = DEFAULT_SAMPLES_PER_CLASS,
    seed: int | np.random.Generator | None = 0,
    n_classes: int | None = None,
    valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw centred k x k training windows per class from one image.

    Parameters
    ----------
    image : numpy.ndarray
        Normalised image, shape (H, W, bands), float.
    class_raster : numpy.ndarray
        Phase-one class raster, shape (H, W), integer labels (0 = unclassified).
    k : int
        Window edge in pixels, odd and at least 1.
    samples_per_class : int
        Cap on the samples of each class; a class with fewer eligible pixels gives all of them.
    seed : int, numpy.random.Generator or None
        Seed of the draw (or a generator to draw from).
    n_classes : int, optional
        When given, only classes 1..n_classes are sampled (other non-zero values, such as
        a calving-front value n_classes + 1, are ignored).
    valid : numpy.ndarray, optional
        (H, W) bool, the image's valid pixels; a window touching an invalid pixel is never
        drawn. All pixels are valid when None.

    Returns
    -------
    X : numpy.ndarray
        Windows, shape (n, k, k, bands), float32. ``X[i, k//2, k//2]`` is the image at the
        sampled pixel.
    y : numpy.ndarray
        Labels, shape (n,), int64, the class of each window's centre pixel.
        Samples are grouped by class in increasing class order.

    Raises
    ------
    ConfigError
        Bad ``k`` or ``samples_per_class``.
    RasterError
        Image and class raster do not have the same height and width.
    DataError
        No eligible pixel of any class (e.g. an all-zero class raster or an image smaller
        than the window).
    """
    if int(k) != k or k < 1 or k % 2 == 0:
        raise ConfigError(f"window size k must be a positive odd integer, got {k!r}. Use 1, 3, 5, 7 or 15.")
    k = int(k)
    samples_per_class = positive_int(samples_per_class, "samples_per_class",
                                     "Set CNNsamples (--samples).")
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[:, :, None]
    classes = np.asarray(class_raster)
    if image.ndim != 3 or classes.ndim != 2 or image.shape[:2] != classes.shape:
        raise RasterError(
            f"image of shape {image.shape} and class raster of shape {classes.shape} do not match. "
            "Give an (H, W, bands) image and its (H, W) class raster."
        )
    height, width, bands = image.shape
    half = k // 2
    rng = _as_rng(seed)

    # Interior: the pixels whose k x k window fits inside the image (and in valid data).
    interior = classes[half : height - half, half : width - half]
    if valid is not None:
        valid = np.asarray(valid, dtype=bool)
        if valid.shape != classes.shape:
            raise RasterError(f"the valid mask has shape {valid.shape} but the class raster "
                              f"{classes.shape}; both must be (H, W) of the image.")
        window_ok = window_valid(valid, k)[half : height - half, half : width - half]
        interior = np.where(window_ok, interior, 0)
    inner_w = max(width - 2 * half, 0)
    present = np.unique(interior)
    present = present[present > 0]
    if n_classes is not None:
        present = present[present <= n_classes]

    rows_all, cols_all, labels = [], [], []
    for c in present:
        flat = np.flatnonzero(interior == c)
        n = min(int(samples_per_class), flat.size)
        chosen = rng.choice(flat, size=n, replace=False) if n < flat.size else rng.permutation(flat)
        rows_all.append(chosen // inner_w)
        cols_all.append(chosen % inner_w)
        labels.append(np.full(n, c, dtype=np.int64))
        logger.debug("class %d: %d eligible pixels, %d sampled", c, flat.size, n)
    if not labels:
        raise DataError(
            f"no classified pixel{f' (classes 1..{n_classes})' if n_classes else ''} has a full {k} x {k} "
            f"window inside the {height} x {width} image{' and its valid data' if valid is not None else ''}. Check the phase-one classification of this "
            "image, or use a smaller patch size."
        )
    rows = np.concatenate(rows_all)
    cols = np.concatenate(cols_all)
    y = np.concatenate(labels)

    # Window top-left corner in image coordinates equals the interior index (centre - half).
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1))  # (H-k+1, W-k+1, bands, k, k)
    X = np.empty((y.size, k, k, bands), dtype=np.float32)
    step = max(1, _CHUNK_VALUES // (k * k * bands))  # bounds the fancy-indexing temporary
    for start in range(0, y.size, step):
        stop = start + step
        X[start:stop] = windows[rows[start:stop], cols[start:stop]].transpose(0, 2, 3, 1)
    logger.info("sampled %d windows of %d x %d over %d classes", y.size, k, k, present.size)
    return X, y

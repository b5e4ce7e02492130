"""Training samples for the phase-two patch classifier.

For each class present in an image's phase-one class raster, a random set of pixels of that
class is drawn (without replacement, at most ``samples_per_class``); each sample is the
k x k window of the normalised image centred on the drawn pixel, labelled with the class.
Only pixels whose whole window lies inside the image are eligible (the k//2 border is
excluded), and class 0 (unclassified) is never sampled. With a valid mask, only pixels whose
whole window lies in valid data are eligible: no window touches no-data (DESIGN 5.3).

The samples are kept as indices (:class:`SampleIndices`: centre row, centre column, class),
not as windows: at the defaults (500 000 samples per class) the windows of one 3000 x 3000 x 4
scene would take 12.6 GB at k = 15, the indices 70 MB. Windows are gathered from the image
batch by batch (:func:`gather_windows`) while the classifier trains.
:func:`sample_windows` materialises them all, for small images and for checks.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from seeice.checks import positive_int
from seeice.defaults import SAMPLES_PER_CLASS
from seeice.errors import ConfigError, DataError, RasterError
from seeice.io.validity import window_valid
from seeice.normalise import pixel_source

logger = logging.getLogger(__name__)

DEFAULT_SAMPLES_PER_CLASS = SAMPLES_PER_CLASS
_CHUNK_VALUES = 16_000_000  # values gathered per step (64 MB of float32)


@dataclass(frozen=True)
class SampleIndices:
    """The phase-two training samples of one image, as window centres and labels.

    Attributes
    ----------
    rows, cols : numpy.ndarray
        Shape (n,), int64: image row and column of each window's centre pixel.
    labels : numpy.ndarray
        Shape (n,), int64: the class of each centre pixel. Samples are grouped by class in
        increasing class order.
    k : int
        Window edge in pixels.
    """

    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray
    k: int

    def __len__(self) -> int:
        return int(self.labels.size)

    def subset(self, positions: np.ndarray) -> "SampleIndices":
        """The samples at ``positions`` (shape (m,), integer positions into this set)."""
        positions = np.asarray(positions)
        return SampleIndices(self.rows[positions], self.cols[positions], self.labels[positions],
                             self.k)


def _as_rng(seed) -> np.random.Generator:
    if isinstance(seed, np.random.Generator):
        return seed
    return np.random.default_rng(seed)


def _check_k(k) -> int:
    if int(k) != k or k < 1 or k % 2 == 0:
        raise ConfigError(f"window size k must be a positive odd integer, got {k!r}. Use 1, 3, 5, 7 or 15.")
    return int(k)


def sample_indices(
    class_raster: np.ndarray,
    k: int,
    samples_per_class: int = DEFAULT_SAMPLES_PER_CLASS,
    seed: int | np.random.Generator | None = 0,
    n_classes: int | None = None,
    valid: np.ndarray | None = None,
) -> SampleIndices:
    """Draw the centres of k x k training windows per class from one image's class raster.

    Parameters
    ----------
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
    SampleIndices
        Window centres and labels, grouped by class in increasing class order.

    Raises
    ------
    ConfigError
        Bad ``k`` or ``samples_per_class``.
    DataError
        No eligible pixel of any class (e.g. an all-zero class raster or an image smaller
        than the window).
    """
    k = _check_k(k)
    samples_per_class = positive_int(samples_per_class, "samples_per_class",
                                     "Set CNNsamples (--samples).")
    classes = np.asarray(class_raster)
    if classes.ndim != 2:
        raise RasterError(f"class raster of shape {classes.shape} is not 2-D. Give an (H, W) "
                          "class raster.")
    height, width = classes.shape
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
        rows_all.append(chosen // inner_w + half)
        cols_all.append(chosen % inner_w + half)
        labels.append(np.full(n, c, dtype=np.int64))
        logger.debug("class %d: %d eligible pixels, %d sampled", c, flat.size, n)
    if not labels:
        raise DataError(
            f"no classified pixel{f' (classes 1..{n_classes})' if n_classes else ''} has a full {k} x {k} "
            f"window inside the {height} x {width} image"
            f"{' and its valid data' if valid is not None else ''}. Check the phase-one "
            "classification of this image, or use a smaller patch size."
        )
    samples = SampleIndices(np.concatenate(rows_all).astype(np.int64),
                            np.concatenate(cols_all).astype(np.int64), np.concatenate(labels), k)
    logger.info("sampled %d windows of %d x %d over %d classes", len(samples), k, k, present.size)
    return samples


def gather_windows(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, k: int,
                   out: np.ndarray | None = None) -> np.ndarray:
    """The k x k windows of ``image`` centred on ``(rows, cols)``.

    Parameters
    ----------
    image : numpy.ndarray or seeice.normalise.NormalisedImage
        Shape (H, W, bands) (or (H, W)); only the windows are read (and normalised).
    rows, cols : numpy.ndarray
        Shape (n,), integers: window centres; every window must fit inside the image.
    k : int
        Window edge, odd.
    out : numpy.ndarray, optional
        Shape (n, k, k, bands), float32, filled in place when given.

    Returns
    -------
    numpy.ndarray
        Shape (n, k, k, bands), float32; ``[i, k//2, k//2]`` is ``image[rows[i], cols[i]]``.
    """
    image = pixel_source(image)
    half = int(k) // 2
    offsets = np.arange(-half, half + 1)
    r = np.asarray(rows)[:, None, None] + offsets[None, :, None]
    c = np.asarray(cols)[:, None, None] + offsets[None, None, :]
    windows = image[r, c]  # (n, k, k, bands)
    if out is None:
        return windows.astype(np.float32, copy=False)
    out[...] = windows
    return out


def sample_windows(
    image: np.ndarray,
    class_raster: np.ndarray,
    k: int,
    samples_per_class: int = DEFAULT_SAMPLES_PER_CLASS,
    seed: int | np.random.Generator | None = 0,
    n_classes: int | None = None,
    valid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Draw centred k x k training windows per class from one image, all in memory.

    The draw is that of :func:`sample_indices` (same seed, same samples); the windows are
    gathered into one array of shape (n, k, k, bands). For large images keep the indices
    instead (the CSC does).

    Parameters
    ----------
    image : numpy.ndarray
        Normalised image, shape (H, W, bands), float.
    class_raster : numpy.ndarray
        Phase-one class raster, shape (H, W), integer labels (0 = unclassified).
    k, samples_per_class, seed, n_classes, valid
        As in :func:`sample_indices`.

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
        No eligible pixel of any class.
    """
    k = _check_k(k)
    image = pixel_source(image)
    classes = np.asarray(class_raster)
    if image.ndim != 3 or classes.ndim != 2 or image.shape[:2] != classes.shape:
        raise RasterError(
            f"image of shape {image.shape} and class raster of shape {classes.shape} do not match. "
            "Give an (H, W, bands) image and its (H, W) class raster."
        )
    samples = sample_indices(classes, k, samples_per_class, seed, n_classes, valid)
    bands = image.shape[2]
    X = np.empty((len(samples), k, k, bands), dtype=np.float32)
    step = max(1, _CHUNK_VALUES // (k * k * bands))  # bounds the fancy-indexing temporary
    for start in range(0, len(samples), step):
        stop = start + step
        gather_windows(image, samples.rows[start:stop], samples.cols[start:stop], k,
                       out=X[start:stop])
    return X, samples.labels

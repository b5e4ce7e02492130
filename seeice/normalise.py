"""Pixel normalisation shared by phase one and phase two.

8-bit imagery is divided by 255; deeper imagery (Sentinel-2 uint16 DN, roughly 0-16384) by
8192. The factor a model was trained with is stored in its metadata and used at inference,
so that phase one and phase two see the same value range.
"""

from __future__ import annotations

import numpy as np

#: Upper end of the Sentinel-2 DN range (reflectance x 10 000, saturating near 16384).
SENTINEL2_DN_RANGE = 16384.0
#: Divisor of deeper imagery: half the DN range.
SENTINEL2_NORM_FACTOR = SENTINEL2_DN_RANGE / 2
EIGHT_BIT_NORM_FACTOR = 255.0


def default_norm_factor(dtype: np.dtype) -> float:
    """The normalisation factor for raw pixels of ``dtype``: 255 for uint8, else 8192."""
    return EIGHT_BIT_NORM_FACTOR if np.dtype(dtype) == np.uint8 else SENTINEL2_NORM_FACTOR


def normalise(image: np.ndarray, factor: float, dtype=np.float32) -> np.ndarray:
    """Divide raw pixel values by ``factor``.

    Parameters
    ----------
    image : numpy.ndarray
        Raw values, any shape (typically (H, W, bands) or (n, t, t, bands)).
    factor : float
        Normalisation factor (see :func:`default_norm_factor`).
    dtype : numpy dtype
        Output dtype (float32 for inference, float16 for compact tensors).

    Returns
    -------
    numpy.ndarray
        ``image / factor`` in ``dtype``, same shape.
    """
    if factor <= 0:
        raise ValueError(f"normalisation factor must be positive, got {factor}")
    return (np.asarray(image, dtype=np.float32) / np.float32(factor)).astype(dtype, copy=False)


class NormalisedImage:
    """An image normalised as it is read: every slice comes back as ``raw / factor``, float32.

    Holds the raw pixels only. A whole Sentinel-2 granule (10 980 x 10 980 x 4) is 0.96 GB
    as uint16 DN and 1.9 GB as float32; the stages that use the image (phase-one tiles,
    phase-two training batches, phase-two inference blocks) each take the rows or windows
    they need, so no float copy of the whole image is ever made. A slice gives exactly the
    values of the same slice of ``normalise(raw, factor)``.

    Parameters
    ----------
    raw : numpy.ndarray
        Raw pixels, shape (H, W, bands) (or (H, W), taken as one band).
    factor : float
        Normalisation factor (:func:`default_norm_factor`).

    Attributes
    ----------
    shape : (int, int, int)
        (H, W, bands).
    ndim : int
        3.
    dtype : numpy.dtype
        float32, the type of every slice.
    """

    ndim = 3
    dtype = np.dtype(np.float32)

    def __init__(self, raw: np.ndarray, factor: float):
        raw = np.asarray(raw)
        if raw.ndim == 2:
            raw = raw[:, :, np.newaxis]
        if raw.ndim != 3:
            raise ValueError(f"an image must be (H, W, bands), got shape {raw.shape}")
        if not factor > 0:
            raise ValueError(f"normalisation factor must be positive, got {factor}")
        self.raw = raw
        self.factor = float(factor)

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.raw.shape

    def __len__(self) -> int:
        return self.raw.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        return normalise(self.raw[key], self.factor)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        # Only for small images and checks: this is the whole float copy the class avoids.
        if copy is False:
            raise ValueError("a NormalisedImage cannot become an array without a copy: "
                             "its pixels are normalised as they are read.")
        whole = normalise(self.raw, self.factor)
        return whole if dtype is None else whole.astype(dtype, copy=False)


def pixel_source(image) -> "NormalisedImage | np.ndarray":
    """An image to take slices from: a :class:`NormalisedImage` as it is, else an array.

    Parameters
    ----------
    image : NormalisedImage or array-like
        (H, W, bands) or (H, W) (taken as one band).

    Returns
    -------
    NormalisedImage or numpy.ndarray
        Three-dimensional; slicing it never copies more than the slice.
    """
    if isinstance(image, NormalisedImage):
        return image
    image = np.asarray(image)
    return image[:, :, np.newaxis] if image.ndim == 2 else image

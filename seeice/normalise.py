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

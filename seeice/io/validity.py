"""Which pixels of an image hold data: the one valid mask every stage uses (DESIGN 7 and 10.12).

A pixel is no-data (invalid) when

* the raster declares a nodata value and every band holds it (GDAL's dataset mask: a pixel is
  valid where any band is), or the raster carries a mask or an alpha band that masks it;
* any band is NaN or infinite (floating-point rasters);
* every band is 0;
* any band is 0 in Sentinel-2 data: uint16 rasters that declare nodata 0, or composites
  carrying the scene tags of Sentinel-2 products (:mod:`seeice.io.scene_info`). In Sentinel-2
  data a valid DN is at least 1; elsewhere a dark pixel (0 in one band of an 8-bit
  photograph) is a pixel.

No-data is never a class, never sampled, never scored, never ocean or glacier for the front,
and it is 0 (with nodata 0 declared) in every raster written.
"""

from __future__ import annotations

import numpy as np

from seeice.io.scene_info import TAG_PRODUCT_ID, TAG_SPACECRAFT


def is_sentinel2(dtype, nodata=None, tags: dict | None = None) -> bool:
    """True for Sentinel-2 data, where 0 in any one band is no-data (DESIGN 10.12).

    Parameters
    ----------
    dtype : numpy dtype
        The raster's pixel type.
    nodata : float or None
        The raster's declared nodata value.
    tags : dict, optional
        Dataset tags; composites of Sentinel-2 products carry ``SPACECRAFT`` or ``PRODUCT_ID``.
    """
    tags = tags or {}
    spacecraft = str(tags.get(TAG_SPACECRAFT, "")).lower()
    if spacecraft.startswith("sentinel-2") or str(tags.get(TAG_PRODUCT_ID, "")).upper().startswith("S2"):
        return True
    return np.dtype(dtype) == np.uint16 and nodata is not None and nodata == 0


def valid_mask(data: np.ndarray, nodata: float | None = None, sentinel2: bool = False,
               mask: np.ndarray | None = None) -> np.ndarray:
    """The valid pixels of an image.

    Parameters
    ----------
    data : numpy.ndarray
        Shape (H, W, bands) (or (H, W)), raw values as read.
    nodata : float or None
        The declared nodata value (NaN allowed: NaN is invalid in any case).
    sentinel2 : bool
        Sentinel-2 data (:func:`is_sentinel2`): 0 in any band is no-data.
    mask : numpy.ndarray, optional
        (H, W), the raster's own mask (GDAL dataset mask or alpha; 0 = no data).

    Returns
    -------
    numpy.ndarray
        (H, W) bool, True where the pixel holds data.
    """
    data = np.asarray(data)
    if data.ndim == 2:
        data = data[..., np.newaxis]
    valid = np.any(data != 0, axis=2)
    if sentinel2:
        valid &= np.all(data != 0, axis=2)
    if np.issubdtype(data.dtype, np.floating):
        valid &= np.all(np.isfinite(data), axis=2)
    if nodata is not None and not np.isnan(nodata):
        valid &= np.any(data != nodata, axis=2)
    if mask is not None:
        valid &= np.asarray(mask) != 0
    return valid


def window_valid(valid: np.ndarray, k: int) -> np.ndarray:
    """Pixels whose k x k window (centred) lies wholly in valid data and inside the image.

    Parameters
    ----------
    valid : numpy.ndarray
        (H, W) bool.
    k : int
        Odd window edge in pixels.

    Returns
    -------
    numpy.ndarray
        (H, W) bool; the k // 2 image border is False.
    """
    from scipy import ndimage as ndi

    valid = np.asarray(valid, dtype=bool)
    if k <= 1:
        return valid.copy()
    return ndi.minimum_filter(valid, size=int(k), mode="constant", cval=False)


def near_nodata(valid: np.ndarray, k: int) -> np.ndarray:
    """No-data grown by k // 2 pixels: the pixels whose k x k window touches no-data.

    Unlike :func:`window_valid` the image border is not included.

    Returns
    -------
    numpy.ndarray
        (H, W) bool.
    """
    from scipy import ndimage as ndi

    invalid = ~np.asarray(valid, dtype=bool)
    if k <= 1 or not invalid.any():
        return invalid
    return ndi.maximum_filter(invalid, size=int(k), mode="constant", cval=False)


def describe_invalid(valid: np.ndarray) -> str:
    """``"1234 px (5.6 %)"``: the no-data share of a valid mask, for logs."""
    invalid = int(valid.size - np.count_nonzero(valid))
    return f"{invalid} px ({100.0 * invalid / max(valid.size, 1):.1f} %)"

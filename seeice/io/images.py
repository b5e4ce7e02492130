"""Input images as the pipeline reads them: header checks, valid mask, pixel type and scale.

:func:`probe_image` reads an image's header (bands, pixel type, CRS, nodata, tags) without
its pixels, so that every input can be checked before anything is computed or written.
:func:`read_scene` reads the pixels the pipeline uses, with the image's valid mask
(:mod:`seeice.io.validity`) and floating-point pixels brought to the Sentinel-2 DN scale.

Pixel types (DESIGN 3):

* 8-bit (uint8): photographs and 8-bit exports, divided by 255;
* 16-bit and other integers: Sentinel-2 DN (reflectance x 10 000), divided by 8192;
* floating point: reflectance 0-1, or reflectance x 10 000 stored as float. Which one cannot
  be told from the file, so a float image needs an explicit ``ImageScale`` (``--image-scale``:
  the pixel value of reflectance 1, i.e. 1 or 10000). Its pixels are converted to DN
  (value x 10 000 / ImageScale, rounded, uint16) and then treated as Sentinel-2 DN. Without
  ``ImageScale`` a float image is refused.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rasterio.enums import MaskFlags
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine

from seeice.errors import ConfigError, RasterError
from seeice.io.raster import Raster, open_raster
from seeice.io.validity import describe_invalid, is_sentinel2, valid_mask

log = logging.getLogger(__name__)

#: Names of the first bands of an image (DESIGN 3: R, G, B, NIR = Sentinel-2 B04, B03, B02, B08).
BAND_NAMES = ("R", "G", "B", "NIR")
#: DN of reflectance 1 in Sentinel-2 data (and in float images once converted).
DN_PER_REFLECTANCE = 10000.0
#: Largest plausible reflectance (bright snow, saturated pixels): beyond it ImageScale is wrong.
MAX_REFLECTANCE = 2.0
#: Smallest plausible brightest reflectance of a scene: below it ImageScale is wrong.
MIN_BRIGHTEST_REFLECTANCE = 0.005

EIGHT_BIT, SIXTEEN_BIT, FLOAT = "8-bit", "16-bit", "float"
KIND_TEXT = {EIGHT_BIT: "8-bit (0-255, divided by 255)",
             SIXTEEN_BIT: "16-bit Sentinel-2 DN (reflectance x 10 000, divided by 8192)",
             FLOAT: "floating point"}


def pixel_kind(dtype) -> str:
    """``"8-bit"`` (uint8), ``"float"`` (floating point) or ``"16-bit"`` (other integers)."""
    dtype = np.dtype(dtype)
    if dtype == np.uint8:
        return EIGHT_BIT
    if np.issubdtype(dtype, np.floating):
        return FLOAT
    return SIXTEEN_BIT


def band_names(indexes, descriptions=()) -> str:
    """``"band 5 (SWIR)"``-style names of 1-based band numbers, for messages."""
    out = []
    for i in indexes:
        name = descriptions[i - 1] if i - 1 < len(descriptions) and descriptions[i - 1] else (
            BAND_NAMES[i - 1] if i - 1 < len(BAND_NAMES) else None)
        out.append(f"band {i}" + (f" ({name})" if name else ""))
    return ", ".join(out)


@dataclass(frozen=True)
class ImageHeader:
    """What an image's header says, read without its pixels.

    Attributes
    ----------
    path : pathlib.Path
    count : int
        Number of bands.
    dtype : numpy.dtype
        Pixel type of band 1.
    shape : (int, int)
        (H, W).
    crs : rasterio.crs.CRS or None
    transform : affine.Affine
    nodata : float or None
        Declared nodata value.
    tags : dict
        Dataset tags.
    descriptions : tuple of str
        Band descriptions ('' where none).
    """

    path: Path
    count: int
    dtype: np.dtype
    shape: tuple[int, int]
    crs: object | None = None
    transform: Affine = field(default_factory=Affine.identity)
    nodata: float | None = None
    tags: dict = field(default_factory=dict)
    descriptions: tuple = ()

    @property
    def kind(self) -> str:
        """:func:`pixel_kind` of the pixel type."""
        return pixel_kind(self.dtype)

    @property
    def sentinel2(self) -> bool:
        """Sentinel-2 data, where 0 in any band is no-data (DESIGN 10.12)."""
        return is_sentinel2(self.dtype, self.nodata, self.tags)


def probe_image(path: str | os.PathLike) -> ImageHeader:
    """Read an image's header.

    Raises
    ------
    InputFileError, RasterError
        Missing or unreadable file.
    """
    path = Path(path)
    with open_raster(path) as src:
        return ImageHeader(path=path, count=src.count, dtype=np.dtype(src.dtypes[0]),
                           shape=(src.height, src.width), crs=src.crs, transform=src.transform,
                           nodata=src.nodata, tags=dict(src.tags()),
                           descriptions=tuple(d or "" for d in src.descriptions))


def check_image_scale(header: ImageHeader, image_scale: float | None) -> float | None:
    """The scale to apply to an image: ``ImageScale`` for float images (required), else None.

    Raises
    ------
    ConfigError
        A float image without ``ImageScale``, or a scale that is not a positive number.
    """
    name = header.path.name
    if image_scale is not None:
        try:
            image_scale = float(image_scale)
        except (TypeError, ValueError):
            image_scale = float("nan")
        if not (np.isfinite(image_scale) and image_scale > 0):
            raise ConfigError("ImageScale (--image-scale) must be the positive pixel value of "
                              "reflectance 1: 1 for reflectance 0-1, 10000 for reflectance x "
                              "10 000.")
    if header.kind != FLOAT:
        if image_scale is not None:
            log.warning("%s is %s: ImageScale %g applies to floating-point images only and is "
                        "not used for it.", name, KIND_TEXT[header.kind], image_scale)
        return None
    if image_scale is None:
        raise ConfigError(
            f"{name} holds floating-point pixels ({header.dtype}), whose scale cannot be told "
            "from the file: reflectance 0-1 and reflectance x 10 000 would be read 10 000 times "
            "apart. Give the pixel value of reflectance 1 with ImageScale (--image-scale 1 for "
            "reflectance 0-1, --image-scale 10000 for reflectance x 10 000), or convert the image "
            "to uint16 DN (Preparation/MakeComposite.py builds such composites).")
    return image_scale


def to_dn(data: np.ndarray, valid: np.ndarray, image_scale: float, name: str) -> np.ndarray:
    """Floating-point reflectance as Sentinel-2 DN: value x 10 000 / scale, uint16, 0 at no-data.

    Parameters
    ----------
    data : numpy.ndarray
        (H, W, bands) float.
    valid : numpy.ndarray
        (H, W) bool valid mask.
    image_scale : float
        Pixel value of reflectance 1.
    name : str
        The file's name, for messages.

    Raises
    ------
    ConfigError
        The valid values do not fit the scale (reflectance above 2, or a brightest pixel below
        0.005): the scale is wrong.
    """
    values = data[valid]
    if values.size:
        brightest = float(values.max()) / image_scale
        if brightest > MAX_REFLECTANCE:
            raise ConfigError(
                f"{name}: with ImageScale {image_scale:g} its brightest pixel ({float(values.max()):g}) "
                f"would be reflectance {brightest:.3g}, beyond any real surface. The pixels look "
                f"like reflectance x 10 000: use --image-scale 10000"
                + ("" if image_scale != 10000 else " only if they are; check the image's units") + ".")
        if brightest < MIN_BRIGHTEST_REFLECTANCE:
            raise ConfigError(
                f"{name}: with ImageScale {image_scale:g} its brightest pixel ({float(values.max()):g}) "
                f"would be reflectance {brightest:.2g}, darker than any real scene. The pixels "
                "look like reflectance 0-1: use --image-scale 1.")
    dn = np.rint(np.where(valid[..., None], data, 0.0) * (DN_PER_REFLECTANCE / image_scale))
    dn = np.clip(dn, 0, np.iinfo(np.uint16).max).astype(np.uint16)
    log.info("%s: floating-point pixels converted to DN (x %g).", name,
             DN_PER_REFLECTANCE / image_scale)
    return dn


def _dataset_mask(src) -> np.ndarray | None:
    """The raster's own mask (internal mask or alpha band), or None when it has none."""
    flags = src.mask_flag_enums
    if any(MaskFlags.per_dataset in f or MaskFlags.alpha in f for f in flags):
        return src.dataset_mask()
    return None


def read_scene(path: str | os.PathLike, bands: int | None = None,
               image_scale: float | None = None) -> Raster:
    """Read an image for the pipeline: the first ``bands`` bands, the valid mask, DN scale.

    Parameters
    ----------
    path : path-like
        GeoTIFF, PNG or JPEG.
    bands : int, optional
        Keep the first ``bands`` bands (all when None). Dropped bands are logged by number
        and name.
    image_scale : float, optional
        Pixel value of reflectance 1 of a floating-point image (required for those).

    Returns
    -------
    Raster
        ``data`` (H, W, bands): uint8 or integer DN as stored, float images converted to
        uint16 DN, 0 at every no-data pixel; ``valid`` (H, W) bool.

    Raises
    ------
    InputFileError, RasterError, ConfigError
        Missing or damaged file, too few bands, a float image without a fitting scale.
    """
    header = probe_image(path)
    name = header.path.name
    scale = check_image_scale(header, image_scale)
    if bands is not None and header.count < bands:
        raise RasterError(f"{name} has {header.count} band(s) but {bands} were asked for "
                          f"(Ndims/--bands). Use --bands {header.count} or give images with "
                          f"{bands} bands.")
    used = bands or header.count
    if used < header.count:
        log.warning("%s has %d bands; %s used, %s dropped (Ndims/--bands %d).", name,
                    header.count, band_names(range(1, used + 1), header.descriptions),
                    band_names(range(used + 1, header.count + 1), header.descriptions), used)
    with open_raster(path) as src:
        try:
            data = np.moveaxis(src.read(list(range(1, used + 1))), 0, -1)
            mask = _dataset_mask(src)
        except RasterioIOError as exc:
            raise RasterError(f"{name} is damaged and cannot be read ({exc}).") from None
    valid = valid_mask(data, header.nodata, header.sentinel2, mask)
    if not valid.all():
        log.info("%s: no-data %s (declared nodata %s%s, NaN, or 0 in %s band%s).", name,
                 describe_invalid(valid), header.nodata,
                 ", mask" if mask is not None else "",
                 "any" if header.sentinel2 else "every", "" if header.sentinel2 else "s")
    if scale is not None:
        data = to_dn(data, valid, scale, name)
    elif not valid.all():
        data = np.where(valid[..., None], data, 0).astype(data.dtype)
    return Raster(data, crs=header.crs, transform=header.transform, path=header.path,
                  valid=valid)

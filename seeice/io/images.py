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
from rasterio.windows import Window

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
#: Bytes of raw pixels read per block by :func:`read_scene` (a granule in about 30 blocks).
READ_BLOCK_BYTES = 32 * 2**20

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


def check_reflectance_scale(brightest: float | None, image_scale: float, name: str) -> None:
    """Refuse an ``ImageScale`` that the brightest valid pixel does not fit.

    Parameters
    ----------
    brightest : float or None
        The brightest valid pixel value of the image (None: no valid pixel, nothing to check).
    image_scale : float
        Pixel value of reflectance 1.
    name : str
        The file's name, for messages.

    Raises
    ------
    ConfigError
        Reflectance above 2, or a brightest pixel below 0.005: the scale is wrong.
    """
    if brightest is None:
        return
    reflectance = brightest / image_scale
    if reflectance > MAX_REFLECTANCE:
        raise ConfigError(
            f"{name}: with ImageScale {image_scale:g} its brightest pixel ({brightest:g}) "
            f"would be reflectance {reflectance:.3g}, beyond any real surface. The pixels look "
            f"like reflectance x 10 000: use --image-scale 10000"
            + ("" if image_scale != 10000 else " only if they are; check the image's units") + ".")
    if reflectance < MIN_BRIGHTEST_REFLECTANCE:
        raise ConfigError(
            f"{name}: with ImageScale {image_scale:g} its brightest pixel ({brightest:g}) "
            f"would be reflectance {reflectance:.2g}, darker than any real scene. The pixels "
            "look like reflectance 0-1: use --image-scale 1.")


def dn_from_reflectance(data: np.ndarray, valid: np.ndarray, image_scale: float) -> np.ndarray:
    """Floating-point pixels as Sentinel-2 DN: value x 10 000 / scale, rounded, uint16, 0 at no-data.

    Parameters
    ----------
    data : numpy.ndarray
        (H, W, bands) float.
    valid : numpy.ndarray
        (H, W) bool valid mask.
    image_scale : float
        Pixel value of reflectance 1.

    Returns
    -------
    numpy.ndarray
        (H, W, bands) uint16 DN.
    """
    dn = np.rint(np.where(valid[..., None], data, 0.0) * (DN_PER_REFLECTANCE / image_scale))
    return np.clip(dn, 0, np.iinfo(np.uint16).max).astype(np.uint16)


def read_block_rows(width: int, bands: int, dtype) -> int:
    """Rows per block of :func:`read_scene`: about :data:`READ_BLOCK_BYTES` of pixels, at least 1.

    Parameters
    ----------
    width, bands : int
        Image width in pixels and bands read.
    dtype : numpy dtype
        Pixel type as stored.
    """
    return max(1, READ_BLOCK_BYTES // max(1, width * bands * np.dtype(dtype).itemsize))


def _has_dataset_mask(src) -> bool:
    """Whether the raster carries its own mask (internal mask or alpha band)."""
    return any(MaskFlags.per_dataset in f or MaskFlags.alpha in f for f in src.mask_flag_enums)


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
    height, width = header.shape
    # Read row block by row block into one pixel-interleaved array: no band-first copy,
    # no float temporary of the whole image, and no-data set to 0 as each block arrives.
    data = np.empty((height, width, used), dtype=np.uint16 if scale is not None else header.dtype)
    valid = np.empty((height, width), dtype=bool)
    brightest = None
    step = read_block_rows(width, used, header.dtype)
    with open_raster(path) as src:
        has_mask = _has_dataset_mask(src)
        try:
            for r0 in range(0, height, step):
                window = Window(0, r0, width, min(step, height - r0))
                block = np.moveaxis(src.read(list(range(1, used + 1)), window=window), 0, -1)
                mask = src.dataset_mask(window=window) if has_mask else None
                block_valid = valid_mask(block, header.nodata, header.sentinel2, mask)
                valid[r0:r0 + block.shape[0]] = block_valid
                if scale is not None:
                    values = block[block_valid]
                    if values.size:
                        top = float(values.max())
                        brightest = top if brightest is None else max(brightest, top)
                    block = dn_from_reflectance(block, block_valid, scale)
                data[r0:r0 + block.shape[0]] = np.where(block_valid[..., None], block, 0)
        except RasterioIOError as exc:
            raise RasterError(f"{name} is damaged and cannot be read ({exc}).") from None
    if not valid.all():
        log.info("%s: no-data %s (declared nodata %s%s, NaN, or 0 in %s band%s).", name,
                 describe_invalid(valid), header.nodata,
                 ", mask" if has_mask else "",
                 "any" if header.sentinel2 else "every", "" if header.sentinel2 else "s")
    if scale is not None:
        check_reflectance_scale(brightest, scale, name)
        log.info("%s: floating-point pixels converted to DN (x %g).", name,
                 DN_PER_REFLECTANCE / scale)
    return Raster(data, crs=header.crs, transform=header.transform, path=header.path,
                  valid=valid)

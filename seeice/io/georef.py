"""Coordinate systems and units: distances are metres only where the CRS says so (DESIGN 3 and 7).

* A geographic CRS (degrees) is refused: its pixels are not squares of a fixed size, and a
  distance in degrees is not a distance. The message names the UTM zone of the image's
  centre and the fix (``Preparation/MakeComposite.py``, or ``gdalwarp -t_srs EPSG:326xx``).
* A projected CRS in another linear unit (feet, for example) is converted to metres with the
  factor of its definition; a CRS whose unit cannot be told is refused.
* Pixels whose width and height differ by more than 1 % give a warning: distances use their
  mean.
* ``PixelSize`` (``--pixel-size``) gives the pixel size of images without georeferencing. For a
  georeferenced image the raster's own pixel size is used; a given ``PixelSize`` that
  disagrees with it by more than 1 % is refused (it cannot be silently ignored).
"""

from __future__ import annotations

import logging
import math

from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.transform import Affine
from rasterio.warp import transform as transform_points

from seeice.errors import ConfigError, RasterError

log = logging.getLogger(__name__)

#: Relative difference of pixel width and height (or given and read size) tolerated.
PIXEL_TOLERANCE = 0.01


def utm_epsg(lon: float, lat: float) -> int:
    """EPSG code of the WGS 84 UTM zone holding a point: 326zz north, 327zz south."""
    zone = math.floor((lon + 180.0) / 6.0) % 60 + 1
    return (32600 if lat >= 0 else 32700) + zone


def _centre_lonlat(crs, transform: Affine, shape: tuple[int, int]) -> tuple[float, float] | None:
    x, y = transform @ (shape[1] / 2.0, shape[0] / 2.0)
    try:
        lons, lats = transform_points(crs, CRS.from_epsg(4326), [x], [y])
    except Exception:  # noqa: BLE001 - only for the advice; never fatal
        return None
    if not (math.isfinite(lons[0]) and math.isfinite(lats[0])):
        return None
    return float(lons[0]), float(lats[0])


def check_projected(crs, transform: Affine, shape: tuple[int, int], name: str) -> None:
    """Refuse an image in a geographic CRS (degrees), naming the UTM zone to reproject to.

    Parameters
    ----------
    crs : rasterio.crs.CRS or None
        The image's CRS; None (not georeferenced) passes.
    transform : affine.Affine
        Its transform.
    shape : (int, int)
        (H, W).
    name : str
        The file's name, for the message.

    Raises
    ------
    RasterError
        The CRS is geographic.
    """
    if crs is None or not crs.is_geographic:
        return
    centre = _centre_lonlat(crs, transform, shape)
    epsg = f"EPSG:{utm_epsg(*centre)}" if centre else "EPSG:326xx (north) or 327xx (south)"
    where = (f" (its centre, {centre[0]:.3f} E {centre[1]:.3f} N, lies in {epsg})"
             if centre else "")
    raise RasterError(
        f"{name} is in a geographic coordinate system ({crs.to_string()}, degrees){where}: its "
        "pixels are not of a fixed size in metres, so tiles, windows and front distances would "
        "be wrong. Build composites on the product's own UTM grid with "
        "Preparation/MakeComposite.py, or reproject it: gdalwarp -t_srs "
        f"{epsg.split(' ')[0]} {name} {name.rsplit('.', 1)[0]}_utm.tif")


def metres_per_unit(crs, name: str) -> float:
    """Metres per linear unit of a projected CRS (1 for metres, 0.3048 for feet).

    Raises
    ------
    RasterError
        The CRS is geographic, or its linear unit is unknown.
    """
    try:
        unit, factor = crs.linear_units_factor
    except CRSError:
        raise RasterError(f"{name}: the linear unit of its coordinate system "
                          f"({crs.to_string()}) is unknown, so distances cannot be given in "
                          "metres. Reproject it to a UTM zone (gdalwarp -t_srs EPSG:326xx).") from None
    factor = float(factor)
    if not factor > 0:
        raise RasterError(f"{name}: the coordinate system's unit {unit!r} has no length in "
                          "metres. Reproject it to a UTM zone (gdalwarp -t_srs EPSG:326xx).")
    return factor


def pixel_size_m(crs, transform: Affine, shape: tuple[int, int], name: str,
                 given: float | None = None) -> float | None:
    """Pixel size in metres of an image, checked against its CRS and a given ``PixelSize``.

    Parameters
    ----------
    crs : rasterio.crs.CRS or None
        None: the image is not georeferenced and ``given`` (or None) is returned.
    transform : affine.Affine
        The image's transform.
    shape : (int, int)
        (H, W), for the message about a geographic CRS.
    name : str
        The file's name.
    given : float, optional
        ``PixelSize`` in metres, as the user gave it.

    Returns
    -------
    float or None
        Metres per pixel (mean of width and height); None for a plain image without
        ``given`` (distances are then in pixels).

    Raises
    ------
    RasterError
        Geographic CRS, unknown unit.
    ConfigError
        ``given`` is not positive, or disagrees with the georeferenced pixel size.
    """
    if given is not None and not (math.isfinite(float(given)) and float(given) > 0):
        raise ConfigError(f"PixelSize (--pixel-size) must be a positive number of metres, got "
                          f"{given!r}.")
    if crs is None:
        return None if given is None else float(given)
    check_projected(crs, transform, shape, name)
    factor = metres_per_unit(crs, name)
    width, height = abs(transform.a) * factor, abs(transform.e) * factor
    if not (width > 0 and height > 0):
        raise RasterError(f"{name}: its transform gives pixels of {width} x {height} m. "
                          "Repair its georeferencing.")
    if abs(width - height) > PIXEL_TOLERANCE * max(width, height):
        log.warning("%s has pixels of %.4g x %.4g m (not square): distances use their mean, "
                    "%.4g m; a line along x or y may be off by up to %.1f %%. Resample to square "
                    "pixels (gdalwarp -tr) for exact distances.", name, width, height,
                    (width + height) / 2, 100 * abs(width - height) / (width + height))
    size = (width + height) / 2.0
    if factor != 1.0:
        log.info("%s: CRS unit %s converted to metres (x %.6g): pixels of %.4g m.", name,
                 crs.linear_units, factor, size)
    if given is not None:
        if abs(float(given) - size) > PIXEL_TOLERANCE * size:
            raise ConfigError(f"PixelSize (--pixel-size) is {float(given):g} m but {name} is "
                              f"georeferenced with pixels of {size:.4g} m. PixelSize applies to "
                              "images without georeferencing only; leave it empty (the "
                              "raster's own pixel size is used), or repair the image's "
                              "georeferencing if it is wrong.")
        log.info("%s: PixelSize %g m agrees with its georeferencing.", name, float(given))
    return size

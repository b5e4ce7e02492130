"""The common 10 m grid of a set of composites, and reading a product's rasters onto it.

The grid is the first product's: its CRS and its 10 m pixel lattice, cut to the area of
interest snapped outwards to whole pixels (or the first product's whole extent when no area
is given). A band on that lattice is read by window (only the area's pixels, never
resampled); a product in another CRS (another UTM zone) or off the lattice is warped onto the
grid (bilinear for bands, nearest for class masks) with a warning.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.errors import RasterioIOError
from rasterio.transform import Affine
from rasterio.vrt import WarpedVRT
from rasterio.windows import Window

from seeice.errors import ProductError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Grid:
    """CRS, transform and shape shared by every composite of a run.

    Attributes
    ----------
    crs : rasterio.crs.CRS
    transform : affine.Affine
        North-up, square pixels.
    height, width : int
    """

    crs: CRS
    transform: Affine
    height: int
    width: int

    @property
    def bounds(self) -> tuple:
        t = self.transform
        return (t.c, t.f + t.e * self.height, t.c + t.a * self.width, t.f)


def open_band(path: str, product_name: str):
    """Open a band file of a product, as a user error when it is unreadable."""
    try:
        return rasterio.open(path)
    except RasterioIOError as exc:
        raise ProductError(f"{path} of {product_name} cannot be read ({exc}): the product is "
                           "damaged or incomplete. Download it again.") from None


def band_extent(path: str, product_name: str) -> tuple:
    """(crs, transform, bounds) of a band file."""
    with open_band(path, product_name) as src:
        if src.crs is None:
            raise ProductError(f"{path} of {product_name} has no coordinate reference system; "
                               "Sentinel-2 band files are in UTM. Give the product's original "
                               "files.")
        return src.crs, src.transform, tuple(src.bounds)


def snap_grid(crs, transform: Affine, bounds: tuple, area: tuple | None) -> Grid:
    """The grid of ``transform``'s lattice covering ``area`` (or ``bounds``), snapped outwards.

    Parameters
    ----------
    crs, transform
        The first product's 10 m band.
    bounds : tuple
        Its extent (minx, miny, maxx, maxy).
    area : tuple or None
        The area of interest in ``crs``. Pixels of it outside a product are no-data.
    """
    res_x, res_y = transform.a, -transform.e
    x0, y0 = transform.c, transform.f
    minx, miny, maxx, maxy = bounds if area is None else area
    col0 = math.floor((minx - x0) / res_x + 1e-9)
    col1 = math.ceil((maxx - x0) / res_x - 1e-9)
    row0 = math.floor((y0 - maxy) / res_y + 1e-9)
    row1 = math.ceil((y0 - miny) / res_y - 1e-9)
    return Grid(CRS.from_user_input(crs),
                Affine(res_x, 0.0, x0 + col0 * res_x, 0.0, -res_y, y0 - row0 * res_y),
                max(row1 - row0, 1), max(col1 - col0, 1))


def _on_lattice(src, grid: Grid) -> tuple[int, int] | None:
    """(row, col) of the grid's origin in ``src`` when ``src`` shares the grid's lattice."""
    if src.crs != grid.crs:
        return None
    t, g = src.transform, grid.transform
    if not (math.isclose(t.a, g.a) and math.isclose(t.e, g.e) and t.b == 0 and t.d == 0):
        return None
    col = (g.c - t.c) / t.a
    row = (g.f - t.f) / t.e
    if abs(col - round(col)) > 1e-6 or abs(row - round(row)) > 1e-6:
        return None
    return round(row), round(col)


def read_on_grid(path: str, grid: Grid, product_name: str, bands=(1,),
                 resampling: Resampling = Resampling.nearest,
                 src_nodata: float | None = 0) -> tuple[np.ndarray, bool]:
    """Read bands of a raster onto ``grid``; pixels outside the raster are 0.

    Returns
    -------
    data : numpy.ndarray
        Shape (len(bands), grid.height, grid.width), the file's dtype.
    warped : bool
        True when the raster was not on the grid's lattice and was warped.
    """
    with open_band(path, product_name) as src:
        try:
            origin = _on_lattice(src, grid)
            out = np.zeros((len(bands), grid.height, grid.width), dtype=src.dtypes[0])
            if origin is not None:
                row, col = origin
                r0, c0 = max(row, 0), max(col, 0)
                r1 = min(row + grid.height, src.height)
                c1 = min(col + grid.width, src.width)
                if r1 > r0 and c1 > c0:
                    out[:, r0 - row:r1 - row, c0 - col:c1 - col] = src.read(
                        list(bands), window=Window(c0, r0, c1 - c0, r1 - r0))
                return out, False
            with WarpedVRT(src, crs=grid.crs, transform=grid.transform, width=grid.width,
                           height=grid.height, resampling=resampling, src_nodata=src_nodata,
                           nodata=0) as vrt:
                return vrt.read(list(bands)), True
        except RasterioIOError as exc:
            raise ProductError(f"{path} of {product_name} cannot be read ({exc}): the product "
                               "is damaged or incomplete. Download it again.") from None

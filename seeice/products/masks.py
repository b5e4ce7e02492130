"""Cloud and defect masks of a product on the composite's grid.

L2A: the scene classification ``SCL`` (20 m, read by nearest neighbour onto the 10 m grid).
Classes masked by default: 0 no data, 1 saturated or defective, 3 cloud shadow, 8 cloud
(medium probability), 9 cloud (high probability), 10 thin cirrus. Class 11, snow and ice, is
the glacier and is never masked.

L1C: ``MSK_CLASSI_B00.jp2`` (60 m; band 1 opaque clouds, band 2 cirrus, band 3 snow; from
baseline 04.00) masks opaque clouds and cirrus, never snow. Older L1C products carry cloud
polygons in ``MSK_CLOUDS_B00.gml``; they are rasterised. A product without either is not
cloud-masked, with a warning.
"""

from __future__ import annotations

import logging

import numpy as np
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.features import rasterize
from rasterio.warp import transform_geom

from seeice import defaults as D
from seeice.errors import ConfigError
from seeice.products.grid import Grid, read_on_grid
from seeice.products.safe import Product

log = logging.getLogger(__name__)

#: SCL classes masked by default.
DEFAULT_SCL_MASK = tuple(D.SCL_MASK_CLASSES)
SCL_SNOW_ICE = 11
SCL_NAMES = {0: "no data", 1: "saturated or defective", 2: "dark area pixels",
             3: "cloud shadow", 4: "vegetation", 5: "not vegetated", 6: "water",
             7: "unclassified", 8: "cloud medium probability", 9: "cloud high probability",
             10: "thin cirrus", 11: "snow or ice"}


def check_scl_classes(classes) -> tuple[int, ...]:
    """Validate the SCL classes to mask (0..10; 11, snow and ice, is refused).

    Raises
    ------
    ConfigError
        A class outside 0..11, or 11.
    """
    try:
        values = tuple(sorted({int(c) for c in classes}))
    except (TypeError, ValueError):
        raise ConfigError(f"--mask-scl {classes!r}: give SCL class numbers 0..10, for example "
                          "--mask-scl 0 1 3 8 9 10.") from None
    bad = [c for c in values if not 0 <= c <= 11]
    if bad:
        raise ConfigError(f"--mask-scl holds {bad}; SCL classes are 0..11 (masked by default: "
                          f"{' '.join(map(str, DEFAULT_SCL_MASK))}).")
    if SCL_SNOW_ICE in values:
        raise ConfigError("--mask-scl holds 11 (snow and ice): that is the glacier, and it is "
                          "never masked. Leave 11 out.")
    return values


def cloud_mask(product: Product, grid: Grid,
               scl_classes=DEFAULT_SCL_MASK) -> tuple[np.ndarray, str]:
    """Pixels of the grid that the product's own masks declare unusable.

    Parameters
    ----------
    product : Product
    grid : Grid
    scl_classes : sequence of int
        SCL classes to mask (L2A).

    Returns
    -------
    mask : numpy.ndarray
        (H, W) bool, True where masked.
    source : str
        What the mask came from, for the log and the composite's tags.
    """
    shape = (grid.height, grid.width)
    if product.scl is not None:
        scl, _ = read_on_grid(product.scl, grid, product.name, resampling=Resampling.nearest,
                              src_nodata=None)
        return np.isin(scl[0], list(scl_classes)), \
            f"SCL classes {' '.join(map(str, scl_classes)) or 'none'}"
    if product.level == "L2A":
        log.warning("%s has no SCL band: clouds are not masked.", product.name)
        return np.zeros(shape, bool), "none (no SCL band)"
    if product.cloud_mask is not None:
        bands, _ = read_on_grid(product.cloud_mask, grid, product.name, bands=(1, 2),
                                resampling=Resampling.nearest, src_nodata=None)
        return (bands != 0).any(axis=0), "MSK_CLASSI_B00 opaque clouds and cirrus"
    if product.cloud_gml is not None:
        mask = _gml_mask(product, grid)
        if mask is not None:
            return mask, "MSK_CLOUDS_B00.gml"
    log.warning("%s has no cloud mask (no SCL, MSK_CLASSI_B00.jp2 or readable "
                "MSK_CLOUDS_B00.gml): clouds are not masked; check the composite by eye.",
                product.name)
    return np.zeros(shape, bool), "none (no cloud mask in the product)"


def _gml_mask(product: Product, grid: Grid) -> np.ndarray | None:
    """Rasterise the cloud polygons of an older L1C GML mask; None when unreadable."""
    import pyogrio
    import pyogrio.errors
    import shapely

    shape = (grid.height, grid.width)
    try:
        meta, _, geometry, _ = pyogrio.raw.read(product.cloud_gml)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError, OSError) as exc:
        text = str(exc).lower()   # an empty GML mask has no layer: no clouds declared
        if "no layers" in text or "empty" in text:
            return np.zeros(shape, bool)
        log.warning("%s: cloud mask %s cannot be read (%s).", product.name,
                    product.cloud_gml, exc)
        return None
    geoms = [g for g in shapely.from_wkb(geometry) if g is not None and not g.is_empty] \
        if geometry is not None else []
    if not geoms:
        return np.zeros(shape, bool)
    src_crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else grid.crs
    shapes = [transform_geom(src_crs, grid.crs, shapely.geometry.mapping(g)) for g in geoms]
    return rasterize(shapes, out_shape=shape, transform=grid.transform, fill=0,
                     default_value=1, dtype="uint8").astype(bool)

"""The area of interest: a box or a polygon file, in any CRS, as bounds in the product's CRS.

``--aoi`` is either ``minx,miny,maxx,maxy`` (in the product's CRS, or in ``--aoi-crs``, for
example ``EPSG:4326`` for a lon/lat box) or a vector file (GeoPackage, shapefile, GeoJSON)
of polygons in its own CRS. The composite covers the bounding box of the area, snapped
outwards to the product's 10 m grid.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.crs import CRS
from rasterio.errors import CRSError
from rasterio.warp import transform_bounds

from seeice.errors import ConfigError, InputFileError, ProductError

log = logging.getLogger(__name__)

VECTOR_SUFFIXES = (".gpkg", ".shp", ".geojson", ".json", ".gml", ".kml", ".fgb")


@dataclass(frozen=True)
class AreaOfInterest:
    """Bounds of the area and their CRS.

    Attributes
    ----------
    bounds : tuple of float
        (minx, miny, maxx, maxy).
    crs : rasterio.crs.CRS or None
        Their CRS; None means "the product's CRS".
    text : str
        What the user gave, for messages.
    """

    bounds: tuple
    crs: CRS | None
    text: str

    def bounds_in(self, crs) -> tuple:
        """The bounds in ``crs`` (the box that holds the reprojected area)."""
        if self.crs is None or CRS.from_user_input(crs) == self.crs:
            return tuple(self.bounds)
        return tuple(transform_bounds(self.crs, crs, *self.bounds, densify_pts=21))


def parse_crs(text: str | None, what: str = "--aoi-crs") -> CRS | None:
    """A CRS from ``EPSG:4326``, ``4326`` or WKT; None for an empty value."""
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    try:
        return CRS.from_user_input(int(text) if text.isdigit() else text)
    except CRSError:
        raise ConfigError(f"{what} {text!r} is not a coordinate reference system. Give it as "
                          "EPSG:4326 (lon/lat) or EPSG:326xx (UTM north), for example.") from None


def parse_aoi(text: str | None, aoi_crs: str | None = None) -> AreaOfInterest | None:
    """Read ``--aoi``: a box ``minx,miny,maxx,maxy`` or a polygon file; None when empty.

    Raises
    ------
    ConfigError
        The box is not four numbers with min < max.
    InputFileError
        The file does not exist.
    ProductError
        The file holds no geometry or has no CRS (and no ``--aoi-crs`` is given).
    """
    if text is None or not str(text).strip():
        return None
    text = str(text).strip()
    crs = parse_crs(aoi_crs)
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 4 and not Path(text).suffix.lower() in VECTOR_SUFFIXES:
        try:
            minx, miny, maxx, maxy = (float(p) for p in parts)
        except ValueError:
            raise ConfigError(f"--aoi {text!r} is not four numbers minx,miny,maxx,maxy nor a "
                              "polygon file.") from None
        if not (minx < maxx and miny < maxy):
            raise ConfigError(f"--aoi {text!r}: give minx,miny,maxx,maxy with minx < maxx and "
                              "miny < maxy (a lon/lat box is lon_min,lat_min,lon_max,lat_max "
                              "with --aoi-crs EPSG:4326).")
        return AreaOfInterest((minx, miny, maxx, maxy), crs, text)
    return _aoi_from_file(Path(text), crs)


def _aoi_from_file(path: Path, crs_override: CRS | None) -> AreaOfInterest:
    import pyogrio
    import pyogrio.errors
    import shapely

    if not path.exists():
        raise InputFileError(f"--aoi {path}: no such file. Give minx,miny,maxx,maxy or a "
                             "GeoPackage, shapefile or GeoJSON of the area's polygon.")
    try:
        meta, _, geometry, _ = pyogrio.raw.read(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError, OSError) as exc:
        raise ProductError(f"--aoi {path} cannot be read as a vector file ({exc}). Give a "
                           "GeoPackage, shapefile or GeoJSON of the area's polygon.") from None
    geoms = [g for g in shapely.from_wkb(geometry) if g is not None and not g.is_empty] \
        if geometry is not None else []
    if not geoms:
        raise ProductError(f"--aoi {path} holds no geometry. Draw the area's polygon in it.")
    file_crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    crs = file_crs or crs_override
    if crs is None:
        raise ProductError(f"--aoi {path} declares no CRS. Save it with its CRS, or name it with "
                           "--aoi-crs (for example EPSG:4326).")
    if file_crs is not None and crs_override is not None and file_crs != crs_override:
        log.warning("--aoi-crs %s ignored: %s declares its own CRS %s.", crs_override,
                    path.name, file_crs)
    bounds = shapely.total_bounds(np.array(geoms, dtype=object))
    return AreaOfInterest(tuple(float(b) for b in bounds), crs, str(path))


def check_overlap(aoi_bounds: tuple, product_bounds: tuple, crs, product_name: str,
                  aoi: AreaOfInterest) -> None:
    """Refuse an area that misses the product, saying where the product is.

    Parameters
    ----------
    aoi_bounds, product_bounds : tuple of float
        (minx, miny, maxx, maxy), both in ``crs`` (the product's).

    Raises
    ------
    ProductError
        The two do not overlap; the message gives the product's extent in its CRS and in
        lon/lat, and the area as given.
    """
    ax0, ay0, ax1, ay1 = aoi_bounds
    px0, py0, px1, py1 = product_bounds
    if ax0 < px1 and ax1 > px0 and ay0 < py1 and ay1 > py0:
        return
    lon0, lat0, lon1, lat1 = transform_bounds(crs, "EPSG:4326", *product_bounds, densify_pts=21)
    given = f" in {aoi.crs.to_string()}" if aoi.crs is not None else " in the product's CRS"
    raise ProductError(
        f"the area of interest ({aoi.text}{given}) lies outside {product_name}. The product "
        f"covers x {px0:.0f} to {px1:.0f}, y {py0:.0f} to {py1:.0f} in "
        f"{CRS.from_user_input(crs).to_string()}, that is lon {lon0:.4f} to {lon1:.4f}, lat "
        f"{lat0:.4f} to {lat1:.4f} (EPSG:4326). Give an --aoi inside it (with --aoi-crs "
        "EPSG:4326 for lon/lat), or the product that covers your area.")

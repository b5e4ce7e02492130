"""Vector inputs and multi-feature outputs: a centreline or box read from a file, and a layer
of dated fronts written to a GeoPackage.

:func:`read_geometry` reads one line or polygon (GeoPackage, shapefile, GeoJSON: anything
GDAL reads through pyogrio) and brings it into the images' CRS with
:func:`rasterio.warp.transform_geom`. :func:`write_lines_gpkg` writes one feature per row of
a table, atomically.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from seeice.errors import DataError, InputFileError
from seeice.io.atomic import atomic_path

log = logging.getLogger(__name__)

_KINDS = {"line": ("LineString", "MultiLineString"), "polygon": ("Polygon", "MultiPolygon")}


def read_geometry(path: str | os.PathLike, kind: str, crs, what: str):
    """Read the one line (or polygon) of a vector file, in ``crs``.

    Parameters
    ----------
    path : path-like
        The file (GPKG, shapefile, GeoJSON, ...).
    kind : {"line", "polygon"}
        The geometry expected.
    crs : rasterio.crs.CRS
        The images' CRS; the geometry is reprojected into it. A file without a CRS is taken
        to be in it (said once).
    what : str
        Its role, for messages (``"centreline (--centreline)"``).

    Returns
    -------
    shapely.LineString or shapely.Polygon
        A multi-part geometry of one part is returned as that part.

    Raises
    ------
    InputFileError
        The file does not exist.
    DataError
        It cannot be read, holds no feature or more than one, or another geometry type.
    """
    import pyogrio.raw
    from rasterio.warp import transform_geom

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"the {what} file {path} does not exist.")
    try:
        meta, _, wkb, _ = pyogrio.raw.read(str(path))
    except Exception as exc:  # pyogrio raises its own DataSourceError, DataLayerError, ...
        raise DataError(f"the {what} file {path} cannot be read as a vector file ({exc}). "
                        "Give a GeoPackage, shapefile or GeoJSON.") from None
    geometries = [shapely.from_wkb(g) for g in wkb if g is not None]
    if len(geometries) != 1:
        raise DataError(f"the {what} file {path} holds {len(geometries)} features; it must hold "
                        f"exactly one {kind}. Keep the one you mean in its own file.")
    geometry = geometries[0]
    parts = shapely.get_parts(geometry)
    if geometry.geom_type not in _KINDS[kind] or len(parts) != 1:
        raise DataError(f"the {what} in {path} is a {geometry.geom_type} of {len(parts)} "
                        f"part(s); it must be one {_KINDS[kind][0]}.")
    geometry = parts[0]
    if meta.get("crs"):
        mapped = transform_geom(meta["crs"], crs, shapely.geometry.mapping(geometry))
        geometry = shapely.geometry.shape(mapped)
    else:
        log.info("the %s file %s has no CRS: taken to be in the images' CRS.", what, path.name)
    return geometry


def _field_array(values: pd.Series) -> np.ndarray:
    if pd.api.types.is_bool_dtype(values):
        return values.astype(np.int32).to_numpy()
    if pd.api.types.is_integer_dtype(values):
        return values.astype(np.int64).to_numpy()
    if pd.api.types.is_float_dtype(values):
        return values.astype(np.float64).to_numpy()
    return np.array(["" if pd.isna(v) else str(v) for v in values], dtype=object)


def write_lines_gpkg(path: str | os.PathLike, geometries: list, table: pd.DataFrame, crs,
                     layer: str) -> Path:
    """Write one line feature per row of ``table``, with its columns as fields, atomically.

    Parameters
    ----------
    path : path-like
        Target ``.gpkg``; an existing file is replaced.
    geometries : list of shapely geometry
        LineString or MultiLineString per row (rows without one must be left out before).
    table : pandas.DataFrame
        The fields, one row per geometry; booleans are written as integers 0/1.
    crs : rasterio.crs.CRS
        The geometries' CRS.
    layer : str
        Layer name.
    """
    import pyogrio.raw

    if len(geometries) != len(table) or not geometries:
        raise DataError(f"{len(geometries)} lines for {len(table)} rows: nothing to write to {path}.")
    multi = any(g.geom_type != "LineString" for g in geometries)
    if multi:
        geometries = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g
                      for g in geometries]
    names = [str(c) for c in table.columns]
    data = [_field_array(table[c]) for c in table.columns]
    path = Path(path)
    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    with atomic_path(path, suffix=".gpkg") as tmp:
        tmp.unlink()  # GDAL creates the GeoPackage itself
        pyogrio.raw.write(str(tmp), np.array([shapely.to_wkb(g) for g in geometries],
                                             dtype=object), data, names, layer=layer,
                          driver="GPKG",
                          geometry_type="MultiLineString" if multi else "LineString", crs=wkt)
    return path

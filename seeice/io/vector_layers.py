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
    import pyogrio.errors
    import pyogrio.raw
    from rasterio.warp import transform_geom

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"the {what} file {path} does not exist.")
    try:
        meta, _, wkb, _ = pyogrio.raw.read(str(path))
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError, OSError) as exc:
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


def reproject_geometry(geometry, src_crs, dst_crs):
    """``geometry`` from ``src_crs`` into ``dst_crs`` (GDAL, through rasterio); unchanged when equal."""
    from rasterio.warp import transform_geom

    if dst_crs is None or dst_crs == src_crs:
        return geometry
    return shapely.geometry.shape(transform_geom(src_crs, dst_crs,
                                                 shapely.geometry.mapping(geometry)))


def _kind(values: list) -> str:
    """The field type that the values call for: bool, int, float or text."""
    typed = [v for v in values if v is not None]
    if not typed:
        return "text"
    if all(isinstance(v, (bool, np.bool_)) for v in typed):
        return "bool"
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))
           for v in typed):
        return "int"
    if all(isinstance(v, (int, float, np.integer, np.floating)) for v in typed):
        return "float"
    return "text"


def _field_arrays(records: list[dict]) -> tuple[list[str], list[np.ndarray], list]:
    """Field names, arrays and null masks (None where no value is missing) from records.

    A field's type is that of :data:`seeice.io.front_schema.FIELD_TYPES` for the schema's
    fields, else follows its values: bool -> int32 0/1, int -> int64, float -> float64, other
    -> text. None (and NaN) is a null of the field's type.
    """
    from seeice.io.front_schema import FIELD_TYPES

    names = list(dict.fromkeys(k for r in records for k in r))
    data, masks = [], []
    for name in names:
        values = [r.get(name) for r in records]
        values = [None if isinstance(v, float) and np.isnan(v) else v for v in values]
        missing = np.array([v is None for v in values])
        kind = FIELD_TYPES.get(name) or _kind(values)
        if kind == "bool":
            array = np.array([int(bool(v)) if v is not None else 0 for v in values], np.int32)
        elif kind == "int":
            array = np.array([int(v) if v is not None else 0 for v in values], np.int64)
        elif kind == "float":
            array = np.array([np.nan if v is None else float(v) for v in values], np.float64)
        else:
            array = np.array(["" if v is None else str(v) for v in values], dtype=object)
            missing = np.zeros(len(values), bool)
        data.append(array)
        masks.append(missing if missing.any() else None)
    return names, data, masks


def write_line_features(path: str | os.PathLike, geometries: list, records: list[dict], crs,
                        layer: str, geojson_path: str | os.PathLike | None = None) -> Path:
    """Write one line feature per record to a GeoPackage, and optionally to GeoJSON, atomically.

    Parameters
    ----------
    path : path-like
        Target ``.gpkg``; an existing file is replaced.
    geometries : list of shapely geometry
        LineString or MultiLineString per record, in ``crs``.
    records : list of dict
        The fields of each feature (see :func:`_field_arrays` for the types).
    crs : rasterio.crs.CRS
        The geometries' CRS (the GeoPackage's).
    layer : str
        Layer name.
    geojson_path : path-like, optional
        Also write the features there as GeoJSON in WGS84 longitude/latitude (RFC 7946; GDAL
        reprojects), with the same full field names.
    """
    import pyogrio.raw

    if len(geometries) != len(records) or not geometries:
        raise DataError(f"{len(geometries)} lines for {len(records)} records: nothing to write "
                        f"to {path}.")
    multi = any(g.geom_type != "LineString" for g in geometries)
    if multi:
        geometries = [shapely.MultiLineString([g]) if g.geom_type == "LineString" else g
                      for g in geometries]
    names, data, masks = _field_arrays(records)
    mask = masks if any(m is not None for m in masks) else None
    if mask is not None:
        mask = [m if m is not None else np.zeros(len(records), bool) for m in masks]
    wkb = np.array([shapely.to_wkb(g) for g in geometries], dtype=object)
    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    kind = "MultiLineString" if multi else "LineString"
    targets = [(Path(path), "GPKG", ".gpkg", None)]
    if geojson_path is not None:
        targets.append((Path(geojson_path), "GeoJSON", ".geojson", {"RFC7946": "YES"}))
    for target, driver, suffix, options in targets:
        with atomic_path(target, suffix=suffix) as tmp:
            tmp.unlink()  # GDAL creates the file itself
            pyogrio.raw.write(str(tmp), wkb, data, names, field_mask=mask, layer=layer,
                              driver=driver, geometry_type=kind, crs=wkt,
                              layer_options=options)
    return Path(path)


def write_lines_gpkg(path: str | os.PathLike, geometries: list, table: pd.DataFrame, crs,
                     layer: str, geojson_path: str | os.PathLike | None = None) -> Path:
    """:func:`write_line_features` with the rows of a table as the records."""
    records = [{k: (None if isinstance(v, float) and np.isnan(v) else
                    v.item() if isinstance(v, np.generic) else v) for k, v in row.items()}
               for row in table.to_dict(orient="records")]
    return write_line_features(path, geometries, records, crs, layer, geojson_path)


def write_polygon_gpkg(path: str | os.PathLike, polygon, crs, layer: str) -> Path:
    """Write one polygon (a box) to a GeoPackage, atomically."""
    import pyogrio.raw

    path = Path(path)
    wkt = crs.to_wkt() if hasattr(crs, "to_wkt") else str(crs)
    with atomic_path(path, suffix=".gpkg") as tmp:
        tmp.unlink()
        pyogrio.raw.write(str(tmp), np.array([shapely.to_wkb(polygon)], dtype=object),
                          [np.array([layer], dtype=object)], ["name"], layer=layer,
                          driver="GPKG", geometry_type="Polygon", crs=wkt)
    return path

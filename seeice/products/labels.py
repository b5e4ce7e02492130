"""Class, front and margin rasters from vector files, on an image's exact grid.

* Polygons whose class field holds a class number (1..n) or a class name of the scheme
  (case-insensitive, for example ``glacier ice``) become ``SCLS_<stem>.tif``: uint8, a pixel
  takes the class of the polygon that contains its centre, 0 (declared nodata) where no
  polygon does (unlabelled). Where polygons overlap, the later feature in the file wins (they
  are burnt in file order).
* Lines become ``EDGE_<stem>.tif`` (calving front) and ``VM_<stem>.tif`` (valley margins):
  uint8, 1 on every pixel the line touches, 0 elsewhere (0 is a value here, "not on the
  line", so no nodata is declared). Polygons given as lines contribute their outlines.

Vectors in another CRS than the image are reprojected to it. Features outside the image are
counted and reported. Every input is read and checked before any file is written; files
are written atomically.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.errors import RasterioIOError
from rasterio.features import rasterize
from rasterio.warp import transform_geom

from seeice import defaults as D
from seeice.classes import ClassScheme
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.products.geotiff import write_geotiff

log = logging.getLogger(__name__)


@dataclass
class VectorLayer:
    """Geometries of a vector file in the image's CRS, with their attribute columns."""

    path: Path
    geometries: list
    fields: dict
    crs: CRS | None


def _image_grid(path: Path):
    if not path.is_file():
        raise InputFileError(f"--like {path} does not exist. Give the image (composite) the "
                             "rasters are for.")
    try:
        with rasterio.open(path) as src:
            crs, transform, shape, bounds = src.crs, src.transform, src.shape, tuple(src.bounds)
    except RasterioIOError as exc:
        raise RasterError(f"--like {path} cannot be read as a raster ({exc}).") from None
    if crs is None:
        raise RasterError(f"--like {path} has no coordinate reference system, so vector "
                          "coordinates cannot be placed on it. Give a georeferenced image "
                          "(MakeComposite writes one).")
    return crs, transform, shape, bounds


def read_vector(path: str | os.PathLike, image_crs, what: str) -> VectorLayer:
    """Read a vector file and reproject its geometries to ``image_crs``.

    Raises
    ------
    InputFileError
        The file does not exist.
    DataError
        It cannot be read, or holds no geometry.
    """
    import pyogrio
    import pyogrio.errors
    import shapely

    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{what} {path} does not exist. Give a GeoPackage, shapefile or "
                             "GeoJSON file.")
    try:
        meta, _, geometry, field_data = pyogrio.raw.read(path)
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
            pyogrio.errors.FieldError, pyogrio.errors.GeometryError, OSError) as exc:
        raise DataError(f"{what} {path} cannot be read as a vector file ({exc}). Give a "
                        "GeoPackage, shapefile or GeoJSON file.") from None
    if geometry is None or len(geometry) == 0:
        raise DataError(f"{what} {path} holds no features. Draw the features in it.")
    geoms = list(shapely.from_wkb(geometry))
    fields = {str(name): values for name, values in zip(meta["fields"], field_data)}
    crs = CRS.from_user_input(meta["crs"]) if meta.get("crs") else None
    image_crs = CRS.from_user_input(image_crs)
    if crs is None:
        log.warning("%s declares no CRS: its coordinates are read as the image's (%s).",
                    path.name, image_crs.to_string())
    elif crs != image_crs:
        log.info("%s: reprojected from %s to the image's %s.", path.name, crs.to_string(),
                 image_crs.to_string())
        geoms = [None if g is None or g.is_empty else shapely.geometry.shape(
            transform_geom(crs, image_crs, shapely.geometry.mapping(g))) for g in geoms]
    return VectorLayer(path, geoms, fields, crs)


def class_numbers(values, scheme: ClassScheme, path: Path, field: str) -> np.ndarray:
    """Class numbers of a class field holding numbers or class names (case-insensitive).

    Returns
    -------
    numpy.ndarray
        (n,) int: the class of each feature, 0 where the field is empty.

    Raises
    ------
    ConfigError
        A name that is not a class of the scheme (the valid names listed), or a number
        outside 1..n.
    """
    by_name = {name.lower(): i + 1 for i, name in enumerate(scheme.names)}
    numbers = np.zeros(len(values), np.int64)
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and np.isnan(value)) \
                or (isinstance(value, str) and not value.strip()):
            continue
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            number = None
        if number is not None:
            if not number.is_integer() or not 1 <= number <= scheme.n_classes:
                raise ConfigError(f"{path.name}: field {field!r} of feature {i + 1} holds "
                                  f"{text}, not a class 1..{scheme.n_classes} of the "
                                  f"{scheme.name!r} scheme. Use a class number or name.")
            numbers[i] = int(number)
        elif text.lower() in by_name:
            numbers[i] = by_name[text.lower()]
        else:
            raise ConfigError(f"{path.name}: field {field!r} of feature {i + 1} holds "
                              f"{text!r}, which is not a class of the {scheme.name!r} scheme. "
                              f"Valid names (any case): {', '.join(scheme.names)}; or class "
                              f"numbers 1..{scheme.n_classes}. Use --scheme for another "
                              "scheme.")
    return numbers


def _outside(geoms, bounds) -> int:
    import shapely

    box = shapely.box(*bounds)
    return sum(1 for g in geoms if g is not None and not g.is_empty and not g.intersects(box))


def _burn(shapes, shape, transform, all_touched: bool) -> np.ndarray:
    if not shapes:
        return np.zeros(shape, np.uint8)
    return rasterize(shapes, out_shape=shape, transform=transform, fill=0, dtype="uint8",
                     all_touched=all_touched)


def _lines(layer: VectorLayer):
    import shapely

    out = []
    for g in layer.geometries:
        if g is None or g.is_empty:
            continue
        if g.geom_type in ("Polygon", "MultiPolygon"):
            g = g.boundary
        out.append((shapely.geometry.mapping(g), 1))
    return out


def rasterise_labels(like: str | os.PathLike, scheme: ClassScheme, classes=None,
                     field: str = D.LABEL_FIELD, front=None, margins=None) -> dict:
    """Write ``SCLS_``, ``EDGE_`` and ``VM_`` rasters beside an image, on its grid.

    Parameters
    ----------
    like : path-like
        The image (a georeferenced GeoTIFF); outputs go beside it.
    scheme : ClassScheme
        Names and number of classes.
    classes : path-like, optional
        Polygons with a class field.
    field : str
        The class field.
    front, margins : path-like, optional
        Lines of the calving front and of the valley margins.

    Returns
    -------
    dict
        ``{"classes": path, "front": path, "margins": path}`` for those written.

    Raises
    ------
    ConfigError
        No vector given, a missing field (its fields listed), an unknown class.
    DataError
        A vector with no feature on the image.
    """
    if not any((classes, front, margins)):
        raise ConfigError("nothing to rasterise: give --classes POLYGONS, --front LINES and/or "
                          "--margins LINES.")
    like = Path(like)
    crs, transform, shape, bounds = _image_grid(like)
    planned = {}
    if classes:
        layer = read_vector(classes, crs, "--classes")
        if field not in layer.fields:
            raise ConfigError(f"--classes {layer.path.name} has no field {field!r}; its fields "
                              f"are: {', '.join(layer.fields) or 'none'}. Name the class field "
                              "with --field.")
        numbers = class_numbers(layer.fields[field], scheme, layer.path, field)
        import shapely
        shapes = [(shapely.geometry.mapping(g), int(n))
                  for g, n in zip(layer.geometries, numbers) if g is not None and not g.is_empty
                  and n > 0]
        empty = int((numbers == 0).sum())
        if empty:
            log.warning("%s: %d feature(s) with an empty %r field left out.", layer.path.name,
                        empty, field)
        planned["classes"] = (layer, shapes, False, f"SCLS_{like.stem}.tif")
    for key, path, prefix in (("front", front, "EDGE_"), ("margins", margins, "VM_")):
        if path:
            layer = read_vector(path, crs, f"--{key}")
            planned[key] = (layer, _lines(layer), True, f"{prefix}{like.stem}.tif")
    rasters = {}
    for key, (layer, shapes, all_touched, name) in planned.items():
        outside = _outside(layer.geometries, bounds)
        if outside:
            log.warning("%s: %d of %d feature(s) lie outside the image and are left out.",
                        layer.path.name, outside, len(layer.geometries))
        raster = _burn(shapes, shape, transform, all_touched)
        if not raster.any():
            raise DataError(f"no feature of {layer.path} falls on {like.name} (they lie outside "
                            "it, or are too small to cover a pixel centre). Check that the "
                            "file and the image show the same place and their CRSs are "
                            "declared.")
        rasters[key] = (raster, name)
    palette = scheme.palette_rgb()
    written = {}
    for key, (raster, name) in rasters.items():
        if key == "classes":
            counts = np.bincount(raster.ravel(), minlength=scheme.n_classes + 1)
            log.info("%s: %s; %.1f %% unlabelled.", name, ", ".join(
                f"{scheme.names[c - 1]} {counts[c]}" for c in range(1, scheme.n_classes + 1)
                if counts[c]), 100 * counts[0] / raster.size)
            written[key] = write_geotiff(
                like.with_name(name), raster, crs, transform, nodata=0,
                colormap={i: (*map(int, rgb), 255) for i, rgb in enumerate(palette)})
        else:
            log.info("%s: %d pixel(s) on the lines.", name, int(raster.sum()))
            written[key] = write_geotiff(like.with_name(name), raster, crs, transform)
        log.info("wrote %s", written[key])
    return written

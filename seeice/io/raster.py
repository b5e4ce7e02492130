"""Raster input and output on rasterio: images, class rasters, companions, class GeoTIFFs.

Conventions (DESIGN section 3):

* an image is read as an array of shape (H, W, bands), band order as stored (R, G, B, NIR
  for Sentinel-2 composites);
* companions sit beside the image: ``SCLS_<stem>.tif`` (classes), ``EDGE_<stem>.tif``
  (manual calving front), ``VM_<stem>.tif`` (valley margins); files with those prefixes are
  never inputs;
* class outputs are uint8 GeoTIFFs with the input's CRS and transform, LZW compression and
  the class palette as a colour table, or PNGs (same palette) for non-georeferenced input.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import rasterio
from rasterio.errors import NotGeoreferencedWarning, RasterioIOError
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.windows import Window
from skimage.transform import resize

from seeice.classes import ClassScheme
from seeice.errors import InputFileError, RasterError
from seeice.io.atomic import atomic_path

log = logging.getLogger(__name__)

COMPANION_PREFIXES = ("SCLS_", "EDGE_", "VM_")
IMAGE_EXTENSIONS = (".tif", ".tiff", ".png", ".jpg", ".jpeg")
#: Tile edge (px) of the GeoTIFFs written: larger rasters are tiled and written in block rows.
GEOTIFF_TILE = 512


@dataclass
class Raster:
    """An image or class array with its georeferencing.

    Attributes
    ----------
    data : numpy.ndarray
        Pixel values, shape (H, W, bands) for images, (H, W) for class rasters.
    crs : rasterio.crs.CRS or None
        Coordinate reference system; None for plain (non-georeferenced) images.
    transform : affine.Affine
        Pixel-to-CRS transform (identity for plain images).
    path : pathlib.Path or None
        The file it was read from.
    valid : numpy.ndarray or None
        (H, W) bool, the pixels that hold data (:mod:`seeice.io.validity`); None when not
        computed (:func:`seeice.io.images.read_scene` computes it).
    """

    data: np.ndarray
    crs: object | None = None
    transform: Affine = Affine.identity()
    path: Path | None = None
    valid: np.ndarray | None = None

    @property
    def is_georeferenced(self) -> bool:
        """True when the raster has a CRS."""
        return self.crs is not None

    @property
    def pixel_size(self) -> float | None:
        """Pixel size in CRS units (metres for UTM); None for plain images.

        The mean of the absolute x and y resolutions, for nearly square pixels. For distances
        use :func:`seeice.io.georef.pixel_size_m`, which refuses degrees and converts other
        units to metres.
        """
        if not self.is_georeferenced:
            return None
        return float((abs(self.transform.a) + abs(self.transform.e)) / 2.0)

    @property
    def shape2d(self) -> tuple[int, int]:
        """(H, W)."""
        return int(self.data.shape[0]), int(self.data.shape[1])


@dataclass(frozen=True)
class Grid:
    """The pixel grid of a raster: size, CRS and pixel-to-CRS transform.

    A companion raster (``SCLS_``, ``EDGE_``, ``VM_``) is matched with its image pixel for
    pixel, so it must lie on the image's grid.
    """

    height: int
    width: int
    crs: object | None = None
    transform: Affine = Affine.identity()

    @classmethod
    def of(cls, source) -> "Grid":
        """The grid of an open rasterio dataset or of a :class:`Raster`."""
        if isinstance(source, Raster):
            height, width = source.shape2d
        else:
            height, width = int(source.height), int(source.width)
        crs = source.crs or None
        return cls(height, width, crs, source.transform if crs is not None else Affine.identity())

    @property
    def shape(self) -> tuple[int, int]:
        return self.height, self.width

    def describe(self) -> str:
        """``300 x 300 px, EPSG:32624, origin (500000, 7000000), pixel 10 x 10`` (size only for
        a raster without georeferencing)."""
        size = f"{self.height} x {self.width} px"
        if self.crs is None:
            return f"{size}, no georeferencing"
        t = self.transform
        crs = self.crs.to_string() if hasattr(self.crs, "to_string") else str(self.crs)
        return (f"{size}, {crs[:60]}, origin ({t.c:.10g}, {t.f:.10g}), "
                f"pixel {abs(t.a):.6g} x {abs(t.e):.6g}")

    def differences(self, other: "Grid") -> list[str]:
        """What differs between two grids: "size", "CRS", "transform" (empty: the same grid).

        CRS and transform are compared only when both rasters are georeferenced: a raster
        without georeferencing has no grid but its size, so it is matched by position. The
        transforms agree when their origins lie within 1/1000 of a pixel and their pixel
        sizes and rotations agree to one part in a million.
        """
        found = []
        if self.shape != other.shape:
            found.append("size")
        if self.crs is None or other.crs is None:
            return found
        if self.crs != other.crs:
            found.append("CRS")
        a, b = self.transform, other.transform
        pixel = max(abs(a.a), abs(a.e), 1e-12)
        offsets = max(abs(a.c - b.c), abs(a.f - b.f)) <= 1e-3 * pixel
        scales = all(abs(x - y) <= 1e-6 * pixel for x, y in ((a.a, b.a), (a.b, b.b),
                                                            (a.d, b.d), (a.e, b.e)))
        if not (offsets and scales):
            found.append("transform")
        return found


@dataclass(frozen=True)
class Companions:
    """Companion files of an image (None where absent)."""

    classes: Path | None
    edge: Path | None
    valley_margin: Path | None


def open_raster(path: str | os.PathLike):
    path = Path(path)
    if not path.exists():
        raise InputFileError(f"{path} does not exist. Check the folder and the file name.")
    if path.is_dir():
        raise InputFileError(f"{path} is a folder; a raster file was expected.")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NotGeoreferencedWarning)
            return rasterio.open(path)
    except RasterioIOError as exc:
        raise RasterError(f"{path} cannot be read as a raster ({exc}). Give a GeoTIFF, PNG or "
                          "JPEG file, and check that it is not truncated.") from None


def read_image(path: str | os.PathLike, bands: int | None = None) -> Raster:
    """Read an image into an (H, W, bands) array with its georeferencing.

    Parameters
    ----------
    path : path-like
        GeoTIFF, PNG or JPEG file.
    bands : int, optional
        Keep the first ``bands`` bands (``Ndims``: 3 = RGB, 4 = RGB + NIR). All when None.

    Returns
    -------
    Raster
        ``data`` of shape (H, W, bands) in the file's dtype.

    Raises
    ------
    InputFileError
        The file does not exist.
    RasterError
        The file is not a readable raster, or has fewer bands than asked.
    """
    with open_raster(path) as src:
        if bands is not None and src.count < bands:
            raise RasterError(f"{Path(path).name} has {src.count} band(s) but {bands} were asked "
                              f"for (Ndims/--bands). Use --bands {src.count} or give images "
                              f"with {bands} bands.")
        indexes = list(range(1, (bands or src.count) + 1))
        try:
            data = src.read(indexes)
        except RasterioIOError as exc:
            raise RasterError(f"{Path(path).name} is damaged and cannot be read ({exc}).") from None
        crs = src.crs
        transform = src.transform
    return Raster(np.moveaxis(data, 0, -1), crs=crs, transform=transform, path=Path(path))


def read_labels(path: str | os.PathLike, shape: tuple[int, int] | Grid | None = None,
                resize_to_shape: bool = False, image_name: str | None = None) -> np.ndarray:
    """Read a single-band class or mask raster as integer labels, shape (H, W), uint8.

    Class rasters may arrive as float (the St Marguerite set does); values are rounded to
    the nearest integer. Values must lie in 0..255. Pixels holding the raster's declared
    nodata value (and NaN) are read as 0, unlabelled: no-data is never a class or a front.

    Parameters
    ----------
    path : path-like
        The raster (``SCLS_``, ``EDGE_`` or ``VM_`` companion).
    shape : (int, int) or Grid, optional
        The image's (H, W), or its whole :class:`Grid`: then the companion's size, CRS and
        transform must all match it (CRS and transform when both are georeferenced).
    resize_to_shape : bool
        When the raster is on another grid: raise :class:`RasterError` naming both grids
        (False, the default), or match it by position with a warning, resizing it by nearest
        neighbour to the image's size when the sizes differ (True: the published behaviour,
        ``--resize-companions``).
    image_name : str, optional
        The image's file name, for messages.

    Raises
    ------
    RasterError
        The raster is damaged, holds values outside 0..255, or (``resize_to_shape`` False)
        lies on another grid than its image.
    """
    name = Path(path).name
    with open_raster(path) as src:
        try:
            data = src.read(1)
        except (RasterioIOError, rasterio.errors.RasterioError) as exc:
            raise RasterError(f"{name} is damaged and cannot be read ({_first_line(exc)}). "
                              "Export it again (it may be truncated by an interrupted copy or "
                              "download).") from None
        nodata = src.nodata
        own_grid = Grid.of(src)
    expected = shape if isinstance(shape, Grid) else (Grid(*shape) if shape is not None else None)
    problems = own_grid.differences(expected) if expected is not None else []
    if problems and not isinstance(shape, Grid):
        # A bare (H, W) says nothing of georeferencing: only the size is compared.
        problems = [p for p in problems if p == "size"]
    if problems:
        image = image_name or "its image"
        theirs = (expected.describe() if isinstance(shape, Grid)
                  else f"{expected.height} x {expected.width} px")
        both = f"{name}: {own_grid.describe()}; {image}: {theirs}"
        what = " and ".join(problems) + (" differ" if len(problems) > 1 else " differs")
        if not resize_to_shape:
            raise RasterError(f"{name} is not on the grid of {image} ({what}; {both}). Companion rasters are matched with the image "
                              "pixel for pixel: re-export it on the image's grid (same size, "
                              "CRS and transform), or give --resize-companions to match it by "
                              "position as the published scripts did (nearest-neighbour "
                              "resize, georeferencing ignored).")
        log.warning("%s is not on the grid of %s (%s; %s). --resize-companions: matched "
                    "by position%s, georeferencing ignored, as the published scripts did.",
                    name, image, what, both,
                    ", resized by nearest neighbour" if "size" in problems else "")
    if nodata is not None and not (isinstance(nodata, float) and np.isnan(nodata)):
        declared = data == nodata
        if declared.any():
            # Declared no-data is never a class nor a front: it is unlabelled.
            log.info("%s: %d pixels hold the declared nodata value %g; read as unlabelled (0).",
                     name, int(declared.sum()), nodata)
            data = np.where(declared, 0, data)
    if np.issubdtype(data.dtype, np.floating):
        data = np.nan_to_num(data, nan=0.0)
        data = np.rint(data)
    if data.size and (data.min() < 0 or data.max() > 255):
        raise RasterError(f"{name} holds values outside 0..255 "
                          f"({data.min()}..{data.max()}); a class raster holds 0 (unlabelled) "
                          "and the class numbers.")
    labels = data.astype(np.uint8)
    if expected is not None and labels.shape != expected.shape:
        labels = resize(labels, expected.shape, order=0, preserve_range=True,
                        anti_aliasing=False).astype(np.uint8)
    return labels


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__


def check_class_values(labels: np.ndarray, n_classes: int, source: str) -> None:
    """Refuse class labels outside 0..n_classes, naming the values and the fix.

    Parameters
    ----------
    labels : numpy.ndarray
        Class raster (H, W), integers.
    n_classes : int
        Classes of the scheme (1..n_classes; 0 is unlabelled).
    source : str
        The raster's name, for the message.

    Raises
    ------
    RasterError
        Some labels exceed ``n_classes``: they would be scored as extra classes.
    """
    beyond = np.unique(labels[labels > n_classes])
    if beyond.size:
        shown = ", ".join(str(int(v)) for v in beyond[:10])
        raise RasterError(f"{source} holds class values {shown}, outside 1..{n_classes} of the "
                          f"class scheme (0 = unlabelled). Recode them to the scheme's classes or "
                          f"0, or declare a no-data value for them in the raster.")


def find_companions(image_path: str | os.PathLike) -> Companions:
    """Find the ``SCLS_``, ``EDGE_`` and ``VM_`` companions of an image by its stem.

    Each is looked for as ``<prefix><stem>`` with any raster extension, in the image's folder.
    """
    image_path = Path(image_path)
    found = []
    for prefix in COMPANION_PREFIXES:
        match = None
        for ext in (".tif", ".tiff", ".png", ".TIF", ".TIFF", ".PNG"):
            candidate = image_path.with_name(f"{prefix}{image_path.stem}{ext}")
            if candidate.is_file():
                match = candidate
                break
        found.append(match)
    return Companions(*found)


def is_companion(path: str | os.PathLike) -> bool:
    """True for files named like companions (``SCLS_``, ``EDGE_``, ``VM_`` prefixes)."""
    return Path(path).name.startswith(COMPANION_PREFIXES)


def list_images(folder: str | os.PathLike) -> list[Path]:
    """List the input images of a folder, sorted, companions and hidden files excluded.

    Raises
    ------
    InputFileError
        The folder does not exist.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"image folder {folder} does not exist. Check the path "
                             "(PredictPath / --predict / --images).")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS
                  and not is_companion(p) and not p.name.startswith("."))


def write_raster(path: str | os.PathLike, data: np.ndarray, crs=None,
                 transform: Affine | None = None, compress: str | None = "lzw",
                 colormap: dict | None = None, nodata: float | None = None,
                 overviews: str | None = None) -> Path:
    """Write an (H, W) or (H, W, bands) array as a raster, atomically.

    The driver follows the extension: GeoTIFF for ``.tif``/``.tiff``, PNG for ``.png``. A
    GeoTIFF larger than one :data:`GEOTIFF_TILE` square is tiled and written block row by
    block row (a granule's class raster never needs a second copy in memory); with
    ``overviews`` it gets internal overviews (2, 4, 8, ... down to about 256 px), so that
    QGIS opens it fast at any zoom.

    Parameters
    ----------
    path : path-like
        Target file.
    data : numpy.ndarray
        Shape (H, W) or (H, W, bands).
    crs, transform : optional
        Georeferencing (GeoTIFF only). None writes a plain raster.
    compress : str or None
        GeoTIFF compression (LZW by default).
    colormap : dict, optional
        ``{value: (r, g, b, a)}`` colour table for band 1 (uint8 data only).
    nodata : float, optional
        Declared nodata value (GeoTIFF only).
    overviews : str, optional
        Resampling of the overviews (GeoTIFF only): ``"nearest"`` for classes (every overview
        pixel is a class of the full raster), ``"average"`` for images. None: no overviews.
    """
    path = Path(path)
    array = data[..., np.newaxis] if data.ndim == 2 else data
    height, width, count = array.shape
    driver = "PNG" if path.suffix.lower() == ".png" else "GTiff"
    profile = {"driver": driver, "height": height, "width": width, "count": count,
               "dtype": array.dtype}
    tiled = driver == "GTiff" and max(height, width) > GEOTIFF_TILE
    if driver == "GTiff":
        if compress:
            profile["compress"] = compress
        if nodata is not None:
            profile["nodata"] = nodata
        if crs is not None:
            profile.update(crs=crs, transform=transform or Affine.identity())
        if tiled:
            profile.update(tiled=True, blockxsize=GEOTIFF_TILE, blockysize=GEOTIFF_TILE)
    with atomic_path(path) as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        if colormap is not None and driver == "GTiff":
            profile["photometric"] = "palette"
        with rasterio.open(tmp, "w", **profile) as dst:
            if colormap is not None:
                dst.write_colormap(1, colormap)
            step = GEOTIFF_TILE if tiled else height
            for r0 in range(0, height, max(step, 1)):
                rows = array[r0:r0 + step]
                dst.write(np.moveaxis(rows, -1, 0),
                          window=Window(0, r0, width, rows.shape[0]))
            factors = overview_factors(height, width) if overviews and driver == "GTiff" else []
            if factors:
                dst.build_overviews(factors, Resampling[overviews])
                dst.update_tags(ns="rio_overview", resampling=overviews)
        for side_file in tmp.parent.glob(tmp.name + ".aux.xml"):
            side_file.unlink()
    return path


def overview_factors(height: int, width: int, smallest: int = 256) -> list[int]:
    """Overview decimation factors 2, 4, 8, ... while the overview is at least ``smallest`` px.

    Parameters
    ----------
    height, width : int
        Raster size in pixels.
    smallest : int
        Smallest overview edge (the longer side) in pixels.

    Returns
    -------
    list of int
        Empty for rasters of under ``2 * smallest`` px a side.
    """
    factors = []
    factor = 2
    while max(height, width) // factor >= smallest:
        factors.append(factor)
        factor *= 2
    return factors


def class_raster_path(out_dir: str | os.PathLike, stem: str, georeferenced: bool) -> Path:
    """``<out_dir>/<stem>_classified.tif`` (georeferenced input) or ``.png`` (plain input)."""
    return Path(out_dir) / f"{stem}_classified{'.tif' if georeferenced else '.png'}"


def write_class_raster(path: str | os.PathLike, classes: np.ndarray, scheme: ClassScheme,
                       reference: Raster | None = None) -> Path:
    """Write a uint8 class raster with the scheme's palette as a colour table.

    A GeoTIFF declares nodata 0: unclassified pixels and no-data of the image (DESIGN 7). It
    is tiled, written block row by block row, and carries nearest-neighbour overviews (every
    overview pixel a class), so that a whole granule opens fast in QGIS (:func:`write_raster`).

    Parameters
    ----------
    path : path-like
        Target; use :func:`class_raster_path` to choose ``.tif`` or ``.png``.
    classes : numpy.ndarray
        Shape (H, W), values 0 (unclassified), 1..n (classes), n + 1 (front).
    scheme : ClassScheme
        Gives the colour table.
    reference : Raster, optional
        The input image; its CRS and transform are copied (GeoTIFF only).
    """
    if classes.ndim != 2:
        raise RasterError(f"a class raster must be 2-D (H, W), got shape {classes.shape}.")
    if classes.size and int(classes.max()) > scheme.front_value:
        raise RasterError(f"class raster holds value {int(classes.max())}, above the front "
                          f"value {scheme.front_value} of the {scheme.name!r} scheme.")
    palette = scheme.palette_rgb()
    colormap = {i: (*map(int, rgb), 255) for i, rgb in enumerate(palette)}
    crs = transform = None
    if reference is not None and reference.is_georeferenced and Path(path).suffix.lower() != ".png":
        crs, transform = reference.crs, reference.transform
    geotiff = Path(path).suffix.lower() != ".png"
    return write_raster(path, classes.astype(np.uint8, copy=False), crs=crs,
                        transform=transform, colormap=colormap, nodata=0 if geotiff else None,
                        overviews="nearest" if geotiff else None)

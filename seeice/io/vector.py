"""The calving front as a vector line in a GeoPackage, for GIS use (QGIS, ArcGIS, GDAL).

The front raster (one to a few pixels wide, from :func:`seeice.fronts.detection.detect_front`) becomes
a polyline through the centres of its pixels, in the image's coordinate reference system,
written to a GeoPackage layer ``calving_front`` (one feature) with pyogrio.

Ordering the pixels along the front: the front is thinned to a one-pixel-wide skeleton
(:func:`skimage.morphology.skeletonize`); the skeleton pixels form a graph whose edges join
8-neighbours (length 1 or sqrt 2). In each connected piece the line is the longest shortest
path (the graph's diameter, found by two Dijkstra searches: from any pixel to the farthest
one A, then from A to the farthest one B, and the path A-B). This follows the front from one
end to the other whatever its shape; small side branches that thinning can leave are
dropped, and a closed loop is cut at its farthest point pair. Tracing contours of the mask
(``find_contours``) instead would give a line that runs along one side of the front and back
along the other. Pieces of one pixel are dropped; several pieces give a MultiLineString.

Non-georeferenced images have no coordinate system to write: :func:`write_front_gpkg` logs
that and returns None.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import numpy as np
import shapely
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components, dijkstra
from skimage.morphology import skeletonize

from seeice.errors import FrontNotFoundError, RasterError

log = logging.getLogger(__name__)

LAYER = "calving_front"
_NEIGHBOURS = ((0, 1, 1.0), (1, 0, 1.0), (1, 1, np.sqrt(2.0)), (1, -1, np.sqrt(2.0)))


def order_front_pixels(front: np.ndarray) -> list[np.ndarray]:
    """The front's pixels in order along the line, one array per connected piece.

    Parameters
    ----------
    front : numpy.ndarray
        (H, W) bool front mask.

    Returns
    -------
    list of numpy.ndarray
        Each (n, 2) int (row, col), n >= 2, from one end of the piece to the other; longest
        piece first.
    """
    front = np.asarray(front, dtype=bool)
    if front.ndim != 2:
        raise RasterError(f"a front mask must be 2-D (H, W), got shape {front.shape}.")
    skeleton = skeletonize(front)
    rows, cols = np.nonzero(skeleton)
    n = rows.size
    if n < 2:
        return []
    index = np.full(skeleton.shape, -1, dtype=np.int64)
    index[rows, cols] = np.arange(n)
    h, w = skeleton.shape
    src, dst, weight = [], [], []
    for dr, dc, length in _NEIGHBOURS:
        r2, c2 = rows + dr, cols + dc
        inside = (r2 >= 0) & (r2 < h) & (c2 >= 0) & (c2 < w)
        j = np.full(n, -1, dtype=np.int64)
        j[inside] = index[r2[inside], c2[inside]]
        linked = j >= 0
        src.append(np.nonzero(linked)[0])
        dst.append(j[linked])
        weight.append(np.full(int(linked.sum()), length))
    graph = coo_matrix((np.concatenate(weight), (np.concatenate(src), np.concatenate(dst))),
                       shape=(n, n)).tocsr()
    n_pieces, piece = connected_components(graph, directed=False)
    paths = []
    for p in range(n_pieces):
        members = np.nonzero(piece == p)[0]
        if members.size < 2:
            continue
        first = dijkstra(graph, directed=False, indices=int(members[0]))
        a = int(members[np.argmax(first[members])])
        dist, pred = dijkstra(graph, directed=False, indices=a, return_predecessors=True)
        b = int(members[np.argmax(dist[members])])
        chain = [b]
        while chain[-1] != a:
            chain.append(int(pred[chain[-1]]))
        chain = np.asarray(chain[::-1])
        paths.append(np.column_stack([rows[chain], cols[chain]]))
    paths.sort(key=len, reverse=True)
    return paths


def pixel_centres(rows: np.ndarray, cols: np.ndarray, transform) -> tuple[np.ndarray, np.ndarray]:
    """CRS coordinates (x, y) of pixel centres: ``transform * (col + 0.5, row + 0.5)``."""
    t = transform
    c = np.asarray(cols, dtype=np.float64) + 0.5
    r = np.asarray(rows, dtype=np.float64) + 0.5
    return t.a * c + t.b * r + t.c, t.d * c + t.e * r + t.f


def front_geometry(front: np.ndarray, transform):
    """The front as a shapely LineString (one piece) or MultiLineString, in CRS coordinates.

    Returns None when the front has fewer than two pixels in any piece.
    """
    lines = []
    for path in order_front_pixels(front):
        x, y = pixel_centres(path[:, 0], path[:, 1], transform)
        lines.append(shapely.LineString(np.column_stack([x, y])))
    if not lines:
        return None
    return lines[0] if len(lines) == 1 else shapely.MultiLineString(lines)


def write_front_gpkg(path: str | os.PathLike, front: np.ndarray, crs, transform,
                     attributes: dict | None = None, out_crs=None,
                     geojson_path: str | os.PathLike | None = None) -> Path | None:
    """Write the front as a line to a GeoPackage (layer ``calving_front``), atomically.

    Parameters
    ----------
    path : path-like
        Target ``.gpkg``; an existing file is replaced.
    front : numpy.ndarray
        (H, W) bool front mask.
    crs : rasterio.crs.CRS, str or None
        The image's coordinate system (anything :meth:`rasterio.crs.CRS.from_user_input`
        takes). None (a plain image): nothing is written, a log line says so, and None is
        returned.
    transform : affine.Affine
        The image's pixel-to-CRS transform.
    attributes : dict, optional
        Extra fields of the feature, ``{name: str | int | float | None}`` (for example the
        image name and the terminus-schema fields of :mod:`seeice.io.front_schema`). The
        fields ``n_pixels`` (front pixels), ``length`` (line length in the output CRS's
        units, metres), ``Center_X``, ``Center_Y`` (the line's centroid in the output CRS),
        ``Latitude`` and ``Longitude`` (that centroid in WGS84) are always written.
    out_crs : rasterio.crs.CRS, optional
        Write the line in this CRS (a projected CRS in metres; see
        :func:`seeice.io.front_schema.check_front_crs`); default the image's.
    geojson_path : path-like, optional
        Also write the feature as GeoJSON in WGS84 (RFC 7946), same fields.

    Returns
    -------
    pathlib.Path or None
        ``path``, or None when the image is not georeferenced.

    Raises
    ------
    FrontNotFoundError
        The front has no piece of two or more pixels.
    """
    from seeice.io.front_schema import centroid_fields
    from seeice.io.vector_layers import reproject_geometry, write_line_features

    if crs is None:
        log.info("front line not written to %s: the image is not georeferenced.", path)
        return None
    geometry = front_geometry(front, transform)
    if geometry is None:
        raise FrontNotFoundError("the front mask has no line of two or more pixels; no "
                                 "front line to write.")
    from rasterio.crs import CRS

    crs = CRS.from_user_input(crs) if not hasattr(crs, "to_wkt") else crs
    target = out_crs or crs
    geometry = reproject_geometry(geometry, crs, target)
    fields = {"n_pixels": int(np.count_nonzero(front)), "length": float(geometry.length)}
    fields.update(attributes or {})
    fields.update(centroid_fields(geometry, target))
    path = Path(path)
    write_line_features(path, [geometry], [fields], target, LAYER, geojson_path=geojson_path)
    log.info("front line written: %s (%s, %.0f CRS units)", path, geometry.geom_type,
             geometry.length)
    return path

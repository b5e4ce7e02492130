"""Terminus position of a dated front: the box and the centreline methods (DESIGN section 8).

Both methods measure where a calving front lies along the glacier's flow, in metres, from
a front line (shapely, in the image's projected CRS) and the date's class raster:

* **Box method** (Moon and Joughin 2008): a box (a polygon, drawn across the front zone,
  its sides along the fjord) is cut by the front; the glacier area inside the box on the
  glacier side of the front, divided by the box's mean width across the flow (its area over
  its length along the flow), is the glacier's length in the box. Its change between dates
  is the mean front change across the box's width, advances and retreats alike. The flow
  axis and the box's glacier end are read from the class rasters: of the box's four sides
  (its oriented envelope), the glacier end is the one whose strip inside the box holds most
  glacier and least ocean over all dates, the flow runs from it to the opposite side. A
  front that ends short of the box's sides (trimmed at no-data, or hidden) is extended
  across the flow from its ends; the share of the width it covers is reported.
* **Centreline method**: the distance along a centreline, from its ocean end, to its
  crossing with the front. With several crossings the most seaward (the smallest distance)
  is taken and the date flagged. A centreline must be drawn ocean end first;
  :func:`orient_centreline` checks that on the class rasters and turns a reversed one round,
  saying so.

Positions are signed so that an advance is positive: the box length grows with an advance,
the centreline distance from the ocean end shrinks (its position is its negative). The time
series reports them relative to the first date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import shapely
from rasterio.features import geometry_mask
from scipy import ndimage as ndi
from shapely import affinity, ops

from seeice.classes import ClassScheme
from seeice.errors import DataError
from seeice.fronts.morphology import grown_box

log = logging.getLogger(__name__)

#: Share of a box side's depth (along the flow) taken as the strip that decides its end.
END_STRIP = 0.2
#: Crossings closer than this many pixels count as one.
SAME_CROSSING_PX = 1.5


@dataclass(frozen=True)
class BoxFrame:
    """A box with its flow axis: local coordinates ``s`` along the flow (0 at the glacier
    end, growing seawards) and ``t`` across it.

    Attributes
    ----------
    box : shapely.Polygon
        The box in CRS coordinates.
    origin : tuple of float
        CRS point of ``s = 0, t = 0``.
    flow : tuple of float
        Unit vector of the flow (glacier end to ocean end), CRS axes.
    length : float
        The box's extent along the flow, metres.
    width : float
        Its mean width across the flow: area / length, metres.
    """

    box: shapely.Polygon
    origin: tuple[float, float]
    flow: tuple[float, float]
    length: float
    width: float

    def to_local(self, geometry):
        """``geometry`` in (s, t) coordinates."""
        (ux, uy), (x0, y0) = self.flow, self.origin
        # s = (p - o) . u,  t = (p - o) . (-uy, ux)
        return affinity.affine_transform(
            geometry, [ux, uy, -uy, ux, -(x0 * ux + y0 * uy), x0 * uy - y0 * ux])


def _pixels_inside(geometry, shape: tuple[int, int], transform) -> np.ndarray:
    """(H, W) bool: pixels whose centre lies inside ``geometry``."""
    if geometry.is_empty:
        return np.zeros(shape, bool)
    return geometry_mask([geometry], out_shape=shape, transform=transform, invert=True)


def box_frame(box, class_rasters: list[np.ndarray], transform, scheme: ClassScheme) -> BoxFrame:
    """Flow axis and glacier end of a box, read from the class rasters (module notes).

    Parameters
    ----------
    box : shapely.Polygon
        The box, in the rasters' CRS.
    class_rasters : list of numpy.ndarray
        (H, W) class rasters of the dates (0: no data), one grid.
    transform : affine.Affine
        The rasters' transform.
    scheme : ClassScheme
        Names the ocean and glacier classes.

    Raises
    ------
    DataError
        The box covers no pixel of the rasters, or no side of it is more glacier than ocean
        (the box does not lie across a glacier front).
    """
    box = shapely.make_valid(box)
    if box.geom_type != "Polygon" or box.area <= 0:
        raise DataError(f"the box must be one polygon of positive area, got a {box.geom_type}.")
    shape = class_rasters[0].shape
    if not _pixels_inside(box, shape, transform).any():
        raise DataError("the box covers no pixel of the images: draw it over the front zone, "
                        "in the images' coordinate system.")
    envelope = shapely.oriented_envelope(box)
    corners = np.asarray(envelope.exterior.coords)[:4]
    glacier_values = [scheme.glacier, scheme.front_value]
    scores = []
    for i in range(4):
        a, b = corners[i], corners[(i + 1) % 4]
        opposite = corners[(i + 2) % 4]
        edge = shapely.LineString([a, b])
        depth = edge.distance(shapely.Point(opposite))
        strip = _pixels_inside(box.intersection(edge.buffer(END_STRIP * depth)), shape, transform)
        glacier = ocean = total = 0
        for classes in class_rasters:
            values = classes[strip]
            glacier += int(np.isin(values, glacier_values).sum())
            ocean += int(np.isin(values, scheme.ocean).sum())
            total += int((values != 0).sum())
        scores.append((glacier - ocean) / total if total else 0.0)
    end = int(np.argmax(scores))
    if scores[end] <= 0 or scores[(end + 2) % 4] >= scores[end]:
        raise DataError("no side of the box is more glacier than ocean in the class rasters: "
                        "the box does not lie across the glacier's front. Draw it with one end "
                        "on the glacier and the other in the fjord's water.")
    a, b = corners[end], corners[(end + 1) % 4]
    edge = shapely.LineString([a, b])
    inward = np.asarray(envelope.centroid.coords[0]) - np.asarray(edge.interpolate(0.5, normalized=True).coords[0])
    along = (b - a) / np.linalg.norm(b - a)
    normal = np.array([-along[1], along[0]])
    flow = normal if normal @ inward > 0 else -normal
    projection = np.asarray(box.exterior.coords) @ flow
    start = projection.min()
    origin = tuple(a + (start - a @ flow) * flow)
    length = float(projection.max() - start)
    return BoxFrame(box=box, origin=(float(origin[0]), float(origin[1])),
                    flow=(float(flow[0]), float(flow[1])), length=length,
                    width=float(box.area / length))


@dataclass(frozen=True)
class BoxPosition:
    """The box method on one date.

    Attributes
    ----------
    length_m : float
        Glacier area in the box on the glacier side of the front / the box's width, metres
        (NaN without a front in the box).
    front_cover : float
        Share (0..1) of the box's width the front spans before it is extended.
    pieces : int
        Front pieces inside the box (1 expected; the longest is used).
    """

    length_m: float
    front_cover: float
    pieces: int


def _longest_line(geometry):
    lines = [g for g in shapely.get_parts(geometry) if g.geom_type == "LineString"
             and g.length > 0]
    return (max(lines, key=lambda g: g.length) if lines else None), len(lines)


def box_position(front, frame: BoxFrame) -> BoxPosition:
    """The glacier's length in the box on one date (module notes).

    Parameters
    ----------
    front : shapely geometry or None
        The front line (LineString or MultiLineString) in the box's CRS.
    frame : BoxFrame
        From :func:`box_frame`.

    Returns
    -------
    BoxPosition
        NaN length when the front does not enter the box.
    """
    if front is None or front.is_empty:
        return BoxPosition(float("nan"), 0.0, 0)
    box = frame.to_local(frame.box)
    local = frame.to_local(front)
    inside = shapely.line_merge(local.intersection(box)) if local.intersects(box) else None
    line, pieces = _longest_line(inside) if inside is not None else (None, 0)
    if line is None:
        return BoxPosition(float("nan"), 0.0, 0)
    # The piece of the whole front that holds the longest part inside the box, extended
    # across the flow from both ends, cuts the box in two.
    whole, _ = _longest_line(shapely.line_merge(local))
    for part in shapely.get_parts(local):
        if part.intersects(line):
            whole = part
            break
    coords = np.asarray(whole.coords)
    if coords[0, 1] > coords[-1, 1]:
        coords = coords[::-1]
    minx, miny, maxx, maxy = box.bounds
    reach = 2.0 * (maxx - minx + maxy - miny)
    cutter = shapely.LineString(np.vstack([[coords[0, 0], miny - reach], coords,
                                           [coords[-1, 0], maxy + reach]]))
    t = np.asarray(line.coords)[:, 1]
    cover = float(min(1.0, (t.max() - t.min()) / frame.width))
    glacier_area = 0.0
    for piece in shapely.get_parts(ops.split(box, cutter)):
        point = piece.representative_point()
        ray = shapely.LineString([(point.x, point.y), (minx - reach, point.y)])
        hits = ray.intersection(cutter)
        crossings = 0 if hits.is_empty else len(shapely.get_parts(hits))
        if crossings % 2 == 0:  # even: upstream of the front
            glacier_area += piece.area
    return BoxPosition(glacier_area / frame.width, cover, pieces)


def _ocean_share_at_ends(line, class_rasters, transform, scheme: ClassScheme
                         ) -> tuple[float, float]:
    """Ocean minus glacier share of the classes sampled on the first and last fifth of the
    part of ``line`` over classified pixels (all dates pooled)."""
    step = abs(transform.a)
    points = [line.interpolate(d) for d in np.arange(0.0, line.length + step / 2, step / 2)]
    xy = np.array([(p.x, p.y) for p in points])
    cols, rows = ~transform @ (xy[:, 0], xy[:, 1])
    rows, cols = np.floor(rows).astype(int), np.floor(cols).astype(int)
    h, w = class_rasters[0].shape
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    rows, cols = rows[inside], cols[inside]
    glacier_values = [scheme.glacier, scheme.front_value]
    ends = []
    samples = np.stack([c[rows, cols] for c in class_rasters])      # (dates, n)
    valid = (samples != 0).any(axis=0)
    index = np.nonzero(valid)[0]
    if index.size < 5:
        return 0.0, 0.0
    fifth = max(1, index.size // 5)
    for part in (index[:fifth], index[-fifth:]):
        values = samples[:, part]
        n = max(1, int((values != 0).sum()))
        ends.append((np.isin(values, scheme.ocean).sum()
                     - np.isin(values, glacier_values).sum()) / n)
    return float(ends[0]), float(ends[1])


def orient_centreline(centreline, class_rasters: list[np.ndarray], transform,
                      scheme: ClassScheme):
    """The centreline with its ocean end first; a reversed one is turned round, saying so.

    Parameters
    ----------
    centreline : shapely.LineString
        In the rasters' CRS.
    class_rasters, transform, scheme
        As :func:`box_frame`.

    Returns
    -------
    shapely.LineString, str
        The centreline, ocean end first, and a note ('' when it was drawn so; otherwise what
        was done).

    Raises
    ------
    DataError
        The centreline does not cross the images.
    """
    if centreline.geom_type != "LineString" or centreline.length <= 0:
        raise DataError(f"the centreline must be one line of positive length, got a "
                        f"{centreline.geom_type}.")
    first, last = _ocean_share_at_ends(centreline, class_rasters, transform, scheme)
    if first == 0.0 and last == 0.0:
        raise DataError("the centreline does not cross the classified part of the images: "
                        "draw it along the fjord, in the images' coordinate system.")
    if last > first:
        note = ("the centreline was drawn from the glacier to the ocean; it is measured from "
                "its other end (the ocean end), as the method needs")
        log.warning("%s.", note[0].upper() + note[1:])
        return shapely.LineString(np.asarray(centreline.coords)[::-1]), note
    return centreline, ""


@dataclass(frozen=True)
class CentrelinePosition:
    """The centreline method on one date.

    Attributes
    ----------
    distance_m : float
        Distance along the centreline from its ocean end to the most seaward crossing with
        the front (NaN without a crossing).
    crossings : int
        Distinct crossings of the front and the centreline.
    """

    distance_m: float
    crossings: int


def centreline_position(front, centreline, pixel_size: float) -> CentrelinePosition:
    """Distance along the centreline (ocean end first) to its most seaward crossing of the front."""
    if front is None or front.is_empty or not centreline.intersects(front):
        return CentrelinePosition(float("nan"), 0)
    crossing = centreline.intersection(front)
    points = shapely.get_coordinates(crossing)
    distances = np.sort([centreline.project(shapely.Point(p)) for p in points])
    distinct = 1 + int(np.count_nonzero(np.diff(distances) > SAME_CROSSING_PX * pixel_size))
    return CentrelinePosition(float(distances[0]), distinct)


def nodata_share(region, nodata: np.ndarray, transform) -> float:
    """Share (0..1) of the pixels inside ``region`` that are no-data (NaN when none inside)."""
    inside = _pixels_inside(region, nodata.shape, transform)
    n = int(inside.sum())
    return float(nodata[inside].sum() / n) if n else float("nan")


def front_touches_nodata(front_mask: np.ndarray, nodata: np.ndarray, reach_px: float) -> bool:
    """Whether a front pixel lies within ``reach_px`` pixels of no-data (DESIGN 10.3)."""
    if front_mask is None or not front_mask.any() or not nodata.any():
        return False
    # Everything within reach_px of a front pixel lies in the front's box grown by that
    # reach: distances are computed on the box, not on a whole granule.
    box = grown_box(front_mask, int(np.ceil(reach_px)) + 1)
    if not nodata[box].any():
        return False
    distance = ndi.distance_transform_edt(~nodata[box])
    return bool(distance[front_mask[box]].min() <= reach_px)


def nodata_near_front(front_mask: np.ndarray, nodata: np.ndarray, reach_px: float) -> float:
    """Share (0..1) of the pixels within ``reach_px`` pixels of the front that are no-data
    (masked cloud included): how much of the front zone an image could not see."""
    if front_mask is None or not front_mask.any():
        return float("nan")
    box = grown_box(front_mask, int(np.ceil(reach_px)) + 1)
    zone = ndi.distance_transform_edt(~front_mask[box]) <= reach_px
    return float(nodata[box][zone].mean())

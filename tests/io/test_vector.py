"""Tests of seeice.io.vector: the calving front as a GeoPackage line."""

from __future__ import annotations

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from rasterio.crs import CRS
from rasterio.transform import Affine

from front_helpers import fjord_scene
from seeice.classes import GLACIER_SCHEME
from seeice.errors import FrontNotFoundError
from seeice.fronts.detection import detect_front
from seeice.io.vector import LAYER, order_front_pixels, write_front_gpkg

TRANSFORM = Affine(10.0, 0.0, 500_000.0, 0.0, -10.0, 7_400_000.0)
CRS_UTM = CRS.from_epsg(32624)


@pytest.fixture(scope="module")
def front():
    classes, _ = fjord_scene()
    return detect_front(classes, GLACIER_SCHEME).front


def _read(path):
    meta, _, geometry, fields = pyogrio.raw.read(path, layer=LAYER)
    return meta, shapely.from_wkb(geometry[0]), dict(zip(meta["fields"], fields))


def test_gpkg_reads_back_on_the_raster_front(tmp_path, front):
    path = write_front_gpkg(tmp_path / "img_front.gpkg", front, CRS_UTM, TRANSFORM,
                            attributes={"image": "img"})
    assert path == tmp_path / "img_front.gpkg" and path.is_file()
    info = pyogrio.read_info(path, layer=LAYER)
    assert info["crs"] == "EPSG:32624"
    assert info["features"] == 1 and info["geometry_type"] == "LineString"
    _, line, fields = _read(path)
    assert fields["image"][0] == "img" and fields["n_pixels"][0] == front.sum()
    assert fields["length"][0] == pytest.approx(line.length)
    xy = shapely.get_coordinates(line)
    assert len(xy) > 0.8 * front.sum()
    # back to pixel coordinates: every vertex within one pixel of a front pixel centre
    inv = ~TRANSFORM
    cols = inv.a * xy[:, 0] + inv.b * xy[:, 1] + inv.c
    rows = inv.d * xy[:, 0] + inv.e * xy[:, 1] + inv.f
    vertices = np.column_stack([rows - 0.5, cols - 0.5])
    centres = np.argwhere(front).astype(float)
    nearest = np.sqrt(((vertices[:, None, :] - centres[None]) ** 2).sum(-1)).min(axis=1)
    assert nearest.max() <= 1.0
    # consecutive vertices are neighbouring pixels: the line follows the front in order
    steps = np.hypot(*np.diff(xy, axis=0).T)
    assert steps.max() <= 10 * np.sqrt(2) + 1e-6
    # and it spans the fjord (rows 100..300 at 10 m)
    assert np.ptp(xy[:, 1]) > 1500
    # no temporary files left
    assert [p.name for p in tmp_path.iterdir()] == ["img_front.gpkg"]


def test_existing_file_is_replaced(tmp_path, front):
    path = tmp_path / "f.gpkg"
    path.write_text("old")
    write_front_gpkg(path, front, "EPSG:32624", TRANSFORM)
    assert pyogrio.read_info(path, layer=LAYER)["features"] == 1


def test_not_georeferenced_is_skipped(tmp_path, front, caplog):
    caplog.set_level("INFO")
    assert write_front_gpkg(tmp_path / "f.gpkg", front, None, Affine.identity()) is None
    assert not any(tmp_path.iterdir())
    assert "not georeferenced" in caplog.text


def test_empty_front(tmp_path):
    with pytest.raises(FrontNotFoundError):
        write_front_gpkg(tmp_path / "f.gpkg", np.zeros((20, 20), bool), CRS_UTM, TRANSFORM)


def test_two_pieces_make_a_multilinestring(tmp_path):
    mask = np.zeros((60, 60), bool)
    mask[10, 5:50] = True
    mask[40:55, 30] = True
    path = write_front_gpkg(tmp_path / "f.gpkg", mask, CRS_UTM, TRANSFORM)
    _, geometry, _ = _read(path)
    assert geometry.geom_type == "MultiLineString"
    assert [len(g.coords) for g in geometry.geoms] == [45, 15]


def test_ordering_follows_a_curve_and_drops_spurs():
    mask = np.zeros((80, 80), bool)
    t = np.linspace(0, np.pi, 400)
    mask[np.rint(40 - 30 * np.sin(t)).astype(int), np.rint(40 - 30 * np.cos(t)).astype(int)] = True
    mask[5:10, 40] = True                  # a short spur off the arc's top
    mask |= np.roll(mask, 1, axis=1)       # two pixels thick, as after a closing
    paths = order_front_pixels(mask)
    assert len(paths) == 1
    path = paths[0]
    steps = np.abs(np.diff(path, axis=0))
    assert steps.max() <= 1                # 8-neighbours, in order
    ends = {tuple(path[0]), tuple(path[-1])}
    # the ends are the arc's ends (rows near 40 at both sides), not the spur
    assert all(r >= 36 for r, _ in ends)
    assert {c < 20 for _, c in ends} == {True, False}

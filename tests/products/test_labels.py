"""Class, front and margin rasters from vector files: known answers on a small grid."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform

from seeice.classes import GLACIER_SCHEME
from seeice.errors import ConfigError, DataError
from seeice.products.labels import rasterise_labels

from product_helpers import write_vector

X0, Y0 = 500000.0, 7400000.0
UTM = "EPSG:32624"


@pytest.fixture()
def image(tmp_path):
    """A 20 x 30 pixel, 10 m image in UTM 24N."""
    path = tmp_path / "S2B_20220815_T24WWU.tif"
    with rasterio.open(path, "w", driver="GTiff", width=30, height=20, count=4, dtype="uint16",
                       crs=UTM, transform=Affine(10, 0, X0, 0, -10, Y0), nodata=0) as dst:
        dst.write(np.full((4, 20, 30), 500, np.uint16))
    return path


def _box(c0, r0, c1, r1):
    """Polygon over pixel columns c0..c1 and rows r0..r1 (edges on pixel edges)."""
    return shapely.box(X0 + 10 * c0, Y0 - 10 * r1, X0 + 10 * c1, Y0 - 10 * r0)


def _read(path):
    with rasterio.open(path) as src:
        return src.read(1), src.nodata, src.transform, src.crs


def test_classes_by_number_and_name_later_features_win(tmp_path, image):
    polygons = write_vector(tmp_path / "classes.gpkg",
                            [_box(0, 0, 10, 20), _box(10, 0, 30, 10), _box(5, 5, 15, 15)], UTM,
                            {"class": ["1", "Glacier Ice", "rock"]})
    written = rasterise_labels(image, GLACIER_SCHEME, classes=polygons)
    labels, nodata, transform, crs = _read(written["classes"])
    assert written["classes"].name == "SCLS_S2B_20220815_T24WWU.tif"
    assert nodata == 0 and crs == UTM and transform == Affine(10, 0, X0, 0, -10, Y0)
    expected = np.zeros((20, 30), np.uint8)
    expected[:, 0:10] = 1
    expected[0:10, 10:30] = 4
    expected[5:15, 5:15] = 7    # the last feature, overlapping both, wins
    np.testing.assert_array_equal(labels, expected)


def test_lines_touch_every_pixel_and_lonlat_vectors_are_reprojected(tmp_path, image):
    # A horizontal front along row 12 (through pixel centres), given in lon/lat.
    xs = [X0 + 5, X0 + 295]
    ys = [Y0 - 125, Y0 - 125]
    lon, lat = warp_transform(UTM, "EPSG:4326", xs, ys)
    front = write_vector(tmp_path / "front.geojson",
                         [shapely.LineString(list(zip(lon, lat)))], "EPSG:4326")
    margin = write_vector(tmp_path / "margins.gpkg",
                          [shapely.LineString([(X0 + 35, Y0 - 5), (X0 + 35, Y0 - 195)])], UTM)
    written = rasterise_labels(image, GLACIER_SCHEME, front=front, margins=margin)
    edge, nodata, _, _ = _read(written["front"])
    vm, _, _, _ = _read(written["margins"])
    assert nodata is None   # 0 on a line raster is "not on the line", a value
    assert edge[12].sum() == 30 and edge.sum() <= 32   # the whole row, a pixel or two beside
    expected_vm = np.zeros((20, 30), np.uint8)
    expected_vm[:, 3] = 1
    np.testing.assert_array_equal(vm, expected_vm)
    assert written["front"].name == "EDGE_S2B_20220815_T24WWU.tif"
    assert written["margins"].name == "VM_S2B_20220815_T24WWU.tif"


def test_features_outside_are_counted(tmp_path, image, caplog):
    polygons = write_vector(tmp_path / "c.gpkg", [_box(0, 0, 5, 5), _box(100, 0, 110, 5),
                                                  _box(200, 0, 210, 5)], UTM,
                            {"class": [4, 4, 4]})
    with caplog.at_level("WARNING"):
        rasterise_labels(image, GLACIER_SCHEME, classes=polygons)
    assert "2 of 3 feature(s) lie outside the image" in caplog.text


def test_missing_field_lists_the_fields(tmp_path, image):
    polygons = write_vector(tmp_path / "c.gpkg", [_box(0, 0, 5, 5)], UTM,
                            {"surface": ["rock"], "note": ["x"]})
    with pytest.raises(ConfigError, match=r"no field 'class'; its fields are: surface, note.*--field"):
        rasterise_labels(image, GLACIER_SCHEME, classes=polygons)
    written = rasterise_labels(image, GLACIER_SCHEME, classes=polygons, field="surface")
    assert _read(written["classes"])[0][0, 0] == 7


def test_unknown_class_name_lists_the_names_and_nothing_is_written(tmp_path, image):
    polygons = write_vector(tmp_path / "c.gpkg", [_box(0, 0, 5, 5), _box(5, 0, 9, 5)], UTM,
                            {"class": ["rock", "glacier"]})
    with pytest.raises(ConfigError, match="'glacier'.*Valid names.*glacier ice.*snow on rock"):
        rasterise_labels(image, GLACIER_SCHEME, classes=polygons)
    assert not (tmp_path / f"SCLS_{image.stem}.tif").exists()


def test_no_feature_on_the_image(tmp_path, image):
    polygons = write_vector(tmp_path / "c.gpkg", [_box(300, 0, 310, 5)], UTM, {"class": [1]})
    with pytest.raises(DataError, match="no feature"):
        rasterise_labels(image, GLACIER_SCHEME, classes=polygons)

"""Raster I/O: round trips, companions, class GeoTIFFs, atomic writes, bad input."""

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from seeice.io import raster as raster_io
from seeice.io.atomic import atomic_path, write_json
from seeice.classes import GLACIER_SCHEME, load_scheme
from seeice.errors import InputFileError, RasterError

UTM = CRS.from_epsg(32624)
TRANSFORM = from_origin(500_000.0, 7_700_000.0, 10.0, 10.0)


def _write_geotiff(path, data, crs=UTM, transform=TRANSFORM):
    raster_io.write_raster(path, data, crs=crs, transform=transform)
    return path


def test_geotiff_round_trip_keeps_crs_transform_dtype_and_band_order(tmp_path):
    data = np.stack([np.full((6, 8), band * 1000 + 7, np.uint16) for band in range(4)], axis=-1)
    data[2, 3] = [1, 2, 3, 4]
    path = _write_geotiff(tmp_path / "scene.tif", data)

    raster = raster_io.read_image(path)

    assert raster.data.shape == (6, 8, 4)
    assert raster.data.dtype == np.uint16
    np.testing.assert_array_equal(raster.data, data)
    assert raster.crs == UTM
    assert raster.transform == TRANSFORM
    assert raster.pixel_size == 10.0
    assert raster.is_georeferenced


def test_read_image_keeps_first_bands_and_rejects_too_few(tmp_path):
    data = np.arange(5 * 4 * 3, dtype=np.uint16).reshape(5, 4, 3)
    path = _write_geotiff(tmp_path / "rgb.tif", data)
    np.testing.assert_array_equal(raster_io.read_image(path, bands=2).data, data[..., :2])
    with pytest.raises(RasterError, match=r"3 band\(s\) but 4 were asked.*--bands 3"):
        raster_io.read_image(path, bands=4)


def test_plain_png_has_no_georeferencing(tmp_path):
    data = np.random.default_rng(0).integers(0, 255, (9, 7, 3), dtype=np.uint8)
    path = tmp_path / "photo.png"
    raster_io.write_raster(path, data)
    raster = raster_io.read_image(path)
    np.testing.assert_array_equal(raster.data, data)
    assert not raster.is_georeferenced
    assert raster.pixel_size is None


def test_float_class_raster_is_read_as_integer_labels(tmp_path):
    labels = np.array([[0.0, 1.0, 2.0], [3.0, 4.9999, 7.0]])
    path = _write_geotiff(tmp_path / "SCLS_x.tif", labels)
    out = raster_io.read_labels(path)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(out, [[0, 1, 2], [3, 5, 7]])


def test_class_raster_of_another_size_is_an_error_or_resized(tmp_path):
    path = _write_geotiff(tmp_path / "SCLS_x.tif", np.ones((4, 4), np.uint8))
    with pytest.raises(RasterError, match="size differs; SCLS_x.tif: 4 x 4 px.*its image: 8 x 8 px"):
        raster_io.read_labels(path, shape=(8, 8))
    resized = raster_io.read_labels(path, shape=(8, 8), resize_to_shape=True)
    assert resized.shape == (8, 8) and set(np.unique(resized)) == {1}


def test_companions_found_and_never_listed_as_inputs(tmp_path):
    for name in ["a.tif", "SCLS_a.tif", "EDGE_a.tif", "VM_a.tif", "b.jpg", "SCLS_b.tif",
                 "notes.txt", ".hidden.tif"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in raster_io.list_images(tmp_path)] == ["a.tif", "b.jpg"]
    found = raster_io.find_companions(tmp_path / "a.tif")
    assert found.classes.name == "SCLS_a.tif"
    assert found.edge.name == "EDGE_a.tif"
    assert found.valley_margin.name == "VM_a.tif"
    other = raster_io.find_companions(tmp_path / "b.jpg")
    assert other.classes.name == "SCLS_b.tif" and other.edge is None and other.valley_margin is None


def test_class_geotiff_carries_colour_table_crs_and_compression(tmp_path):
    classes = np.arange(9, dtype=np.uint8).reshape(3, 3)
    reference = raster_io.Raster(np.zeros((3, 3, 4), np.uint16), UTM, TRANSFORM)
    path = raster_io.write_class_raster(
        raster_io.class_raster_path(tmp_path, "scene", True), classes, GLACIER_SCHEME, reference)
    assert path.name == "scene_classified.tif"
    with rasterio.open(path) as src:
        assert src.crs == UTM and src.transform == TRANSFORM
        assert src.dtypes[0] == "uint8"
        assert src.compression.name.lower() == "lzw"
        colours = src.colormap(1)
        np.testing.assert_array_equal(src.read(1), classes)
    assert colours[0][:3] == (0, 0, 0)
    assert colours[1][:3] == (0x03, 0x71, 0x9C)
    assert colours[5][:3] == (245, 255, 250)  # mintcream
    assert colours[8][:3] == (255, 0, 0)  # calving front


def test_class_png_for_plain_input_keeps_palette(tmp_path):
    scheme = load_scheme("fluvial")
    classes = np.array([[0, 1, 2], [3, 4, 5]], np.uint8)
    path = raster_io.write_class_raster(raster_io.class_raster_path(tmp_path, "photo", False),
                                        classes, scheme)
    with rasterio.open(path) as src:
        assert src.driver == "PNG"
        np.testing.assert_array_equal(src.read(1), classes)
        assert src.colormap(1)[1][:3] == (0x1F, 0x78, 0xB4)


def test_class_values_above_the_front_value_are_refused(tmp_path):
    with pytest.raises(RasterError, match="above the front value 8"):
        raster_io.write_class_raster(tmp_path / "x.tif", np.full((2, 2), 9, np.uint8),
                                     GLACIER_SCHEME)


def test_atomic_write_leaves_no_partial_file_when_the_writer_fails(tmp_path):
    target = tmp_path / "out.json"
    write_json(target, {"kept": 1})
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half written")
            raise RuntimeError("writer crashed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]
    assert target.read_text().strip().endswith("}") and '"kept": 1' in target.read_text()


def test_failed_raster_write_leaves_nothing(tmp_path, monkeypatch):
    def broken_write(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(rasterio.io.DatasetWriter, "write", broken_write)
    with pytest.raises(OSError):
        raster_io.write_raster(tmp_path / "c.tif", np.ones((3, 3), np.uint8))
    assert list(tmp_path.iterdir()) == []


def test_missing_and_unreadable_files_are_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        raster_io.read_image(tmp_path / "nope.tif")
    junk = tmp_path / "junk.tif"
    junk.write_bytes(b"this is not a raster")
    with pytest.raises(RasterError, match="cannot be read as a raster"):
        raster_io.read_image(junk)
    with pytest.raises(InputFileError, match="image folder"):
        raster_io.list_images(tmp_path / "missing_folder")

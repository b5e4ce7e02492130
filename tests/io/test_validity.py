"""The one valid mask: declared nodata, masks, NaN, zeros (Sentinel-2 rule), read with the image."""

import logging

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine

from seeice.errors import ConfigError
from seeice.io.images import pixel_kind, read_scene
from seeice.io.raster import write_raster
from seeice.io.validity import is_sentinel2, near_nodata, valid_mask, window_valid

UTM = {"crs": CRS.from_epsg(32624), "transform": Affine(10, 0, 500000, 0, -10, 7400000)}


def _image(dtype=np.uint16, value=500):
    data = np.full((6, 8, 4), value, dtype=dtype)
    data[0, 0] = 0              # 0 in every band
    data[1, 1, 2] = 0           # 0 in one band
    return data


def test_zero_in_every_band_is_always_no_data_zero_in_one_band_only_for_sentinel2():
    data = _image()
    other = valid_mask(data)
    assert not other[0, 0] and other[1, 1] and other.sum() == 47
    s2 = valid_mask(data, nodata=0, sentinel2=True)
    assert not s2[0, 0] and not s2[1, 1] and s2.sum() == 46


def test_a_dark_8_bit_pixel_is_a_pixel():
    data = _image(np.uint8, 40)
    assert not is_sentinel2(np.uint8, 0)
    assert valid_mask(data, nodata=0)[1, 1]


def test_sentinel2_is_uint16_declaring_nodata_0_or_a_tagged_composite():
    assert is_sentinel2(np.uint16, 0)
    assert not is_sentinel2(np.uint16, None)
    assert not is_sentinel2(np.uint16, 65535)
    assert is_sentinel2(np.float32, None, {"SPACECRAFT": "Sentinel-2B"})
    assert is_sentinel2(np.uint16, None, {"PRODUCT_ID": "S2B_MSIL2A_20200815T143209"})


def test_declared_nodata_nan_and_mask():
    data = np.full((4, 5, 3), 7.0, np.float32)
    data[0, 0] = 9999.0                  # declared nodata in every band
    data[0, 1, 0] = 9999.0               # in one band only: GDAL's dataset mask keeps it
    data[1, 1, 2] = np.nan
    data[2, 2, 0] = np.inf
    mask = np.full((4, 5), 255, np.uint8)
    mask[3, 4] = 0
    valid = valid_mask(data, nodata=9999.0, mask=mask)
    expected = np.ones((4, 5), bool)
    expected[0, 0] = expected[1, 1] = expected[2, 2] = expected[3, 4] = False
    np.testing.assert_array_equal(valid, expected)


def test_windows_touching_no_data():
    valid = np.ones((7, 7), bool)
    valid[3, 3] = False
    inside = window_valid(valid, 3)
    assert not inside[2:5, 2:5].any() and not inside[0].any() and inside[1, 1]
    grown = near_nodata(valid, 3)
    assert grown.sum() == 9 and not grown[0].any()     # the image border is not no-data


def test_read_scene_reads_declared_nodata_and_zeros_it(tmp_path):
    data = _image()
    data[2, 3] = 65535
    path = write_raster(tmp_path / "a.tif", data, nodata=65535, **UTM)
    scene = read_scene(path)
    assert not scene.valid[2, 3] and not scene.valid[0, 0] and scene.valid[1, 1]
    assert (scene.data[2, 3] == 0).all()          # no-data reaches the pipeline as 0
    s2 = read_scene(write_raster(tmp_path / "b.tif", _image(), nodata=0, **UTM))
    assert not s2.valid[1, 1]


def test_read_scene_honours_an_internal_mask(tmp_path):
    path = tmp_path / "masked.tif"
    with rasterio.open(path, "w", driver="GTiff", width=8, height=6, count=4, dtype="uint16",
                       **UTM) as dst:
        dst.write(np.moveaxis(np.full((6, 8, 4), 300, np.uint16), -1, 0))
        mask = np.full((6, 8), 255, np.uint8)
        mask[:, :2] = 0
        dst.write_mask(mask)
    scene = read_scene(path)
    assert not scene.valid[:, :2].any() and scene.valid[:, 2:].all()


def test_nan_in_a_float_image_is_no_data(tmp_path):
    data = np.full((6, 8, 4), 0.3, np.float32)
    data[4, 5, 1] = np.nan
    scene = read_scene(write_raster(tmp_path / "f.tif", data, **UTM), image_scale=1)
    assert scene.data.dtype == np.uint16 and not scene.valid[4, 5]
    assert scene.data[0, 0, 0] == 3000 and (scene.data[4, 5] == 0).all()


def test_dropped_bands_are_named(tmp_path, caplog):
    path = tmp_path / "five.tif"
    with rasterio.open(path, "w", driver="GTiff", width=8, height=6, count=5, dtype="uint16",
                       **UTM) as dst:
        dst.write(np.full((5, 6, 8), 400, np.uint16))
        dst.set_band_description(5, "SWIR")
    with caplog.at_level(logging.WARNING):
        scene = read_scene(path, bands=4)
    assert scene.data.shape == (6, 8, 4)
    assert "band 5 (SWIR) dropped" in caplog.text and "band 4 (NIR)" in caplog.text


def test_float_images_need_a_scale_that_fits(tmp_path):
    reflectance = write_raster(tmp_path / "r.tif", np.full((6, 8, 4), 0.4, np.float32), **UTM)
    with pytest.raises(ConfigError, match="--image-scale 1 for reflectance 0-1"):
        read_scene(reflectance)
    with pytest.raises(ConfigError, match="use --image-scale 1"):
        read_scene(reflectance, image_scale=10000)
    dn = write_raster(tmp_path / "d.tif", np.full((6, 8, 4), 4000.0, np.float32), **UTM)
    with pytest.raises(ConfigError, match="use --image-scale 10000"):
        read_scene(dn, image_scale=1)
    assert (read_scene(dn, image_scale=10000).data == 4000).all()


def test_pixel_kinds():
    assert [pixel_kind(t) for t in (np.uint8, np.uint16, np.int16, np.float32)] == \
        ["8-bit", "16-bit", "16-bit", "float"]


def test_a_composite_of_a_product_with_cloud_reads_with_its_cloud_as_no_data(tmp_path):
    """From a Sentinel-2 product to the pipeline's valid mask: the masked cloud and any 0 band
    are no-data, the rest valid."""
    from seeice.datasets.sentinel2_product import write_product
    from seeice.datasets.synthetic import make_scene
    from seeice.products.composite import make_composites

    scene = make_scene(0, 100)
    product = write_product(scene, tmp_path / "in", size=60, cloud=(30, 30, 8))
    [result] = make_composites([product], tmp_path / "out")
    with rasterio.open(result.path) as src:
        stored = src.read()
        assert src.nodata == 0
    read = read_scene(result.path)
    np.testing.assert_array_equal(read.valid, np.all(stored != 0, axis=0))
    assert not read.valid[30, 30] and read.valid[5, 5]
    assert 0.05 < 1 - read.valid.mean() < 0.3

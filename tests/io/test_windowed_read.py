"""Images are read row block by row block: the same pixels and valid mask as one read."""

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine

from seeice.errors import ConfigError
from seeice.io import images
from seeice.io.images import read_block_rows, read_scene
from seeice.io.raster import write_raster

UTM = {"crs": CRS.from_epsg(32624), "transform": Affine(10, 0, 500000, 0, -10, 7400000)}


def _masked_dn_image(path):
    """37 x 23 x 4 uint16 DN with declared nodata 0, zeros in one band, and a mask."""
    rng = np.random.default_rng(5)
    data = rng.integers(1, 9000, size=(37, 23, 4), dtype=np.uint16)
    data[3, 4] = 0
    data[20, 7, 1] = 0
    data[30:, :5] = 0
    with rasterio.open(path, "w", driver="GTiff", width=23, height=37, count=4, dtype="uint16",
                       nodata=0, **UTM) as dst:
        dst.write(np.moveaxis(data, -1, 0))
        mask = np.full((37, 23), 255, np.uint8)
        mask[10:13, 15:] = 0
        dst.write_mask(mask)
    return path, data


@pytest.mark.parametrize("block_bytes", [1, 23 * 4 * 2 * 5, 10**9])
def test_blocks_of_any_height_read_the_same_pixels_and_mask(tmp_path, monkeypatch, block_bytes):
    path, data = _masked_dn_image(tmp_path / "dn.tif")
    monkeypatch.setattr(images, "READ_BLOCK_BYTES", block_bytes)
    scene = read_scene(path)
    expected_valid = np.all(data != 0, axis=2)
    expected_valid[10:13, 15:] = False
    np.testing.assert_array_equal(scene.valid, expected_valid)
    np.testing.assert_array_equal(scene.data, np.where(expected_valid[..., None], data, 0))
    assert scene.data.dtype == np.uint16 and scene.data.flags.c_contiguous


def test_block_rows_follow_the_byte_budget():
    assert read_block_rows(10980, 4, np.uint16) == images.READ_BLOCK_BYTES // (10980 * 8)
    assert read_block_rows(10**9, 4, np.float32) == 1


def test_a_float_image_is_checked_against_its_brightest_pixel_over_all_blocks(tmp_path,
                                                                                monkeypatch):
    """Dark blocks (sea) alone would look too dark for the scale; the whole image decides."""
    data = np.full((40, 6, 4), 0.001, np.float32)
    data[35:] = 0.6                      # bright snow in the last rows only
    path = write_raster(tmp_path / "refl.tif", data, **UTM)
    monkeypatch.setattr(images, "READ_BLOCK_BYTES", 6 * 4 * 4 * 4)   # 4 rows per block
    scene = read_scene(path, image_scale=1)
    assert scene.data.dtype == np.uint16
    assert (scene.data[:35] == 10).all() and (scene.data[35:] == 6000).all()
    too_dark = write_raster(tmp_path / "dark.tif", np.full((40, 6, 4), 0.3, np.float32), **UTM)
    with pytest.raises(ConfigError, match="use --image-scale 1"):
        read_scene(too_dark, image_scale=10000)


def test_a_plain_png_reads_the_same_in_blocks(tmp_path, monkeypatch):
    rng = np.random.default_rng(0)
    data = rng.integers(1, 255, (57, 31, 3), dtype=np.uint8)
    path = write_raster(tmp_path / "photo.png", data)
    monkeypatch.setattr(images, "READ_BLOCK_BYTES", 31 * 3 * 4)       # 4 rows per block
    scene = read_scene(path)
    np.testing.assert_array_equal(scene.data, data)
    assert scene.valid.all() and not scene.is_georeferenced

"""A large class GeoTIFF: tiled, written block row by block row, with overviews for QGIS."""

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.transform import from_origin

from seeice.classes import GLACIER_SCHEME
from seeice.io import raster as raster_io

UTM = CRS.from_epsg(32624)
TRANSFORM = from_origin(500_000.0, 7_700_000.0, 10.0, 10.0)


def test_a_large_class_raster_is_tiled_with_nearest_overviews_and_every_pixel_kept(tmp_path):
    rng = np.random.default_rng(1)
    height, width = 1300, 1100                       # 3 x 3 tiles of 512, partial at the edges
    classes = rng.integers(0, 9, size=(height, width)).astype(np.uint8)
    classes[:, :8] = 0
    reference = raster_io.Raster(np.zeros((height, width, 1), np.uint16), UTM, TRANSFORM)
    path = raster_io.write_class_raster(tmp_path / "big_classified.tif", classes,
                                        GLACIER_SCHEME, reference)
    with rasterio.open(path) as src:
        assert src.profile["tiled"] and src.block_shapes[0] == (512, 512)
        assert src.nodata == 0 and src.crs == UTM and src.transform == TRANSFORM
        assert src.overviews(1) == [2, 4]            # down to 325 x 275 px
        assert src.tags(ns="rio_overview")["resampling"] == "nearest"
        np.testing.assert_array_equal(src.read(1), classes)
        half = src.read(1, out_shape=(height // 2, width // 2))   # read from the overview
        assert set(np.unique(half)) <= set(range(9))
        assert src.colormap(1)[8][:3] == (255, 0, 0)


def test_overview_factors_stop_near_256_px():
    assert raster_io.overview_factors(10980, 10980) == [2, 4, 8, 16, 32]
    assert raster_io.overview_factors(300, 400) == []
    assert raster_io.overview_factors(600, 200) == [2]


def test_a_small_class_raster_stays_untiled_without_overviews(tmp_path):
    classes = np.ones((40, 30), np.uint8)
    reference = raster_io.Raster(np.zeros((40, 30, 1), np.uint16), UTM, TRANSFORM)
    path = raster_io.write_class_raster(tmp_path / "small.tif", classes, GLACIER_SCHEME, reference)
    with rasterio.open(path) as src:
        assert src.overviews(1) == [] and not src.profile.get("tiled", False)
        np.testing.assert_array_equal(src.read(1), classes)

"""Distances are metres only where the CRS says so; degrees are refused; PixelSize never ignored."""

import logging

import pytest
from rasterio.crs import CRS
from rasterio.transform import Affine

from seeice.errors import ConfigError, RasterError
from seeice.io.georef import check_projected, pixel_size_m, utm_epsg

UTM24 = CRS.from_epsg(32624)
TEN_M = Affine(10, 0, 500000, 0, -10, 7400000)


def test_utm_zones():
    assert utm_epsg(-38.0, 66.4) == 32624          # Helheim
    assert utm_epsg(-70.3, -49.3) == 32719          # southern Patagonia
    assert utm_epsg(179.9, 10.0) == 32660


def test_a_geographic_crs_is_refused_with_the_utm_zone_and_the_fix():
    lonlat = Affine(0.0001, 0, -38.2, 0, -0.0001, 66.4)
    with pytest.raises(RasterError) as info:
        check_projected(CRS.from_epsg(4326), lonlat, (100, 100), "helheim.tif")
    message = str(info.value)
    assert "geographic" in message and "degrees" in message
    assert "EPSG:32624" in message and "gdalwarp -t_srs EPSG:32624" in message
    assert "MakeComposite" in message
    with pytest.raises(RasterError, match="geographic"):
        pixel_size_m(CRS.from_epsg(4326), lonlat, (100, 100), "helheim.tif")


def test_metres_from_the_transform():
    assert pixel_size_m(UTM24, TEN_M, (50, 50), "a.tif") == 10.0
    assert pixel_size_m(None, Affine.identity(), (50, 50), "a.png") is None
    assert pixel_size_m(None, Affine.identity(), (50, 50), "a.png", given=3.0) == 3.0


def test_feet_are_converted_to_metres(caplog):
    feet = CRS.from_epsg(2263)      # NAD83 / New York Long Island (ftUS)
    with caplog.at_level(logging.INFO):
        size = pixel_size_m(feet, Affine(10, 0, 1e6, 0, -10, 2e5), (50, 50), "ny.tif")
    assert size == pytest.approx(3.048006, rel=1e-6)
    assert "converted to metres" in caplog.text


def test_non_square_pixels_warn(caplog):
    with caplog.at_level(logging.WARNING):
        size = pixel_size_m(UTM24, Affine(10, 0, 0, 0, -20, 0), (50, 50), "a.tif")
    assert size == 15.0 and "not square" in caplog.text


def test_a_pixel_size_that_contradicts_the_georeferencing_is_refused():
    with pytest.raises(ConfigError) as info:
        pixel_size_m(UTM24, TEN_M, (50, 50), "a.tif", given=30.0)
    assert "30 m" in str(info.value) and "10 m" in str(info.value)
    assert "leave it empty" in str(info.value)
    assert pixel_size_m(UTM24, TEN_M, (50, 50), "a.tif", given=10.0) == 10.0
    with pytest.raises(ConfigError, match="positive number"):
        pixel_size_m(None, Affine.identity(), (5, 5), "a.png", given=-1.0)

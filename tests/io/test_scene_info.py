"""Scene dates and origin from tags or file names."""

import datetime as dt

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

from seeice.io.scene_info import (FROM_NAME, FROM_TAGS, TAG_DATETIME, TAG_PRODUCT_ID, TAG_SPACECRAFT,
                                  date_from_name, decimal_year, read_scene_info)


@pytest.mark.parametrize("name, expected", [
    ("S2B_20200815_T24WWU.tif", dt.date(2020, 8, 15)),
    ("helheim_2019-07-03.tif", dt.date(2019, 7, 3)),
    ("x_20191345_20190101.tif", dt.date(2019, 1, 1)),   # 13th month skipped
    ("scene_12345678.tif", None),
    ("scene_2020081512.tif", None),                      # ten digits: no date
    ("plain.tif", None),
])
def test_date_from_name(name, expected):
    assert date_from_name(name) == expected


def test_decimal_year_known_answers():
    assert decimal_year(dt.date(2020, 1, 1)) == 2020.0
    assert decimal_year(dt.date(2020, 7, 2)) == pytest.approx(2020 + 183 / 366)
    assert decimal_year(dt.date(2021, 12, 31)) == pytest.approx(2021 + 364 / 365)


def _write(path, tags):
    with rasterio.open(path, "w", driver="GTiff", height=4, width=4, count=1, dtype="uint16",
                       crs="EPSG:32624", transform=from_origin(500000, 7500000, 10, 10)) as dst:
        dst.write(np.ones((1, 4, 4), np.uint16))
        dst.update_tags(**tags)


def test_tags_win_over_the_name(tmp_path):
    path = tmp_path / "S2A_20190101_T24WWU.tif"
    _write(path, {TAG_DATETIME: "2020-08-15T14:32:11Z", TAG_SPACECRAFT: "Sentinel-2B",
                  TAG_PRODUCT_ID: "S2B_MSIL2A_20200815T143209_N0214_R096_T24WWU_20200815T165001"})
    info = read_scene_info(path)
    assert info.date == dt.date(2020, 8, 15) and info.date_source == FROM_TAGS
    assert info.acquired == dt.datetime(2020, 8, 15, 14, 32, 11, tzinfo=dt.timezone.utc)
    assert info.spacecraft == "Sentinel-2B"
    assert info.product_id.startswith("S2B_MSIL2A_20200815")


def test_name_date_without_tags(tmp_path):
    path = tmp_path / "S2A_20190101_T24WWU.tif"
    _write(path, {})
    info = read_scene_info(path)
    assert info.date == dt.date(2019, 1, 1) and info.date_source == FROM_NAME
    assert info.spacecraft == "Sentinel-2A" and info.product_id is None


def test_no_date_is_none_never_guessed(tmp_path):
    path = tmp_path / "glacier.tif"
    _write(path, {TAG_DATETIME: "not a date"})
    info = read_scene_info(path)
    assert info.date is None and info.date_source is None and info.spacecraft is None

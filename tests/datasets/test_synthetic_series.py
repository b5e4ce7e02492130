"""The synthetic terminus time series (seeice.datasets.timeseries): known shifts, cloud, dates."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio

from seeice.classes import GLACIER_SCHEME
from seeice.datasets.timeseries import DEFAULT_SHIFTS_M, main, make_series
from seeice.errors import ConfigError
from seeice.io.scene_info import read_scene_info
from seeice.io.vector_layers import read_geometry


def test_front_moves_by_the_known_shifts_and_one_date_is_clouded():
    series = make_series(dates=("2021-01-01", "2021-02-01", "2021-03-01"),
                         shifts_m=(0.0, 50.0, -30.0), size=200, cloud_date=2)
    glacier = [np.count_nonzero(d.scene.classes == GLACIER_SCHEME.glacier) for d in series.dates]
    rows = np.count_nonzero(series.dates[0].scene.front.any(axis=1))
    # The glacier grows by 5 px per front row for +50 m and shrinks by 3 px for -30 m (the
    # snow line stays put, so glacier-ice pixels change by the shift times the rows).
    assert (glacier[1] - glacier[0]) / rows == pytest.approx(5.0, abs=0.5)
    assert (glacier[2] - glacier[0]) / rows == pytest.approx(-3.0, abs=0.5)
    assert not series.dates[0].nodata.any() and series.dates[2].nodata.any()
    assert (series.dates[2].scene.image[series.dates[2].nodata] == 0).all()
    with pytest.raises(ConfigError, match="whole multiples"):
        make_series(dates=("2021-01-01", "2021-02-01"), shifts_m=(0.0, 15.0))


def test_command_writes_dated_images_box_and_centreline(tmp_path):
    assert main([str(tmp_path), "--size", "200"]) == 2     # the default shifts need more room
    assert main([str(tmp_path)]) == 0
    images = sorted((tmp_path / "images").glob("S2_fjord_*.tif"))
    images = [p for p in images if not p.name.startswith(("SCLS_", "EDGE_", "VM_"))]
    assert len(images) == len(DEFAULT_SHIFTS_M)
    info = read_scene_info(images[0])
    assert info.date_source == "tags" and info.date.isoformat() == "2020-06-01"
    assert info.spacecraft == "Sentinel-2A"
    with rasterio.open(images[0]) as src:
        crs = src.crs
    assert read_geometry(tmp_path / "box.gpkg", "polygon", crs, "box").area > 0
    line = read_geometry(tmp_path / "centreline.gpkg", "line", crs, "centreline")
    assert line.coords[0][0] > line.coords[-1][0]          # drawn from the ocean (east) end

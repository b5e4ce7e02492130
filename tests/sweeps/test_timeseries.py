"""Batch/TerminusTimeSeries.py and its driver on a prepared synthetic series (no CNN)."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio
import shapely

from seeice.config.inputs import resolve_script
from seeice.datasets.timeseries import DEFAULT_CLOUD_DATE
from seeice.errors import DataError, RasterError
from seeice.sweeps.timeseries import run_time_series

from repo_paths import REPO
from timeseries_helpers import prepared_series, write_vector

SCRIPT = REPO / "Batch" / "TerminusTimeSeries.py"


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    return prepared_series(tmp_path_factory.mktemp("series"))


def _config(paths, out, *extra):
    argv = ["--images", paths["images"], "--results", paths["results"], "--box", paths["box"],
            "--centreline", paths["centreline"], "--out", out, *extra]
    config, _ = resolve_script(SCRIPT, [str(a) for a in argv])
    return config


def test_script_reuses_csc_outputs_and_writes_every_output(prepared, tmp_path):
    series, paths = prepared
    out = tmp_path / "ts"
    env = dict(os.environ, MPLBACKEND="Agg")
    result = subprocess.run([sys.executable, str(SCRIPT), "--images", str(paths["images"]),
                             "--results", str(paths["results"]), "--box", str(paths["box"]),
                             "--centreline", str(paths["centreline"]), "--out", str(out)],
                            capture_output=True, text=True, timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out / "terminus_positions.csv")
    truth = np.array([d.shift_m for d in series.dates])
    assert list(table["Date"]) == [d.date.isoformat() for d in series.dates]
    clear = np.arange(len(truth)) != DEFAULT_CLOUD_DATE
    for column in ("Box_m", "Centreline_m"):
        assert np.abs(table[column].to_numpy() - truth)[clear].max() <= 15.0
    assert list(table["Flagged"]) == [not c for c in clear]
    assert table["Front_found"].all()
    # Front error against the EDGE_ fronts beside the images: the detected fronts lie on them
    # (one to two pixels wide, so both directions pooled give about 17 m).
    assert (table["Front_MDE_m"][clear].between(5.0, 25.0)).all()
    layer = pyogrio.read_info(out / "fronts.gpkg")
    assert layer["features"] == len(truth)
    assert rasterio.crs.CRS.from_user_input(layer["crs"]) == series.dates[0].scene.crs
    meta, _, wkb, fields = pyogrio.raw.read(out / "fronts.gpkg")
    assert list(fields[meta["fields"].tolist().index("Date")]) == list(table["Date"])
    for name in ("terminus_positions.png", "fronts_map.png", "run.json"):
        assert (out / name).stat().st_size > 0, name
    assert "flagged" in result.stderr


def test_dates_from_tags_and_an_undated_image_is_named(tmp_path):
    series, paths = prepared_series(tmp_path, dated_names=False)  # names hold no date
    table = run_time_series(_config(paths, tmp_path / "ok"))
    assert list(table["Date"]) == [d.date for d in series.dates]   # from the tags
    extra = paths["images"] / "undated_scene.tif"
    with rasterio.open(paths["images"] / "S2_fjord_0.tif") as src:
        profile, data = src.profile, src.read()
    with rasterio.open(extra, "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(DataError, match="no date for undated_scene.tif"):
        run_time_series(_config(paths, tmp_path / "bad"))
    dates = tmp_path / "dates.csv"
    pd.DataFrame({"Image": ["undated_scene.tif"], "Date": ["2020-09-05"]}).to_csv(dates,
                                                                               index=False)
    with pytest.raises(DataError, match="no CSC output .* for undated_scene.tif"):
        run_time_series(_config(paths, tmp_path / "bad", "--dates", dates))


def test_images_on_different_grids_are_named(prepared, tmp_path):
    series, paths = prepared
    images = tmp_path / "images"
    images.mkdir()
    for path in sorted(paths["images"].glob("S2_fjord_2020060*.tif")):
        (images / path.name).symlink_to(path)
    source = sorted(paths["images"].glob("S2_fjord_*.tif"))[-1]
    with rasterio.open(source) as src:
        profile, data = src.profile, src.read()
    profile["transform"] = profile["transform"] * rasterio.Affine.translation(3, 0)
    with rasterio.open(images / "S2_fjord_20200901.tif", "w", **profile) as dst:
        dst.write(data)
    with pytest.raises(RasterError, match="S2_fjord_20200901.tif .*origin"):
        run_time_series({**_config(paths, tmp_path / "out"), "Images": str(images)})


def test_bad_box_and_centreline_files_are_refused(prepared, tmp_path):
    series, paths = prepared
    crs = series.dates[0].scene.crs
    x0, y0 = series.dates[0].scene.transform @ (0, 0)
    far = write_vector(tmp_path / "far.gpkg",
                       shapely.box(x0 + 10, y0 - 1800, x0 + 300, y0 - 1300), crs)
    with pytest.raises(DataError, match="box does not lie across"):
        run_time_series({**_config(paths, tmp_path / "o1"), "Box": str(far), "Centreline": ""})
    line = write_vector(tmp_path / "line_as_box.gpkg", series.centreline, crs)
    with pytest.raises(DataError, match="must be one Polygon"):
        run_time_series({**_config(paths, tmp_path / "o2"), "Box": str(line)})
    short = write_vector(tmp_path / "inland.gpkg", shapely.LineString(
        [series.dates[0].scene.transform @ (60, 150), series.dates[0].scene.transform @ (5, 150)]),
        crs)
    with pytest.raises(DataError, match="crosses no front"):
        run_time_series({**_config(paths, tmp_path / "o3"), "Centreline": str(short), "Box": ""})

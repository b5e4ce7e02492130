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
from seeice.errors import ConfigError, DataError, RasterError
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
                             "--centreline", str(paths["centreline"]), "--out", str(out),
                             "--glacier-id", "42", "--front-crs", "EPSG:3413"],
                            capture_output=True, text=True, timeout=300, env=env, check=False)
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
    assert layer["features"] == len(truth) and layer["crs"] == "EPSG:3413"
    meta, _, wkb, values = pyogrio.raw.read(out / "fronts.gpkg")
    fields = dict(zip(meta["fields"], values))
    assert list(fields["Date"]) == list(table["Date"])
    assert set(fields["GlacierID"]) == {"42"} and set(fields["QualFlag"]) == {10}
    assert list(fields["Satellite"][:2]) == ["Sentinel-2A", "Sentinel-2B"]   # from the tags
    assert list(fields["Several_crossings"]) == [0] * len(truth)
    assert fields["Cloud_share"][DEFAULT_CLOUD_DATE] == pytest.approx(
        table["Box_nodata_share"].iloc[DEFAULT_CLOUD_DATE])
    assert fields["Method"][0].startswith("CSC k=")
    lines = [shapely.from_wkb(g) for g in wkb]
    assert [ln.centroid.x for ln in lines] == pytest.approx(list(fields["Center_X"]))
    geojson = pyogrio.read_info(out / "fronts.geojson")
    assert geojson["features"] == len(truth) and "4326" in geojson["crs"]
    assert "GlacierID" in geojson["fields"]
    for name in ("terminus_positions.png", "fronts_map.png", "run.json"):
        assert (out / name).stat().st_size > 0, name
    assert "flagged" in result.stderr
    assert "no GlacierID" not in result.stderr


def test_front_crs_in_degrees_is_refused(prepared, tmp_path):
    _, paths = prepared
    with pytest.raises(ConfigError, match="geographic"):
        run_time_series(_config(paths, tmp_path / "o", "--front-crs", "EPSG:4326"))


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
    _, paths = prepared
    images = tmp_path / "images"
    images.mkdir()
    for path in sorted(paths["images"].glob("S2_fjord_2020060*.tif")):
        (images / path.name).symlink_to(path)
    source = max(paths["images"].glob("S2_fjord_*.tif"))
    with rasterio.open(source) as src:
        profile, data = src.profile, src.read()
    profile["transform"] = profile["transform"] @ rasterio.Affine.translation(3, 0)
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
    garbage = tmp_path / "garbage.gpkg"
    garbage.write_text("not a vector file")
    with pytest.raises(DataError, match="cannot be read as a vector file"):
        run_time_series({**_config(paths, tmp_path / "o0"), "Box": str(garbage)})
    line = write_vector(tmp_path / "line_as_box.gpkg", series.centreline, crs)
    with pytest.raises(DataError, match="must be one Polygon"):
        run_time_series({**_config(paths, tmp_path / "o2"), "Box": str(line)})
    short = write_vector(tmp_path / "inland.gpkg", shapely.LineString(
        [series.dates[0].scene.transform @ (60, 150), series.dates[0].scene.transform @ (5, 150)]),
        crs)
    with pytest.raises(DataError, match="crosses no front"):
        run_time_series({**_config(paths, tmp_path / "o3"), "Centreline": str(short), "Box": ""})


@pytest.mark.slow
def test_full_run_classifies_each_date_through_the_sweep(tmp_path, monkeypatch):
    """CSC of every date as a sweep job (phase one stood in by the true classes), then positions."""
    from seeice.datasets.timeseries import make_series, write_series
    from seeice.pipeline import image_csc

    from csc_helpers import ideal_phase_one, tiny_tile_model

    series = make_series()
    images = write_series(series, tmp_path / "images")
    truths = {float(d.scene.image[..., 0].astype(np.float64).sum()): d.scene.classes
              for d in series.dates}
    def classify(model, image, tile_size, valid=None, progress=True, **kwargs):
        total = float(image[..., 0].astype(np.float64).sum()) * 8192.0  # DN / 8192 back to DN
        truth = truths[min(truths, key=lambda s: abs(s - total))]
        return ideal_phase_one({image.shape[:2]: truth})(model, image, tile_size)

    monkeypatch.setattr(image_csc, "classify_tiles", classify)
    model = tiny_tile_model(tmp_path / "model")
    crs = series.dates[0].scene.crs
    box = write_vector(tmp_path / "box.gpkg", series.box, crs)
    line = write_vector(tmp_path / "line.gpkg", series.centreline, crs)
    config, _ = resolve_script(SCRIPT, ["--images", str(tmp_path / "images"), "--model",
                                        str(model), "--patch-size", "5", "--tile-size", "32",
                                        "--samples", "4000", "--box", str(box),
                                        "--centreline", str(line), "--out",
                                        str(tmp_path / "out"), "--dpi", "50",
                                        "--precision", "float32"])
    table = run_time_series({**config, "Progress": False})
    jobs = pd.read_csv(tmp_path / "out" / "csc" / "jobs.csv", dtype=str)
    assert len(jobs) == len(images) and (jobs["Done"] == "1").all()
    assert (jobs["Precision"] == "float32").all()   # a CSC input reaches every date's job
    truth = np.array([d.shift_m for d in series.dates])
    clear = np.arange(len(truth)) != DEFAULT_CLOUD_DATE
    # Here the fronts come from the per-pixel CSC, not from the true classes (the position
    # step itself is within 15 m on the true classes: see the fast tests). Measured with
    # float32: the box method (a mean over the box's width) within 28 m (one date; the others
    # within 20 m), the centreline method (one crossing, which follows the front's local
    # wiggles) within 40 m; the signs of every change right.
    for column, bound in (("Box_m", 30.0), ("Centreline_m", 50.0)):
        error = np.abs(table[column].to_numpy() - truth)
        assert error[clear].max() <= bound, (column, np.round(error, 1).tolist())
        change = table[column.replace("_m", "_change_m")].to_numpy()[1:]
        assert np.array_equal(np.sign(change)[clear[1:]], np.sign(np.diff(truth))[clear[1:]])
    assert bool(table["Flagged"].iloc[DEFAULT_CLOUD_DATE])
    assert not table["Flagged"][clear].any()

"""CSC of a folder: outputs, formats, known answers on synthetic scenes, bad input."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import rasterio

from seeice.io import raster as raster_io
from seeice.pipeline import image_csc
from seeice.classes import load_scheme
from seeice.pipeline.csc import CSCSettings, run_csc
from seeice.errors import ConfigError, DataError, InputFileError, ModelError

from csc_helpers import ideal_phase_one, tiny_tile_model, write_scenes
from repo_paths import REPO

REPORT_COLUMNS = ["Class", "Precision", "Recall", "F1_score", "Support"]


def _config(model, predict, out, **overrides):
    config = {"ModelName": str(model), "PredictPath": str(predict), "ScorePath": str(out),
              "Experiment": "T", "Ndims": 4, "Kernel_size": 3, "size": 32, "CNNsamples": 3000,
              "WholeImage": 1, "Patience": 3, "SmallestElement": 2, "GACglacier": 1,
              "OutDPI": 60, "Seed": 0, "Progress": False, "Precision": "float32"}
    config.update(overrides)
    return config


@pytest.fixture(scope="module")
def scene_run(tmp_path_factory):
    """One CSC run on a synthetic scene with an ideal phase one (true tile majorities)."""
    root = tmp_path_factory.mktemp("csc")
    predict = root / "predict"
    scenes = write_scenes(predict, seeds=[7], size=300)
    model = tiny_tile_model(root / "model")
    patch = pytest.MonkeyPatch()
    patch.setattr(image_csc, "classify_tiles",
                  ideal_phase_one({s.classes.shape: s.classes for s in scenes}))
    try:
        run = run_csc(_config(model, predict, root / "out" / "Syn", Kernel_size=5,
                              CNNsamples=8000, Patience=10, Validation="unseen"))
    finally:
        patch.undo()
    return run, scenes[0], predict


def test_run_writes_every_output_with_the_documented_names(scene_run):
    run, scene, _ = scene_run
    stem, out = scene.stem, run.out_dir
    assert out.name == "Syn_patch5"
    for name in [f"CNN_{stem}_Tk5.csv", f"CSC_{stem}_Tk5.csv", f"OvPdat_{stem}_Tk5.npz",
                 f"{stem}_cfdistances.npy", f"CSC_Tk5_{stem}.png", f"{stem}_classified.tif",
                 f"{stem}_front.gpkg", f"{stem}_front.geojson", "summary.csv", "run.json"]:
        assert (out / name).is_file(), name
    assert not list(out.glob("*.partial*"))


def test_reports_and_scored_pixels(scene_run):
    run, scene, _ = scene_run
    report = pd.read_csv(run.out_dir / f"CSC_{scene.stem}_Tk5.csv")
    assert list(report.columns) == REPORT_COLUMNS
    assert list(report["Class"][-3:]) == ["Accuracy", "Macro_avg", "Weighted_avg"]
    assert "glacier ice" in set(report["Class"])
    scored = np.load(run.out_dir / f"OvPdat_{scene.stem}_Tk5.npz")
    assert set(scored.files) == {"truth", "cnn", "csc", "arr_0"}
    # the published layout too: one int32 (n, 3) array, columns truth, CNN, CSC
    assert scored["arr_0"].dtype == np.int32 and scored["arr_0"].shape == (scored["truth"].size, 3)
    assert (scored["arr_0"][:, 0] == scored["truth"]).all()
    assert (scored["arr_0"][:, 2] == scored["csc"]).all()
    assert scored["truth"].size == np.count_nonzero(scene.classes)
    assert scored["truth"].min() >= 1


def test_ideal_phase_one_gives_high_f1_and_an_accurate_front(scene_run):
    run, scene, _ = scene_run
    row = run.summary.iloc[0]
    assert row["Error"] == "" or pd.isna(row["Error"])
    # Phase one here is ideal but blocky (32 px tiles); per-pixel CSC must improve on it.
    assert row["CSC_F1"] >= 0.9
    assert row["CSC_F1"] > row["CNN_F1"]
    assert bool(row["Front_found"])
    assert row["Front_median_m"] <= 30.0
    distances = np.load(run.out_dir / f"{scene.stem}_cfdistances.npy")
    assert distances.shape == (np.count_nonzero(scene.front),)
    assert np.median(distances) == pytest.approx(row["Front_median_m"])
    # The mean distance error pools the second direction (predicted to manual) with the first.
    second = np.load(run.out_dir / f"{scene.stem}_cfdistances_predicted.npy")
    assert second.size > 0 and bool(row["Manual_front"])
    assert row["Front_MDE_m"] == pytest.approx(np.concatenate([distances, second]).mean())


def test_class_geotiff_keeps_georeferencing_colours_and_front(scene_run):
    run, scene, _ = scene_run
    with rasterio.open(run.out_dir / f"{scene.stem}_classified.tif") as src:
        classes = src.read(1)
        assert src.crs == scene.crs and src.transform == scene.transform
        assert src.colormap(1)[8][:3] == (255, 0, 0)
    assert classes.dtype == np.uint8 and classes.max() == 8
    assert (classes[:2] == 0).all() and (classes[:, :2] == 0).all()  # k // 2 border of k = 5


def test_vector_front_has_the_crs_and_lies_on_the_raster_front(scene_run):
    run, scene, _ = scene_run
    info = pyogrio.read_info(run.out_dir / f"{scene.stem}_front.gpkg")
    assert "32624" in info["crs"]
    import shapely

    _, _, geometry, _ = pyogrio.raw.read(run.out_dir / f"{scene.stem}_front.gpkg")
    line = shapely.from_wkb(geometry[0])
    coords = shapely.get_coordinates(line)
    with rasterio.open(run.out_dir / f"{scene.stem}_classified.tif") as src:
        front = src.read(1) == 8
        rows, cols = rasterio.transform.rowcol(src.transform, coords[:, 0], coords[:, 1])
    assert front[np.asarray(rows), np.asarray(cols)].all()
    # The terminus-schema fields: no GlacierID given, no date in the name or tags.
    meta, _, _, values = pyogrio.raw.read(run.out_dir / f"{scene.stem}_front.gpkg")
    fields = {k: v[0] for k, v in zip(meta["fields"], values)}
    assert fields["QualFlag"] == 10 and fields["Method"] == "CSC k=5, custom"
    assert fields["GlacierID"] == "" and fields["Date"] == ""
    assert fields["Satellite"] == "unknown" and fields["ImageID"] == f"{scene.stem}.tif"
    assert (fields["Center_X"], fields["Center_Y"]) == pytest.approx(
        (line.centroid.x, line.centroid.y))
    assert 0.0 <= fields["Cloud_share"] <= 1.0 and fields["Sea_contact"] > 0.5
    assert pyogrio.read_info(run.out_dir / f"{scene.stem}_front.geojson")["features"] == 1


def test_run_json_and_summary_hold_the_run(scene_run):
    run, scene, predict = scene_run
    record = json.loads((run.out_dir / "run.json").read_text())
    assert record["config"]["Kernel_size"] == 5 and record["config"]["PredictPath"] == str(predict)
    assert record["model"]["tile_size"] == 32 and record["scheme"]["name"] == "glacier"
    assert record["experiment_name"] == "Tk5"
    assert record["precision_policy"] == "float32"  # --precision float32 forces it
    assert record["config"]["Validation"] == "unseen"
    from seeice.results.describe import run_metadata
    assert run_metadata(run.out_dir)["validation"] == "Unseen"  # what the tables will read
    summary = pd.read_csv(run.out_dir / "summary.csv")
    assert list(summary["Image"]) == [scene.stem]
    assert {"CNN_F1", "CSC_F1", "Front_found", "Front_median_m", "Front_mean_m",
            "Seconds"} <= set(summary.columns)


@pytest.fixture(scope="module")
def tiny_setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad")
    model = tiny_tile_model(root / "model")
    predict = root / "predict"
    write_scenes(predict, seeds=[3], size=200)
    return root, model, predict


def test_whole_run_errors_are_clear(tiny_setup, tmp_path):
    root, model, predict = tiny_setup
    with pytest.raises(ConfigError, match="patch size 9 .*1, 3, 5, 7, 15"):
        run_csc(_config(model, predict, tmp_path / "o", Kernel_size=9))
    with pytest.raises(ModelError, match="tile size 50 does not match.*--tile-size 32"):
        run_csc(_config(model, predict, tmp_path / "o", size=50))
    with pytest.raises(ModelError, match="3 bands asked.*trained on 4"):
        run_csc(_config(model, predict, tmp_path / "o", Ndims=3))
    with pytest.raises(ConfigError, match="TrainingEpochs must be at least 1"):
        run_csc(_config(model, predict, tmp_path / "o", TrainingEpochs=0))
    with pytest.raises(ConfigError, match="unknown precision 'half'"):
        run_csc(_config(model, predict, tmp_path / "o", Precision="half"))
    with pytest.raises(InputFileError):
        run_csc(_config(root / "model" / "absent.keras", predict, tmp_path / "o"))
    garbage = root / "model" / "garbage.keras"
    garbage.write_bytes(b"not a model")
    with pytest.raises(ModelError, match="not a Keras model file"):
        run_csc(_config(garbage, predict, tmp_path / "o"))
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(DataError, match="no input images"):
        run_csc(_config(model, empty, tmp_path / "o"))


def test_bad_images_are_reported_and_the_others_still_processed(tiny_setup, tmp_path):
    root, model, predict = tiny_setup
    folder = tmp_path / "mixed"
    folder.mkdir()
    good = raster_io.list_images(predict)[0]
    image = raster_io.read_image(good)
    raster_io.write_raster(folder / "a_good.tif", image.data, image.crs, image.transform)
    raster_io.write_raster(folder / "b_threeband.tif", image.data[..., :3], image.crs,
                           image.transform)
    raster_io.write_raster(folder / "c_tiny.tif", image.data[:20, :20], image.crs,
                           image.transform)
    bordered = image.data.copy()
    bordered[:, :40] = 0
    raster_io.write_raster(folder / "d_nodata.tif", bordered, image.crs, image.transform)
    run = run_csc(_config(model, folder, tmp_path / "o"))
    errors = dict(zip(run.summary["Image"], run.summary["Error"].fillna("")))
    assert errors["a_good"] == "" and errors["d_nodata"] == ""
    # One advice naming the image's bands and the model's (never "use --bands 3" here and
    # "use --bands 4" from the model).
    assert "has 3 band(s) (band 1 (R), band 2 (G), band 3 (B)) but the model" in errors["b_threeband"]
    assert "trained on 4 (" in errors["b_threeband"] and "NIR" in errors["b_threeband"]
    assert "Use --bands 3" not in errors["b_threeband"]
    assert "smaller than one 32 px tile" in errors["c_tiny"]
    with rasterio.open(run.out_dir / "d_nodata_classified.tif") as src:
        assert (src.read(1)[:, :40] == 0).all()
    assert len(run.failed) == 2


def test_plain_rgb_images_with_a_scheme_without_front(tmp_path):
    scheme = load_scheme("fluvial")
    model = tiny_tile_model(tmp_path / "model", bands=3, n_classes=5, scheme=scheme,
                            norm_factor=255.0)
    folder = tmp_path / "photos"
    rng = np.random.default_rng(0)
    labels = np.ones((96, 128), np.uint8)
    labels[:, 64:] = 3
    pixels = np.where(labels[..., None] == 1, 60, 170) + rng.integers(0, 30, (96, 128, 3))
    raster_io.write_raster(folder / "photo.png", pixels.astype(np.uint8))
    raster_io.write_raster(folder / "SCLS_photo.tif", labels.astype(np.float64))
    run = run_csc(_config(model, folder, tmp_path / "o", Ndims=3))
    row = run.summary.iloc[0]
    assert row["Error"] == "" or pd.isna(row["Error"])
    assert not row["Front_found"]
    assert (run.out_dir / "photo_classified.png").is_file()
    assert not list(run.out_dir.glob("*.gpkg"))
    assert (run.out_dir / "CSC_photo_Tk3.csv").is_file()


def test_settings_from_header_names():
    settings = CSCSettings.from_config({"ModelName": "m.keras", "PredictPath": "p",
                                        "ScorePath": "out/Sto", "Experiment": "Sto",
                                        "Kernel_size": 15, "WholeImage": 0,
                                        "TrainingEpochs": 4})
    assert settings.max_epochs == 4
    assert settings.out_dir == Path("out/Sto_patch15")
    assert settings.experiment_name == "Stok15"
    assert settings.whole_image is False


def test_script_error_exits_cleanly(tmp_path):
    script = REPO / "CSC_Application" / "CSC.py"
    failed = subprocess.run([sys.executable, str(script), "--patch-size", "9", "--model",
                             str(tmp_path / "m.keras"), "--predict", str(tmp_path)],
                            capture_output=True, text=True, cwd=REPO)
    assert failed.returncode == 2
    assert "9" in failed.stderr and "1, 3, 5, 7, 15" in failed.stderr
    assert "Traceback" not in failed.stderr


#: What each shipped preset changes against the header defaults of CSC.py. Keys a preset sets
#: to the header's own value change nothing and are not listed.
PRESET_CHANGES = {
    "demo.yaml": {"ModelName": "demo_output/model/demo_phase1.keras",
                  "PredictPath": "demo_output/scenes_unseen",
                  "ScorePath": "demo_output/results/FromConfig", "Experiment": "Demo",
                  "CNNsamples": 20000, "OutDPI": 150},
    "sentinel2_csc.yaml": {"Kernel_size": 15},
}


def test_every_shipped_preset_is_checked():
    assert sorted(p.name for p in (REPO / "configs").glob("*.yaml")) == sorted(PRESET_CHANGES)


@pytest.mark.parametrize("preset", sorted(PRESET_CHANGES))
def test_shipped_presets_change_exactly_their_known_inputs(preset):
    """A preset read through the script's header changes the known inputs and nothing else."""
    from seeice.config.inputs import load_yaml_overrides, parse_header, resolve_script

    script = REPO / "CSC_Application" / "CSC.py"
    path = REPO / "configs" / preset
    _, specs = parse_header(script.read_text(encoding="utf-8"), origin=script.name)
    defaults = {spec.name: spec.default for spec in specs}
    values = load_yaml_overrides(path, specs)
    assert {key: value for key, value in values.items() if value != defaults[key]} == PRESET_CHANGES[preset]

    config, _ = resolve_script(script, ["--config", str(path)])
    assert dict(config) == {**defaults, **PRESET_CHANGES[preset]}

    # the command line still wins over the preset
    dpi_flag = next(spec.flag for spec in specs if spec.name == "OutDPI")
    config, _ = resolve_script(script, ["--config", str(path), dpi_flag, "72"])
    assert config["OutDPI"] == 72
    assert dict(config) == {**defaults, **PRESET_CHANGES[preset], "OutDPI": 72}


def test_validation_and_glacier_inputs(tmp_path):
    from types import SimpleNamespace

    from seeice.pipeline.csc import check_settings

    settings = CSCSettings.from_config({"ModelName": "m.keras", "PredictPath": "p",
                                        "Validation": "unseen", "Glacier": "Petermann"})
    assert (settings.validation, settings.glacier) == ("unseen", "Petermann")
    metadata = SimpleNamespace(tile_size=50, bands=4, n_classes=7,
                               class_scheme=lambda: "scheme")
    assert check_settings(settings, metadata) == "scheme"
    bad = CSCSettings.from_config({"ModelName": "m.keras", "PredictPath": "p",
                                   "Validation": "maybe"})
    with pytest.raises(ConfigError, match="give seen, unseen, or nothing"):
        check_settings(bad, metadata)


def test_the_seconds_of_every_stage_are_recorded_in_run_json(scene_run):
    run, scene, _ = scene_run
    record = json.loads((run.out_dir / "run.json").read_text())
    stages = record["stage_seconds"][f"{scene.stem}.tif"]
    assert list(stages) == ["read", "phase_one_tiles", "sampling", "phase_two_training",
                            "inference", "mode_filter", "front", "outputs"]
    assert all(seconds >= 0 for seconds in stages.values())
    assert sum(stages.values()) <= float(run.summary.iloc[0]["Seconds"]) + 0.1

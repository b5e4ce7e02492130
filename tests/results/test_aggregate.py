"""Results aggregation over folders of CSC runs (seeice.results and the Batch scripts).

Every run folder here is written by hand, with known answers worked out in the comments.
"""

from __future__ import annotations

import json
import logging
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from rasterio.crs import CRS
from rasterio.transform import Affine

from seeice.metrics.distances import STATISTICS, distance_stats, error_histogram
from seeice.results.cleanup import clear_joint
from seeice.results.figures import error_histogram_figure, sweep_summary_figure
from seeice.results.margins import margin_distances, valley_margin_table
from seeice.results.runs import run_metadata
from seeice.results.tables import CLASSIFICATION_COLUMNS, DISTANCE_COLUMNS, calving_table, classification_table, pool_labels
from seeice.classes import GLACIER_SCHEME
from seeice.errors import DataError, InputFileError
from seeice.io.raster import write_raster

ROOT = Path(__file__).resolve().parents[2]
CRS_UTM = CRS.from_epsg(32624)
TRANSFORM_10M = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 7400000.0)

# The known example: six scored pixels (after the zero rows are dropped).
TRUTH = [1, 1, 4, 4, 4, 7]
CNN = [1, 4, 4, 4, 4, 7]
CSC = [1, 1, 4, 4, 1, 1]
# Phase 1 (CNN): class 1 P=1, R=1/2 -> F1 2/3; class 4 P=3/4, R=1 -> F1 6/7; class 7 F1 1.
# Weighted by support (2, 3, 1): (2*2/3 + 3*6/7 + 1)/6 = 103/126.
CNN_WEIGHTED, CNN_GLACIER = 103 / 126, 6 / 7
# Phase 2 (CSC): class 1 P=2/4, R=1 -> 2/3; class 4 P=1, R=2/3 -> 4/5; class 7 F1 0.
# Weighted: (2*2/3 + 3*4/5 + 0)/6 = 28/45.
CSC_WEIGHTED, CSC_GLACIER = 28 / 45, 4 / 5
# Rows that must be dropped (a zero in truth, CNN or CSC); kept, they would change every F1.
ZERO_ROWS = [(0, 1, 1), (4, 0, 4), (1, 1, 0), (7, 0, 0)]


# --------------------------------------------------------------------------------------------
# Hand-made run folders
# --------------------------------------------------------------------------------------------

def write_ovpdat(run: Path, stem: str, exp: str, truth, cnn, csc) -> Path:
    path = run / f"OvPdat_{stem}_{exp}.npz"
    np.savez(path, truth=np.asarray(truth, np.uint8), cnn=np.asarray(cnn, np.uint8),
             csc=np.asarray(csc, np.uint8))
    return path


def write_run_json(run: Path, config: dict, training: dict | None = None,
                   scheme: dict | None = None, extra: dict | None = None) -> None:
    record = {"script": "CSC.py", "config": config,
              "model": {"base": "vgg16", "tile_size": 50, "bands": 4, "n_classes": 7,
                        "class_names": list(GLACIER_SCHEME.names),
                        "scheme": GLACIER_SCHEME.to_dict(), "norm_factor": 8192.0,
                        "training": training or {}},
              "scheme": scheme or GLACIER_SCHEME.to_dict()}
    record.update(extra or {})
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")


def known_run(root: Path, name: str = "Sweep_patch7", exp: str = "HelS2k7", **json_kwargs) -> Path:
    """The six-pixel example split over two images, with the zero rows mixed in."""
    run = root / name
    run.mkdir(parents=True)
    t, c, s = zip(*ZERO_ROWS[:2])
    write_ovpdat(run, "imgA", exp, TRUTH[:3] + list(t), CNN[:3] + list(c), CSC[:3] + list(s))
    t, c, s = zip(*ZERO_ROWS[2:])
    write_ovpdat(run, "imgB", exp, list(t) + TRUTH[3:], list(c) + CNN[3:], list(s) + CSC[3:])
    if json_kwargs.get("config") is not None:
        write_run_json(run, **json_kwargs)
    return run


def helheim_config(**overrides) -> dict:
    config = {"ModelName": "Models/VGG16_50_RGBNIR", "PredictPath": "Data/Validate/Helheim",
              "ScorePath": "Results/Sweep", "Experiment": "HelS2", "Ndims": 4, "NClasses": 7,
              "Kernel_size": 7, "size": 50, "CNNsamples": 500000, "WholeImage": 1,
              "Patience": 10, "SmallestElement": 2, "Glacier": "Helheim", "Validation": "Seen"}
    config.update(overrides)
    return config


def write_geotiff(path: Path, data: np.ndarray) -> Path:
    return write_raster(path, data.astype(np.uint8), crs=CRS_UTM, transform=TRANSFORM_10M)


def rock_rasters(rock_class: int = 7, vm_col: int = 11, blob: bool = True):
    """150 x 40 classes: rock in columns 0..9, glacier ice elsewhere; a valley margin line.

    The rock boundary contour runs along column 9.5 (150 vertices), rasterised to column 9.
    A margin in column 11 is 2 px = 20 m away, in column 5 it is 4 px = 40 m away. The 3 x 3
    rock blob next to the margin has a short contour (< 100 vertices) and must be ignored:
    counted, it would put some margin pixels 0 m from a boundary.
    """
    classes = np.full((150, 40), 4, np.uint8)
    classes[:, :10] = rock_class
    if blob:
        classes[60:63, 12:15] = 7
    margin = np.zeros_like(classes)
    margin[:, vm_col] = 1
    return classes, margin


# --------------------------------------------------------------------------------------------
# Classification table
# --------------------------------------------------------------------------------------------

def test_classification_table_known_f1_and_metadata(tmp_path):
    known_run(tmp_path, config=helheim_config(), training={"joint": True})
    table = classification_table(tmp_path, subsample=None)

    assert list(table.columns) == list(CLASSIFICATION_COLUMNS)
    assert len(table) == 4
    by_key = {(int(r.CSC_Phase), r.F1_Class): r.F1 for r in table.itertuples()}
    assert by_key[(1, "All")] == pytest.approx(CNN_WEIGHTED)
    assert by_key[(1, "Glacier")] == pytest.approx(CNN_GLACIER)
    assert by_key[(2, "All")] == pytest.approx(CSC_WEIGHTED)
    assert by_key[(2, "Glacier")] == pytest.approx(CSC_GLACIER)
    row = table.iloc[0]
    assert (row.Patch_Size, row.Tile_Size, row.Bands, row.CNN_Training, row.Glacier,
            row.Validation, row.Run) == (7, 50, "NIR_RGB", "Joint", "Helheim", "Seen",
                                         "Sweep_patch7")
    assert (table["N_Pixels"] == len(TRUTH)).all()  # the four zero rows are gone


def test_pool_labels_drops_every_zero_label(tmp_path):
    run = known_run(tmp_path)
    truth, cnn, csc = pool_labels(run, subsample=None)
    assert sorted(zip(truth, cnn, csc)) == sorted(zip(TRUTH, CNN, CSC))
    assert truth.dtype == np.uint8 and truth.min() > 0 and cnn.min() > 0 and csc.min() > 0


def test_glacier_f1_uses_the_schemes_glacier_class(tmp_path):
    scheme = dict(GLACIER_SCHEME.to_dict(), glacier=1)
    known_run(tmp_path, config=helheim_config(), scheme=scheme)
    table = classification_table(tmp_path, subsample=0)
    glacier = table[table["F1_Class"] == "Glacier"].set_index("CSC_Phase")["F1"]
    # Class 1: CNN P=1, R=1/2 -> 2/3; CSC P=1/2, R=1 -> 2/3.
    assert glacier[1] == pytest.approx(2 / 3)
    assert glacier[2] == pytest.approx(2 / 3)


def test_subsample_is_seeded_and_caps_the_count(tmp_path):
    rng = np.random.default_rng(5)
    run = tmp_path / "Hel_50_RGB_patch3"
    run.mkdir()
    labels = rng.integers(0, 8, size=(3, 2000))
    write_ovpdat(run, "img", "Xk3", *labels)
    n_nonzero = int(np.all(labels != 0, axis=0).sum())

    a = pool_labels(run, subsample=100, seed=1)
    b = pool_labels(run, subsample=100, seed=1)
    c = pool_labels(run, subsample=100, seed=2)
    assert len(a[0]) == 100
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert len(pool_labels(run, subsample=None)[0]) == n_nonzero
    assert len(pool_labels(run, subsample=10 * n_nonzero)[0]) == n_nonzero

    table = classification_table(tmp_path, subsample=100, seed=1)
    assert (table["N_Pixels"] == 100).all()
    again = classification_table(tmp_path, subsample=100, seed=1)
    pd.testing.assert_frame_equal(table, again)


def test_four_rows_per_run_over_several_runs(tmp_path):
    known_run(tmp_path, "Hel_VGG16_50_RGBNIR_patch7", exp="Hk7")
    known_run(tmp_path, "Jak_VGG16_joint_75_RGB_patch3", exp="Jk3")
    (tmp_path / "notes").mkdir()  # a folder without results is not a run
    table = classification_table(tmp_path, subsample=None)
    assert table.groupby("Run").size().to_dict() == {"Hel_VGG16_50_RGBNIR_patch7": 4,
                                                     "Jak_VGG16_joint_75_RGB_patch3": 4}
    jak = table[table["Run"].str.startswith("Jak")].iloc[0]
    assert (jak.Patch_Size, jak.Tile_Size, jak.Bands, jak.CNN_Training, jak.Glacier,
            jak.Validation) == (3, 75, "RGB", "Joint", "Jakobshavn", "Unseen")


# --------------------------------------------------------------------------------------------
# Run metadata
# --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name, expected", [
    ("Hel_patch7_50_NIR_joint_patch7", (7, 50, "NIR_RGB", "Joint", "Helheim", "Seen")),
    ("Jak_VGG16_joint_50_RGBNIR_fp16_patch7", (7, 50, "NIR_RGB", "Joint", "Jakobshavn", "Unseen")),
    ("Sto_VGG16_100_RGB_patch15", (15, 100, "RGB", "Single", "Store", "Unseen")),
    ("Sto_S2_20200701_75_RGB_k5", (5, 75, "RGB", "Single", "Store", "Unseen")),
    ("Hel_unseen_75_RGB_patch1", (1, 75, "RGB", "Single", "Helheim", "Unseen")),
])
def test_folder_name_fallback(tmp_path, name, expected):
    run = tmp_path / name
    run.mkdir()
    meta = run_metadata(run)
    keys = ("patch_size", "tile_size", "bands", "cnn_training", "glacier", "validation")
    assert tuple(meta[k] for k in keys) == expected


def test_unknown_fields_are_reported(tmp_path, caplog):
    run = tmp_path / "results_patch3"
    run.mkdir()
    with caplog.at_level(logging.WARNING, logger="seeice"):
        meta = run_metadata(run)
    assert meta["glacier"] is None and meta["validation"] == "Unknown" and meta["patch_size"] == 3
    assert "glacier" in caplog.text and "validation" in caplog.text


def test_run_json_fallbacks_glacier_from_predict_path_and_bands_from_model(tmp_path, caplog):
    run = tmp_path / "sweepA_patch5"
    run.mkdir()
    config = {"PredictPath": "Data/Kangerlussuaq", "Kernel_size": 5, "Ndims": 3,
              "Experiment": "K"}
    write_run_json(run, config, training={"fine_tuned_from": "Models/base.keras"})
    record = json.loads((run / "run.json").read_text())
    record["model"]["bands"] = 3
    record["model"]["tile_size"] = 100
    (run / "run.json").write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        meta = run_metadata(run)
    assert meta == {"patch_size": 5, "tile_size": 100, "bands": "RGB", "cnn_training": "Joint",
                    "glacier": "Kangerlussuaq", "validation": "Unknown"}
    assert "validation" in caplog.text


def test_validation_derived_from_training_images(tmp_path):
    run = tmp_path / "Hel_run_patch7"
    run.mkdir()
    write_ovpdat(run, "S2_2019_hel", "HelS2k7", [1], [1], [1])
    config = helheim_config()
    del config["Validation"]
    write_run_json(run, config, training={"images": ["S2_2019_hel.tif"]})
    assert run_metadata(run)["validation"] == "Seen"
    write_run_json(run, config, training={"images": ["S2_2017_hel.tif"]})
    assert run_metadata(run)["validation"] == "Unseen"
    write_run_json(run, dict(config, Validation="unseen"), training={"images": ["S2_2019_hel"]})
    assert run_metadata(run)["validation"] == "Unseen"  # the config key wins


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        classification_table(tmp_path / "missing")
    with pytest.raises(DataError, match="no CSC runs"):
        classification_table(tmp_path)
    run = known_run(tmp_path)
    (run / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        classification_table(tmp_path)
    (run / "run.json").unlink()
    np.savez(run / "OvPdat_imgC_HelS2k7.npz", truth=np.ones(3, np.uint8))
    with pytest.raises(DataError, match="lacks the array"):
        classification_table(tmp_path)


def test_a_single_run_folder_can_be_given(tmp_path):
    run = known_run(tmp_path, "Hel_50_NIR_patch7")
    table = classification_table(run, subsample=None)
    assert len(table) == 4 and set(table["Run"]) == {"Hel_50_NIR_patch7"}


# --------------------------------------------------------------------------------------------
# Distances: statistics, calving front, valley margins, histogram
# --------------------------------------------------------------------------------------------

# Pooled distances [0, 14, 10, 22, 34, 10]: rounded to 10 m -> 0, 10, 10, 20, 30, 10: mode 10.
# Sorted 0, 10, 10, 14, 22, 34: median 12. Mean 90/6 = 15. Deviations -15, -1, -5, 7, 19, -5:
# squares sum to 686, population st.dev sqrt(686/6).
FRONT_A, FRONT_B = [0.0, 14.0, 10.0], [22.0, 34.0, 10.0]
FRONT_STATS = {"Mode": 10.0, "Median": 12.0, "Mean": 15.0, "St.Dev": math.sqrt(686 / 6)}


def test_distance_stats_known_values():
    stats = distance_stats(np.array(FRONT_A + FRONT_B))
    assert stats == pytest.approx({"mode": 10.0, "median": 12.0, "mean": 15.0,
                                   "std": math.sqrt(686 / 6)})
    # Ties between bins go to the smaller distance.
    assert distance_stats(np.array([20.0, 20.0, 40.0, 41.0]))["mode"] == 20.0
    with pytest.raises(DataError):
        distance_stats(np.array([]))


def test_calving_table_pools_a_runs_front_distances(tmp_path):
    run = known_run(tmp_path, config=helheim_config(), training={"joint": False})
    np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A))
    np.save(run / "imgB_cfdistances.npy", np.array(FRONT_B))
    table = calving_table(tmp_path)
    assert list(table.columns) == list(DISTANCE_COLUMNS)
    assert list(table["Statistic"]) == list(STATISTICS)
    assert dict(zip(table["Statistic"], table["Error_m"])) == pytest.approx(FRONT_STATS)
    assert (table["Count"] == 6).all()
    row = table.iloc[0]
    assert (row.Run, row.Patch_Size, row.Tile_Size, row.Bands, row.CNN_Training, row.Glacier,
            row.Validation) == ("Sweep_patch7", 7, 50, "NIR_RGB", "Single", "Helheim", "Seen")


def test_error_over_1000m_is_warned(tmp_path, caplog):
    good = tmp_path / "Hel_50_RGB_patch3"
    bad = tmp_path / "Jak_50_RGB_patch3"
    for run in (good, bad):
        run.mkdir()
        np.save(run / "img1_cfdistances.npy", np.array([5.0, 1000.0]))
    np.save(bad / "img2_cfdistances.npy", np.array([5.0, 1500.0]))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        table = calving_table(tmp_path)
    warnings = [r.getMessage() for r in caplog.records if "catastrophic" in r.getMessage()]
    assert len(warnings) == 1
    assert "Jak_50_RGB_patch3" in warnings[0] and "img2" in warnings[0] and "1500" in warnings[0]
    assert len(table) == 8


def test_error_histogram_bins_and_share():
    d = np.array([0.0, 5.0, 10.0, 99.9, 100.0, 250.0])
    counts, edges, share = error_histogram(d, bin_m=10)
    assert np.array_equal(edges, np.arange(27) * 10.0)  # 0..260: the last bin holds 250
    expected = np.zeros(26, int)
    expected[[0, 1, 9, 10, 25]] = [2, 1, 1, 1, 1]
    assert np.array_equal(counts, expected)
    assert share == pytest.approx(4 / 6)
    with pytest.raises(DataError):
        error_histogram(np.array([-1.0]))


def test_margin_distances_known_shift():
    classes, margin = rock_rasters(vm_col=11)
    d = margin_distances(classes, margin, pixel_size=10.0)
    assert d.shape == (150,) and np.allclose(d, 20.0)
    classes, margin = rock_rasters(vm_col=5)
    assert np.allclose(margin_distances(classes, margin, 10.0), 40.0)
    # Without the 100-vertex filter the blob would count: its left edge (column 11.5) is
    # rasterised onto the margin column itself.
    classes, margin = rock_rasters(vm_col=11)
    assert margin_distances(classes, margin, 10.0, min_vertices=0).min() == 0.0


def test_valley_margin_table_from_geotiffs(tmp_path, caplog):
    runs, vm_dir = tmp_path / "runs", tmp_path / "vm"
    run = known_run(runs, config=helheim_config())
    vm_dir.mkdir()
    classes, margin = rock_rasters(rock_class=7, vm_col=11)  # 150 px at 20 m
    write_geotiff(run / "imgA_classified.tif", classes)
    write_geotiff(vm_dir / "VM_imgA.tif", margin)
    classes, margin = rock_rasters(rock_class=6, vm_col=5)  # 150 px at 40 m
    write_geotiff(run / "imgB_classified.tif", classes)
    write_geotiff(vm_dir / "VM_imgB.tif", margin)
    write_geotiff(run / "imgC_classified.tif", classes)  # no VM raster: skipped with a warning

    with caplog.at_level(logging.WARNING, logger="seeice"):
        table = valley_margin_table(runs, vm_dir)
    assert "VM_imgC" in caplog.text
    # Pooled: 150 x 20 m and 150 x 40 m -> mode 20 (tie, the smaller), median 30, mean 30,
    # st.dev 10.
    assert dict(zip(table["Statistic"], table["Error_m"])) == pytest.approx(
        {"Mode": 20.0, "Median": 30.0, "Mean": 30.0, "St.Dev": 10.0})
    assert (table["Count"] == 300).all() and (table["Glacier"] == "Helheim").all()

    # The scheme's rock roles choose the rock classes: with rock = [7] only, image B has none.
    write_run_json(run, helheim_config(), scheme=dict(GLACIER_SCHEME.to_dict(), rock=[7]))
    table = valley_margin_table(runs, vm_dir)
    assert dict(zip(table["Statistic"], table["Error_m"]))["Mean"] == pytest.approx(20.0)
    assert (table["Count"] == 150).all()


# --------------------------------------------------------------------------------------------
# ClearJoint
# --------------------------------------------------------------------------------------------

def full_run(root: Path, name: str, exp: str, stems, config=None, training=None) -> Path:
    run = root / name
    run.mkdir(parents=True)
    for stem in stems:
        write_ovpdat(run, stem, exp, [1], [1], [1])
        for prefix in ("CNN", "CSC"):
            (run / f"{prefix}_{stem}_{exp}.csv").write_text("Class,F1_score\n", encoding="utf-8")
        (run / f"CSC_{exp}_{stem}.png").write_bytes(b"png")
        np.save(run / f"{stem}_cfdistances.npy", np.array([10.0]))
        (run / f"{stem}_classified.tif").write_bytes(b"tif")
    pd.DataFrame({"Image": list(stems), "CSC_F1": 0.9}).to_csv(run / "summary.csv", index=False)
    if config is not None:
        write_run_json(run, config, training=training)
    return run


def per_image(run: Path, stem: str, exp: str) -> set[Path]:
    names = [f"OvPdat_{stem}_{exp}.npz", f"CNN_{stem}_{exp}.csv", f"CSC_{stem}_{exp}.csv",
             f"CSC_{exp}_{stem}.png", f"{stem}_cfdistances.npy", f"{stem}_classified.tif"]
    return {run / n for n in names}


@pytest.fixture
def joint_setup(tmp_path):
    runs, joint = tmp_path / "runs", tmp_path / "joint_images"
    joint.mkdir()
    for name in ("img1.tif", "SCLS_img1.tif", "img2.png"):
        (joint / name).write_bytes(b"x")
    stems = ["img1", "img10", "img2", "img3"]
    with_json = full_run(runs, "sweep_patch7", "Jk7", stems,
                         config={"Experiment": "J", "Kernel_size": 7, "size": 50},
                         training={"joint": True})
    by_name = full_run(runs, "Jak_VGG16_joint_50_RGB_patch3", "Jak_k3", stems)
    single = full_run(runs, "Jak_VGG16_50_RGB_patch3", "Jak_k3", stems)
    return runs, joint, with_json, by_name, single


def test_clear_joint_removes_exactly_the_joint_images_in_joint_runs(joint_setup):
    runs, joint, with_json, by_name, single = joint_setup
    expected = (per_image(with_json, "img1", "Jk7") | per_image(with_json, "img2", "Jk7")
                | per_image(by_name, "img1", "Jak_k3") | per_image(by_name, "img2", "Jak_k3"))
    before = {p for p in runs.rglob("*") if p.is_file()}

    listed = clear_joint(runs, joint, dry_run=True)
    assert set(listed) == expected
    assert {p for p in runs.rglob("*") if p.is_file()} == before  # dry run removes nothing

    removed = clear_joint(runs, joint)
    assert set(removed) == expected
    after = {p for p in runs.rglob("*") if p.is_file()}
    assert after == before - expected
    for run, exp in ((with_json, "Jk7"), (by_name, "Jak_k3")):
        assert per_image(run, "img10", exp) <= after and per_image(run, "img3", exp) <= after
        assert pd.read_csv(run / "summary.csv")["Image"].tolist() == ["img10", "img3"]
    assert pd.read_csv(single / "summary.csv")["Image"].tolist() == ["img1", "img10", "img2",
                                                                    "img3"]


def test_clear_joint_needs_images(tmp_path, joint_setup):
    runs = joint_setup[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        clear_joint(runs, tmp_path / "empty")
    with pytest.raises(InputFileError):
        clear_joint(runs, tmp_path / "absent")


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------

def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_figures_are_written_atomically(tmp_path):
    for name, patch, tile in (("Hel_50_NIR_patch3", 3, 50), ("Hel_50_NIR_patch7", 7, 50),
                              ("Jak_75_NIR_patch7", 7, 75)):
        run = known_run(tmp_path / "runs", name, exp=f"Xk{patch}")
        np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A) * patch)
    classes = classification_table(tmp_path / "runs", subsample=None)
    fronts = calving_table(tmp_path / "runs")
    out = sweep_summary_figure(classes, fronts, tmp_path / "fig" / "summary.png")
    assert is_png(out)
    assert is_png(sweep_summary_figure(classes, None, tmp_path / "nofront.png"))
    assert is_png(error_histogram_figure(np.array(FRONT_A + FRONT_B), tmp_path / "h.png"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["h.png", "nofront.png"]


# --------------------------------------------------------------------------------------------
# Scripts
# --------------------------------------------------------------------------------------------

def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(ROOT / "Batch" / name), *map(str, args)],
                          capture_output=True, text=True, timeout=120, env=env)


def test_build_data_frame_script(tmp_path):
    runs, vm_dir = tmp_path / "runs", tmp_path / "vm"
    run = known_run(runs, config=helheim_config())
    np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A + FRONT_B))
    vm_dir.mkdir()
    classes, margin = rock_rasters()
    write_geotiff(run / "imgA_classified.tif", classes)
    write_geotiff(vm_dir / "VM_imgA.tif", margin)

    out = tmp_path / "tables" / "f1.csv"
    result = run_script("BuildDataFrame.py", runs, "--out", out, "--subsample", "1000")
    assert result.returncode == 0, result.stderr
    table = pd.read_csv(out)
    assert len(table) == 4 and set(table["Run"]) == {"Sweep_patch7"}
    assert table.loc[(table.CSC_Phase == 2) & (table.F1_Class == "All"), "F1"].item() == \
        pytest.approx(CSC_WEIGHTED)
    assert (tmp_path / "tables" / "f1.run.json").is_file()

    result = run_script("BuildDataFrame.py", runs, "--out", tmp_path / "front.csv", "--calving")
    assert result.returncode == 0, result.stderr
    front = pd.read_csv(tmp_path / "front.csv")
    assert dict(zip(front["Statistic"], front["Error_m"])) == pytest.approx(FRONT_STATS)

    result = run_script("BuildDataFrame.py", runs, "--out", tmp_path / "vm.csv",
                        "--valley-margin", vm_dir)
    assert result.returncode == 0, result.stderr
    assert pd.read_csv(tmp_path / "vm.csv")["Error_m"].tolist() == pytest.approx([20.0] * 3 + [0])
    assert not [p for p in tmp_path.rglob("*partial*")]


def test_build_data_frame_empty_runs_dir_is_a_clear_error(tmp_path):
    result = run_script("BuildDataFrame.py", tmp_path, "--out", tmp_path / "t.csv")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "no CSC runs found" in result.stderr
    assert not (tmp_path / "t.csv").exists()


def test_error_histogram_script(tmp_path):
    run = tmp_path / "Hel_50_NIR_patch7"
    run.mkdir()
    np.save(run / "imgA_cfdistances.npy", np.array([5.0, 15.0, 50.0, 150.0]))
    np.save(run / "imgB_cfdistances.npy", np.array([1200.0]))
    result = run_script("ErrorHistogram.py", run)
    assert result.returncode == 0, result.stderr
    assert is_png(run / "error_histogram.png")
    assert "60.0 % of errors under 100 m" in result.stderr
    assert "WARNING" in result.stderr and "imgB" in result.stderr
    assert (run / "run.json").exists() is False  # the run's own record is not overwritten


def test_clear_joint_script(joint_setup):
    runs, joint, with_json, by_name, single = joint_setup
    before = {p for p in runs.rglob("*") if p.is_file()}
    result = run_script("ClearJoint.py", runs, "--joint-images", joint, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert {p for p in runs.rglob("*") if p.is_file()} == before
    result = run_script("ClearJoint.py", runs, "--joint-images", joint)
    assert result.returncode == 0, result.stderr
    gone = before - {p for p in runs.rglob("*") if p.is_file()}
    assert len(gone) == 2 * 2 * 6 and not any(single in p.parents for p in gone)


def test_sweep_summary_script(tmp_path):
    runs = tmp_path / "runs"
    for name, patch in (("Hel_50_NIR_patch3", 3), ("Hel_50_NIR_patch7", 7)):
        run = known_run(runs, name, exp=f"Xk{patch}")
        np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A))
    out = tmp_path / "sweep.png"
    result = run_script("SweepSummary.py", runs, "--out", out)
    assert result.returncode == 0, result.stderr
    assert is_png(out)

"""Known answer: a scene with a swath-edge wedge and a cloud hole of no-data is classified as
well as the same scene without them, with class 0 in the holes and no front along them."""

import numpy as np
import pandas as pd
import pytest
import rasterio
from csc_helpers import ideal_phase_one, tiny_tile_model
from scipy import ndimage as ndi

from seeice.datasets.holes import punch_nodata, write_holed_scene
from seeice.datasets.synthetic import make_scene, write_scene
from seeice.pipeline import image_csc
from seeice.pipeline.csc import run_csc

SEED, SIZE = 7, 300
F1_TOLERANCE = 0.02
SLOW = pytest.mark.slow      # two CSC runs: about a minute on two cores


def _config(model, predict, out):
    return {"ModelName": str(model), "PredictPath": str(predict), "ScorePath": str(out),
            "Experiment": "T", "Ndims": 4, "Kernel_size": 3, "size": 32, "CNNsamples": 4000,
            "WholeImage": 1, "Patience": 5, "SmallestElement": 2, "GACglacier": 1,
            "OutDPI": 50, "Seed": 0, "Progress": False}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """CSC of one scene without and with no-data (same seed, same ideal phase one)."""
    root = tmp_path_factory.mktemp("nodata")
    scene = make_scene(SEED, SIZE)
    holed, nodata = punch_nodata(scene, wedge=0.2, hole_radius=0.08, seed=1)
    write_scene(scene, root / "clean")
    write_holed_scene(holed, root / "holed")
    model = tiny_tile_model(root / "model")
    patch = pytest.MonkeyPatch()
    patch.setattr(image_csc, "classify_tiles", ideal_phase_one({scene.classes.shape: scene.classes}))
    try:
        clean = run_csc(_config(model, root / "clean", root / "out" / "clean"))
        with_holes = run_csc(_config(model, root / "holed", root / "out" / "holed"))
    finally:
        patch.undo()
    return scene, nodata, clean, with_holes


def test_unit_level_front_and_scores_ignore_the_holes():
    """Fast version: a perfect classification with the holes cut out gives the front away from
    them and, on valid pixels, the scores of the scene without holes."""
    from seeice.classes import GLACIER_SCHEME
    from seeice.fronts.detection import detect_front
    from seeice.metrics.scoring import score_classification, weighted_f1

    scene = make_scene(SEED, SIZE)
    _, nodata = punch_nodata(scene, wedge=0.2, hole_radius=0.08, seed=1)
    classes = np.where(nodata, 0, scene.classes).astype(np.uint8)
    result = detect_front(classes, GLACIER_SCHEME, nodata=nodata)
    assert result.front.any() and "no-data" in result.note
    assert not (result.front & ndi.binary_dilation(nodata, np.ones((7, 7), bool))).any()
    assert (result.classes_out[nodata] == 0).all()
    labels = np.where(nodata, 0, scene.classes)          # what CSC scores: valid pixels only
    f1 = weighted_f1(score_classification(labels, result.classes_refined, GLACIER_SCHEME))
    clean = detect_front(scene.classes, GLACIER_SCHEME)
    f1_clean = weighted_f1(score_classification(scene.classes, clean.classes_refined,
                                                GLACIER_SCHEME))
    assert abs(f1 - f1_clean) <= F1_TOLERANCE


@SLOW
def test_the_scene_has_a_wedge_and_a_hole_on_the_front(runs):
    scene, nodata, _, _ = runs
    _, n = ndi.label(nodata)
    assert n == 2                                   # the swath edge and the cloud hole
    assert 0.02 < nodata.mean() < 0.08
    assert (nodata & scene.front).any()            # the hole hides part of the front


@SLOW
def test_f1_on_valid_pixels_matches_the_scene_without_no_data(runs):
    _, _, clean, with_holes = runs
    f1_clean = float(clean.summary["CSC_F1"].iloc[0])
    f1_holes = float(with_holes.summary["CSC_F1"].iloc[0])
    assert f1_clean > 0.85
    print(f"CSC F1 without no-data {f1_clean:.4f}, with no-data (valid pixels) {f1_holes:.4f}")
    assert abs(f1_holes - f1_clean) <= F1_TOLERANCE, (f1_clean, f1_holes)


def _valid(run, scene):
    """The image's valid pixels as written: nodata 0 declared on uint16 (0 in any band)."""
    with rasterio.open(run.out_dir.parent.parent / "holed" / f"{scene.stem}.tif") as src:
        assert src.nodata == 0
        return np.all(src.read() != 0, axis=0)


@SLOW
def test_no_data_is_never_scored(runs):
    scene, nodata, _, with_holes = runs
    valid = _valid(with_holes, scene)
    assert not valid[nodata].any()
    scored = np.load(with_holes.out_dir / f"OvPdat_{scene.stem}_Tk3.npz")
    assert scored["truth"].size == np.count_nonzero(valid & (scene.classes > 0))
    assert scored["truth"].size < np.count_nonzero(scene.classes)


@SLOW
def test_holes_are_class_0_and_declared_nodata(runs):
    scene, nodata, _, with_holes = runs
    with rasterio.open(with_holes.out_dir / f"{scene.stem}_classified.tif") as src:
        classes = src.read(1)
        assert src.nodata == 0
    assert (classes[nodata] == 0).all()
    # away from no-data (beyond the k // 2 band) the scene is classified
    far = ~ndi.binary_dilation(~_valid(with_holes, scene), np.ones((3, 3), bool))
    far[:1], far[-1:], far[:, :1], far[:, -1:] = False, False, False, False
    assert (classes[far] > 0).all()


@SLOW
def test_no_front_pixel_on_a_hole_edge(runs):
    scene, nodata, _, with_holes = runs
    row = with_holes.summary.iloc[0]
    assert bool(row["Front_found"])
    assert "no-data" in str(row["Front_note"])
    with rasterio.open(with_holes.out_dir / f"{scene.stem}_classified.tif") as src:
        front = src.read(1) == 8
    assert front.any()
    near_hole = ndi.binary_dilation(nodata, np.ones((7, 7), bool))   # within 3 px
    assert not (front & near_hole).any()
    summary = pd.read_csv(with_holes.out_dir / "summary.csv")
    assert np.isfinite(summary["Front_median_m"].iloc[0])

"""Bad inputs of CSC.py: models, folders and settings that stop the run before it starts
(exit 2, nothing written), and images whose companions or files are bad, which fail alone
(exit 1) while the images after them are still classified and the run is marked complete.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from rasterio.crs import CRS

from bad_input_helpers import (csc_args, rewrite_companion, run_entry, run_status, scene_files,
                               snapshot, tiny_model)

CSC = "CSC_Application/CSC.py"


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    root = tmp_path_factory.mktemp("csc_bad")
    model = tiny_model(root / "model")
    good = root / "good"
    scene_files(good, "a", seed=3)
    return root, model, good


# ---------------------------------------------------------------------------------------------
# Refused before the run: exit 2, no output folder
# ---------------------------------------------------------------------------------------------

def _garbage(root):
    path = root / "random.keras"
    path.write_bytes(np.random.default_rng(1).bytes(3000))
    return path


def _truncated(root):
    source = root / "model" / "tiny.keras"
    path = root / "cut" / "tiny.keras"
    path.parent.mkdir(exist_ok=True)
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    (path.parent / "tiny.meta.json").write_bytes((root / "model" / "tiny.meta.json").read_bytes())
    return path


#: case -> (how to change the arguments, error kind, phrases)
RUN_CASES = {
    "model-missing": (lambda r, m, p: {"--model": r / "nowhere.keras"}, "InputFileError",
                      ["nowhere.keras not found", "Check the model path (--model)"]),
    "model-random-bytes": (lambda r, m, p: {"--model": _garbage(r)}, "ModelError",
                           ["random.keras is not a Keras model file", "damaged or truncated",
                            "copy it again"]),
    "model-truncated": (lambda r, m, p: {"--model": _truncated(r)}, "ModelError",
                        ["is not a Keras model file", "damaged or truncated"]),
    "model-is-a-folder": (lambda r, m, p: {"--model": r / "model"}, "ModelError",
                          ["is a folder, not a model file", "Give a .keras model"]),
    "predict-missing": (lambda r, m, p: {"--predict": r / "nowhere"}, "InputFileError",
                        ["image folder", "nowhere does not exist", "--predict"]),
    "predict-empty": (lambda r, m, p: {"--predict": r / "model"}, "DataError",
                      ["no input images in", "SCLS_, EDGE_ or VM_ are companions"]),
    "tile-size-not-the-models": (lambda r, m, p: {"--tile-size": 50}, "ModelError",
                                 ["tile size 50 does not match the model", "Use --tile-size 32"]),
    "classes-not-the-models": (lambda r, m, p: {"--classes": 5}, "ModelError",
                               ["NClasses = 5 but the model", "has 7 classes",
                                "Leave NClasses empty"]),
    "samples-zero": (lambda r, m, p: {"--samples": 0}, "ConfigError",
                     ["CNNsamples must be at least 1, got 0"]),
    "memory-budget-tiny": (lambda r, m, p: {"--memory-budget": 10}, "ConfigError",
                           ["MemoryBudgetMB must be at least 64"]),
    "smallest-element-negative": (lambda r, m, p: {"--smallest-element": -1}, "ConfigError",
                                  ["SmallestElement must be at least 0"]),
}


def _args(model, predict, out, changes):
    args = csc_args(model, predict, out)
    for flag, value in changes.items():
        if flag in args:
            args[args.index(flag) + 1] = value
        else:
            args += [flag, value]
    return args


@pytest.mark.parametrize("case", sorted(RUN_CASES))
def test_a_bad_run_input_stops_the_run_before_it_writes(case, setup, tmp_path):
    root, model, good = setup
    change, kind, phrases = RUN_CASES[case]
    before = snapshot(good)
    run_entry(CSC, *_args(model, good, tmp_path / "out" / "R",
                          change(root, model, good))).refused(kind, *phrases)
    assert not (tmp_path / "out").exists()
    assert snapshot(good) == before


# ---------------------------------------------------------------------------------------------
# One image fails, the run goes on: exit 1, the good image (processed last) complete
# ---------------------------------------------------------------------------------------------

def _other_crs(folder):
    rewrite_companion(folder / "SCLS_b_crs.tif", crs=CRS.from_epsg(32625))


#: image stem -> (how its files are spoiled, phrases of its Error in summary.csv)
IMAGE_CASES = {
    "b_shifted": (lambda f: rewrite_companion(f / "SCLS_b_shifted.tif", shift_px=40),
                  ["SCLS_b_shifted.tif is not on the grid of b_shifted.tif", "transform differs",
                   "origin (", "re-export it on the image's grid", "--resize-companions"]),
    "b_crs": (_other_crs,
              ["SCLS_b_crs.tif is not on the grid of b_crs.tif", "CRS differs", "EPSG:32625",
               "EPSG:32624", "--resize-companions"]),
    "b_size": (lambda f: rewrite_companion(f / "SCLS_b_size.tif", size=(90, 100)),
               ["SCLS_b_size.tif is not on the grid", "size differs", "90 x 100 px",
                "100 x 100 px"]),
    "b_edge_shifted": (lambda f: rewrite_companion(f / "EDGE_b_edge_shifted.tif", shift_px=-40),
                       ["EDGE_b_edge_shifted.tif is not on the grid", "transform differs"]),
    "b_truncated": (lambda f: rewrite_companion(f / "SCLS_b_truncated.tif", truncate=True),
                    ["SCLS_b_truncated.tif", "cannot be read", "truncated", "Export it again"]),
    "b_edge_truncated": (lambda f: rewrite_companion(f / "EDGE_b_edge_truncated.tif",
                                                     truncate=True),
                         ["EDGE_b_edge_truncated.tif", "cannot be read"]),
    "b_classes_9_12": (lambda f: rewrite_companion(f / "SCLS_b_classes_9_12.tif",
                                                   values=[9, 12]),
                       ["holds class values 9, 12, outside 1..7", "Recode them",
                        "declare a no-data value"]),
    "b_random_bytes": (lambda f: (f / "b_random_bytes.tif").write_bytes(
                           np.random.default_rng(2).bytes(5000)),
                       ["b_random_bytes.tif cannot be read as a raster", "not truncated"]),
    "b_too_small": (None, ["smaller than one 32 px tile"]),
}


@pytest.fixture(scope="module")
def failing_images_run(setup):
    """One CSC run over every spoiled image of IMAGE_CASES, then a good image (named last)."""
    root, model, _ = setup
    folder = root / "mixed"
    for stem, (spoil, _) in IMAGE_CASES.items():
        if stem == "b_too_small":
            from seeice.io.raster import write_raster
            write_raster(folder / f"{stem}.tif", np.full((20, 20, 4), 900, np.uint16))
            continue
        scene_files(folder, stem, seed=3)
        spoil(folder)
    scene_files(folder, "z_good", seed=4)
    outcome = run_entry(CSC, *csc_args(model, folder, root / "runs" / "Mixed"))
    out = root / "runs" / "Mixed_patch1"
    summary = pd.read_csv(out / "summary.csv", keep_default_na=False)
    return outcome, out, dict(zip(summary["Image"], summary["Error"]))


@pytest.mark.parametrize("stem", sorted(IMAGE_CASES))
def test_a_bad_image_fails_alone_and_the_run_goes_on(stem, failing_images_run):
    outcome, out, errors = failing_images_run
    assert outcome.code == 1 and "Traceback" not in outcome.output
    error = " ".join(errors[stem].split())
    for phrase in IMAGE_CASES[stem][1]:
        assert phrase in error, f"{phrase!r} not in {error!r}"
    assert f"{stem}.tif skipped" in outcome.text
    # No output of the failed image looks like a result; the good image after it is whole.
    assert not list(out.glob(f"*{stem}*"))
    assert errors["z_good"] == ""
    assert (out / "z_good_classified.tif").is_file()
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete"
    assert "z_good.tif" in record["images_complete"]
    assert f"{stem}.tif" not in record["images_complete"]


def test_resize_companions_matches_a_shifted_companion_by_position_with_a_warning(setup,
                                                                                   tmp_path):
    _, model, _ = setup
    folder = tmp_path / "shifted"
    scene_files(folder, "c", seed=3)
    rewrite_companion(folder / "SCLS_c.tif", shift_px=40)
    rewrite_companion(folder / "EDGE_c.tif", size=(90, 100))
    outcome = run_entry(CSC, *csc_args(model, folder, tmp_path / "R", "--resize-companions"))
    assert outcome.code == 0 and "Traceback" not in outcome.output
    assert "SCLS_c.tif is not on the grid of c.tif (transform differs" in outcome.text
    assert "--resize-companions: matched by position" in outcome.text
    assert "EDGE_c.tif is not on the grid of c.tif (size differs" in outcome.text
    assert "resized by nearest neighbour" in outcome.text
    assert run_status(tmp_path / "R_patch1") == "complete"
    assert (tmp_path / "R_patch1" / "CSC_c_CSCk1.csv").is_file()  # scored, as published


def test_ctrl_c_marks_the_run_interrupted_and_says_what_is_unfinished(setup, tmp_path,
                                                                      monkeypatch):
    from seeice.pipeline import image_csc

    _, model, good = setup
    monkeypatch.setattr(image_csc, "classify_tiles",
                        lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt()))
    outcome = run_entry(CSC, *csc_args(model, good, tmp_path / "R"))
    assert outcome.code == 130 and "Traceback" not in outcome.output
    assert "Interrupted during a.tif" in outcome.text and "may be partly written" in outcome.text
    assert "was not written" not in outcome.text
    assert run_status(tmp_path / "R_patch1") == "interrupted"

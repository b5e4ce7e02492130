"""Bad inputs of the results scripts (BuildDataFrame, ErrorHistogram, SweepSummary,
ClearJoint): missing, empty or unfinished run folders are refused (exit 2) or skipped by name,
never pooled as complete; ClearJoint never removes a single-model run's results.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from bad_input_helpers import run_entry, snapshot
from results_helpers import full_run, helheim_config, known_run

FRAME = "Batch/BuildDataFrame.py"
HIST = "Batch/ErrorHistogram.py"
SUMMARY = "Batch/SweepSummary.py"
CLEAR = "Batch/ClearJoint.py"


def _unfinished(root):
    run = known_run(root / "runs", config=helheim_config())
    record = json.loads((run / "run.json").read_text())
    record["status"] = "interrupted"
    (run / "run.json").write_text(json.dumps(record))
    np.save(run / "imgA_cfdistances.npy", np.array([10.0, 20.0]))
    return root / "runs"


def _margin_on_another_grid(root):
    from rasterio.transform import Affine

    from results_helpers import CRS_UTM, TRANSFORM_10M, rock_rasters, write_geotiff
    from seeice.io.raster import write_raster

    run = known_run(root / "runs", config=helheim_config())
    classes, margin = rock_rasters()
    write_geotiff(run / "imgA_classified.tif", classes)
    (root / "vm").mkdir()
    write_raster(root / "vm" / "VM_imgA.tif", margin, crs=CRS_UTM,
                 transform=TRANSFORM_10M @ Affine.translation(40, 0))
    return [root / "runs", "--out", root / "t.csv", "--valley-margin", root / "vm"]


def _empty(root):
    (root / "runs").mkdir()
    return root / "runs"


#: case -> (script, arguments from tmp_path, error kind, phrases)
CASES = {
    "frame-runs-missing": (FRAME, lambda t: [t / "nowhere", "--out", t / "t.csv"],
                           "InputFileError", ["nowhere does not exist",
                                             "Give the folder that holds one sub-folder per CSC run"]),
    "frame-runs-empty": (FRAME, lambda t: [_empty(t), "--out", t / "t.csv"], "DataError",
                         ["no CSC runs found", "Give the folder that holds the run folders"]),
    "frame-only-an-unfinished-run": (FRAME, lambda t: [_unfinished(t), "--out", t / "t.csv"],
                                     "DataError", ["no complete CSC run", "status 'interrupted'",
                                                   "Rerun it (CSC_Batch.py redoes unfinished jobs)"]),
    "frame-calving-of-an-unfinished-run": (FRAME, lambda t: [_unfinished(t), "--out",
                                                             t / "t.csv", "--calving"],
                                           "DataError", ["no complete CSC run", "Rerun it"]),
    "frame-two-tables-at-once": (FRAME, lambda t: [_empty(t), "--out", t / "t.csv", "--calving",
                                                   "--valley-margin", t],
                                 "ConfigError", ["--calving and --valley-margin each build their "
                                                 "own table", "give one of them"]),
    "frame-valley-margin-on-another-grid": (FRAME, _margin_on_another_grid, "RasterError",
                                            ["VM_imgA.tif is not on the grid of imgA_classified.tif",
                                             "transform differs", "re-export it"]),
    "histogram-unfinished-run": (HIST, lambda t: [_unfinished(t) / "Sweep_patch7"], None,
                                 ["Sweep_patch7 is unfinished", "not marked complete",
                                  "Rerun it"]),
    "histogram-run-missing": (HIST, lambda t: [t / "nowhere_patch7"], None, ["nowhere_patch7 does not exist",
                                                                           "Give one CSC run folder"]),
    "summary-runs-empty": (SUMMARY, lambda t: [_empty(t), "--out", t / "s.png"], None,
                           ["no CSC runs found", "Give the folder that holds the run folders"]),
    "clear-joint-runs-missing": (CLEAR, lambda t: [t / "nowhere"], None,
                                 ["runs folder", "nowhere does not exist", "Give the folder"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_results_scripts_refuse_what_is_not_a_complete_run(case, tmp_path):
    script, make, kind, phrases = CASES[case]
    args = make(tmp_path)
    before = snapshot(tmp_path)
    outcome = run_entry(script, *args).refused(*([kind] if kind else []), *phrases)
    assert "ERROR" in outcome.output
    assert snapshot(tmp_path) == before  # no table or figure that would look complete
    assert not (tmp_path / "t.csv").exists() and not (tmp_path / "s.png").exists()


def test_clear_joint_keeps_a_single_model_run_named_like_a_joint_one(tmp_path):
    runs = tmp_path / "runs"
    joint = tmp_path / "joint"
    joint.mkdir()
    (joint / "img1.tif").write_bytes(b"x")
    single = full_run(runs, "Jointbreen_patch1", "Jk1", ["img1", "img2"],
                      config={"Experiment": "J", "Kernel_size": 1, "size": 50},
                      training={"tensor": "Jointbreen_T_float16.npy", "max_epochs": 10})
    before = snapshot(single)
    outcome = run_entry(CLEAR, runs, "--joint-images", joint)
    assert outcome.code == 0 and "Traceback" not in outcome.output
    assert snapshot(single) == before


def test_an_unknown_validation_is_advised_with_a_fix_that_exists(tmp_path):
    """The advice names CSC.py's --validation, and CSC.py has that input (not circular)."""
    from seeice.config.inputs import parse_header
    from repo_paths import REPO

    config = helheim_config()
    del config["Validation"]
    del config["Glacier"]
    config["PredictPath"] = "Data/Kangerlussuaq"
    known_run(tmp_path / "runs", name="sweepA_patch7", config=config)
    outcome = run_entry(FRAME, tmp_path / "runs", "--out", tmp_path / "t.csv")
    assert outcome.code == 0 and "Traceback" not in outcome.output
    assert "--validation seen|unseen" in outcome.text
    flags = {s.flag for s in parse_header(
        (REPO / "CSC_Application" / "CSC.py").read_text(encoding="utf-8"))[1]}
    assert "--validation" in flags and "--glacier" in flags

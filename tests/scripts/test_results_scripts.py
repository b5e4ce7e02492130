"""The results scripts of Batch/ on hand-made CSC runs: BuildDataFrame, ErrorHistogram, ClearJoint, SweepSummary."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from results_helpers import (CSC_WEIGHTED, FRONT_A, FRONT_B, FRONT_STATS, helheim_config, is_png, joint_runs,
                             known_run, rock_rasters, write_geotiff)
from repo_paths import REPO


@pytest.fixture
def joint_setup(tmp_path):
    """The runs of :func:`results_helpers.joint_runs` under ``tmp_path``."""
    return joint_runs(tmp_path)


def run_script(name: str, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, MPLBACKEND="Agg")
    return subprocess.run([sys.executable, str(REPO / "Batch" / name), *map(str, args)],
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
    # per image, as the published valley-margin check saved them (150 margin pixels, 20 m each)
    per_image = np.load(run / "valley_margins" / "imgA_vmdistances.npy")
    assert per_image.shape == (150,) and np.all(per_image == 20.0)
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
    # the catastrophic image (1200 m > 1000 m) gets a histogram of its own, the other not
    assert is_png(run / "error_histogram_imgB.png")
    assert not (run / "error_histogram_imgA.png").exists()
    assert (run / "run.json").exists() is False  # the run's own record is not overwritten


def test_clear_joint_script(joint_setup):
    runs, joint, with_json, by_name, single = joint_setup
    before = {p for p in runs.rglob("*") if p.is_file()}
    result = run_script("ClearJoint.py", runs, "--joint-images", joint, "--dry-run",
                        "--joint-runs", by_name.name)
    assert result.returncode == 0, result.stderr
    assert {p for p in runs.rglob("*") if p.is_file()} == before
    result = run_script("ClearJoint.py", runs, "--joint-images", joint, "--joint-runs",
                        by_name.name)
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

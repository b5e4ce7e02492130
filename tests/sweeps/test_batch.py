"""Batch sweeps: the up-front check, resume after a kill, failure isolation, the Ray engine."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from seeice.sweeps.batch import run_sweep
from seeice.sweeps.jobs import check_jobs, read_jobs, run_job
from seeice.errors import JobsError

from csc_helpers import tiny_tile_model, write_scenes
from repo_paths import REPO

COLUMNS = ["Model", "DataSource", "OutFolder", "ExpShortHand", "Dims", "PatchSize", "TileSize",
           "WholeImage", "Patience", "Done"]


@pytest.fixture(scope="module")
def sweep_setup(tmp_path_factory):
    """A model folder and two small scene folders."""
    root = tmp_path_factory.mktemp("sweep")
    tiny_tile_model(root / "models", name="tiny")
    for name, seed in (("A", 1), ("B", 2), ("C", 3)):
        write_scenes(root / "data" / name, seeds=[seed], size=200)
    return root


def _jobs(root, tmp_path, sources=("A", "B", "C"), extra=True):
    rows = []
    for i, source in enumerate(sources):
        row = {"Note": f"user note {i}"} if extra else {}
        row.update({"Model": "tiny", "DataSource": str(root / "data" / source),
                    "OutFolder": str(tmp_path / "runs" / f"job{i}"), "ExpShortHand": f"J{i}",
                    "Dims": 4, "PatchSize": 1, "TileSize": 32, "WholeImage": i % 2,
                    "Patience": 2, "Done": 0})
        rows.append(row)
    path = tmp_path / "jobs.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_check_reports_every_bad_row_and_runs_nothing(sweep_setup, tmp_path):
    jobs_csv = _jobs(sweep_setup, tmp_path, sources=("A", "missing", "C"))
    frame = pd.read_csv(jobs_csv)
    frame.loc[2, "PatchSize"] = 9
    frame.loc[2, "TileSize"] = 50
    frame.to_csv(jobs_csv, index=False)
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, sweep_setup / "models", progress=False)
    message = str(caught.value)
    assert "row 3 (job 1), column DataSource" in message
    assert "row 4 (job 2), column PatchSize: '9'" in message
    assert "column TileSize: 50 but model tiny.keras was trained on 32 px" in message
    assert not (tmp_path / "runs").exists()
    assert read_jobs(jobs_csv)["Done"].tolist() == ["0", "0", "0"]


def test_missing_columns_are_listed(sweep_setup, tmp_path):
    jobs_csv = tmp_path / "jobs.csv"
    pd.DataFrame([{"Model": "tiny", "DataSource": "x"}]).to_csv(jobs_csv, index=False)
    problems = check_jobs(read_jobs(jobs_csv), sweep_setup / "models")
    assert len(problems) == 1 and "OutFolder" in problems[0] and "PatchSize" in problems[0]


def test_a_failing_job_is_recorded_and_the_sweep_goes_on(sweep_setup, tmp_path):
    data_b = tmp_path / "B_copy"
    shutil.copytree(sweep_setup / "data" / "B", data_b)
    jobs_csv = _jobs(sweep_setup, tmp_path)
    frame = pd.read_csv(jobs_csv)
    frame.loc[1, "DataSource"] = str(data_b)
    frame.to_csv(jobs_csv, index=False)

    def runner(config):
        note = run_job(config)
        if config["Experiment"] == "J0":
            shutil.rmtree(data_b)  # job 1's folder disappears after the check
        return note

    result = run_sweep(jobs_csv, sweep_setup / "models", runner=runner, progress=False)
    assert not result.ok and list(result.failed) == [1]
    jobs = read_jobs(jobs_csv)
    assert jobs["Done"].tolist() == ["1", "0", "1"]
    assert jobs.loc[1, "Error"].startswith("InputFileError") and "does not exist" in jobs.loc[1, "Error"]
    assert list(jobs.columns) == ["Note"] + COLUMNS + ["Error"]
    assert jobs["Note"].tolist() == ["user note 0", "user note 1", "user note 2"]
    assert (tmp_path / "runs" / "job2_patch1" / "summary.csv").is_file()


def test_sweep_killed_in_its_second_job_resumes_with_that_job_only(sweep_setup, tmp_path):
    jobs_csv = _jobs(sweep_setup, tmp_path, sources=("A", "B"))
    command = [sys.executable, str(REPO / "Batch" / "CSC_Batch.py"), str(jobs_csv),
               "--model-folder", str(sweep_setup / "models")]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    sweep = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    deadline = time.time() + 240
    while time.time() < deadline and sweep.poll() is None:
        if read_jobs(jobs_csv)["Done"].tolist()[0] == "1":
            break
        time.sleep(0.2)
    assert sweep.poll() is None, "the sweep ended before it could be killed in job 2"
    time.sleep(1.0)
    sweep.send_signal(signal.SIGKILL)
    sweep.wait()

    jobs = read_jobs(jobs_csv)  # still a valid CSV
    assert jobs["Done"].tolist() == ["1", "0"]
    finished_first = (tmp_path / "runs" / "job0_patch1" / "summary.csv").stat().st_mtime

    rerun = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert read_jobs(jobs_csv)["Done"].tolist() == ["1", "1"]
    assert (tmp_path / "runs" / "job0_patch1" / "summary.csv").stat().st_mtime == finished_first
    assert "1 job(s) to run, 1 already done" in rerun.stderr


def test_example_jobs_csv_has_the_documented_columns():
    jobs = read_jobs(REPO / "Batch" / "jobs_example.csv")
    assert list(jobs.columns[:len(COLUMNS)]) == COLUMNS
    assert set(jobs["PatchSize"].astype(int)) <= {1, 3, 5, 7, 15}


def test_ray_engine_gives_the_same_outputs_as_the_local_one(sweep_setup, tmp_path):
    pytest.importorskip("ray", reason="Ray is optional (requirements-ray.txt); .ci/run installs it")
    local_dir, ray_dir = tmp_path / "local", tmp_path / "ray"
    local_dir.mkdir()
    ray_dir.mkdir()
    local_csv = _jobs(sweep_setup, local_dir, sources=("A", "C"))
    ray_csv = _jobs(sweep_setup, ray_dir, sources=("A", "C"))
    assert run_sweep(local_csv, sweep_setup / "models", progress=False).ok
    assert run_sweep(ray_csv, sweep_setup / "models", engine="ray", progress=False).ok
    assert read_jobs(ray_csv)["Done"].tolist() == ["1", "1"]
    for job in ("job0_patch1", "job1_patch1"):
        local_files = sorted(p.name for p in (local_dir / "runs" / job).iterdir())
        ray_files = sorted(p.name for p in (ray_dir / "runs" / job).iterdir())
        assert local_files == ray_files
        local_summary = pd.read_csv(local_dir / "runs" / job / "summary.csv")
        ray_summary = pd.read_csv(ray_dir / "runs" / job / "summary.csv")
        assert local_summary["CNN_F1"].tolist() == ray_summary["CNN_F1"].tolist()
        assert ray_summary["CSC_F1"].tolist() == pytest.approx(local_summary["CSC_F1"].tolist(),
                                                               abs=0.02)

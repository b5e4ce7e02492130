"""Sweeps lose nothing: shared output folders, duplicate rows, foreign folders and read-only CSVs
are refused before any job runs; CSV columns named for CSC inputs set them; CSV paths start
from the CSV's folder.

Jobs run through a stand-in runner (``run_sweep(runner=...)``), so no CSC is trained here.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pandas as pd
import pytest
from csc_helpers import tiny_tile_model

from seeice.config.run_record import JOB_KEY
from seeice.errors import JobsError
from seeice.sweeps import batch
from seeice.sweeps.batch import run_sweep
from seeice.sweeps.columns import input_columns
from seeice.sweeps.jobs import check_jobs, job_config, job_key, read_jobs
from seeice.sweeps.ownership import job_identity


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """A model folder holding ``tiny`` (32 px tiles, 4 bands)."""
    folder = tmp_path_factory.mktemp("models")
    tiny_tile_model(folder, name="tiny")
    return folder


class Runner:
    """Stand-in for :func:`seeice.sweeps.jobs.run_job`: records each job's CSC inputs and
    writes one file into the job's output folder."""

    def __init__(self):
        self.configs = []

    def __call__(self, config):
        self.configs.append(config)
        out = Path(f"{config['ScorePath']}_patch{config['Kernel_size']}")
        out.mkdir(parents=True, exist_ok=True)
        (out / "summary.csv").write_text("Image\n", encoding="utf-8")
        return ""


def job_row(data: Path, out: str, exp: str = "J", patch: int = 1, done: int = 0, **extra) -> dict:
    row = {"Model": "tiny", "DataSource": str(data), "OutFolder": out, "ExpShortHand": exp,
           "Dims": 4, "PatchSize": patch, "TileSize": 32, "WholeImage": 1, "Patience": 2,
           "Done": done}
    row.update(extra)
    return row


def write_jobs(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def finished_run(folder: Path) -> dict[Path, bytes]:
    """A finished run folder (as a completed job leaves it); returns its files and contents."""
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text("Image,CSC_F1\nimgA,0.9\n", encoding="utf-8")
    (folder / "OvPdat_imgA_Jk1.npz").write_bytes(b"results")
    (folder / "run.json").write_text(json.dumps({"script": "CSC_Batch.py",
                                                 "status": "complete"}), encoding="utf-8")
    return snapshot(folder)


def snapshot(folder: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def data(tmp_path):
    folder = tmp_path / "data" / "A"
    folder.mkdir(parents=True)
    return folder


# --------------------------------------------------------------------------------------------
# Data lost: output folders
# --------------------------------------------------------------------------------------------

def test_pending_job_on_a_finished_jobs_folder_is_refused_and_the_folder_kept(models, data,
                                                                             tmp_path):
    out = str(tmp_path / "runs" / "Hel")
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, out, "J", done=1),
                                                  job_row(data, out, "K", done=0)])
    before = finished_run(tmp_path / "runs" / "Hel_patch1")
    csv_before = jobs_csv.read_bytes()
    runner = Runner()
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, models, runner=runner, progress=False)
    message = str(caught.value)
    assert "rows 2, 3 (jobs 0, 1) all write the output folder" in message
    assert "Hel_patch1" in message and "different OutFolder" in message
    assert runner.configs == []
    assert snapshot(tmp_path / "runs" / "Hel_patch1") == before
    assert jobs_csv.read_bytes() == csv_before


def test_two_pending_jobs_with_one_output_folder_are_refused(models, data, tmp_path):
    out = str(tmp_path / "runs" / "Hel")
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, out, "J"),
                                                  job_row(data, out, "K", Patience=5),
                                                  job_row(data, out, "L", patch=3)])
    runner = Runner()
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, models, runner=runner, progress=False)
    assert "rows 2, 3 (jobs 0, 1) all write the output folder" in str(caught.value)
    assert "row 4" not in str(caught.value)  # patch 3 writes Hel_patch3: its own folder
    assert runner.configs == [] and not (tmp_path / "runs").exists()


def test_duplicate_rows_are_refused(models, data, tmp_path):
    out = str(tmp_path / "runs" / "Hel")
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, out, Note="first"),
                                                  job_row(data, str(tmp_path / "other")),
                                                  job_row(data, out, Note="again")])
    runner = Runner()
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, models, runner=runner, progress=False)
    message = str(caught.value)
    assert "rows 2, 4 (jobs 0, 2) are duplicates of one job; delete all but one" in message
    assert "all write" not in message  # said once, as duplicates
    assert runner.configs == []


def test_every_problem_is_reported_at_once(models, data, tmp_path):
    out = str(tmp_path / "runs" / "Hel")
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, out), job_row(data, out),
                                                  job_row(tmp_path / "missing", out, "K")])
    problems = check_jobs(read_jobs(jobs_csv), models, jobs_csv=jobs_csv)
    text = "\n".join(problems)
    assert "duplicates" in text and "column DataSource" in text


def test_a_folder_of_another_origin_is_refused_and_kept(models, data, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, str(tmp_path / "runs" / "A")),
                                                  job_row(data, str(tmp_path / "runs" / "B"))])
    published = tmp_path / "runs" / "A_patch1"
    published.mkdir(parents=True)
    (published / "OvPdat_imgA_Xk1.npz").write_bytes(b"published")
    by_csc = tmp_path / "runs" / "B_patch1"
    before = {**snapshot(published), **finished_run(by_csc)}
    runner = Runner()
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, models, runner=runner, progress=False)
    message = str(caught.value)
    assert "row 2 (job 0): output folder" in message and "no run.json" in message
    assert "row 3 (job 1): output folder" in message and "made by CSC_Batch.py" in message
    assert "move or delete that folder yourself, or give this row another OutFolder" in message
    assert runner.configs == []
    assert {**snapshot(published), **snapshot(by_csc)} == before


def test_the_jobs_own_unfinished_run_is_replaced_and_its_complete_run_kept(models, data,
                                                                          tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, str(tmp_path / "runs" / "A")),
                                                  job_row(data, str(tmp_path / "runs" / "B"))])
    jobs = read_jobs(jobs_csv)
    columns = input_columns(jobs.columns)
    for index, status in ((0, "running"), (1, "complete")):
        folder = tmp_path / "runs" / f"{'AB'[index]}_patch1"
        folder.mkdir(parents=True)
        (folder / "partial.npz").write_bytes(b"half")
        identity = job_identity(jobs_csv, index, job_key(jobs.loc[index], columns))
        (folder / "run.json").write_text(json.dumps({"status": status, "job": identity}),
                                         encoding="utf-8")
    runner = Runner()
    result = run_sweep(jobs_csv, models, runner=runner, progress=False)
    assert result.ok and sorted(result.finished) == [0, 1]
    assert [c["Experiment"] for c in runner.configs] == ["J"]  # job 1 was complete: not rerun
    assert not (tmp_path / "runs" / "A_patch1" / "partial.npz").exists()
    assert (tmp_path / "runs" / "B_patch1" / "partial.npz").exists()
    assert read_jobs(jobs_csv)["Done"].tolist() == ["1", "1"]
    identity = runner.configs[0][JOB_KEY]
    assert identity["jobs_csv"] == os.path.abspath(jobs_csv) and identity["row"] == 2


def test_an_edited_row_does_not_own_its_old_folder(models, data, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, str(tmp_path / "runs" / "A"))])
    jobs = read_jobs(jobs_csv)
    identity = job_identity(jobs_csv, 0, job_key(jobs.loc[0], input_columns(jobs.columns)))
    folder = tmp_path / "runs" / "A_patch1"
    folder.mkdir(parents=True)
    (folder / "run.json").write_text(json.dumps({"status": "running", "job": identity}))
    write_jobs(jobs_csv, [job_row(data, str(tmp_path / "runs" / "A"), Patience=9)])
    with pytest.raises(JobsError, match="made with other job inputs"):
        run_sweep(jobs_csv, models, runner=Runner(), progress=False)
    assert (folder / "run.json").is_file()


# --------------------------------------------------------------------------------------------
# Data lost: a jobs CSV the sweep cannot save
# --------------------------------------------------------------------------------------------

def test_read_only_jobs_csv_is_refused_before_any_job(models, data, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv",
                          [job_row(data, str(tmp_path / "runs" / "A"), done=1),
                           job_row(data, str(tmp_path / "runs" / "B"))])
    before = finished_run(tmp_path / "runs" / "A_patch1")
    csv_before = jobs_csv.read_bytes()
    os.chmod(jobs_csv, 0o444)
    runner = Runner()
    try:
        with pytest.raises(JobsError) as caught:
            run_sweep(jobs_csv, models, runner=runner, progress=False)
    finally:
        os.chmod(jobs_csv, 0o644)
    assert "is read-only" in str(caught.value) and "chmod u+w jobs.csv" in str(caught.value)
    assert runner.configs == [] and not (tmp_path / "runs" / "B_patch1").exists()
    assert snapshot(tmp_path / "runs" / "A_patch1") == before
    assert jobs_csv.read_bytes() == csv_before


def test_a_csv_that_cannot_be_saved_after_a_job_stops_the_sweep_and_keeps_the_job(
        models, data, tmp_path, monkeypatch):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [job_row(data, str(tmp_path / "runs" / "A")),
                                                  job_row(data, str(tmp_path / "runs" / "B"))])

    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied", str(jobs_csv))

    monkeypatch.setattr(batch, "write_csv", refuse)
    runner = Runner()
    with pytest.raises(JobsError) as caught:
        run_sweep(jobs_csv, models, runner=runner, progress=False)
    assert "job 0 finished, but" in str(caught.value) and "outputs are kept" in str(caught.value)
    assert len(runner.configs) == 1  # the sweep stopped: no job runs unrecorded
    assert (tmp_path / "runs" / "A_patch1" / "summary.csv").is_file()


# --------------------------------------------------------------------------------------------
# Extra columns and paths
# --------------------------------------------------------------------------------------------

def test_a_column_named_for_a_csc_input_sets_it(models, data, tmp_path, caplog):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [
        job_row(data, "runs/A", CNNsamples=1234, **{"smallest-element": 0}, Note="x"),
        job_row(data, "runs/B", CNNsamples="", **{"smallest-element": ""}, Note="y"),
    ])
    jobs = read_jobs(jobs_csv)
    columns = input_columns(jobs.columns)
    first = job_config(jobs.loc[0], models, tmp_path, columns)
    second = job_config(jobs.loc[1], models, tmp_path, columns)
    assert first["CNNsamples"] == 1234 and first["SmallestElement"] == 0
    assert "CNNsamples" not in second and "SmallestElement" not in second  # CSC defaults
    assert "Note" not in first

    runner = Runner()
    with caplog.at_level(logging.INFO, logger="seeice"):
        assert run_sweep(jobs_csv, models, runner=runner, progress=False).ok
    assert runner.configs[0]["CNNsamples"] == 1234
    unused = [r.getMessage() for r in caplog.records if "name no CSC user input" in r.getMessage()]
    assert len(unused) == 1 and "Note" in unused[0] and "CNNsamples" in unused[0]
    assert read_jobs(jobs_csv)["Note"].tolist() == ["x", "y"]


def test_bad_input_columns_are_refused(models, data, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [
        job_row(data, "runs/A", CNNsamples="lots", Kernel_size=3, Demo=1)])
    problems = "\n".join(check_jobs(read_jobs(jobs_csv), models, jobs_csv=jobs_csv))
    assert "column Kernel_size sets Kernel_size (--patch-size), which column PatchSize" in problems
    assert "column Demo: Demo (--demo) cannot be set per job" in problems
    assert "row 2 (job 0), column CNNsamples: CNNsamples (--samples) must be a whole number" in problems
    assert "Write a value such as 500000 in that cell" in problems


def test_relative_paths_resolve_against_the_csv_folder(models, tmp_path, monkeypatch):
    project = tmp_path / "project"
    (project / "data" / "A").mkdir(parents=True)
    jobs_csv = write_jobs(project / "jobs" / "jobs.csv",
                          [job_row(Path("../data/A"), "../runs/Hel")])
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert check_jobs(read_jobs(jobs_csv), models, jobs_csv=jobs_csv) == []
    runner = Runner()
    assert run_sweep(jobs_csv, models, runner=runner, progress=False).ok
    config = runner.configs[0]
    assert Path(config["PredictPath"]).resolve() == (project / "data" / "A").resolve()
    assert Path(config["ScorePath"]).resolve() == (project / "runs" / "Hel").resolve()
    assert (project / "runs" / "Hel_patch1" / "summary.csv").is_file()
    assert not (elsewhere / "runs").exists()


def test_a_missing_relative_folder_names_where_it_was_looked_for(models, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs" / "jobs.csv", [job_row(Path("data/A"), "runs/A")])
    problems = "\n".join(check_jobs(read_jobs(jobs_csv), models, jobs_csv=jobs_csv))
    assert f"read as {tmp_path / 'jobs' / 'data' / 'A'}" in problems
    assert "relative paths in a jobs CSV start from its folder" in problems


def test_example_jobs_csv_paths_start_from_its_folder():
    repo = Path(__file__).resolve().parents[2]
    jobs = read_jobs(repo / "Batch" / "jobs_example.csv")
    assert all(p.startswith("../demo_output/") for p in jobs["DataSource"])
    assert all(p.startswith("../demo_output/") for p in jobs["OutFolder"])


def test_a_validation_column_sets_seen_or_unseen_per_job(models, data, tmp_path):
    jobs_csv = write_jobs(tmp_path / "jobs.csv", [
        job_row(data, "runs/A", Validation="Seen"), job_row(data, "runs/B", Validation=""),
        job_row(data, "runs/C", Validation="unseen")])
    jobs = read_jobs(jobs_csv)
    columns = input_columns(jobs.columns)
    configs = [job_config(jobs.loc[i], models, tmp_path, columns) for i in range(3)]
    assert configs[0]["Validation"] == "seen" and configs[2]["Validation"] == "unseen"
    assert "Validation" not in configs[1]  # empty: inferred by the results tables
    bad = write_jobs(tmp_path / "bad.csv", [job_row(data, "runs/D", Validation="maybe")])
    problems = "\n".join(check_jobs(read_jobs(bad), models, jobs_csv=bad))
    assert "column Validation: Validation (--validation) is 'maybe'; valid choices are seen" \
        in problems

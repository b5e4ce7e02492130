"""Bad jobs CSVs of CSC_Batch.py: every one refused before the first job (exit 2), the CSV,
finished runs and other folders left exactly as they were.
"""

from __future__ import annotations

import json
import os
import stat

import pandas as pd
import pytest

from bad_input_helpers import run_entry, snapshot, tiny_model

BATCH = "Batch/CSC_Batch.py"
COLUMNS = ["Model", "DataSource", "OutFolder", "ExpShortHand", "Dims", "PatchSize", "TileSize",
           "WholeImage", "Patience", "Done"]


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("sweep_models")
    tiny_model(folder)
    return folder


def row(out="runs/A", done=0, **extra):
    values = {"Model": "tiny", "DataSource": "data", "OutFolder": out, "ExpShortHand": "J",
              "Dims": 4, "PatchSize": 1, "TileSize": 32, "WholeImage": 1, "Patience": 2,
              "Done": done}
    values.update(extra)
    return values


def finished(folder):
    folder.mkdir(parents=True)
    (folder / "summary.csv").write_text("Image,CSC_F1\nimgA,0.9\n")
    (folder / "run.json").write_text(json.dumps({"script": "CSC_Batch.py", "status": "complete"}))


def _write(tmp_path, rows, sep=","):
    path = tmp_path / "jobs.csv"
    pd.DataFrame(rows).to_csv(path, index=False, sep=sep)
    return path


def _read_only(tmp_path):
    path = _write(tmp_path, [row()])
    path.chmod(stat.S_IRUSR | stat.S_IRGRP)
    return path


def _other_origin(tmp_path):
    (tmp_path / "runs" / "A_patch1").mkdir(parents=True)
    (tmp_path / "runs" / "A_patch1" / "notes.txt").write_text("mine")
    return _write(tmp_path, [row()])


def _finished_then_pending(tmp_path):
    finished(tmp_path / "runs" / "A_patch1")  # a finished run of an earlier sweep
    return _write(tmp_path, [row(Patience=5)])


def _missing_columns(tmp_path):
    path = tmp_path / "jobs.csv"
    pd.DataFrame([row()]).drop(columns=["Dims", "Done"]).to_csv(path, index=False)
    return path


#: case -> (write the CSV under tmp_path, phrases of the message)
CASES = {
    "semicolon-separated": (lambda t: _write(t, [row()], sep=";"),
                            ["separates its columns with ';'", "Save it comma-separated"]),
    "tab-separated": (lambda t: _write(t, [row()], sep="\t"),
                      ["separates its columns with '\\t'", "Save it comma-separated"]),
    "columns-missing": (_missing_columns, ["missing column(s): Dims, Done",
                                           "add them to the header line"]),
    "csv-missing": (lambda t: t / "absent.csv", ["jobs CSV", "absent.csv does not exist"]),
    "read-only-csv": (_read_only, ["is read-only", "chmod u+w jobs.csv"]),
    "two-rows-one-folder": (lambda t: _write(t, [row(), row(Patience=5)]),
                            ["rows 2, 3 (jobs 0, 1) all write the output folder", "A_patch1"]),
    "done-row-and-pending-row-share-a-folder": (
        lambda t: _write(t, [row(done=1), row(Patience=5)]),
        ["rows 2, 3 (jobs 0, 1) all write the output folder"]),
    "duplicate-rows": (lambda t: _write(t, [row(), row()]),
                       ["rows 2, 3 (jobs 0, 1) are duplicates of one job",
                        "delete all but one of them"]),
    "pending-job-on-a-finished-folder": (_finished_then_pending,
                                         ["A_patch1", "move or delete that folder yourself",
                                          "give this row another OutFolder"]),
    "folder-of-another-origin": (_other_origin, ["holds files but no run.json",
                                                 "move or delete that folder yourself"]),
    "model-not-in-folder": (lambda t: _write(t, [row(Model="absent")]),
                            ["column Model: no 'absent' (.keras or .h5)", "--model-folder"]),
    "data-source-missing": (lambda t: _write(t, [row(DataSource="nowhere")]),
                            ["folder 'nowhere' does not exist", "relative paths in a jobs CSV start "
                             "from its folder", "correct the cell"]),
    "input-column-bad-value": (lambda t: _write(t, [row(CNNsamples="lots")]),
                               ["column CNNsamples", "must be a whole number",
                                "Write a value such as 500000 in that cell"]),
    "input-column-not-per-job": (lambda t: _write(t, [row(Demo=1)]),
                                 ["column Demo", "cannot be set per job"]),
    "patch-size-not-offered": (lambda t: _write(t, [row(PatchSize=9)]),
                               ["column PatchSize: '9' is not one of 1, 3, 5, 7, 15",
                                "write one of them"]),
    "dims-word": (lambda t: _write(t, [row(Dims="four")]),
                  ["column Dims: 'four' is not a whole number", "write one"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_bad_jobs_csv_is_refused_before_the_first_job(case, models, tmp_path):
    (tmp_path / "data").mkdir()
    make, phrases = CASES[case]
    jobs_csv = make(tmp_path)
    before = snapshot(tmp_path)
    try:
        run_entry(BATCH, jobs_csv, "--model-folder", models).refused(
            "InputFileError" if case == "csv-missing" else "JobsError", *phrases)
    finally:
        if jobs_csv.exists():
            os.chmod(jobs_csv, stat.S_IRUSR | stat.S_IWUSR)
    assert snapshot(tmp_path) == before  # the CSV, finished runs and other folders untouched
    assert not (tmp_path / "runs" / "J_patch1").exists()

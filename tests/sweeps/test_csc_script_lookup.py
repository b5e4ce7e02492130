"""Jobs-CSV columns find CSC.py's user inputs wherever the library is installed."""

from __future__ import annotations

import shutil
import sys

from repo_paths import REPO

from seeice.sweeps import columns


def test_csc_script_found_from_the_running_scripts_repository(tmp_path, monkeypatch):
    # A library installed from a wheel: nothing beside it; the user runs Batch/CSC_Batch.py
    # of a checkout elsewhere.
    checkout = tmp_path / "checkout"
    (checkout / "CSC_Application").mkdir(parents=True)
    (checkout / "Batch").mkdir()
    shutil.copy(REPO / "CSC_Application" / "CSC.py", checkout / "CSC_Application" / "CSC.py")
    monkeypatch.setattr(columns, "__file__", str(tmp_path / "site-packages/seeice/sweeps/columns.py"))
    monkeypatch.setattr(sys, "argv", [str(checkout / "Batch" / "CSC_Batch.py")])
    monkeypatch.chdir(tmp_path)
    assert columns.find_csc_script() == checkout / "CSC_Application" / "CSC.py"


def test_no_csc_script_anywhere_is_said(tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(columns, "__file__", str(tmp_path / "site-packages/seeice/sweeps/columns.py"))
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "elsewhere" / "run.py")])
    monkeypatch.chdir(tmp_path)
    columns.csc_input_specs.cache_clear()
    try:
        assert columns.csc_input_specs() == ()
        assert "no jobs-CSV column can set a CSC user input" in caplog.text
        assert "CNNsamples" in columns.input_columns(["CNNsamples"]).unknown
    finally:
        columns.csc_input_specs.cache_clear()


def test_samples_column_sets_the_csc_input_in_the_checkout():
    columns.csc_input_specs.cache_clear()
    found = columns.input_columns(["CNNsamples"])
    assert found.overrides["CNNsamples"].name == "CNNsamples" and not found.unknown

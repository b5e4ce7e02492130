"""The demo's per-class F1 table and the warning that names weak classes."""

from __future__ import annotations

import logging

import pandas as pd

from seeice.pipeline.demo import log_per_class_f1


def _report(path, f1_by_class, support_by_class):
    rows = [{"Class": c, "Precision": f, "Recall": f, "F1_score": f, "Support": support_by_class[c]}
            for c, f in f1_by_class.items()]
    rows += [{"Class": "Accuracy", "Precision": None, "Recall": None, "F1_score": 0.9, "Support": 10},
             {"Class": "Macro_avg", "Precision": 0.5, "Recall": 0.5, "F1_score": 0.5, "Support": 10},
             {"Class": "Weighted_avg", "Precision": 0.9, "Recall": 0.9, "F1_score": 0.9, "Support": 10}]
    pd.DataFrame(rows).to_csv(path, index=False)


def test_weak_classes_are_named(tmp_path, caplog):
    support = {"open water": 100, "melange": 8, "rock": 50, "snow on rock": 0}
    _report(tmp_path / "CNN_s1_Demok7.csv",
            {"open water": 0.9, "melange": 0.0, "rock": 0.8, "snow on rock": 0.0}, support)
    _report(tmp_path / "CSC_s1_Demok7.csv",
            {"open water": 0.99, "melange": 0.41, "rock": 0.69, "snow on rock": 0.0}, support)
    with caplog.at_level(logging.INFO, logger="seeice"):
        weak = log_per_class_f1(tmp_path, "s1", "Demok7")
    # absent classes (support 0) are not named; 0.69 < 0.7 is
    assert weak == ["melange", "rock"]
    assert "melange" in caplog.text and "0.410" in caplog.text and "weak classes" in caplog.text
    assert "snow on rock" not in caplog.text


def test_no_labels_no_table(tmp_path, caplog):
    with caplog.at_level(logging.INFO, logger="seeice"):
        assert log_per_class_f1(tmp_path, "s1", "Demok7") == []
    assert "not available" in caplog.text

"""The pooled per-class report of one run folder (seeice.results.folder_report)."""

from __future__ import annotations

import pytest

from seeice.errors import DataError
from seeice.results.folder_report import folder_report

from results_helpers import CNN_WEIGHTED, CSC_WEIGHTED, helheim_config, known_run


def test_per_class_reports_of_both_phases(tmp_path):
    run = known_run(tmp_path, "Hel_VGG16_50_RGBNIR_patch7")  # published: no run.json
    report = folder_report(run, subsample=None)
    cnn = report[report.CSC_Phase == 1].set_index("Class")
    csc = report[report.CSC_Phase == 2].set_index("Class")
    # The known example (results_helpers): class 1 support 2, glacier ice 3, rock 1.
    assert list(cnn.index) == ["open water", "glacier ice", "rock", "Accuracy", "Macro_avg",
                               "Weighted_avg"]
    assert cnn.loc["open water", ["Precision", "Recall", "F1_score", "Support"]].tolist() == \
        pytest.approx([1.0, 0.5, 0.667, 2])
    assert cnn.loc["glacier ice", "F1_score"] == pytest.approx(0.857)
    assert cnn.loc["Weighted_avg", "F1_score"] == pytest.approx(CNN_WEIGHTED, abs=5e-4)
    assert csc.loc["rock", ["Precision", "Recall", "F1_score"]].tolist() == [0, 0, 0]
    assert csc.loc["Accuracy", "F1_score"] == pytest.approx(4 / 6, abs=5e-4)
    assert csc.loc["Weighted_avg", "F1_score"] == pytest.approx(CSC_WEIGHTED, abs=5e-4)
    assert set(report["Run"]) == {run.name}


def test_an_unfinished_run_is_refused(tmp_path):
    run = known_run(tmp_path, config=helheim_config(), extra={"status": "running"})
    with pytest.raises(DataError, match="unfinished"):
        folder_report(run)

"""Tests of seeice.metrics.scoring: classification reports, scored pixels, front distances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seeice.io.atomic import write_csv
from seeice.classes import GLACIER_SCHEME
from seeice.errors import DataError, FrontNotFoundError, RasterError
from seeice.metrics.scoring import (distance_stats, front_distances, score_classification,
                               scored_pixels, weighted_f1)

S = GLACIER_SCHEME
COLUMNS = ["Class", "Precision", "Recall", "F1_score", "Support"]

TRUTH = np.array([[1, 1, 1, 1],
                  [2, 2, 2, 2],
                  [0, 0, 3, 3]], np.uint8)
PRED = np.array([[1, 1, 1, 2],
                 [2, 2, 2, 2],
                 [5, 5, 3, 0]], np.uint8)   # 5 only where unlabelled; one 0 on a label


def test_report_known_values():
    frame = score_classification(TRUTH, PRED, S)
    assert list(frame.columns) == COLUMNS
    assert list(frame["Class"]) == ["open water", "iceberg water", "melange",
                                    "Accuracy", "Macro_avg", "Weighted_avg"]
    rows = frame.set_index("Class")
    assert rows.loc["open water", "Precision"] == pytest.approx(1.0)
    assert rows.loc["open water", "Recall"] == pytest.approx(0.75)
    assert rows.loc["open water", "F1_score"] == pytest.approx(0.857, abs=1e-3)
    assert rows.loc["iceberg water", "Precision"] == pytest.approx(0.8)
    assert rows.loc["iceberg water", "F1_score"] == pytest.approx(0.889, abs=1e-3)
    # the unclassified prediction counts as a miss of melange
    assert rows.loc["melange", "Recall"] == pytest.approx(0.5)
    assert rows.loc["melange", "F1_score"] == pytest.approx(0.667, abs=1e-3)
    assert list(rows.loc[["open water", "iceberg water", "melange"], "Support"]) == [4, 4, 2]
    assert rows.loc["Accuracy", "F1_score"] == pytest.approx(0.8)
    assert rows.loc["Accuracy", "Support"] == 10
    assert np.isnan(rows.loc["Accuracy", "Precision"])
    assert rows.loc["Macro_avg", "F1_score"] == pytest.approx(0.804, abs=1e-3)
    assert rows.loc["Weighted_avg", "F1_score"] == pytest.approx(0.832, abs=1e-3)
    assert weighted_f1(frame) == pytest.approx(0.832, abs=1e-3)


def test_classes_only_predicted_get_a_row():
    truth = np.array([1, 1, 4, 4, 4])
    pred = np.array([1, 7, 4, 4, 4])
    frame = score_classification(truth, pred, S)
    rows = frame.set_index("Class")
    assert list(frame["Class"][:3]) == ["open water", "glacier ice", "rock"]
    assert rows.loc["rock", "Support"] == 0
    assert rows.loc["rock", "F1_score"] == 0.0           # zero_division=0, no warning value
    assert weighted_f1(frame) == pytest.approx((2 * (2 / 3) + 3 * 1.0) / 5, abs=1e-3)


def test_perfect_score_and_csv_round_trip(tmp_path):
    frame = score_classification(TRUTH, TRUTH, S)
    assert weighted_f1(frame) == 1.0
    path = write_csv(tmp_path / "CSC_img_exp.csv", frame)
    back = pd.read_csv(path)
    assert list(back.columns) == COLUMNS
    assert list(back["Class"][-3:]) == ["Accuracy", "Macro_avg", "Weighted_avg"]


def test_report_errors():
    with pytest.raises(RasterError, match="same pixels"):
        score_classification(TRUTH, PRED[:2], S)
    with pytest.raises(DataError, match="no labelled pixel"):
        score_classification(np.zeros((3, 3), np.uint8), np.ones((3, 3), np.uint8), S)
    with pytest.raises(DataError, match="Weighted_avg"):
        weighted_f1(pd.DataFrame({"Class": ["a"], "F1_score": [1.0]}))


def test_scored_pixels():
    csc = PRED.copy()
    csc[0, 0] = 4
    truth_px, cnn_px, csc_px = scored_pixels(TRUTH, PRED, csc)
    for a in (truth_px, cnn_px, csc_px):
        assert a.dtype == np.uint8 and a.shape == (10,)
    np.testing.assert_array_equal(truth_px, [1, 1, 1, 1, 2, 2, 2, 2, 3, 3])
    np.testing.assert_array_equal(cnn_px, [1, 1, 1, 2, 2, 2, 2, 2, 3, 0])
    assert csc_px[0] == 4
    with pytest.raises(RasterError):
        scored_pixels(TRUTH, PRED, csc[:, :2])


def test_front_distances_shifted_front():
    manual = np.zeros((50, 60), bool)
    manual[10:40, 20] = True
    predicted = np.roll(manual, 3, axis=1)       # 3 px to the right
    d = front_distances(manual, predicted, 10.0)
    assert d.shape == (30,) and d.dtype == np.float64
    np.testing.assert_allclose(d, 30.0)


def test_front_distances_known_values():
    manual = np.zeros((20, 20), bool)
    manual[5, 5] = manual[5, 6] = manual[15, 15] = True
    predicted = np.zeros((20, 20), bool)
    predicted[8, 9] = True          # 3-4-5 from (5, 5); sqrt(9 + 9) from (5, 6)
    predicted[15, 15] = True        # on the manual pixel
    d = front_distances(manual, predicted, 10.0)
    np.testing.assert_allclose(d, [50.0, 10 * np.sqrt(18), 0.0])


def test_front_distances_errors():
    manual = np.zeros((10, 10), bool)
    manual[5, 5] = True
    with pytest.raises(FrontNotFoundError):
        front_distances(manual, np.zeros((10, 10), bool), 10.0)
    with pytest.raises(DataError, match="manual front"):
        front_distances(np.zeros((10, 10), bool), manual, 10.0)
    with pytest.raises(RasterError):
        front_distances(manual, manual[:5], 10.0)
    with pytest.raises(DataError, match="pixel size"):
        front_distances(manual, manual, 0.0)


def test_distance_stats():
    d = np.array([0.0, 10.0, 14.14, 10.0, 22.36, 30.0, 100.0])
    stats = distance_stats(d)
    assert set(stats) == {"mode", "median", "mean", "std"}
    assert stats["mode"] == 10.0            # 10, 14.14 and 10 round to 10 m
    assert stats["median"] == pytest.approx(14.14)
    assert stats["mean"] == pytest.approx(d.mean())
    assert stats["std"] == pytest.approx(d.std())
    with pytest.raises(DataError):
        distance_stats(np.array([]))

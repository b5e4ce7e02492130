"""Scores of a whole granule in bounded memory: the same numbers as pixel by pixel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import ndimage as ndi

from seeice.classes import GLACIER_SCHEME
from seeice.errors import DataError
from seeice.metrics import scoring
from seeice.metrics.reports import classification_report_frame
from seeice.metrics.scoring import front_distances, label_pairs, score_classification


def _rasters(seed=2):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 8, size=(61, 47)).astype(np.uint8)
    predicted = np.where(rng.random((61, 47)) < 0.7, truth, rng.integers(0, 8, (61, 47)))
    return truth, predicted.astype(np.uint8)


def test_pairs_count_every_labelled_pixel_once():
    truth = np.array([[0, 1, 1], [2, 2, 1]], np.uint8)
    predicted = np.array([[3, 1, 2], [2, 0, 1]], np.uint8)
    t, p, n = label_pairs(truth, predicted)
    assert list(zip(t, p, n)) == [(1, 1, 2), (1, 2, 1), (2, 0, 1), (2, 2, 1)]


@pytest.mark.parametrize("block_pixels", [1, 100, 10**9])
def test_the_report_from_pixel_counts_equals_the_report_of_the_pixels(monkeypatch, block_pixels):
    truth, predicted = _rasters()
    monkeypatch.setattr(scoring, "SCORE_BLOCK_PIXELS", block_pixels)
    report = score_classification(truth, predicted, GLACIER_SCHEME)
    labelled = truth != 0
    labels = list(range(1, 8))
    names = [GLACIER_SCHEME.label(c) for c in labels]
    expected = classification_report_frame(truth[labelled], predicted[labelled], names, labels)
    pd.testing.assert_frame_equal(report, expected)
    assert report.loc[report["Class"] == "Accuracy", "Support"].item() == labelled.sum()


def test_class_values_beyond_a_byte_are_refused():
    with pytest.raises(DataError, match="0..255"):
        label_pairs(np.full((2, 2), 300), np.ones((2, 2), int))


def test_front_distances_are_those_of_the_distance_transform():
    rng = np.random.default_rng(4)
    manual = rng.random((80, 90)) < 0.01
    predicted = rng.random((80, 90)) < 0.005
    expected = ndi.distance_transform_edt(~predicted)[manual] * 10.0
    np.testing.assert_array_equal(front_distances(manual, predicted, 10.0), expected)

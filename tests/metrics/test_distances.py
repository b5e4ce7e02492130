"""Distance statistics and the error histogram (seeice.metrics.distances), known values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from seeice.errors import ConfigError, DataError
from seeice.metrics.distances import distance_stats, error_histogram

from results_helpers import FRONT_A, FRONT_B


def test_distance_stats_known_values():
    stats = distance_stats(np.array(FRONT_A + FRONT_B))
    assert stats == pytest.approx({"mode": 10.0, "median": 12.0, "mean": 15.0,
                                   "std": math.sqrt(686 / 6)})
    # Ties between bins go to the smaller distance.
    assert distance_stats(np.array([20.0, 20.0, 40.0, 41.0]))["mode"] == 20.0
    with pytest.raises(DataError):
        distance_stats(np.array([]))


def test_error_histogram_bins_and_share():
    d = np.array([0.0, 5.0, 10.0, 99.9, 100.0, 250.0])
    counts, edges, share = error_histogram(d, bin_m=10)
    assert np.array_equal(edges, np.arange(27) * 10.0)  # 0..260: the last bin holds 250
    expected = np.zeros(26, int)
    expected[[0, 1, 9, 10, 25]] = [2, 1, 1, 1, 1]
    assert np.array_equal(counts, expected)
    assert share == pytest.approx(4 / 6)
    with pytest.raises(DataError):
        error_histogram(np.array([-1.0]))


def test_mean_distance_error_pools_both_directions():
    from seeice.metrics.distances import mean_distance_error, pooled_mean_distance_error

    assert mean_distance_error(np.array([0.0, 10.0]), np.array([30.0])) == pytest.approx(40 / 3)
    with pytest.raises(DataError, match="both sides"):
        mean_distance_error(np.array([1.0]), np.array([]))
    pooled = pooled_mean_distance_error([(np.array([0.0, 10.0]), np.array([30.0])),
                                         (np.array([20.0]), np.array([40.0, 20.0]))], 2)
    # Pooled over distances, not a mean of image means: 120 / 6 = 20, not (40/3 + 80/3) / 2.
    assert pooled == {"mde": pytest.approx(20.0), "n_distances": 6, "n_images": 2,
                      "n_without_front": 2}
    assert np.isnan(pooled_mean_distance_error([], 3)["mde"])


def test_front_mde_known_answer_on_rasters():
    from seeice.metrics.distances import mean_distance_error
    from seeice.metrics.scoring import front_distances_both_ways

    manual = np.zeros((5, 8), bool)
    manual[1, 1:4] = True                     # 3 pixels on row 1
    predicted = np.zeros((5, 8), bool)
    predicted[3, 1:6] = True                  # 5 pixels on row 3, two rows (20 m) away
    m2p, p2m = front_distances_both_ways(manual, predicted, 10.0)
    assert m2p.tolist() == [20.0, 20.0, 20.0]
    # Predicted pixels at columns 4 and 5 are sqrt(2^2 + 1^2) and sqrt(2^2 + 2^2) px away.
    assert p2m.tolist() == pytest.approx([20.0, 20.0, 20.0, 10 * math.sqrt(5), 10 * math.sqrt(8)])
    assert mean_distance_error(m2p, p2m) == pytest.approx(
        (6 * 20.0 + 10 * math.sqrt(5) + 10 * math.sqrt(8)) / 8)
def test_exact_mode_is_the_published_statistics_mode():
    import statistics

    from seeice.metrics.distances import distance_stats, exact_mode

    d = np.array([22.0, 10 * np.sqrt(2), 10.0, 10 * np.sqrt(2), 10.0, 30.0])
    # 14.14 and 10 both occur twice: the first met wins, as statistics.mode has it
    assert exact_mode(d) == statistics.mode(d.tolist()) == pytest.approx(10 * np.sqrt(2))
    assert distance_stats(d, 0)["mode"] == pytest.approx(14.142, abs=1e-3)
    assert distance_stats(d)["mode"] == 10.0   # 10 m bins: 10, 10, 10, 10 of 6
    with pytest.raises(ConfigError):
        distance_stats(d, -1)

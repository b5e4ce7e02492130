"""Tests of seeice.phase2.filtering: the phase-two mode filter."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.errors import ConfigError, RasterError
from seeice.phase2.filtering import mode_filter


def halves(size: int = 80) -> np.ndarray:
    """Class 3 on the left half, class 4 on the right half."""
    classes = np.full((size, size), 3, np.uint8)
    classes[:, size // 2:] = 4
    return classes


def test_removes_salt_noise_smaller_than_the_disk():
    clean = halves()
    noisy = clean.copy()
    rng = np.random.default_rng(0)
    rows = rng.integers(0, 80, 60)
    cols = rng.integers(0, 80, 60)
    noisy[rows, cols] = 7
    noisy[20:22, 10:12] = 1          # a 2 x 2 speck, smaller than the radius-4 disk
    assert (noisy != clean).sum() > 50
    out = mode_filter(noisy, smallest_element=2)
    assert out.dtype == np.uint8
    assert not np.any(out == 7)
    assert not np.any(out == 1)
    np.testing.assert_array_equal(out, clean)   # the straight boundary is kept exactly


def test_keeps_large_regions():
    classes = np.ones((100, 100), np.uint8)
    classes[30:70, 30:70] = 5
    out = mode_filter(classes, smallest_element=2)
    np.testing.assert_array_equal(out[34:66, 34:66], 5)   # interior unchanged
    # only the square's corners round off
    assert abs(int((out == 5).sum()) - 1600) < 40
    assert out[0, 0] == 1 and out[50, 50] == 5


def test_zero_turns_it_off_and_returns_a_copy():
    rng = np.random.default_rng(1)
    classes = rng.integers(0, 8, (30, 40)).astype(np.uint8)
    out = mode_filter(classes, 0)
    np.testing.assert_array_equal(out, classes)
    assert out is not classes and not np.shares_memory(out, classes)


def test_unclassified_border_neither_grows_nor_shrinks():
    classes = halves(60)
    classes[:, :3] = classes[:, -3:] = 0
    classes[:3] = classes[-3:] = 0
    classes[30, 30] = 0   # an isolated unclassified pixel stays 0 as well
    out = mode_filter(classes, smallest_element=2)
    np.testing.assert_array_equal(out == 0, classes == 0)
    # pixels next to the border are not taken over by 0 (0 does not vote)
    np.testing.assert_array_equal(out[3:-3, 3:-3][classes[3:-3, 3:-3] > 0],
                                  halves(60)[3:-3, 3:-3][classes[3:-3, 3:-3] > 0])


def test_radius_is_twice_smallest_element():
    # a 7 x 7 blob survives a radius-2 disk (SmallestElement 1) but not radius 6 (3)
    classes = np.ones((60, 60), np.uint8)
    classes[25:32, 25:32] = 2
    assert (mode_filter(classes, 1) == 2).sum() > 30
    assert not np.any(mode_filter(classes, 3) == 2)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_bad_smallest_element(bad):
    with pytest.raises(ConfigError, match="SmallestElement"):
        mode_filter(halves(), bad)


def test_bad_shape():
    with pytest.raises(RasterError, match="2-D"):
        mode_filter(np.zeros((5, 5, 2), np.uint8))

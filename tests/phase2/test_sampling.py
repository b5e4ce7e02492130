"""Phase-two training samples: centred windows of the asked classes, inside the image."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.errors import ConfigError, DataError, RasterError
from seeice.phase2.sampling import sample_windows

H, W = 30, 26


@pytest.fixture
def scene():
    """Image whose band 0 is the row, band 1 the column, band 2 noise; three class regions."""
    rng = np.random.default_rng(3)
    rows, cols = np.mgrid[0:H, 0:W]
    image = np.stack([rows, cols, rng.random((H, W))], axis=-1).astype(np.float32)
    classes = np.zeros((H, W), np.uint8)
    classes[:10, :] = 1
    classes[10:20, :13] = 2
    classes[10:20, 13:] = 3
    classes[20:, :] = 0  # unclassified
    classes[0:2, 0:2] = 5  # class only in the border for k = 5
    return image, classes


def eligible(classes, c, k):
    half = k // 2
    inner = np.zeros_like(classes, dtype=bool)
    inner[half : classes.shape[0] - half, half : classes.shape[1] - half] = True
    return int(np.count_nonzero((classes == c) & inner))


def test_windows_are_centred_on_pixels_of_their_class(scene):
    image, classes = scene
    k = 5
    X, y = sample_windows(image, classes, k, samples_per_class=50, seed=0)
    assert X.dtype == np.float32 and X.shape == (y.size, k, k, 3)
    r = X[:, k // 2, k // 2, 0].astype(int)
    c = X[:, k // 2, k // 2, 1].astype(int)
    np.testing.assert_array_equal(classes[r, c], y)
    for i in range(y.size):  # every window is exactly the image around its centre
        np.testing.assert_array_equal(X[i], image[r[i] - 2 : r[i] + 3, c[i] - 2 : c[i] + 3])
    # Inside the image, never class 0, never a class whose pixels are all in the border.
    assert r.min() >= 2 and r.max() <= H - 3 and c.min() >= 2 and c.max() <= W - 3
    assert set(np.unique(y)) == {1, 2, 3}
    # Without replacement.
    assert np.unique(r * W + c).size == y.size


def test_per_class_cap_and_small_classes(scene):
    image, classes = scene
    k = 5
    X, y = sample_windows(image, classes, k, samples_per_class=150, seed=1)
    counts = {c: int(np.sum(y == c)) for c in (1, 2, 3)}
    for c in (1, 2, 3):
        assert counts[c] == min(150, eligible(classes, c, k))
    assert counts[1] == 150  # capped (176 eligible)
    assert counts[2] == 110  # fewer eligible pixels than the cap: all of them
    X_all, y_all = sample_windows(image, classes, k, samples_per_class=10**6, seed=1)
    assert y_all.size == sum(eligible(classes, c, k) for c in (1, 2, 3))


def test_k1_samples_the_pixel_itself(scene):
    image, classes = scene
    X, y = sample_windows(image, classes, 1, samples_per_class=1000, seed=2)
    assert X.shape == (y.size, 1, 1, 3)
    r, c = X[:, 0, 0, 0].astype(int), X[:, 0, 0, 1].astype(int)
    np.testing.assert_array_equal(classes[r, c], y)
    assert 5 in y  # the corner class is eligible for k = 1


def test_seeded_reproducibility(scene):
    image, classes = scene
    a = sample_windows(image, classes, 3, samples_per_class=20, seed=7)
    b = sample_windows(image, classes, 3, samples_per_class=20, seed=7)
    c = sample_windows(image, classes, 3, samples_per_class=20, seed=8)
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])
    d = sample_windows(image, classes, 3, samples_per_class=20, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], d[0])


def test_n_classes_limits_the_classes(scene):
    image, classes = scene
    _, y = sample_windows(image, classes, 1, samples_per_class=5, seed=0, n_classes=2)
    assert set(np.unique(y)) == {1, 2}


def test_bad_inputs_are_reported(scene):
    image, classes = scene
    with pytest.raises(ConfigError, match="odd"):
        sample_windows(image, classes, 4)
    with pytest.raises(ConfigError, match="samples_per_class"):
        sample_windows(image, classes, 3, samples_per_class=0)
    with pytest.raises(RasterError, match="do not match"):
        sample_windows(image[:-1], classes, 3)
    with pytest.raises(DataError, match="no classified pixel"):
        sample_windows(image, np.zeros_like(classes), 3)
    with pytest.raises(DataError, match="no classified pixel"):
        sample_windows(image[:4, :4], classes[:4, :4], 5)


def test_no_window_touches_no_data():
    rng = np.random.default_rng(3)
    image = rng.random((30, 30, 2)).astype(np.float32)
    classes = np.ones((30, 30), np.uint8)
    classes[:, 15:] = 2
    valid = np.ones((30, 30), bool)
    valid[10:14, 5:20] = False
    image[~valid] = 0.0
    X, y = sample_windows(image, classes, 5, samples_per_class=10_000, seed=0, valid=valid)
    invalid_windows = np.lib.stride_tricks.sliding_window_view(~valid, (5, 5)).any(axis=(2, 3))
    eligible = (~invalid_windows).sum()
    assert len(y) == eligible                       # every window clear of no-data, no other
    assert (X != 0).all()
    all_valid = sample_windows(image, classes, 5, samples_per_class=10_000, seed=0)[1]
    assert len(all_valid) == 26 * 26 > len(y)

"""Phase-two training from window centres: batches gathered from the image, never all windows."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.errors import DataError
from seeice.phase2 import patch_training
from seeice.phase2.patch_training import train_patch_model, train_patch_model_on_image
from seeice.phase2.sampling import (
    SampleIndices,
    gather_windows,
    sample_indices,
    sample_windows,
)
from seeice.phase2.window_batches import WindowBatches

H, W, BANDS = 24, 20, 3


def scene(seed=0):
    """Random image; class 1 on the left half, class 2 on the right half (brighter)."""
    rng = np.random.default_rng(seed)
    image = rng.random((H, W, BANDS)).astype(np.float32)
    classes = np.ones((H, W), np.uint8)
    classes[:, W // 2:] = 2
    image[:, W // 2:] += 1.0
    return image, classes


def published_gather(image, rows, cols, k):
    """The earlier materialised gather: sliding windows indexed at the top-left corners."""
    half = k // 2
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1))
    return windows[rows - half, cols - half].transpose(0, 2, 3, 1).astype(np.float32)


@pytest.mark.parametrize("k", [1, 3, 7])
def test_indices_give_the_windows_of_the_materialised_path(k):
    image, classes = scene()
    samples = sample_indices(classes, k, samples_per_class=40, seed=5)
    X, y = sample_windows(image, classes, k, samples_per_class=40, seed=5)
    np.testing.assert_array_equal(y, samples.labels)
    np.testing.assert_array_equal(X, published_gather(image, samples.rows, samples.cols, k))
    np.testing.assert_array_equal(gather_windows(image, samples.rows, samples.cols, k), X)
    # the centre of each window is the sampled pixel, of its class
    np.testing.assert_array_equal(X[:, k // 2, k // 2], image[samples.rows, samples.cols])
    np.testing.assert_array_equal(classes[samples.rows, samples.cols], samples.labels)


def test_batches_have_the_right_shape_and_content_and_cover_the_split_once():
    image, classes = scene()
    k = 5
    samples = sample_indices(classes, k, samples_per_class=30, seed=1)
    positions = np.arange(0, len(samples), 2)  # a "training split"
    seen = []

    def gather(p):
        seen.append(p.size)
        return gather_windows(image, samples.rows[p], samples.cols[p], k)

    data = WindowBatches(gather, positions, samples.labels, n_columns=3, batch_size=7,
                         shuffle_seed=0)
    assert len(data) == -(-positions.size // 7)
    got = []
    for i in range(len(data)):
        X, Y = data[i]
        p = data.batch_positions(i)
        assert X.shape == (p.size, k, k, BANDS) and X.dtype == np.float32
        assert Y.shape == (p.size, 3) and Y.dtype == np.float32
        np.testing.assert_array_equal(Y.argmax(axis=1), samples.labels[p])
        np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
        np.testing.assert_array_equal(X[:, k // 2, k // 2], image[samples.rows[p], samples.cols[p]])
        got.append(p)
    assert max(seen) <= 7  # never more than one batch of windows at a time
    first_epoch = np.concatenate(got)
    assert sorted(first_epoch) == sorted(positions)
    data.on_epoch_end()
    second_epoch = np.concatenate([data.batch_positions(i) for i in range(len(data))])
    assert sorted(second_epoch) == sorted(positions) and not np.array_equal(first_epoch, second_epoch)
    with pytest.raises(IndexError):
        data[len(data)]
    # without a seed the order is kept
    plain = WindowBatches(gather, positions, samples.labels, 3, 7)
    np.testing.assert_array_equal(np.concatenate([plain.batch_positions(i) for i in range(len(plain))]),
                                  positions)


def test_training_from_the_image_equals_training_on_the_materialised_windows(monkeypatch):
    image, classes = scene()
    k = 3
    samples = sample_indices(classes, k, samples_per_class=60, seed=2)
    X, y = sample_windows(image, classes, k, samples_per_class=60, seed=2)
    sizes = []
    real = patch_training.gather_windows

    def spy(img, rows, cols, kk, out=None):
        sizes.append(rows.size)
        return real(img, rows, cols, kk, out)

    monkeypatch.setattr(patch_training, "gather_windows", spy)
    m1, h1 = train_patch_model_on_image(image, samples, n_classes=2, patience=3, seed=4,
                                        max_epochs=3, batch_size=16, verbose=0)
    m2, h2 = train_patch_model(X, y, k, n_classes=2, patience=3, seed=4, max_epochs=3,
                               batch_size=16, verbose=0)
    assert sizes and max(sizes) <= 16  # one batch at a time, never all 120 windows
    assert len(h1.epoch) == len(h2.epoch) == 3  # TrainingEpochs caps the run
    for a, b in zip(m1.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_samples_outside_the_image_are_refused():
    image, _ = scene()
    bad = SampleIndices(np.array([0, 5]), np.array([5, 5]), np.array([1, 2]), 3)
    with pytest.raises(DataError, match="do not fit inside"):
        train_patch_model_on_image(image, bad, n_classes=2, verbose=0)

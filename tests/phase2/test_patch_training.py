"""Phase-two training: a tiny run learns a separable problem; inputs are checked."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.errors import DataError  # noqa: E402
from seeice.phase2.inference import predict_image  # noqa: E402
from seeice.phase2.patch_training import default_batch_size, train_patch_model  # noqa: E402


def two_class_windows(n, k, bands, seed):
    """Class 1 windows are dark, class 2 bright, with noise."""
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 3, n)
    X = rng.normal(0.0, 0.08, (n, k, k, bands)) + np.where(y == 1, 0.25, 0.75)[:, None, None, None]
    return X.astype(np.float32), y


def test_default_batch_size():
    assert default_batch_size(1) == 500000
    assert default_batch_size(3) == 55555
    assert default_batch_size(15) == 2222


def test_tiny_training_learns_separable_classes():
    k, bands = 3, 2
    X, y = two_class_windows(600, k, bands, seed=0)
    # Small batches: BatchNorm's moving statistics (momentum 0.99), which validation uses,
    # need a few hundred steps to settle.
    model, history = train_patch_model(
        X, y, k, n_classes=2, patience=5, seed=0, max_epochs=40, batch_size=16, verbose=0
    )
    assert set(history.history) >= {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert max(history.history["val_accuracy"]) >= 0.95
    assert len(history.epoch) < 40  # early stopping ended the run
    X_new, y_new = two_class_windows(200, k, bands, seed=1)
    pred = np.asarray(model(X_new, training=False)).argmax(axis=1)
    assert np.mean(pred == y_new) >= 0.95
    # The trained model classifies an image of a dark and a bright half.
    image = np.full((12, 14, bands), 0.25, np.float32)
    image[:, 7:] = 0.75
    classes = predict_image(model, image, k, progress=False)
    assert (classes[1:-1, 1:6] == 1).all() and (classes[1:-1, 8:-1] == 2).all()


def test_bad_training_inputs():
    X, y = two_class_windows(20, 3, 2, seed=0)
    with pytest.raises(DataError, match="labels range"):
        train_patch_model(X, y + 5, 3, n_classes=2, verbose=0)
    with pytest.raises(DataError, match="do not fit patch size"):
        train_patch_model(X, y, 5, n_classes=2, verbose=0)

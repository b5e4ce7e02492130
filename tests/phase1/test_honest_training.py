"""Honest phase-one training: split by source window, class balance, best-epoch selection, weak classes."""

from __future__ import annotations

import logging

import numpy as np
import pytest

pytest.importorskip("keras")

import keras  # noqa: E402

from seeice.classes import GLACIER_SCHEME  # noqa: E402
from seeice.errors import ConfigError  # noqa: E402
from seeice.io.model_store import ModelMetadata  # noqa: E402
from seeice.phase1.balance import balanced_order, inverse_frequency_weights  # noqa: E402
from seeice.phase1.class_counts import report_weak_classes  # noqa: E402
from seeice.phase1.history import BestEpoch, check_selection, class_scores  # noqa: E402
from seeice.phase1.tile_data import TileDataset, group_path_for, split_by_groups  # noqa: E402
from seeice.phase1.training import train_tile_cnn  # noqa: E402
from seeice.pipeline.csc import warn_weak_classes  # noqa: E402


def test_group_split_keeps_every_window_on_one_side():
    groups = np.repeat(np.arange(40), 8)                     # 40 windows x 8 copies
    labels = np.where(groups < 30, 1, 3)                     # 30 windows of class 1, 10 of 3
    train, val = split_by_groups(labels, groups, seed=4)
    assert set(groups[train]).isdisjoint(groups[val])
    assert len(train) + len(val) == groups.size
    # a fifth of each class's windows: 6 of class 1, 2 of class 3
    assert np.unique(groups[val][labels[val] == 1]).size == 6
    assert np.unique(groups[val][labels[val] == 3]).size == 2
    again = split_by_groups(labels, groups, seed=4)
    np.testing.assert_array_equal(val, again[1])


def test_group_file_is_found_by_name(tmp_path):
    assert group_path_for(tmp_path / "demo_T_float16.npy") == tmp_path / "demo_G_float16.npy"
    assert group_path_for(tmp_path / "tiles.npy") is None


def test_inverse_frequency_weights_known_answer():
    weights = inverse_frequency_weights(np.array([1, 1, 1, 2]), 4)
    # n = 4, K = 2: class 1 -> 4 / (2 * 3) = 2/3, class 2 -> 4 / (2 * 1) = 2; absent classes 0
    np.testing.assert_allclose(weights, [0, 2 / 3, 2, 0], rtol=1e-6)
    assert np.mean(weights[[1, 1, 1, 2]]) == pytest.approx(1.0)


def test_balanced_batches_draw_classes_equally():
    labels = np.array([1] * 90 + [3] * 10)
    order = balanced_order(np.arange(100), labels, np.random.default_rng(0))
    assert order.size == 100
    assert np.count_nonzero(labels[order] == 1) == 50 and np.count_nonzero(labels[order] == 3) == 50


def test_weighted_dataset_serves_weights():
    tensor = np.zeros((6, 4, 4, 2), np.float16)
    labels = np.array([1, 1, 1, 1, 2, 2])
    weights = inverse_frequency_weights(labels, 3)
    ds = TileDataset(tensor, labels, np.arange(6), 3, 3, class_weights=weights)
    x, y, w = ds[1]
    np.testing.assert_allclose(w, [weights[1], weights[2], weights[2]])


def test_class_scores_known_answer():
    truth = np.array([1, 1, 1, 1, 3, 3])
    predicted = np.array([1, 1, 1, 3, 3, 1])
    s = class_scores(truth, predicted)
    assert s["recall"] == {1: 0.75, 3: 0.5}
    # class 1: P 3/4, R 3/4 -> F1 0.75; class 3: P 1/2, R 1/2 -> 0.5; macro 0.625
    assert s["macro_f1"] == pytest.approx(0.625) and s["min_recall"] == 0.5
    assert s["accuracy"] == pytest.approx(4 / 6)
    with pytest.raises(ConfigError, match="published"):
        check_selection("loss")


class _Scripted:
    """Stand-in validation set: labels in serving order."""

    def __init__(self, truth):
        self._truth = np.asarray(truth)

    def truth(self):
        return self._truth


def test_best_epoch_weights_are_restored():
    """The callback keeps the weights of the epoch with the best metric and puts them back."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, use_bias=False)])
    truth = np.array([1, 1, 2, 2])
    # epoch 1 predicts all correct (macro F1 1.0 > target? no: target 1.1 never reached)
    scripted = [np.eye(3)[[1, 1, 2, 2]], np.eye(3)[[1, 1, 1, 1]], np.eye(3)[[2, 2, 2, 2]]]
    callback = BestEpoch(_Scripted(truth), "macro_f1", target=1.1, patience=2)
    callback.set_model(model)
    calls = iter(scripted)
    model.predict = lambda *a, **k: next(calls)
    weights_per_epoch = []
    for epoch in range(3):
        model.set_weights([np.full((1, 3), float(epoch), np.float32)])
        weights_per_epoch.append(model.get_weights()[0].copy())
        logs = {}
        callback.on_epoch_end(epoch, logs)
        assert "val_macro_f1" in logs and "val_min_recall" in logs
    assert callback.best_epoch == 1 and callback.best_value == pytest.approx(1.0)
    assert model.stop_training            # two epochs without improvement
    callback.on_train_end()
    np.testing.assert_array_equal(model.get_weights()[0], weights_per_epoch[0])


def test_weak_classes_are_named(caplog):
    names = list(GLACIER_SCHEME.names)
    with caplog.at_level(logging.WARNING, logger="seeice"):
        weak = report_weak_classes({1: 0.95, 3: 0.2, 4: 0.9}, trained={1, 3, 4, 7},
                                   class_names=names, model_name="m")
    assert weak == [2, 3, 5, 6]                      # 3 recall 0.2; 2, 5, 6 never trained
    assert "3 (melange) 0.20" in caplog.text and "no validation tiles of 7 (rock)" in caplog.text


def test_csc_repeats_the_weak_class_warning(caplog):
    meta = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7,
                         training={"weak_classes": [3], "validation_recall": {"3": 0.31}})
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert warn_weak_classes(meta, GLACIER_SCHEME, "Models/m.keras") == [3]
    assert "m.keras is weak on 3 (melange, recall 0.31)" in caplog.text
    old = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7)
    assert warn_weak_classes(old, GLACIER_SCHEME, "old.keras") == []


def test_training_records_weak_classes_and_the_split(tmp_path):
    """A tiny tensor with groups: class 2 is pure noise against class 1's constant tiles."""
    rng = np.random.default_rng(0)
    n_windows, copies = 24, 2
    groups = np.repeat(np.arange(n_windows), copies).astype(np.int32)
    labels = np.where(groups % 3 == 0, 2, 1).astype(np.uint8)
    tiles = np.where(labels[:, None, None, None] == 1, 0.5, 0.0).astype(np.float16)
    tiles = (tiles + rng.normal(0, 0.01, (labels.size, 8, 8, 2))).astype(np.float16)
    np.save(tmp_path / "t_T_float16.npy", tiles)
    np.save(tmp_path / "t_L_float16.npy", labels)
    np.save(tmp_path / "t_G_float16.npy", groups)
    result = train_tile_cnn(tmp_path / "t_T_float16.npy", tmp_path / "t_L_float16.npy",
                            tmp_path / "out", "m", base="compact", bands=2, n_classes=2,
                            batch_size=8, epochs=3, target_accuracy=0.99, seed=1,
                            scheme=None)
    info = result.metadata.training
    assert info["validation_split"] == "source_window" and info["select"] == "macro_f1"
    assert info["class_balance"] == "weights"
    assert set(info["validation_recall"]) <= {"1", "2"}
    assert isinstance(info["weak_classes"], list)
    assert "val_macro_f1" in result.history.columns

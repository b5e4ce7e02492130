"""Honest phase-one training: split by source window, class balance, best-epoch selection, weak classes."""

from __future__ import annotations

import json
import logging

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("keras")

import keras  # noqa: E402
from repo_paths import REPO  # noqa: E402

from seeice.classes import GLACIER_SCHEME  # noqa: E402
from seeice.errors import ConfigError, DataError, ModelError  # noqa: E402
from seeice.io.model_metadata import ModelMetadata  # noqa: E402
from seeice.io.model_store import load_metadata, save_model  # noqa: E402
from seeice.phase1.balance import balanced_order, inverse_frequency_weights  # noqa: E402
from seeice.phase1.class_counts import report_weak_classes  # noqa: E402
from seeice.phase1.history import (  # noqa: E402
    BestEpoch,
    ClassScores,
    TargetAccuracyStop,
    check_selection,
    class_scores,
    selection_callbacks,
)
from seeice.phase1.tile_data import (  # noqa: E402
    TileDataset,
    group_path_for,
    load_tile_data,
    split_by_groups,
    split_for_training,
)
from seeice.phase1.training import train_tile_cnn  # noqa: E402
from seeice.pipeline import csc as csc_module  # noqa: E402
from seeice.pipeline.csc import warn_weak_classes  # noqa: E402


def _write_tensor(folder, labels, groups=None, tile=4, bands=2, name="t", mode="float16"):
    """``<name>_T_<mode>.npy`` and ``_L_`` (and ``_G_`` when groups are given); returns T, L."""
    folder.mkdir(parents=True, exist_ok=True)
    labels = np.asarray(labels, np.uint8)
    levels = labels.astype(np.float32)[:, None, None, None] / 4
    rng = np.random.default_rng(0)
    tiles = (levels + rng.normal(0, 0.01, (labels.size, tile, tile, bands))).astype(np.float16)
    np.save(folder / f"{name}_T_{mode}.npy", tiles)
    np.save(folder / f"{name}_L_{mode}.npy", labels)
    if groups is not None:
        np.save(folder / f"{name}_G_{mode}.npy", np.asarray(groups, np.int32))
    return folder / f"{name}_T_{mode}.npy", folder / f"{name}_L_{mode}.npy"


# --------------------------------------------------------------------------------------------
# Split by source window
# --------------------------------------------------------------------------------------------

def test_group_split_keeps_every_window_on_one_side():
    groups = np.repeat(np.arange(41), 8)                     # 41 windows x 8 copies
    labels = np.select([groups < 30, groups < 40], [1, 3], 5)  # 30 windows of 1, 10 of 3, 1 of 5
    train, val = split_by_groups(labels, groups, seed=4)
    assert set(groups[train]).isdisjoint(groups[val])
    assert np.array_equal(np.sort(np.concatenate([train, val])), np.arange(groups.size))
    # a fifth of each class's windows: 6 of class 1, 2 of class 3; class 5's one window trains
    assert np.unique(groups[val][labels[val] == 1]).size == 6
    assert np.unique(groups[val][labels[val] == 3]).size == 2
    assert not np.any(labels[val] == 5) and np.count_nonzero(labels[train] == 5) == 8
    again = split_by_groups(labels, groups, seed=4)
    np.testing.assert_array_equal(val, again[1])
    np.testing.assert_array_equal(train, again[0])
    assert not np.array_equal(split_by_groups(labels, groups, seed=5)[1], val)
    with pytest.raises(DataError, match="source windows"):
        split_by_groups(np.ones(8), np.zeros(8, int))


def test_group_file_is_found_by_name(tmp_path):
    assert group_path_for(tmp_path / "demo_T_float16.npy") == tmp_path / "demo_G_float16.npy"
    assert group_path_for(tmp_path / "tiles.npy") is None


def test_tensor_with_groups_splits_by_window_and_without_them_at_random(tmp_path, caplog):
    labels = np.repeat([1, 2], 20)
    groups = np.repeat(np.arange(10), 4)
    tensor, label_path = _write_tensor(tmp_path / "g", labels, groups)
    data = load_tile_data(tensor, label_path, n_classes=2)
    np.testing.assert_array_equal(data.groups, groups)
    train, val, how = split_for_training(data, seed=0)
    assert how == "source_window" and set(groups[train]).isdisjoint(groups[val])

    tensor, label_path = _write_tensor(tmp_path / "r", labels)
    data = load_tile_data(tensor, label_path, n_classes=2)
    assert data.groups is None
    with caplog.at_level(logging.WARNING, logger="seeice"):
        train, val, how = split_for_training(data, seed=0)
    assert how == "random" and len(val) == 8 and len(train) == 32
    assert "t_G_float16.npy" in caplog.text and "read high" in caplog.text
    np.testing.assert_array_equal(split_for_training(data, seed=0)[1], val)   # seeded


def test_a_group_file_that_does_not_fit_is_refused(tmp_path):
    tensor, label_path = _write_tensor(tmp_path, [1, 2, 1, 2], groups=[0, 1, 2])
    with pytest.raises(DataError, match="delete the group file"):
        load_tile_data(tensor, label_path, n_classes=2)


# --------------------------------------------------------------------------------------------
# Class balance
# --------------------------------------------------------------------------------------------

def test_inverse_frequency_weights_known_answer():
    weights = inverse_frequency_weights(np.array([1, 1, 1, 2]), 4)
    # n = 4, K = 2: class 1 -> 4 / (2 * 3) = 2/3, class 2 -> 4 / (2 * 1) = 2; absent classes 0
    np.testing.assert_allclose(weights, [0, 2 / 3, 2, 0], rtol=1e-6)
    assert np.mean(weights[[1, 1, 1, 2]]) == pytest.approx(1.0)


def test_weighted_dataset_serves_weights():
    tensor = np.zeros((6, 4, 4, 2), np.float16)
    labels = np.array([1, 1, 1, 1, 2, 2])
    weights = inverse_frequency_weights(labels, 3)
    ds = TileDataset(tensor, labels, np.arange(6), 3, 3, class_weights=weights)
    *_, w = ds[1]
    np.testing.assert_allclose(w, [weights[1], weights[2], weights[2]])


def test_balanced_order_draws_classes_equally():
    labels = np.array([1] * 90 + [3] * 10)
    order = balanced_order(np.arange(100), labels, np.random.default_rng(0))
    assert order.size == 100
    assert np.count_nonzero(labels[order] == 1) == 50 and np.count_nonzero(labels[order] == 3) == 50


def test_balanced_batches_over_an_epoch_draw_classes_equally():
    """Counted over every batch of an epoch: same epoch length, each class a third, seeded."""
    labels = np.array([1] * 60 + [2] * 6 + [3] * 24)
    tensor = labels.astype(np.float16)[:, None, None, None] * np.ones((1, 2, 2, 1), np.float16)
    indices = np.arange(3, 90)                                # 87 training tiles

    def epoch(ds):
        served = np.concatenate([ds[i][1].argmax(axis=1) for i in range(len(ds))])
        tiles = np.concatenate([ds[i][0][:, 0, 0, 0] for i in range(len(ds))])
        np.testing.assert_array_equal(served, tiles)          # each tile with its own label
        return served

    ds = TileDataset(tensor, labels, indices, 10, 4, shuffle=True, seed=2, balanced=True)
    assert len(ds) == 9
    first = epoch(ds)
    assert first.size == 87 and list(np.bincount(first, minlength=4)[1:]) == [29, 29, 29]
    same = TileDataset(tensor, labels, indices, 10, 4, shuffle=True, seed=2, balanced=True)
    np.testing.assert_array_equal(same.order, ds.order)
    ds.on_epoch_end()
    second = epoch(ds)
    assert list(np.bincount(second, minlength=4)[1:]) == [29, 29, 29]
    assert not np.array_equal(np.sort(ds.order), np.sort(same.order))  # new draws each epoch


# --------------------------------------------------------------------------------------------
# Scores, selection and the best epoch
# --------------------------------------------------------------------------------------------

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


def _scripted_model(predictions):
    """A one-weight model whose ``predict`` returns the given probabilities in turn."""
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(3, use_bias=False)])
    calls = iter(predictions)
    model.predict = lambda *a, **k: next(calls)
    return model


def test_best_epoch_weights_are_restored():
    """The callback keeps the weights of the epoch with the best metric and puts them back."""
    truth = np.array([1, 1, 2, 2])
    # macro F1 per epoch: 1.0, then 1/3 twice (the target 1.1 is never reached)
    model = _scripted_model([np.eye(3)[[1, 1, 2, 2]], np.eye(3)[[1, 1, 1, 1]],
                             np.eye(3)[[2, 2, 2, 2]]])
    callback = BestEpoch(_Scripted(truth), "macro_f1", target=1.1, patience=2)
    callback.set_model(model)
    weights_per_epoch = []
    for epoch in range(3):
        model.set_weights([np.full((1, 3), float(epoch), np.float32)])
        weights_per_epoch.append(model.get_weights()[0].copy())
        logs = {}
        callback.on_epoch_end(epoch, logs)
        assert {"val_macro_f1", "val_min_recall", "val_recall_1", "val_recall_2"} <= set(logs)
    assert callback.best_epoch == 1 and callback.best_value == pytest.approx(1.0)
    assert model.stop_training and callback.stopped_epoch is None   # patience, not the target
    callback.on_train_end()
    np.testing.assert_array_equal(model.get_weights()[0], weights_per_epoch[0])


def test_min_recall_target_stops_and_keeps_the_best():
    truth = np.array([1, 1, 2, 2])
    # lowest recall per epoch: 0.5, 0.0, 1.0 (reaches the target 0.9 at epoch 3)
    model = _scripted_model([np.eye(3)[[1, 1, 2, 1]], np.eye(3)[[1, 1, 1, 1]],
                             np.eye(3)[[1, 1, 2, 2]]])
    callback = BestEpoch(_Scripted(truth), "min_recall", target=0.9, patience=5)
    callback.set_model(model)
    history = []
    for epoch in range(3):
        model.stop_training = False
        logs = {}
        callback.on_epoch_end(epoch, logs)
        history.append(logs)
    assert [h["val_min_recall"] for h in history] == [0.5, 0.0, 1.0]
    assert [h["val_recall_2"] for h in history] == [0.5, 0.0, 1.0]
    assert callback.stopped_epoch == 3 and callback.best_epoch == 3 and model.stop_training


def test_selection_callbacks_per_rule():
    val = _Scripted([1, 2])
    callbacks, stopper = selection_callbacks(val, "accuracy", 0.985, 20)
    # published rule: the accuracy target, no best epoch kept; scores still in the history
    assert isinstance(stopper, TargetAccuracyStop) and stopper.target == 0.985
    assert not any(isinstance(c, BestEpoch) for c in callbacks)
    assert any(type(c) is ClassScores for c in callbacks)
    callbacks, stopper = selection_callbacks(val, "macro_f1", 0.9, 7)
    assert callbacks == [stopper] and isinstance(stopper, BestEpoch)
    assert (stopper.select, stopper.target, stopper.patience) == ("macro_f1", 0.9, 7)
    callbacks, stopper = selection_callbacks(val, "min_recall", None, 7)   # tuning
    assert stopper is None and [type(c) for c in callbacks] == [ClassScores]
    with pytest.raises(ConfigError):
        selection_callbacks(val, "f1", 0.9, 7)


# --------------------------------------------------------------------------------------------
# Weak classes: named, in the metadata, repeated by CSC
# --------------------------------------------------------------------------------------------

def test_weak_classes_are_named(caplog):
    names = list(GLACIER_SCHEME.names)
    with caplog.at_level(logging.WARNING, logger="seeice"):
        weak = report_weak_classes({1: 0.95, 3: 0.2, 4: 0.9}, trained={1, 3, 4, 7},
                                   class_names=names, model_name="m")
    assert weak == [2, 3, 5, 6]                      # 3 recall 0.2; 2, 5, 6 never trained
    assert "3 (melange) 0.20" in caplog.text and "no validation tiles of 7 (rock)" in caplog.text


def test_metadata_keeps_weak_classes_and_recall(tmp_path):
    meta = ModelMetadata(base="compact", tile_size=8, bands=2, n_classes=7, weak_classes=[5, 3],
                         validation_recall={"1": 0.98, "3": 0.41, 5: 0.5})
    assert meta.weak_classes == [3, 5] and meta.validation_recall == {1: 0.98, 3: 0.41, 5: 0.5}
    data = meta.to_dict()
    assert data["weak_classes"] == [3, 5]
    assert data["validation_recall"] == {"1": 0.98, "3": 0.41, "5": 0.5}
    (tmp_path / "m.keras").write_bytes(b"")                  # the sidecar is read alone
    (tmp_path / "m.meta.json").write_text(json.dumps(data))
    back = load_metadata(tmp_path / "m.keras")
    assert back == meta and back.validation_recall == {1: 0.98, 3: 0.41, 5: 0.5}
    # a sidecar written before the record existed loads, with nothing known
    old = {k: v for k, v in data.items() if k not in ("weak_classes", "validation_recall")}
    legacy = ModelMetadata.from_dict(old)
    assert legacy.weak_classes is None and legacy.validation_recall is None
    for bad in ({"weak_classes": [9]}, {"weak_classes": "3"},
                {"validation_recall": {"3": 1.5}}, {"validation_recall": {"x": 0.5}}):
        with pytest.raises(ModelError, match="model metadata"):
            ModelMetadata.from_dict({**data, **bad})


def test_csc_repeats_the_weak_class_warning(caplog):
    meta = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7, weak_classes=[3, 6],
                         validation_recall={1: 0.97, 3: 0.31})
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert warn_weak_classes(meta, GLACIER_SCHEME, "Models/m.keras") == [3, 6]
    assert ("m.keras is weak on 3 (melange, recall 0.31), 6 (snow on rock, no training tiles)"
            in caplog.text)
    caplog.clear()
    # sidecars of the interim format kept the record in ``training``
    interim = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7,
                            training={"weak_classes": [3], "validation_recall": {"3": 0.2}})
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert warn_weak_classes(interim, GLACIER_SCHEME, "i.keras") == [3]
    assert "3 (melange, recall 0.20)" in caplog.text
    caplog.clear()
    old = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7)
    none_weak = ModelMetadata(base="compact", tile_size=50, bands=4, n_classes=7,
                              weak_classes=[], validation_recall={1: 0.9})
    with caplog.at_level(logging.INFO, logger="seeice"):
        assert warn_weak_classes(old, GLACIER_SCHEME, "old.keras") == []
        assert warn_weak_classes(none_weak, GLACIER_SCHEME, "fine.keras") == []
    assert "weak on" not in caplog.text and "old.keras records no per-class" in caplog.text


def test_csc_run_warns_when_it_loads_a_weak_model(tmp_path, caplog, monkeypatch):
    """CSC loads the model, repeats its warning and keeps the phase-one classes per image."""
    import rasterio

    model = keras.Sequential([keras.Input((8, 8, 4)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(8, activation="softmax")])
    meta = ModelMetadata(base="custom", tile_size=8, bands=4, n_classes=7, weak_classes=[3],
                         validation_recall={1: 0.9, 3: 0.12})
    model_path = save_model(model, tmp_path / "model", "weak", meta)
    predict = tmp_path / "predict"
    predict.mkdir()
    with rasterio.open(predict / "scene.tif", "w", driver="GTiff", width=16, height=16, count=4,
                       dtype="uint16") as dst:
        dst.write(np.full((4, 16, 16), 1000, np.uint16))

    def classify(image_path, model, metadata, scheme, settings, timer=None):
        return {"Image": image_path.stem, "Front_found": False, "Error": "", "Front_note": "",
                "CNN_classes": "1 3"}

    monkeypatch.setattr("seeice.pipeline.image_csc.classify_image", classify)
    config = {"ModelName": str(model_path), "PredictPath": str(predict),
              "ScorePath": str(tmp_path / "out" / "W"), "Ndims": 4, "Kernel_size": 3, "size": 8,
              "Progress": False}
    with caplog.at_level(logging.WARNING, logger="seeice"):
        run = csc_module.run_csc(config)
    assert "weak.keras is weak on 3 (melange, recall 0.12)" in caplog.text
    summary = pd.read_csv(run.out_dir / "summary.csv", dtype={"CNN_classes": str})
    assert list(summary["CNN_classes"]) == ["1 3"]
    assert "CNN_classes" in csc_module.SUMMARY_COLUMNS


def test_published_class_balance_is_a_choice_of_the_scripts():
    from seeice.config.inputs import resolve_script

    for script in ("TrainCNN.py", "FineTuneCNN.py"):
        config, _ = resolve_script(REPO / "Phase_1_CNN" / script,
                                   ["--class-balance", "none", "--select", "accuracy",
                                    "--patience", "3"])
        assert (config["ClassBalance"], config["Select"], config["Patience"]) == \
            ("none", "accuracy", 3)
        # A value outside the choices is an input error like any other (one paragraph, exit 2).
        with pytest.raises(ConfigError, match="ClassBalance .*'equal'.*weights, batches, none"):
            resolve_script(REPO / "Phase_1_CNN" / script, ["--class-balance", "equal"])


# --------------------------------------------------------------------------------------------
# One short training run end to end
# --------------------------------------------------------------------------------------------

def test_training_records_weak_classes_and_the_split(tmp_path):
    """Classes 1 and 2 from source windows; class 3 has no tiles, so it is weak by name."""
    n_windows, copies = 24, 2
    groups = np.repeat(np.arange(n_windows), copies)
    labels = np.where(groups % 3 == 0, 2, 1)
    tensor, label_path = _write_tensor(tmp_path / "data", labels, groups, tile=8)
    result = train_tile_cnn(tensor, label_path, tmp_path / "out", "m", base="compact", bands=2,
                            n_classes=3, batch_size=8, epochs=3, target_accuracy=0.99, seed=1,
                            scheme=None, precision="float32")
    info = result.metadata.training
    assert info["validation_split"] == "source_window" and info["select"] == "macro_f1"
    assert info["class_balance"] == "weights"
    # class 1: 16 windows, 3 validate; class 2: 8 windows, 2 validate (2 copies each)
    assert (info["n_train"], info["n_validation"]) == (38, 10)
    meta = result.metadata
    assert set(meta.validation_recall) == {1, 2}
    assert 3 in meta.weak_classes and set(meta.weak_classes) <= {1, 2, 3}
    assert load_metadata(result.model_path) == meta               # the sidecar keeps them
    run = json.loads(result.run_path.read_text())
    assert run["weak_classes"] == meta.weak_classes
    assert run["model"]["weak_classes"] == meta.weak_classes
    assert set(run["validation_recall"]) == {"1", "2"}
    history = pd.read_csv(result.history_path)
    for column in ("val_accuracy", "val_macro_f1", "val_min_recall", "val_recall_1",
                   "val_recall_2"):
        assert column in history, column
    assert "val_recall_3" not in history                          # no validation tiles of 3
    kept = result.best_epoch
    assert kept is not None and 1 <= kept <= result.epochs_run
    assert history["val_macro_f1"].iloc[kept - 1] == history["val_macro_f1"].max()
    assert result.val_accuracy == pytest.approx(history["val_accuracy"].iloc[kept - 1])

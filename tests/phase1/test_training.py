"""Phase-one training: data checks, streaming batches, stop rule, outputs, tuning, fine-tuning."""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

keras = pytest.importorskip("keras")

from seeice.errors import ConfigError, DataError, InputFileError, ModelError  # noqa: E402
from seeice.io.model_metadata import ModelMetadata  # noqa: E402
from seeice.io.model_store import load_metadata, load_model, save_model  # noqa: E402
from seeice.phase1.precision import choose_policy  # noqa: E402
from seeice.metrics.reports import REPORT_COLUMNS, classification_report_frame  # noqa: E402
from seeice.phase1.history import TargetAccuracyStop  # noqa: E402
from seeice.phase1.tile_data import (TileDataset, infer_norm_factor, load_tile_data,  # noqa: E402
                                     split_indices, tensor_sidecar_path)
from seeice.phase1.models import model_policy  # noqa: E402
from seeice.phase1.training import fine_tune, train_tile_cnn  # noqa: E402

from repo_paths import REPO  # noqa: E402


def make_tensor(folder: Path, n=40, tile=32, bands=4, n_classes=3, name="Tiny", mode="float16",
                dtype=np.float16, sidecar=True, input_scale=8192.0, seed=0, labels=None):
    """Write ``<name>_T_<mode>.npy``, ``<name>_L_<mode>.npy`` and the sidecar JSON.

    Classes are separable: class k tiles are a flat level (k / (n_classes + 1)) plus small
    noise, balanced and shuffled.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    if labels is None:
        labels = np.resize(np.arange(1, n_classes + 1), n)
        rng.shuffle(labels)
    levels = np.arange(1, n_classes + 1) / (n_classes + 1)
    tiles = levels[np.clip(labels, 1, n_classes) - 1][:, None, None, None] \
        + rng.normal(0, 0.02, (n, tile, tile, bands))
    if np.issubdtype(dtype, np.integer):
        tiles = tiles * 8192
    tensor_path = folder / f"{name}_T_{mode}.npy"
    labels_path = folder / f"{name}_L_{mode}.npy"
    np.save(tensor_path, tiles.astype(dtype))
    np.save(labels_path, np.asarray(labels).astype(np.uint8))
    if sidecar:
        (folder / f"{name}_{mode}.json").write_text(json.dumps({
            "name": name, "mode": mode, "input_scale": input_scale, "tile_size": tile,
            "bands": bands, "n_classes": n_classes, "n_tiles": n}))
    return tensor_path, labels_path


def tiny_model(tile=8, bands=4, n_classes=3, seed=0):
    keras.utils.set_random_seed(seed)
    return keras.Sequential([keras.Input((tile, tile, bands)),
                             keras.layers.Conv2D(4, 3, activation="relu"),
                             keras.layers.Flatten(),
                             keras.layers.Dense(n_classes + 1, activation="softmax")])


# --------------------------------------------------------------------------------------------
# Small pieces
# --------------------------------------------------------------------------------------------

def test_split_is_seeded_disjoint_and_80_20():
    train, val = split_indices(40, seed=3)
    assert len(val) == 8 and len(train) == 32
    assert not set(train) & set(val)
    assert sorted(np.concatenate([train, val])) == list(range(40))
    again = split_indices(40, seed=3)
    assert np.array_equal(again[1], val)
    assert not np.array_equal(split_indices(40, seed=4)[1], val)
    with pytest.raises(DataError):
        split_indices(1)


def test_tile_dataset_streams_one_hot_batches_and_reshuffles(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path, n=23, tile=4, bands=2, n_classes=3)
    tensor = np.load(tensor_path, mmap_mode="r")
    labels = np.load(labels_path).astype(np.int64)
    indices = np.arange(3, 23)
    ds = TileDataset(tensor, labels, indices, batch_size=6, n_outputs=4, shuffle=True, seed=1)
    assert len(ds) == 4
    seen, first_epoch = [], []
    for i in range(len(ds)):
        x, y = ds[i]
        assert x.dtype == np.float32 and x.shape[1:] == (4, 4, 2)
        assert y.shape == (len(x), 4) and np.all(y.sum(axis=1) == 1) and np.all(y[:, 0] == 0)
        seen.append(x)
        first_epoch.append(y)
    assert sum(len(x) for x in seen) == 20
    # Every served tile is one of the dataset's rows, with its own label.
    flat = np.concatenate(seen).reshape(20, -1)
    rows = np.asarray(tensor[indices], dtype=np.float32).reshape(20, -1)
    matches = [np.flatnonzero((rows == f).all(axis=1)) for f in flat]
    assert all(len(m) == 1 for m in matches)
    served = indices[[m[0] for m in matches]]
    np.testing.assert_array_equal(np.concatenate(first_epoch).argmax(axis=1), labels[served])
    order_before = ds.order.copy()
    ds.on_epoch_end()
    assert sorted(ds.order) == sorted(order_before) and not np.array_equal(ds.order, order_before)
    with pytest.raises(IndexError):
        ds[4]
    fixed = TileDataset(tensor, labels, indices[::-1], batch_size=6, n_outputs=4)
    np.testing.assert_array_equal(fixed.truth(), labels[np.sort(indices)])


def test_stop_rule_fires_at_the_first_epoch_reaching_the_target():
    model = tiny_model()
    stop = TargetAccuracyStop(0.9)
    stop.set_model(model)
    model.stop_training = False
    for epoch, accuracy in enumerate([0.5, 0.89999, 0.9, 0.95]):
        stop.on_epoch_end(epoch, {"accuracy": 0.99, "val_accuracy": accuracy})
        if model.stop_training:
            break
    assert model.stop_training
    assert stop.stopped_epoch == 3          # the third epoch reached exactly 0.9
    # Training accuracy alone never stops it.
    other = TargetAccuracyStop(0.9)
    other.set_model(model)
    model.stop_training = False
    other.on_epoch_end(0, {"accuracy": 1.0, "val_accuracy": 0.1})
    other.on_epoch_end(1, {"accuracy": 1.0})
    assert not model.stop_training and other.stopped_epoch is None


def test_classification_report_frame_known_answer():
    truth = np.array([1, 1, 1, 2, 2, 3, 3, 3])
    predicted = np.array([1, 1, 2, 2, 2, 3, 3, 1])
    frame = classification_report_frame(truth, predicted, ["a", "b", "c"], labels=[1, 2, 3])
    assert list(frame.columns) == list(REPORT_COLUMNS)
    assert list(frame["Class"]) == ["a", "b", "c", "Accuracy", "Macro_avg", "Weighted_avg"]
    a = frame.iloc[0]
    assert (a.Precision, a.Recall, a.F1_score, a.Support) == (0.667, 0.667, 0.667, 3)
    b = frame.iloc[1]
    assert (b.Precision, b.Recall, b.Support) == (0.667, 1.0, 2)
    acc = frame.iloc[3]
    assert acc.F1_score == 0.75 and acc.Support == 8 and np.isnan(acc.Precision)
    # A class never seen gets a row of zeros; a prediction of column 0 counts as wrong.
    frame = classification_report_frame([1, 2], [1, 0], ["x", "y", "z"], labels=[1, 2, 3])
    assert frame.iloc[2].Support == 0 and frame.iloc[3].F1_score == 0.5


def test_report_macro_average_leaves_out_classes_that_never_occur():
    """A 5-class scheme on data with 3 classes (fluvial on St Marguerite): the two unused
    classes keep their rows of zeros but do not pull the macro average down."""
    truth = np.array([1, 1, 1, 2, 2, 3, 3, 3])
    predicted = np.array([1, 1, 2, 2, 2, 3, 3, 1])
    three = classification_report_frame(truth, predicted, ["a", "b", "c"], labels=[1, 2, 3])
    five = classification_report_frame(truth, predicted, list("abcde"), labels=[1, 2, 3, 4, 5])
    assert list(five["Class"][:5]) == list("abcde")
    assert (five.iloc[3:5][["Precision", "Recall", "F1_score", "Support"]] == 0).all().all()
    macro3 = three.set_index("Class").loc["Macro_avg"]
    macro5 = five.set_index("Class").loc["Macro_avg"]
    assert macro5.F1_score == macro3.F1_score == 0.756          # (0.667 + 0.8 + 0.8) / 3
    assert (macro5.Precision, macro5.Recall) == (macro3.Precision, macro3.Recall)
    assert five.set_index("Class").loc["Weighted_avg"].F1_score == 0.75
    # a class only predicted (never true) still counts in the macro average
    only_predicted = classification_report_frame([1, 1], [1, 2], ["x", "y", "z"], labels=[1, 2, 3])
    assert only_predicted.set_index("Class").loc["Macro_avg"].F1_score == round(
        (2 / 3 + 0) / 2, 3)


def test_tensor_sidecar_name_and_norm_factor(tmp_path, caplog):
    assert tensor_sidecar_path("d/Joint5k_T_float16.npy") == Path("d/Joint5k_float16.json")
    assert tensor_sidecar_path("d/tiles.npy") == Path("d/tiles.json")
    assert infer_norm_factor(np.float16, {"input_scale": 16384}) == 16384.0
    assert infer_norm_factor(np.int16, {}) == 1.0
    with caplog.at_level(logging.WARNING, logger="seeice.phase1.training"):
        assert infer_norm_factor(np.float16, {}) == 8192.0
    assert "no sidecar" in caplog.text
    tensor_path, labels_path = make_tensor(tmp_path, sidecar=False, tile=4)
    assert load_tile_data(tensor_path, labels_path, n_classes=3).norm_factor == 8192.0
    tensor_path, labels_path = make_tensor(tmp_path, name="Raw", mode="int16", dtype=np.int16,
                                           sidecar=False, tile=4)
    assert load_tile_data(tensor_path, labels_path, n_classes=3).norm_factor == 1.0
    tensor_path, labels_path = make_tensor(tmp_path, name="U", mode="uint8float16", tile=4,
                                           input_scale=16384.0)
    data = load_tile_data(tensor_path, labels_path, n_classes=3)
    assert data.norm_factor == 16384.0 and isinstance(data.tensor, np.memmap)


# --------------------------------------------------------------------------------------------
# Bad inputs: each is the project's error, raised before any training
# --------------------------------------------------------------------------------------------

def _train(tmp_path, tensor_path, labels_path, **kwargs):
    kwargs.setdefault("n_classes", 3)
    return train_tile_cnn(tensor_path, labels_path, tmp_path / "out", "m", epochs=1, **kwargs)


def test_length_mismatch_is_a_data_error(tmp_path):
    tensor_path, _ = make_tensor(tmp_path, n=40)
    _, labels_path = make_tensor(tmp_path / "other", n=39)
    with pytest.raises(DataError, match="40 tiles.*39 labels"):
        _train(tmp_path, tensor_path, labels_path)
    assert not (tmp_path / "out").exists()


def test_band_mismatch_names_both_counts(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path, bands=3)
    with pytest.raises(ConfigError) as info:
        _train(tmp_path, tensor_path, labels_path, bands=4)
    assert "4 bands" in str(info.value) and "3 bands" in str(info.value)


def test_rgb_bands_and_a_tile_crop_of_a_larger_tensor(tmp_path, caplog):
    """The published NIR = False and Tilesize: first three bands, top-left crop, no copy."""
    tensor_path, labels_path = make_tensor(tmp_path, n=12, tile=16, bands=4)
    full = np.load(tensor_path)
    with caplog.at_level(logging.INFO, logger="seeice"):
        data = load_tile_data(tensor_path, labels_path, bands=3, n_classes=3, tile_crop=10)
    assert data.tensor.shape == (12, 10, 10, 3) and (data.tile_size, data.bands) == (10, 3)
    np.testing.assert_array_equal(data.tensor, full[:, :10, :10, :3])
    assert isinstance(data.tensor, np.memmap)  # still a view of the file
    assert "first 3 (R, G, B)" in caplog.text and "top-left 10 x 10" in caplog.text
    for bad in (17, -1):
        with pytest.raises(ConfigError, match="tile crop"):
            load_tile_data(tensor_path, labels_path, n_classes=3, tile_crop=bad)


@pytest.mark.slow
def test_an_rgb_model_of_cropped_tiles_trains_from_a_larger_tensor(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path, n=12, tile=16, bands=4)
    result = train_tile_cnn(tensor_path, labels_path, tmp_path / "out", "rgb", base="compact",
                            bands=3, n_classes=3, tile_crop=10, epochs=1, batch_size=4)
    model, meta = load_model(result.model_path)
    assert model.input_shape == (None, 10, 10, 3) and (meta.tile_size, meta.bands) == (10, 3)
    assert meta.training["tile_crop"] == 10


def test_random_split_is_the_published_one_and_says_how_many_copies_leak(tmp_path, caplog):
    from seeice.phase1.tile_data import split_for_training

    tensor_path, labels_path = make_tensor(tmp_path, n=40, tile=8)
    data = load_tile_data(tensor_path, labels_path, n_classes=3)
    data.groups = np.repeat(np.arange(10), 4)   # four copies of each of 10 windows
    train, val, how = split_for_training(data, seed=0, split="group")
    assert how == "source_window" and not set(data.groups[val]) & set(data.groups[train])
    with caplog.at_level(logging.WARNING, logger="seeice"):
        train, val, how = split_for_training(data, seed=0, split="random")
    assert how == "random" and (train.size, val.size) == (32, 8)
    leaked = int(np.isin(data.groups[val], data.groups[train]).sum())
    assert leaked > 0 and f"{leaked} of 8 validation tiles are copies" in caplog.text
    with pytest.raises(ConfigError, match="random is the published split"):
        _train(tmp_path, tensor_path, labels_path, split="windows")


def test_labels_outside_the_classes_are_a_data_error(tmp_path):
    labels = np.resize([1, 2, 3, 4], 40)
    tensor_path, labels_path = make_tensor(tmp_path, labels=labels, sidecar=False)
    with pytest.raises(DataError, match=r"outside 1\.\.3.*4 \(10 tiles\)"):
        _train(tmp_path, tensor_path, labels_path)
    zeros = np.resize([0, 1, 2], 40)
    tensor_path, labels_path = make_tensor(tmp_path, labels=zeros, sidecar=False)
    with pytest.raises(DataError, match="outside"):
        _train(tmp_path, tensor_path, labels_path)


def test_class_count_disagreeing_with_the_tensor_sidecar(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path, n_classes=3)
    with pytest.raises(ConfigError, match="compiled for 3 classes"):
        _train(tmp_path, tensor_path, labels_path, n_classes=7)


def test_missing_and_unreadable_inputs(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path)
    with pytest.raises(InputFileError, match="nowhere_T_float16.npy"):
        _train(tmp_path, tmp_path / "nowhere_T_float16.npy", labels_path)
    with pytest.raises(InputFileError):
        _train(tmp_path, tensor_path, tmp_path / "nolabels.npy")
    garbage = tmp_path / "garbage_T_float16.npy"
    garbage.write_bytes(b"not an array")
    with pytest.raises(DataError, match="not a readable"):
        _train(tmp_path, garbage, labels_path)
    flat = tmp_path / "flat_T_float16.npy"
    np.save(flat, np.zeros((40, 32, 32), np.float16))
    with pytest.raises(DataError, match="shape"):
        _train(tmp_path, flat, labels_path)


def test_bad_options_are_config_errors(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path)
    with pytest.raises(ConfigError, match="vgg16"):
        _train(tmp_path, tensor_path, labels_path, base="alexnet")
    with pytest.raises(ConfigError, match="mixed_float16"):
        _train(tmp_path, tensor_path, labels_path, precision="half")
    with pytest.raises(ConfigError):
        _train(tmp_path, tensor_path, labels_path, batch_size=0)
    with pytest.raises(ConfigError):
        _train(tmp_path, tensor_path, labels_path, target_accuracy=1.5)
    with pytest.raises(ConfigError, match="3 classes"):
        _train(tmp_path, tensor_path, labels_path, scheme="glacier")


def test_tiles_too_small_for_vgg16_are_a_model_error(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path, tile=16)
    with pytest.raises(ModelError, match="32"):
        _train(tmp_path, tensor_path, labels_path)
    assert keras.mixed_precision.global_policy().name == "float32"


# --------------------------------------------------------------------------------------------
# Training runs (VGG16 on 40 tiles of 32 x 32 x 4)
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """One short VGG16 training run shared by the tests below."""
    folder = tmp_path_factory.mktemp("train")
    tensor_path, labels_path = make_tensor(folder / "data", n=40, tile=32, bands=4, n_classes=3,
                                           input_scale=8192.0)
    policy_before = keras.mixed_precision.global_policy().name
    result = train_tile_cnn(tensor_path, labels_path, folder / "models", "VGG16_tiny",
                            n_classes=3, batch_size=10, epochs=2, target_accuracy=1.0, seed=0)
    return result, folder, tensor_path, labels_path, policy_before


def test_training_saves_a_loadable_model_with_metadata(trained):
    result, folder, tensor_path, _, policy_before = trained
    out = folder / "models"
    assert result.model_path == out / "VGG16_tiny.keras"
    assert (out / "VGG16_tiny.meta.json").is_file()
    model, meta = load_model(result.model_path)
    assert model.input_shape == (None, 32, 32, 4) and model.output_shape == (None, 4)
    assert meta == load_metadata(result.model_path) == result.metadata
    assert (meta.base, meta.tile_size, meta.bands, meta.n_classes) == ("vgg16", 32, 4, 3)
    assert meta.class_names == ["class 1", "class 2", "class 3"]
    assert meta.scheme["classes"][1][0] == "class 1"
    assert meta.norm_factor == 8192.0
    assert meta.precision == choose_policy("auto")
    assert meta.training["tensor"] == str(tensor_path)
    assert meta.training["n_train"] == 32 and meta.training["n_validation"] == 8
    assert meta.training["epochs_run"] == result.epochs_run
    assert meta.training["learning_rate"] == 1e-4
    # The global precision policy is left as it was.
    assert keras.mixed_precision.global_policy().name == policy_before
    x = np.zeros((2, 32, 32, 4), np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, atol=1e-5)


def test_training_writes_history_report_and_run_record(trained):
    result, folder, *_ = trained
    out = folder / "models"
    assert result.epochs_run in (1, 2)
    history = pd.read_csv(out / "VGG16_tiny_history.csv")
    assert list(history["epoch"]) == list(range(1, result.epochs_run + 1))
    for column in ("loss", "accuracy", "val_loss", "val_accuracy"):
        assert column in history
    kept = result.best_epoch or result.epochs_run          # the best epoch is restored
    assert result.val_accuracy == pytest.approx(history["val_accuracy"].iloc[kept - 1])
    report = pd.read_csv(out / "VGG16_tiny_report.csv")
    assert list(report.columns) == list(REPORT_COLUMNS)
    assert list(report["Class"]) == ["class 1", "class 2", "class 3", "Accuracy", "Macro_avg",
                                     "Weighted_avg"]
    assert report["Support"].iloc[:3].sum() == 8
    assert report["F1_score"].iloc[3] == pytest.approx(round(result.val_accuracy, 3))
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["name"] == "VGG16_tiny"
    assert run["model"]["format"] == "seeice-model/1"
    assert run["precision_policy"] == result.precision


def test_tuning_mode_saves_curves_but_no_model(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path / "data", n=30, n_classes=3)
    result = train_tile_cnn(tensor_path, labels_path, tmp_path / "tune", "tuneme", n_classes=3,
                            batch_size=15, tuning=True, tuning_epochs=2, target_accuracy=0.01)
    out = tmp_path / "tune"
    assert result.model_path is None
    assert not (out / "tuneme.keras").exists() and not (out / "tuneme.meta.json").exists()
    # Fixed epochs: the (trivially low) target does not stop tuning runs.
    assert result.epochs_run == 2 and not result.target_reached
    history = pd.read_csv(out / "tuneme_history.csv")
    assert len(history) == 2
    figure = out / "tuneme_history.png"
    assert figure.is_file() and figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (out / "run.json").is_file()


def test_fine_tuning_continues_from_the_saved_model(trained, tmp_path):
    result, folder, tensor_path, labels_path, _ = trained
    parent, _ = load_model(result.model_path)
    tuned = fine_tune(result.model_path, tensor_path, labels_path, tmp_path, "VGG16_joint",
                      learning_rate=1e-7, batch_size=10, target_accuracy=1e-6, epochs=5)
    # The (trivial) target stops at the end of the first epoch.
    assert tuned.epochs_run == 1 and tuned.target_reached
    assert tuned.model_path == tmp_path / "VGG16_joint.keras"
    model, meta = load_model(tuned.model_path)
    assert meta.class_names == result.metadata.class_names
    assert meta.norm_factor == result.metadata.norm_factor
    assert meta.training["fine_tuned_from"] == str(result.model_path)
    assert meta.training["parent_training"]["epochs_run"] == result.epochs_run
    assert meta.training["learning_rate"] == 1e-7
    # Continued from the parent's weights: one epoch at a tiny rate moves them only slightly.
    before = parent.layers[0].get_weights()[0]
    after = model.layers[0].get_weights()[0]
    change = np.abs(after - before).max()
    assert 0 < change < 1e-3 * np.abs(before).max()
    assert (tmp_path / "VGG16_joint_report.csv").is_file()
    assert result.model_path.is_file()          # the parent is left untouched


def test_fine_tuning_a_legacy_h5_model(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path / "data", n=20, tile=8, n_classes=3)
    legacy = tmp_path / "old.h5"
    tiny_model(tile=8, bands=4, n_classes=3).save(legacy)
    tuned = fine_tune(legacy, tensor_path, labels_path, tmp_path / "out", "new", epochs=2,
                      batch_size=5, target_accuracy=1.0)
    meta = load_metadata(tuned.model_path)
    assert (meta.tile_size, meta.bands, meta.n_classes) == (8, 4, 3)
    assert meta.training["fine_tuned_from"] == str(legacy)
    assert 1 <= tuned.epochs_run <= 2


@pytest.mark.slow
def test_fine_tuning_in_another_precision_rebuilds_the_model(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path / "data", n=12, tile=8, n_classes=3)
    parent = train_tile_cnn(tensor_path, labels_path, tmp_path / "m", "small", base="compact",
                            n_classes=3, epochs=1, batch_size=4, precision="float32")
    tuned = fine_tune(parent.model_path, tensor_path, labels_path, tmp_path / "out", "bf16",
                      epochs=1, batch_size=4, target_accuracy=1e-6, precision="mixed_bfloat16")
    model, meta = load_model(tuned.model_path)
    assert tuned.precision == meta.precision == "mixed_bfloat16"
    assert model_policy(model) == "mixed_bfloat16"
    assert keras.mixed_precision.global_policy().name == "float32"  # restored
    # a legacy model of unknown architecture cannot be rebuilt: asked explicitly, an error
    legacy = tmp_path / "old.h5"
    tiny_model(tile=8, bands=4, n_classes=3).save(legacy)
    with pytest.raises(ModelError, match="--precision float32"):
        fine_tune(legacy, tensor_path, labels_path, tmp_path / "out2", "x", epochs=1,
                  precision="mixed_bfloat16")


def test_fine_tuning_refuses_tiles_that_do_not_fit_the_model(tmp_path):
    model_path = save_model(tiny_model(tile=8, bands=4), tmp_path, "small",
                            ModelMetadata(base="vgg16", tile_size=8, bands=4, n_classes=3))
    tensor_path, labels_path = make_tensor(tmp_path / "big", tile=10, bands=4)
    with pytest.raises(ModelError) as info:
        fine_tune(model_path, tensor_path, labels_path, tmp_path / "out", "x")
    assert "8x8" in str(info.value) and "10x10" in str(info.value)
    tensor_path, labels_path = make_tensor(tmp_path / "rgb", tile=8, bands=3)
    with pytest.raises(ModelError, match="4 bands.*3 bands"):
        fine_tune(model_path, tensor_path, labels_path, tmp_path / "out", "x")
    tensor_path, labels_path = make_tensor(tmp_path / "scaled", tile=8, input_scale=16384.0)
    with pytest.raises(DataError, match="8192.*16384"):
        fine_tune(model_path, tensor_path, labels_path, tmp_path / "out", "x")
    with pytest.raises(InputFileError):
        fine_tune(tmp_path / "absent.keras", tensor_path, labels_path, tmp_path / "out", "x")
    garbage = tmp_path / "garbage.keras"
    garbage.write_text("nonsense")
    with pytest.raises(ModelError):
        fine_tune(garbage, tensor_path, labels_path, tmp_path / "out", "x")


# --------------------------------------------------------------------------------------------
# Scripts: user errors give one paragraph and exit status 2, no traceback
# --------------------------------------------------------------------------------------------


def _run_script(name, *args):
    import subprocess
    import sys

    return subprocess.run([sys.executable, str(REPO / "Phase_1_CNN" / name), *args],
                          capture_output=True, text=True, timeout=300)


def test_train_script_reports_a_missing_tensor(tmp_path):
    _, labels_path = make_tensor(tmp_path)
    result = _run_script("TrainCNN.py", "--tensor", str(tmp_path / "absent_T_float16.npy"),
                         "--labels", str(labels_path), "--out", str(tmp_path / "out"),
                         "--classes", "3")
    assert result.returncode == 2, result.stderr[-2000:]
    assert "InputFileError" in result.stderr and "absent_T_float16.npy" in result.stderr
    assert "Traceback" not in result.stderr


def test_fine_tune_script_reports_a_garbage_model(tmp_path):
    tensor_path, labels_path = make_tensor(tmp_path)
    garbage = tmp_path / "model.h5"
    garbage.write_bytes(b"\x00" * 64)
    result = _run_script("FineTuneCNN.py", "--model", str(garbage), "--tensor", str(tensor_path),
                         "--labels", str(labels_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2, result.stderr[-2000:]
    assert "ModelError" in result.stderr and "model.h5" in result.stderr
    assert "Traceback" not in result.stderr


# --------------------------------------------------------------------------------------------
# End to end on synthetic glacier scenes (slow)
# --------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_vgg16_learns_synthetic_glacier_tiles(tmp_path):
    """Synthetic scenes -> pure tiles (tensor mode) -> VGG16 until validation accuracy 0.95."""
    from seeice.datasets.synthetic import generate_scenes
    from seeice.phase1.preparation import prepare_tiles

    generate_scenes(tmp_path / "scenes", n_images=2, size=600, seed=0)
    prepared = prepare_tiles(tmp_path / "scenes", tmp_path / "tiles", tile_size=32, stride=32,
                             tensor_name="Synth", tensor_mode="float16", n_classes=7, seed=0)
    files = prepared.tensors["Train"]
    assert files.n_tiles > 1000
    result = train_tile_cnn(files.tensor, files.labels, tmp_path / "models", "VGG16_synth",
                            base="vgg16", bands=4, n_classes=7, batch_size=50, epochs=40,
                            target_accuracy=0.95, seed=0)
    assert result.target_reached, (f"validation accuracy {result.val_accuracy:.3f} after "
                                   f"{result.epochs_run} epochs")
    assert result.val_accuracy >= 0.95
    meta = load_metadata(result.model_path)
    assert meta.class_names == ["open water", "iceberg water", "melange", "glacier ice",
                                "snow on ice", "snow on rock", "rock"]
    assert meta.norm_factor == files.input_scale == 8192.0
    report = pd.read_csv(tmp_path / "models" / "VGG16_synth_report.csv")
    assert report.set_index("Class").loc["Accuracy", "F1_score"] >= 0.95

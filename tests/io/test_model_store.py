"""Model storage: .keras + .meta.json sidecar, legacy .h5, inferred metadata, clear errors."""

import json
import logging
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.classes import GLACIER_SCHEME, load_scheme  # noqa: E402
from seeice.errors import ConfigError, InputFileError, ModelError  # noqa: E402
from seeice.io.model_metadata import FORMAT, ModelMetadata  # noqa: E402
from seeice.io.model_store import load_metadata, load_model, save_model, sidecar_path  # noqa: E402

KEYS = ["format", "base", "tile_size", "bands", "n_classes", "class_names", "scheme",
        "norm_factor", "precision", "created", "weak_classes", "validation_recall", "training"]


def tiny_model(tile=8, bands=4, n_classes=7, seed=0):
    """A small stand-in with the tile CNN's input and output shapes (saves in milliseconds)."""
    keras.utils.set_random_seed(seed)
    return keras.Sequential([
        keras.Input((tile, tile, bands)),
        keras.layers.Conv2D(3, 3, activation="relu"),
        keras.layers.Flatten(),
        keras.layers.Dense(n_classes + 1, activation="softmax", dtype="float32"),
    ], name="tiny")


def tiny_metadata(tile=8, bands=4, n_classes=7, **kwargs):
    return ModelMetadata(base="vgg16", tile_size=tile, bands=bands, n_classes=n_classes,
                         **kwargs)


def test_save_writes_model_and_sidecar_in_the_agreed_format(tmp_path):
    model = tiny_model()
    meta = tiny_metadata(norm_factor=8192, precision="float32", training={"epochs_run": 3})
    path = save_model(model, tmp_path / "models", "M1", meta)
    assert path == tmp_path / "models" / "M1.keras"
    side = tmp_path / "models" / "M1.meta.json"
    assert sidecar_path(path) == side
    data = json.loads(side.read_text())
    assert list(data) == KEYS
    assert data["format"] == FORMAT == "seeice-model/1"
    assert data["tile_size"] == 8 and data["bands"] == 4 and data["n_classes"] == 7
    assert data["class_names"] == list(GLACIER_SCHEME.names)
    assert data["scheme"]["name"] == "glacier"
    assert data["norm_factor"] == 8192.0 and isinstance(data["norm_factor"], float)
    assert data["training"] == {"epochs_run": 3}
    assert data["created"]
    # Nothing left behind by the atomic writes.
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["M1.keras", "M1.meta.json"]


def test_round_trip_restores_weights_and_metadata(tmp_path):
    scheme = load_scheme("fluvial")
    meta = ModelMetadata(base="densenet121", tile_size=8, bands=4, n_classes=5,
                         scheme=scheme.to_dict(), norm_factor=255, precision="mixed_float16")
    model = tiny_model(n_classes=5)
    path = save_model(model, tmp_path, "fluvial_model", meta)
    loaded, loaded_meta = load_model(path)
    assert loaded_meta == meta
    assert loaded_meta.class_names == list(scheme.names)
    assert loaded_meta.class_scheme() == scheme
    assert not loaded_meta.inferred
    assert load_metadata(path) == meta
    assert load_metadata(tmp_path / "fluvial_model") == meta       # extension optional
    x = np.random.default_rng(0).random((3, 8, 8, 4)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_compiled_model_is_saved_without_optimizer_state(tmp_path):
    from seeice.phase1.models import compile_tile_model

    model = compile_tile_model(tiny_model(), 1e-4)
    x = np.zeros((4, 8, 8, 4), "float32")
    y = np.eye(8, dtype="float32")[[1, 2, 3, 4]]
    model.fit(x, y, epochs=1, verbose=0)
    path = save_model(model, tmp_path, "compiled", tiny_metadata())
    import zipfile

    with zipfile.ZipFile(path) as archive, archive.open("model.weights.h5") as handle:
        import h5py

        with h5py.File(handle) as weights:
            assert "optimizer" not in weights or len(weights["optimizer"].get("vars", {})) == 0
    loaded, _ = load_model(path)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_load_metadata_does_not_import_tensorflow(tmp_path):
    save_model(tiny_model(), tmp_path, "M", tiny_metadata())
    code = ("import sys; from seeice.io.model_store import load_metadata; "
            f"m = load_metadata({str(tmp_path / 'M.keras')!r}); "
            "assert m.tile_size == 8, m; "
            "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_save_refuses_metadata_that_do_not_match_the_network(tmp_path):
    with pytest.raises(ModelError, match="tile size 8 vs 50"):
        save_model(tiny_model(), tmp_path, "bad", tiny_metadata(tile=50))
    with pytest.raises(ModelError, match="outputs"):
        save_model(tiny_model(n_classes=7), tmp_path, "bad", tiny_metadata(n_classes=5))
    with pytest.raises(ConfigError):
        save_model(tiny_model(), tmp_path, "sub/dir", tiny_metadata())
    assert not list(tmp_path.iterdir())


def test_metadata_checks_class_names_against_the_count():
    with pytest.raises(ConfigError):
        ModelMetadata(base="vgg16", tile_size=50, bands=4, n_classes=7, class_names=["a", "b"])
    with pytest.raises(ConfigError):
        ModelMetadata(base="vgg16", tile_size=50, bands=4, n_classes=5,
                      scheme=GLACIER_SCHEME.to_dict())
    meta = ModelMetadata(base="vgg16", tile_size=50, bands=4, n_classes=3)
    assert meta.class_names == ["class 1", "class 2", "class 3"]


def test_legacy_h5_loads_with_inferred_metadata(tmp_path, caplog):
    from seeice.phase1.models import build_tile_model

    model = build_tile_model("vgg16", tile_size=32, bands=3, n_classes=7)
    legacy = tmp_path / "VGG16_legacy.h5"
    model.save(legacy)
    assert not sidecar_path(legacy).exists()
    with caplog.at_level(logging.WARNING, logger="seeice.io.model_store"):
        loaded, meta = load_model(legacy)
    assert "no metadata" in caplog.text
    assert (meta.tile_size, meta.bands, meta.n_classes) == (32, 3, 7)
    assert meta.base == "vgg16"
    assert meta.norm_factor == 8192.0
    assert meta.class_names == list(GLACIER_SCHEME.names)
    assert meta.inferred
    x = np.random.default_rng(1).random((2, 32, 32, 3)).astype("float32")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # Without extension: .keras is tried, then .h5.
    assert load_metadata(tmp_path / "VGG16_legacy").tile_size == 32


def test_keras_file_without_sidecar_gets_inferred_metadata(tmp_path):
    tiny_model(tile=8, bands=3, n_classes=4).save(tmp_path / "plain.keras")
    meta = load_metadata(tmp_path / "plain.keras")
    assert (meta.tile_size, meta.bands, meta.n_classes) == (8, 3, 4)
    assert meta.class_names == ["class 1", "class 2", "class 3", "class 4"]
    assert meta.base == "unknown"


def _assert_no_chained_traceback(exc):
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


@pytest.mark.parametrize("suffix, kind", [(".keras", "not a Keras model file"),
                                          (".h5", "not a Keras .h5 model")])
def test_garbage_model_file_is_a_model_error(tmp_path, suffix, kind):
    garbage = tmp_path / f"broken{suffix}"
    garbage.write_bytes(np.random.default_rng(0).bytes(4000))
    with pytest.raises(ModelError, match=kind) as info:
        load_model(garbage)
    _assert_no_chained_traceback(info.value)
    message = str(info.value)
    assert str(garbage) in message and "damaged or truncated" in message
    assert "not found" not in message.lower()
    with pytest.raises(ModelError, match=kind):
        load_metadata(garbage)


def test_truncated_and_foreign_zip_models_are_named_as_such(tmp_path):
    import zipfile

    path = save_model(tiny_model(), tmp_path, "M", tiny_metadata())
    data = path.read_bytes()
    truncated = tmp_path / "cut.keras"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="not a Keras model file.*damaged or truncated"):
        load_model(truncated)
    foreign = tmp_path / "photos.keras"
    with zipfile.ZipFile(foreign, "w") as archive:
        archive.writestr("a.txt", "hello")
    with pytest.raises(ModelError, match="holds no config.json"):
        load_model(foreign)
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match="is empty"):
        load_model(empty)


def test_missing_model_is_an_input_file_error(tmp_path):
    with pytest.raises(InputFileError) as info:
        load_model(tmp_path / "nowhere.keras")
    assert "nowhere.keras" in str(info.value)
    with pytest.raises(InputFileError) as info:
        load_metadata(tmp_path / "nowhere")
    assert "nowhere.keras" in str(info.value) and "nowhere.h5" in str(info.value)
    with pytest.raises(ModelError):
        load_model(tmp_path)                    # a folder


def test_bad_sidecar_is_a_model_error(tmp_path):
    path = save_model(tiny_model(), tmp_path, "M", tiny_metadata())
    side = sidecar_path(path)
    side.write_text("{not json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_metadata(path)
    side.write_text(json.dumps({"format": "other/9", "base": "vgg16"}))
    with pytest.raises(ModelError, match="format"):
        load_metadata(path)
    good = tiny_metadata().to_dict()
    good["tile_size"] = 50
    side.write_text(json.dumps(good))
    assert load_metadata(path).tile_size == 50           # the sidecar alone is trusted
    with pytest.raises(ModelError, match="disagree"):
        load_model(path)                                  # but not against the network

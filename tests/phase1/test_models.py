"""Tile CNN factories: layers of the heads, output width, float32 output, size limits, compile."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.errors import ConfigError, ModelError  # noqa: E402
from seeice.phase1.models import (BASES, base_of, build_tile_model, compile_tile_model,  # noqa: E402
                           default_learning_rate)


@pytest.fixture
def mixed_precision():
    """Run a test under the mixed_float16 global policy and restore the previous one."""
    before = keras.mixed_precision.global_policy().name
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def _activation(layer):
    return getattr(layer.activation, "__name__", str(layer.activation))


def _l2(layer):
    reg = layer.kernel_regularizer
    assert isinstance(reg, keras.regularizers.L2), f"{layer.name} has no L2 regulariser"
    return float(reg.l2)


def _check_dense(layer, units, activation="relu", l2=1e-3):
    assert isinstance(layer, keras.layers.Dense)
    assert layer.units == units
    assert _activation(layer) == activation
    if l2 is None:
        assert layer.kernel_regularizer is None
    else:
        assert _l2(layer) == pytest.approx(l2)


def test_vgg16_layers():
    model = build_tile_model("vgg16", tile_size=50, bands=4, n_classes=7)
    assert model.input_shape == (None, 50, 50, 4)
    assert model.output_shape == (None, 8)
    base, flatten, dense512, dropout, dense256, out = model.layers
    assert isinstance(base, keras.Model) and base.name == "vgg16"
    assert base.input_shape == (None, 50, 50, 4)
    # No top: the base ends in its last pooling block, no dense "predictions" layer.
    assert not any(isinstance(layer, keras.layers.Dense) for layer in base.layers)
    assert isinstance(flatten, keras.layers.Flatten)
    _check_dense(dense512, 512)
    assert isinstance(dropout, keras.layers.Dropout) and dropout.rate == pytest.approx(0.5)
    _check_dense(dense256, 256)
    _check_dense(out, 8, activation="softmax", l2=None)
    assert out.dtype_policy.name == "float32"


@pytest.mark.parametrize("base_name", ["densenet121", "resnet50"])
def test_densenet_resnet_head(base_name):
    model = build_tile_model(base_name, tile_size=32, bands=3, n_classes=5)
    assert model.input_shape == (None, 32, 32, 3)
    assert model.output_shape == (None, 6)
    base, flatten, d64, bn, d32, d16, out = model.layers
    assert isinstance(base, keras.Model) and base.name == base_name
    assert not any(isinstance(layer, keras.layers.Dense) for layer in base.layers)
    assert isinstance(flatten, keras.layers.Flatten)
    _check_dense(d64, 64)
    assert isinstance(bn, keras.layers.BatchNormalization)
    _check_dense(d32, 32)
    _check_dense(d16, 16)
    _check_dense(out, 6, activation="softmax", l2=None)
    assert base_of(model) == base_name


def test_random_initial_weights_differ_between_seeds():
    # weights=None: no ImageNet download, the base starts from random weights.
    keras.utils.set_random_seed(1)
    a = build_tile_model("vgg16", tile_size=32, bands=4, n_classes=7)
    keras.utils.set_random_seed(2)
    b = build_tile_model("vgg16", tile_size=32, bands=4, n_classes=7)
    wa, wb = a.layers[0].get_weights()[0], b.layers[0].get_weights()[0]
    assert wa.shape == (3, 3, 4, 64)
    assert not np.allclose(wa, wb)


@pytest.mark.parametrize("base_name", BASES)
def test_output_stays_float32_under_mixed_precision(mixed_precision, base_name):
    model = build_tile_model(base_name, tile_size=32, bands=4, n_classes=7)
    assert model.layers[-1].dtype_policy.name == "float32"
    assert model.layers[-2].dtype_policy.name == "mixed_float16"
    probabilities = model(np.zeros((2, 32, 32, 4), dtype="float32"), training=False)
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"
    assert np.allclose(np.asarray(probabilities).sum(axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("base_name", ["vgg16", "densenet121", "resnet50"])
def test_tiles_below_32_pixels_are_refused(base_name):
    with pytest.raises(ModelError, match="32"):
        build_tile_model(base_name, tile_size=31, bands=4, n_classes=7)


def test_compact_base_is_small_vgg_style_under_the_vgg16_head():
    model = build_tile_model("compact", tile_size=50, bands=4, n_classes=7)
    base, flatten, d512, dropout, d256, out = model.layers
    assert base.name == "compact" and base_of(model) == "compact"
    convs = [layer for layer in base.layers if isinstance(layer, keras.layers.Conv2D)]
    assert [c.filters for c in convs] == [32, 32, 64, 64, 128, 128]
    assert all(c.kernel_size == (3, 3) and c.activation.__name__ == "relu" for c in convs)
    assert sum(isinstance(layer, keras.layers.MaxPooling2D) for layer in base.layers) == 3
    assert flatten.output.shape[-1] == 6 * 6 * 128
    _check_dense(d512, 512)
    assert isinstance(dropout, keras.layers.Dropout) and dropout.rate == 0.5
    _check_dense(d256, 256)
    _check_dense(out, 8, activation="softmax", l2=None)
    with pytest.raises(ModelError, match="at least 8"):
        build_tile_model("compact", tile_size=7)


def test_vgg16_accepts_32_pixel_tiles():
    assert build_tile_model("vgg16", tile_size=32).output_shape == (None, 8)


def test_unknown_base_lists_choices():
    with pytest.raises(ConfigError) as info:
        build_tile_model("nasnet", tile_size=50)
    assert all(b in str(info.value) for b in BASES)


@pytest.mark.parametrize("kwargs", [dict(bands=0), dict(n_classes=1), dict(bands=2.5)])
def test_bad_counts_are_config_errors(kwargs):
    with pytest.raises(ConfigError):
        build_tile_model("vgg16", tile_size=32, **kwargs)


def test_default_learning_rates():
    assert default_learning_rate("vgg16") == 1e-4
    assert default_learning_rate("densenet121") == 1e-5
    assert default_learning_rate("ResNet50") == 1e-5


def _adam(model):
    opt = model.optimizer
    return getattr(opt, "inner_optimizer", opt)  # LossScaleOptimizer wraps Adam


def test_compile_uses_adam_amsgrad_and_the_base_learning_rate():
    model = compile_tile_model(build_tile_model("vgg16", tile_size=32, n_classes=3))
    adam = _adam(model)
    assert isinstance(adam, keras.optimizers.Adam)
    assert adam.amsgrad is True
    assert adam.beta_1 == pytest.approx(0.9) and adam.beta_2 == pytest.approx(0.999)
    assert float(np.asarray(adam.learning_rate)) == pytest.approx(1e-4)
    assert model.loss == "categorical_crossentropy"
    model = compile_tile_model(build_tile_model("resnet50", tile_size=32, n_classes=3))
    assert float(np.asarray(_adam(model).learning_rate)) == pytest.approx(1e-5)
    model = compile_tile_model(model, learning_rate=3e-4)
    assert float(np.asarray(_adam(model).learning_rate)) == pytest.approx(3e-4)


def test_compile_refuses_a_non_positive_learning_rate():
    with pytest.raises(ConfigError):
        compile_tile_model(build_tile_model("vgg16", tile_size=32), learning_rate=0)


def test_mixed_precision_compile_wraps_a_loss_scale_optimizer(mixed_precision):
    model = compile_tile_model(build_tile_model("vgg16", tile_size=32, n_classes=3))
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert _adam(model).amsgrad is True

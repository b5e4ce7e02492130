"""Phase-two patch classifiers: the documented layers for every patch size."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from seeice.errors import ConfigError  # noqa: E402
from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES, build_patch_model, head_spatial_size  # noqa: E402

EXPECTED = {
    # k: (convs, dense units, spatial size entering Flatten)
    1: (0, (64, 32, 16), 1),
    3: (1, (64, 32, 16), 1),
    5: (2, (512, 64, 32), 1),
    7: (3, (512, 64, 32), 1),
    15: (6, (512, 64, 32), 3),
}


def test_every_supported_size_has_the_documented_architecture():
    """The sizes the library accepts are exactly those with a documented architecture."""
    assert set(SUPPORTED_PATCH_SIZES) == set(EXPECTED)


@pytest.mark.parametrize("k", SUPPORTED_PATCH_SIZES)
def test_architecture(k):
    n_convs, units, s = EXPECTED[k]
    bands, n_classes = 4, 7
    model = build_patch_model(k, bands, n_classes)
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    kinds = [type(layer).__name__ for layer in layers]
    assert kinds == ["Conv2D"] * n_convs + ["Flatten", "Dense", "BatchNormalization", "Dense", "Dense", "Dense"]
    assert tuple(model.input_shape) == (None, k, k, bands)
    assert tuple(model.output_shape) == (None, n_classes + 1)
    assert head_spatial_size(k) == s
    for conv in layers[:n_convs]:
        assert conv.filters == 32 and tuple(conv.kernel_size) == (3, 3)
        assert conv.padding == "valid" and tuple(conv.strides) == (1, 1)
        assert conv.activation is keras.activations.linear
    flatten = layers[n_convs]
    assert flatten.output.shape[-1] == (s * s * 32 if k > 1 else bands)
    dense = [layer for layer in layers if isinstance(layer, keras.layers.Dense)]
    assert [d.units for d in dense] == list(units) + [n_classes + 1]
    for d in dense[:-1]:
        assert d.activation is keras.activations.relu
        assert isinstance(d.kernel_initializer, keras.initializers.RandomNormal)
        assert isinstance(d.kernel_regularizer, keras.regularizers.L2)
        assert d.kernel_regularizer.l2 == pytest.approx(1e-3)
    out = dense[-1]
    assert out.activation is keras.activations.softmax
    assert isinstance(out.kernel_initializer, keras.initializers.RandomNormal)
    assert kinds.index("BatchNormalization") == kinds.index("Dense") + 1  # BN right after the first Dense


@pytest.mark.parametrize("k", [9, 2, 0, 4.5, "7"])
def test_unsupported_patch_size_lists_valid_sizes(k):
    with pytest.raises(ConfigError, match="1, 3, 5, 7, 15"):
        build_patch_model(k, 4, 7)


def test_bad_bands_or_classes():
    with pytest.raises(ConfigError):
        build_patch_model(3, 0, 7)
    with pytest.raises(ConfigError):
        build_patch_model(3, 4, 0)

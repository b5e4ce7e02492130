"""Phase-two inference under a mixed precision policy: the twin runs it; classes agree with float32."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.phase1.precision import apply_model_policy, model_policies
from seeice.phase2.inference import predict_image, predict_per_window
from seeice.phase2.patch_models import build_patch_model


def trained_like_model(k, seed=0):
    """A patch model with random weights scaled so that its classes vary over the image."""
    keras.utils.set_random_seed(seed)
    model = build_patch_model(k, 3, 4)
    rng = np.random.default_rng(seed)
    model.set_weights([w if w.ndim == 1 and np.all(w == 1) else w + rng.normal(0, 0.3, w.shape).astype(w.dtype)
                       for w in model.get_weights()])
    return model


@pytest.mark.parametrize("k", [1, 3, 7])
def test_bfloat16_inference_agrees_with_float32(k):
    image = (4 * np.random.default_rng(1).random((40, 37, 3)) - 2).astype(np.float32)
    model = trained_like_model(k)
    expected = predict_image(model, image, k, progress=False)
    assert len(np.unique(expected[k // 2:-(k // 2) or None, k // 2:-(k // 2) or None])) > 1

    mixed = trained_like_model(k)
    apply_model_policy(mixed, "mixed_bfloat16")
    policies = model_policies(mixed)
    assert policies["output"] == "float32" and policies["dense1"] == "mixed_bfloat16"
    got = predict_image(mixed, image, k, progress=False)
    blocks = predict_image(mixed, image, k, whole_image=False, memory_budget_mb=64, progress=False)
    np.testing.assert_array_equal(got, blocks)  # both modes, one raster
    per_window = predict_per_window(mixed, image, k)
    half = k // 2
    inner = (slice(half, image.shape[0] - half), slice(half, image.shape[1] - half))
    # The twin and the per-window model under bfloat16 round differently (near-ties may flip).
    assert np.mean(got[inner] == per_window[inner]) >= 0.97
    assert np.mean(got[inner] == expected[inner]) >= 0.97
    assert (got[:half] == 0).all() and (got[:, :half] == 0).all()

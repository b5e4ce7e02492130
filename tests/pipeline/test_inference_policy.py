"""The trained patch model predicts under the run's policy; a carried one keeps training in float32."""

from __future__ import annotations

import pytest

keras = pytest.importorskip("keras")

from seeice.phase1.precision import model_policies  # noqa: E402
from seeice.phase2.patch_models import build_patch_model  # noqa: E402
from seeice.pipeline.image_csc import _inference_model  # noqa: E402


def test_a_carried_model_keeps_float32_and_a_copy_predicts_under_the_policy():
    model = build_patch_model(3, 4, 3)
    used = _inference_model(model, "mixed_bfloat16", carry={"model": model})
    assert used is not model
    assert set(model_policies(model).values()) == {"float32"}  # trained further as before
    assert model_policies(used)["dense1"] == "mixed_bfloat16" and model_policies(used)["output"] == "float32"
    for a, b in zip(model.get_weights(), used.get_weights()):
        assert (a == b).all()


def test_a_fresh_model_predicts_under_the_policy_itself():
    model = build_patch_model(3, 4, 3)
    assert _inference_model(model, "mixed_bfloat16", carry=None) is model
    assert model_policies(model)["conv1"] == "mixed_bfloat16"
    assert _inference_model(model, "float32", carry={"model": model}) is model
    assert set(model_policies(model).values()) == {"float32"}

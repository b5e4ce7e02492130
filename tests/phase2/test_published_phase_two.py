"""The published phase two, reproducible: one model carried from image to image, its batch size."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.errors import DataError  # noqa: E402
from seeice.phase2.patch_training import default_batch_size, train_patch_model  # noqa: E402
from seeice.pipeline import image_csc  # noqa: E402
from seeice.pipeline.csc import run_csc  # noqa: E402

from csc_helpers import ideal_phase_one, tiny_tile_model, write_scenes  # noqa: E402


def windows(n, k, bands, seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(1, 3, n)
    X = rng.normal(0.0, 0.05, (n, k, k, bands)) + np.where(y == 1, 0.2, 0.8)[:, None, None, None]
    return X.astype(np.float32), y


def test_a_carried_model_trains_on_with_its_optimiser_state():
    X, y = windows(100, 1, 3, seed=0)
    first, h1 = train_patch_model(X, y, 1, n_classes=2, patience=0, max_epochs=2, batch_size=20,
                                  verbose=0)
    steps = int(first.optimizer.iterations)
    assert steps == 4 * len(h1.epoch)                 # 80 training samples, batches of 20
    X2, y2 = windows(100, 1, 3, seed=1)
    second, h2 = train_patch_model(X2, y2, 1, n_classes=2, patience=0, max_epochs=2,
                                   batch_size=20, verbose=0, model=first)
    assert second is first                            # trained further, not rebuilt
    assert int(second.optimizer.iterations) == steps + 4 * len(h2.epoch)
    with pytest.raises(DataError, match="same bands"):
        train_patch_model(*windows(20, 1, 4, seed=2), 1, n_classes=2, verbose=0, model=first)


def test_csc_options_pass_the_carried_model_and_the_published_batch(tmp_path, monkeypatch):
    predict = tmp_path / "predict"
    scenes = write_scenes(predict, seeds=[3], size=160)
    scenes += write_scenes(predict, seeds=[5], size=192)
    model_path = tiny_tile_model(tmp_path / "model")
    monkeypatch.setattr(image_csc, "classify_tiles",
                        ideal_phase_one({s.classes.shape: s.classes for s in scenes}))
    calls = []

    class Stand:
        """Stands in for the phase-two model: every pixel open water."""

    def fake_train(samples, targets, k, n_classes, **kwargs):
        calls.append(kwargs)
        return kwargs["model"] or Stand(), None

    monkeypatch.setattr(image_csc, "train_patch_model", fake_train)
    monkeypatch.setattr(image_csc, "predict_image",
                        lambda model, pixels, k, **kw: np.ones(pixels.shape[:2], np.uint8))
    config = {"ModelName": str(model_path), "PredictPath": str(predict),
              "ScorePath": str(tmp_path / "out"), "Experiment": "P", "Ndims": 4,
              "Kernel_size": 3, "size": 32, "CNNsamples": 50, "Patience": 1, "OutDPI": 20,
              "Progress": False}
    run_csc(dict(config, PatchModel="carried", BatchRule="published"))
    assert len(calls) == 2 and {c["batch_size"] for c in calls} == {default_batch_size(3)}
    assert calls[0]["model"] is None and isinstance(calls[1]["model"], Stand)
    calls.clear()
    run_csc(config)   # ours: a fresh model per image, the batch left to the 100-updates rule
    assert [c["model"] for c in calls] == [None, None]
    assert [c["batch_size"] for c in calls] == [None, None]

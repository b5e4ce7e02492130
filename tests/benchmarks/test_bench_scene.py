"""The scene benchmark runs the whole CSC of a tiny synthetic scene and writes the documented JSON.

A tiny phase-one model stands in for a trained one: it averages each tile's bands and picks
the class whose brightness centre is nearest, so that phase one labels several classes and
phase two has something to learn. Timings are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

keras = pytest.importorskip("keras")

from seeice.io.model_metadata import ModelMetadata  # noqa: E402
from seeice.io.model_store import save_model  # noqa: E402

from repo_paths import REPO  # noqa: E402

BENCH = REPO / "benchmarks" / "bench_scene.py"
STAGES = {"read", "phase_one_tiles", "sampling", "phase_two_training", "inference", "mode_filter", "front",
          "outputs"}
TILE, BANDS, N_CLASSES = 32, 4, 7


def brightness_model():
    """(32, 32, 4) tile -> 8 softmax columns; the class nearest in mean brightness wins."""
    inputs = keras.Input((TILE, TILE, BANDS))
    x = keras.layers.GlobalAveragePooling2D()(inputs)
    x = keras.layers.Dense(1, name="mean")(x)
    out = keras.layers.Dense(N_CLASSES + 1, activation="softmax", name="output")(x)
    model = keras.Model(inputs, out)
    model.get_layer("mean").set_weights([np.full((BANDS, 1), 1.0 / BANDS, np.float32), np.zeros(1, np.float32)])
    # Logit_c = 40 * (2 t_c x - t_c^2) is largest for the centre t_c nearest to x (column 0: never).
    centres = np.linspace(0.0, 1.0, N_CLASSES)
    kernel = np.concatenate([[0.0], 80.0 * centres])[None, :].astype(np.float32)
    bias = np.concatenate([[-1e3], -40.0 * centres**2]).astype(np.float32)
    model.get_layer("output").set_weights([kernel, bias])
    return model


def test_bench_scene_tiny(tmp_path):
    model_path = save_model(brightness_model(), tmp_path / "model", "tiny",
                            ModelMetadata(base="custom", tile_size=TILE, bands=BANDS, n_classes=N_CLASSES))
    out = tmp_path / "scene.json"
    cmd = [sys.executable, str(BENCH), "--size", "300", "--patch", "3", "--samples", "2000", "--patience", "2",
           "--max-epochs", "2",
           "--dpi", "50", "--model", str(model_path), "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "phase_two_training" in proc.stdout and "total" in proc.stdout
    rec = json.loads(out.read_text())
    assert rec["size"] == 300 and rec["patch"] == 3 and rec["samples_per_class"] == 2000
    assert rec["max_epochs"] == 2 and 1 <= rec["phase_two_epochs"] <= 2
    assert 0 < rec["phase_two_epoch_s"] * rec["phase_two_epochs"] <= rec["stages"]["phase_two_training"] * 1.0001
    assert rec["whole_image"] is True and rec["tile_size"] == TILE and rec["bands"] == BANDS
    assert set(rec["stages"]) == STAGES == set(rec["stage_peak_mb"])
    assert all(s >= 0 for s in rec["stages"].values())
    assert rec["total_s"] >= sum(rec["stages"].values()) * 0.99 > 0
    assert 50 < rec["peak_mb"] < 100_000
    assert rec["peak_mb"] >= max(rec["stage_peak_mb"].values())
    assert rec["cnn_f1"] is not None and 0 < rec["cnn_f1"] <= 1  # the scene has SCLS_ labels: scored
    assert any(name.endswith(".tif") for name in rec["outputs"])
    assert rec["machine"]["cpu_count"] >= 1 and rec["machine"]["cpu_model"]

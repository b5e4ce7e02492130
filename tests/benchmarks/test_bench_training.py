"""The training benchmark runs at a tiny size and writes the documented records."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from repo_paths import REPO

BENCH = REPO / "benchmarks" / "bench_training.py"


@pytest.mark.slow  # trains and compiles (XLA) several small models: minutes on 2 cores
def test_bench_training_tiny(tmp_path):
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(1, 4), 20)
    # class c tiles are brighter with c: a compact model learns them in a few epochs
    tiles = (rng.normal(0, 0.04, (60, 32, 32, 4)) + labels[:, None, None, None] * 0.25).clip(0)
    tensor, label_path = tmp_path / "t_T.npy", tmp_path / "t_L.npy"
    np.save(tensor, tiles.astype(np.float16))  # normalised pixels, as CompileTensor writes them
    np.save(label_path, labels.astype(np.uint8))
    out = tmp_path / "training.json"
    cmd = [sys.executable, str(BENCH), "--base", "compact", "--tensor", str(tensor), "--labels",
           str(label_path), "--tiles", "60", "--epochs", "2", "--batch-size", "10", "--batches", "2",
           "--repeat", "1", "--policies", "float32", "auto", "mixed_bfloat16", "--patch", "3",
           "--samples", "300", "--scene-size", "100", "--json", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    records = json.loads(out.read_text())
    one = [r for r in records if r["stage"] == "phase_one"]
    two = [r for r in records if r["stage"] == "phase_two"]
    assert [r["policy"] for r in one] == ["float32", "auto", "mixed_bfloat16"]
    assert [r["base"] for r in two] == ["patch3"] * 3
    for rec in records:
        assert {"base", "policy", "resolved_policy", "agreement", "reason", "machine"} <= set(rec)
        assert rec["resolved_policy"] in ("float32", "mixed_float16", "mixed_bfloat16")
        assert 0 <= rec["agreement"]["lowest_class_agreement"] <= rec["agreement"]["overall"] <= 1
    for rec in one:
        assert rec["train_tiles_per_s"] > 0 and rec["predict_tiles_per_s"] > 0
        assert rec["xla_train_tiles_per_s"] is None or rec["xla_train_tiles_per_s"] > 0
    for rec in two:
        assert rec["train_samples_per_s"] > 0 and rec["predict_pixels_per_s"] > 0
    # float32 against itself: identical labels, speed-up 1
    assert one[0]["agreement"]["overall"] == 1.0 and one[0]["speedup_train"] == 1.0
    assert two[0]["agreement"]["overall"] == 1.0
    assert one[2]["resolved_policy"] == "mixed_bfloat16" and one[2]["measured_as"] is None
    assert one[1]["measured_as"] in (None, one[1]["resolved_policy"])

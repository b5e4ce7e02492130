"""The accuracy benchmark runs end to end at a tiny size and writes complete JSON (slow)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from repo_paths import REPO

BENCH = REPO / "benchmarks" / "bench_accuracy.py"


@pytest.mark.slow
def test_bench_accuracy_tiny(tmp_path):
    out = tmp_path / "accuracy.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--size", "300", "--melange-width", "0.1",
                           "--epochs", "2", "--samples", "2000", "--per-class", "300",
                           "--work", str(tmp_path / "work"), "--json", str(out)],
                          capture_output=True, text=True, timeout=1200)
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    for phase in ("cnn", "csc"):
        assert set(result[phase]["per_class_f1"]) == {
            "open water", "iceberg water", "melange", "glacier ice", "snow on ice",
            "snow on rock", "rock"}
        assert 0.0 <= result[phase]["weighted_f1"] <= 1.0
    assert set(result["front"]) >= {"both_ways_median_m", "one_way_median_m",
                                    "images_without_front"}
    assert len(result["melange_share_test"]) == 3
    assert "weighted" in proc.stdout

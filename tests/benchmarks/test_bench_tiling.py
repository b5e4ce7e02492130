"""The tiling benchmark runs at a tiny size and writes valid JSON."""

from __future__ import annotations

import json
import subprocess
import sys

from repo_paths import REPO

BENCH = REPO / "benchmarks" / "bench_tiling.py"


def test_bench_tiling_tiny(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--size", "160", "--tile-size", "20",
                           "--stride", "10", "--repeat", "1", "--json", str(out)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "speed-up" in proc.stdout
    result = json.loads(out.read_text())
    assert result["identical"] is True
    assert result["windows"] == 15 * 15
    assert 0 < result["kept_tiles"] <= result["windows"]
    assert result["vectorised_s"] > 0 and result["loop_s"] > 0

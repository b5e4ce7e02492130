"""The front-region benchmark runs on a small scene and finds the same front both ways."""

from __future__ import annotations

import json
import subprocess
import sys

from repo_paths import REPO

BENCH = REPO / "benchmarks" / "bench_front_region.py"


def test_bench_front_region_small_scene(tmp_path):
    out = tmp_path / "front.json"
    proc = subprocess.run([sys.executable, str(BENCH), "--size", "900", "--json", str(out)],
                          capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    record = json.loads(out.read_text())
    assert record["identical"] is True
    assert record["whole"]["front_pixels"] == record["region"]["front_pixels"] > 100
    assert record["whole"]["peak_mb"] > 0 and record["time_ratio"] > 0
    assert "fronts identical: True" in proc.stdout

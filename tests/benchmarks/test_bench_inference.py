"""The phase-two inference benchmark runs at a tiny size and writes the documented JSON.

It starts one process per method and patch size (to measure each one's peak memory), so it
takes tens of seconds on a busy machine: marked slow. Timings are never asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from repo_paths import REPO

BENCH = REPO / "benchmarks" / "bench_inference.py"
FIELDS = {
    "patch", "size", "baseline_s", "whole_s", "rowblock_s", "speedup", "identical",
    "baseline_peak_mb", "whole_peak_mb", "rowblock_peak_mb", "gflops_achieved", "gflops_matmul",
}


@pytest.mark.slow
def test_bench_inference_tiny(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--size", "40", "--patch", "1", "3", "--matmul-size", "256", "--json", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "speedup" in proc.stdout
    records = json.loads(out.read_text())
    assert [r["patch"] for r in records] == [1, 3]
    for r in records:
        assert FIELDS <= set(r)
        assert r["size"] == 40
        assert r["identical"] == 1.0 and r["identical_rowblock"] == 1.0
        assert r["classes_in_raster"] >= 2
        for key in ("baseline_s", "whole_s", "rowblock_s", "speedup", "gflops_achieved", "gflops_matmul"):
            assert r[key] > 0
        for key in ("baseline_peak_mb", "whole_peak_mb", "rowblock_peak_mb"):
            assert 10 < r[key] < 100_000
        assert r["flops_per_pixel_baseline"] >= r["flops_per_pixel_ours"] > 0
    # k = 1 and k = 3 analytic FLOPs: MLP 4-64-32-16-8; one 3x3 conv (4->32) then 32-64-32-16-8.
    mlp = 2 * (4 * 64 + 64 * 32 + 32 * 16 + 16 * 8)
    assert records[0]["flops_per_pixel_ours"] == records[0]["flops_per_pixel_baseline"] == mlp
    assert records[1]["flops_per_pixel_ours"] == 2 * (9 * 4 * 32 + 32 * 64 + 64 * 32 + 32 * 16 + 16 * 8)

"""Benchmark: vectorised tile extraction and purity test against a per-window Python loop.

Builds a synthetic SIZE x SIZE, 4-band uint16 image with a blocky class raster (classes 0..7
in random rectangles, so that some windows are pure and some are not), then times

* ``seeice.phase1.tiling.extract_tiles`` (block counts by one bincount, window counts from a
  summed-area table, fancy-indexed tile cut), and
* a straightforward loop over window positions (crop, ``np.bincount`` per window, the same
  purity rule, slice the tile),

checks that both keep the same tiles with the same labels in the same order, and prints a
table (best of --repeat runs). ``--json PATH`` also writes the figures as JSON.

Example::

    python benchmarks/bench_tiling.py --size 3000 --json bench_tiling.json
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

import numpy as np

import machine
from seeice.phase1.tiling import MAX_UNLABELLED, MIN_MAJORITY, crop_to_tiles, extract_tiles


def synthetic_scene(size: int, seed: int = 0, bands: int = 4) -> tuple[np.ndarray, np.ndarray]:
    """A (size, size, bands) uint16 image and a (size, size) uint8 blocky class raster."""
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 16384, size=(size, size, bands), dtype=np.uint16)
    labels = np.zeros((size, size), dtype=np.uint8)
    n_blocks = max(4, (size // 40) ** 2)
    ys = rng.integers(0, size, n_blocks)
    xs = rng.integers(0, size, n_blocks)
    hs = rng.integers(20, 160, n_blocks)
    ws = rng.integers(20, 160, n_blocks)
    ks = rng.integers(0, 8, n_blocks)
    for y, x, h, w, k in zip(ys, xs, hs, ws, ks):    # scene construction, not timed
        labels[y:y + h, x:x + w] = k
    return image, labels


def loop_extract(image: np.ndarray, labels: np.ndarray, tile_size: int, stride: int):
    """Reference: one Python iteration per window position."""
    image = crop_to_tiles(image, tile_size)
    labels = crop_to_tiles(labels, tile_size)
    n_values = int(labels.max()) + 1
    area = tile_size * tile_size
    eps = 1e-9 * area
    tiles, classes, rows, cols = [], [], [], []
    for r in range(0, labels.shape[0] - tile_size + 1, stride):
        for c in range(0, labels.shape[1] - tile_size + 1, stride):
            counts = np.bincount(labels[r:r + tile_size, c:c + tile_size].ravel(),
                                 minlength=n_values)
            major = int(np.argmax(counts[1:])) + 1 if n_values > 1 else 0
            if (n_values > 1 and counts[0] <= MAX_UNLABELLED * area + eps
                    and counts[major] >= MIN_MAJORITY * area - eps):
                tiles.append(image[r:r + tile_size, c:c + tile_size])
                classes.append(major)
                rows.append(r)
                cols.append(c)
    stacked = (np.stack(tiles) if tiles
               else np.zeros((0, tile_size, tile_size, image.shape[2]), image.dtype))
    return stacked, np.array(classes, np.uint8), np.array(rows), np.array(cols)


def best_time(func, repeat: int):
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def run(size: int, tile_size: int, stride: int, repeat: int, seed: int) -> dict:
    image, labels = synthetic_scene(size, seed)
    t_vec, vec = best_time(lambda: extract_tiles(image, labels, tile_size, stride), repeat)
    t_loop, ref = best_time(lambda: loop_extract(image, labels, tile_size, stride), repeat)
    tiles, classes, rows, cols = ref
    assert len(vec) == len(classes), f"tile counts differ: {len(vec)} vs {len(classes)}"
    assert np.array_equal(vec.labels, classes), "tile labels differ"
    assert np.array_equal(vec.rows, rows) and np.array_equal(vec.cols, cols), "positions differ"
    assert np.array_equal(vec.tiles, tiles), "tile pixels differ"
    cropped = size // tile_size * tile_size
    n_axis = (cropped - tile_size) // stride + 1
    windows = n_axis * n_axis
    return {
        "size": size, "tile_size": tile_size, "stride": stride, "bands": int(image.shape[2]),
        "repeat": repeat, "windows": windows, "kept_tiles": len(vec),
        "vectorised_s": t_vec, "loop_s": t_loop,
        "vectorised_windows_per_s": windows / t_vec, "loop_windows_per_s": windows / t_loop,
        "vectorised_tiles_per_s": len(vec) / t_vec, "loop_tiles_per_s": len(vec) / t_loop,
        "speedup": t_loop / t_vec, "identical": True,
        "numpy": np.__version__, "python": platform.python_version(),
        "machine": platform.machine(), "cpu_count": os.cpu_count(),
        "machine_info": machine.machine_info(),
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog=__doc__.split("\n\n", 1)[1])
    parser.add_argument("--size", type=int, default=3000, help="image edge in pixels (3000)")
    parser.add_argument("--tile-size", type=int, default=50, help="tile edge (50)")
    parser.add_argument("--stride", type=int, default=25, help="window step (25)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs, best kept (3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the synthetic scene (0)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    if args.size < args.tile_size:
        parser.error("--size must be at least --tile-size")
    res = run(args.size, args.tile_size, args.stride, max(1, args.repeat), args.seed)
    print(f"Tile extraction + purity, {res['size']} x {res['size']} x {res['bands']} uint16, "
          f"tile {res['tile_size']}, stride {res['stride']}: {res['windows']} windows, "
          f"{res['kept_tiles']} kept (identical in both)")
    print(f"{'method':<22}{'seconds':>10}{'windows/s':>14}{'kept tiles/s':>14}")
    for label, key in (("vectorised (seeice)", "vectorised"), ("per-window loop", "loop")):
        print(f"{label:<22}{res[key + '_s']:>10.4f}{res[key + '_windows_per_s']:>14,.0f}"
              f"{res[key + '_tiles_per_s']:>14,.0f}")
    print(f"speed-up: {res['speedup']:.1f}x")
    print(f"machine: {machine.describe(res['machine_info'])}")
    if args.json:
        from seeice.io.atomic import write_json
        write_json(args.json, res)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Calving-front detection over the whole image vs on the region where glacier meets sea.

On a class raster (the ``SCLS_`` companion of a synthetic scene, i.e. its true classes, or any
class GeoTIFF given with --classes), runs

  whole    seeice.fronts.detection.detect_front over the whole image (the active contour
           over the glacier's bounding box)
  region   seeice.fronts.region.detect_front_in_region, as CSC.py runs it on images of more
           than 25 million pixels

each in its own process (so that its peak resident memory, VmHWM, is its own), and reports
seconds, peak memory, front pixels, and whether the two fronts are identical pixel for pixel.

    python benchmarks/bench_front_region.py [--size 10980] [--scene-seed 100]
                                            [--classes PATH] [--json PATH]

Drawing a 10 980 px scene takes about 5 minutes and 8 GB (not timed); --classes reuses the
SCLS_ raster of one drawn before (e.g. by bench_scene.py --keep).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import machine


def worker(args) -> None:
    """Detect the front by one method and print its figures as one JSON line."""
    import numpy as np
    import rasterio

    from seeice.classes import GLACIER_SCHEME
    from seeice.fronts.detection import detect_front
    from seeice.fronts.region import detect_front_in_region

    with rasterio.open(args.classes) as src:
        classes = src.read(1)
    before_mb = machine.proc_status_mb("VmRSS")
    machine.reset_peak()
    started = time.perf_counter()
    if args.method == "whole":
        result = detect_front(classes, GLACIER_SCHEME)
    else:
        result = detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)
    seconds = time.perf_counter() - started
    np.save(args.front_out, np.argwhere(result.front).astype(np.int32))
    print(json.dumps({"method": args.method, "seconds": seconds,
                      "peak_mb": machine.proc_status_mb("VmHWM"), "before_mb": before_mb,
                      "front_pixels": int(result.front.sum()),
                      "sea_contact": float(result.sea_contact)}))


def run_worker(method: str, classes: Path, front_out: Path) -> dict:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--method", method,
           "--classes", str(classes), "--front-out", str(front_out)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"the {method} worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--size", type=int, default=10980, help="scene edge in pixels [10980]")
    p.add_argument("--scene-seed", type=int, default=100, help="seed of the synthetic scene [100]")
    p.add_argument("--classes", type=Path, help="class raster to use instead of drawing a scene")
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--method", choices=("whole", "region"), help=argparse.SUPPRESS)
    p.add_argument("--front-out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    import numpy as np

    with tempfile.TemporaryDirectory(prefix="bench_front_") as tmp:
        classes = args.classes
        if classes is None:
            from seeice.datasets.synthetic import make_scene, write_scene

            print(f"drawing the synthetic {args.size} px scene (seed {args.scene_seed}; not "
                  "timed) ...", flush=True)
            image = write_scene(make_scene(args.scene_seed, args.size), Path(tmp) / "scene")
            classes = image.with_name(f"SCLS_{image.name}")
        info = machine.machine_info()
        print(f"machine: {machine.describe(info)}", flush=True)
        runs = {m: run_worker(m, classes, Path(tmp) / f"{m}.npy") for m in ("whole", "region")}
        fronts = {m: np.load(Path(tmp) / f"{m}.npy") for m in runs}
    identical = bool(np.array_equal(fronts["whole"], fronts["region"]))
    whole, region = runs["whole"], runs["region"]
    print(f"{'method':<8}{'seconds':>10}{'peak MB':>10}{'front px':>10}")
    for m, r in runs.items():
        print(f"{m:<8}{r['seconds']:>10.1f}{r['peak_mb']:>10.0f}{r['front_pixels']:>10}")
    print(f"region / whole: {region['seconds'] / whole['seconds']:.2f}x the time, "
          f"{region['peak_mb'] / whole['peak_mb']:.2f}x the peak memory; fronts identical: "
          f"{identical}")
    if args.json:
        from seeice.io.atomic import write_json

        write_json(args.json, {"size": args.size, "scene_seed": args.scene_seed,
                               "classes": str(args.classes) if args.classes else None,
                               "whole": whole, "region": region, "identical": identical,
                               "time_ratio": region["seconds"] / whole["seconds"],
                               "memory_ratio": region["peak_mb"] / whole["peak_mb"],
                               "machine": {**info, "load_average_after": machine.load_average()}})
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Phase-two inference: per-window baseline vs convolutional whole-image and row-block passes.

For each patch size, one phase-two model (random weights; its BatchNormalization statistics
measured on the image, as training would set them, and an output layer scaled to the
features, so that the class raster is varied) classifies the same smooth random image
three ways, each in its own process so that its peak memory can be measured:

  baseline   every k x k window from a sliding-window view, predicted in batches of 25 000
             (seeice.phase2.inference.predict_per_window);
  whole      seeice.phase2.inference.predict_image(whole_image=True);
  rowblock   seeice.phase2.inference.predict_image(whole_image=False, memory_budget_mb=--budget).

Reported per patch size: seconds, speedup (baseline / ours), share of identical labels,
peak resident memory of each process (VmHWM, MB; it includes the TensorFlow runtime, the
model and the image), floating-point operations per pixel computed from the layer shapes
(2 x multiply-adds of the convolutions and Dense layers: the baseline recomputes each
window's convolutions, the convolutional pass shares them), achieved GFLOP/s, and this
machine's float32 matmul GFLOP/s (numpy and TensorFlow, 4096 x 4096, best of 3 at the
start and 3 at the end of the run). Each
time is the best of several runs after an untimed warm-up that traces the functions: as
many runs as fit in --min-time seconds (at most 30), or --repeat N, in each of --rounds
rounds that alternate the three methods (so that a busy spell on a shared machine does not
penalise one method only; a method whose single run exceeds --min-time runs in one round).

    python benchmarks/bench_inference.py [--size 1000] [--patch 1 3 5 7 15] [--bands 4] [--json PATH]
    python benchmarks/bench_inference.py --memory-check      # 3000 x 3000 x 4, k = 15, both modes

Timings depend on the machine and its load; they are reported, never asserted.
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

import numpy as np

import machine

METHODS = ("baseline", "whole", "rowblock")
N_CLASSES = 7
MEMORY_LIMIT_MB = 2048
MAX_AUTO_REPEAT = 30


# ------------------------------------------------------------------------------------------
# Shared helpers
# ------------------------------------------------------------------------------------------


def smooth_image(size: int, bands: int, seed: int, sigma: float = 3.0) -> np.ndarray:
    """A smooth random (size, size, bands) float32 image, 0..1 per band."""
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    image = rng.random((size, size, bands), dtype=np.float32)
    ndimage.gaussian_filter(image, sigma=(sigma, sigma, 0), output=image)
    lo, hi = image.min(axis=(0, 1)), image.max(axis=(0, 1))
    image -= lo
    image /= hi - lo
    return image


def random_model(k: int, bands: int, image: np.ndarray, seed: int):
    """A phase-two model with random weights, BatchNorm statistics measured on ``image``."""
    import keras

    from seeice.phase2.patch_models import build_patch_model

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_patch_model(k, bands, N_CLASSES)
    pre_bn = keras.Model(model.input, model.get_layer("dense1").output)
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1)).transpose(0, 1, 3, 4, 2)
    rows = rng.integers(0, windows.shape[0], 2000)
    cols = rng.integers(0, windows.shape[1], 2000)
    act = np.asarray(pre_bn(np.ascontiguousarray(windows[rows, cols]), training=False))
    units = act.shape[1]
    bn = model.get_layer("batchnorm")
    bn.moving_mean.assign(act.mean(axis=0))
    bn.moving_variance.assign(act.var(axis=0) + rng.uniform(0, 0.1, units).astype(np.float32) * act.var() + 1e-4)
    bn.gamma.assign(rng.uniform(0.5, 2.0, units).astype(np.float32))
    bn.beta.assign(rng.normal(0.0, 0.5, units).astype(np.float32))
    # Output layer: a standardised random projection of the last hidden features, so that
    # the logits vary from pixel to pixel and every class can win.
    sample = np.ascontiguousarray(windows[rows, cols])
    feats = np.asarray(keras.Model(model.input, model.get_layer("dense3").output)(sample, training=False))
    feats = feats.astype(np.float64)
    mean, std = feats.mean(axis=0), feats.std(axis=0) + 1e-3
    kernel = rng.normal(0.0, 1.0, (feats.shape[1], N_CLASSES + 1)) * 3.0 / (std[:, None] * np.sqrt(feats.shape[1]))
    out = model.get_layer("output")
    out.kernel.assign(kernel.astype(np.float32))
    out.bias.assign((-(mean @ kernel)).astype(np.float32))
    return model


def flops_per_pixel(model, k: int) -> tuple[int, int]:
    """(per-window model FLOPs per window, convolutional-pass FLOPs per output pixel).

    2 x multiply-adds of the Conv2D and Dense layers. Per window, a 3 x 3 convolution
    producing an o x o map costs o*o*9*Cin*Cout multiply-adds; in the convolutional pass
    it costs 9*Cin*Cout per output pixel, shared by all windows that overlap there. A
    Dense layer costs the same in both (the first one is an s x s convolution).
    """
    import keras

    h = k
    window = shared = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape
            h = h - kh + 1
            window += 2 * h * h * kh * kw * cin * cout
            shared += 2 * kh * kw * cin * cout
        elif isinstance(layer, keras.layers.Dense):
            fan_in, units = layer.kernel.shape
            window += 2 * fan_in * units
            shared += 2 * fan_in * units
    return int(window), int(shared)


def matmul_gflops(n: int) -> dict:
    """Best-of-3 float32 n x n matmul throughput of numpy and of TensorFlow, GFLOP/s."""
    import tensorflow as tf

    a = np.random.default_rng(0).random((n, n), dtype=np.float32)
    b = np.random.default_rng(1).random((n, n), dtype=np.float32)
    flops = 2.0 * n**3
    best_np = min(_timed(lambda: a @ b) for _ in range(3))
    ta, tb = tf.constant(a), tf.constant(b)
    tf.matmul(ta, tb).numpy()
    best_tf = min(_timed(lambda: tf.matmul(ta, tb).numpy()) for _ in range(3))
    return {"numpy": flops / best_np / 1e9, "tensorflow": flops / best_tf / 1e9}


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


# ------------------------------------------------------------------------------------------
# Worker: one method in its own process
# ------------------------------------------------------------------------------------------


def worker(args) -> None:
    import keras

    from seeice.phase2.inference import PER_WINDOW_BATCH, predict_image, predict_per_window

    model = keras.models.load_model(args.model, compile=False)
    image = np.load(args.image)
    k = args.patch[0]
    bands = image.shape[2]
    # Warm-up (tracing) outside the measurement.
    crop = image[: min(image.shape[0], k + 24), : min(image.shape[1], k + 24)]
    if args.worker == "baseline":
        n_windows = (image.shape[0] - k + 1) * (image.shape[1] - k + 1)
        model.predict_on_batch(np.zeros((min(PER_WINDOW_BATCH, n_windows), k, k, bands), np.float32))
        run = lambda: predict_per_window(model, image, k)  # noqa: E731
    elif args.worker == "whole":
        predict_image(model, crop, k, whole_image=True, progress=False)
        run = lambda: predict_image(model, image, k, whole_image=True, progress=False)  # noqa: E731
    else:
        predict_image(model, crop, k, whole_image=False, memory_budget_mb=args.budget, progress=False)
        run = lambda: predict_image(  # noqa: E731
            model, image, k, whole_image=False, memory_budget_mb=args.budget, progress=False
        )
    rss_before = machine.proc_status_mb("VmRSS")
    seconds = []
    # --repeat N: N runs; 0 (default): runs until --min-time seconds are spent (at most
    # MAX_AUTO_REPEAT), so that short measurements are the best of several on a busy machine.
    while True:
        t0 = time.perf_counter()
        labels = run()
        seconds.append(time.perf_counter() - t0)
        if args.repeat > 0:
            if len(seconds) >= args.repeat:
                break
        elif sum(seconds) >= args.min_time or len(seconds) >= MAX_AUTO_REPEAT:
            break
    peak = machine.proc_status_mb("VmHWM")
    if args.out:
        np.save(args.out, labels)
    print(json.dumps({"seconds": min(seconds), "runs": len(seconds), "median_s": float(np.median(seconds)),
                      "peak_mb": peak, "rss_before_mb": rss_before}))


def run_worker(method: str, k: int, model_path: Path, image_path: Path, out_path: Path | None, args) -> dict:
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", method, "--patch", str(k),
        "--model", str(model_path), "--image", str(image_path), "--budget", str(args.budget),
        "--repeat", str(args.repeat), "--min-time", str(args.min_time),
    ]
    if out_path is not None:
        cmd += ["--out", str(out_path)]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"{method} worker for k={k} failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------


def _merge_rounds(first: dict, second: dict) -> dict:
    """Best time, all runs, highest peak of two rounds of one method."""
    return {
        "seconds": min(first["seconds"], second["seconds"]),
        "runs": first["runs"] + second["runs"],
        "median_s": min(first["median_s"], second["median_s"]),
        "peak_mb": max(first["peak_mb"], second["peak_mb"]),
        "rss_before_mb": max(first["rss_before_mb"], second["rss_before_mb"]),
    }


def benchmark(args) -> list[dict]:
    import tensorflow  # noqa: F401  (imported before machine_info, which records its version)

    records = []
    info = machine.machine_info()
    print(f"machine: {machine.describe(info)}", flush=True)
    mm = matmul_gflops(args.matmul_size)
    gflops_matmul = max(mm.values())
    print(
        f"float32 matmul {args.matmul_size}^2: numpy {mm['numpy']:.1f} GFLOP/s, "
        f"TensorFlow {mm['tensorflow']:.1f} GFLOP/s",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="bench_inference_") as tmp:
        tmp = Path(tmp)
        image = smooth_image(args.size, args.bands, args.seed)
        image_path = tmp / "image.npy"
        np.save(image_path, image)
        for k in args.patch:
            model = random_model(k, args.bands, image, args.seed + k)
            model_path = tmp / f"patch{k}.keras"
            model.save(model_path)
            res, labels = {}, {}
            for rnd in range(max(1, args.rounds)):
                for method in METHODS:
                    if rnd and res[method]["seconds"] > args.min_time:
                        continue  # one run longer than --min-time is its own average
                    out = tmp / f"labels_{method}_{k}.npy"
                    got = run_worker(method, k, model_path, image_path, out, args)
                    labels[method] = np.load(out)
                    if rnd:
                        got = _merge_rounds(res[method], got)
                    res[method] = got
                    print(f"  k={k:2d} {method:8s} round {rnd + 1}: best {got['seconds']:8.3f} s "
                          f"of {got['runs']:2d} run(s), peak {got['peak_mb']:7.0f} MB", flush=True)
            half = k // 2
            inner = (slice(half, args.size - half), slice(half, args.size - half))
            n_pixels = (args.size - k + 1) ** 2
            window_flops, shared_flops = flops_per_pixel(model, k)
            identical = float(np.mean(labels["baseline"] == labels["whole"]))
            identical_rb = float(np.mean(labels["baseline"] == labels["rowblock"]))
            rec = {
                "patch": k,
                "size": args.size,
                "bands": args.bands,
                "baseline_s": res["baseline"]["seconds"],
                "whole_s": res["whole"]["seconds"],
                "rowblock_s": res["rowblock"]["seconds"],
                "speedup": res["baseline"]["seconds"] / res["whole"]["seconds"],
                "speedup_rowblock": res["baseline"]["seconds"] / res["rowblock"]["seconds"],
                "identical": identical,
                "identical_rowblock": identical_rb,
                "classes_in_raster": int(np.unique(labels["baseline"][inner]).size),
                "baseline_peak_mb": res["baseline"]["peak_mb"],
                "whole_peak_mb": res["whole"]["peak_mb"],
                "rowblock_peak_mb": res["rowblock"]["peak_mb"],
                "baseline_rss_before_mb": res["baseline"]["rss_before_mb"],
                "whole_rss_before_mb": res["whole"]["rss_before_mb"],
                "rowblock_rss_before_mb": res["rowblock"]["rss_before_mb"],
                "rowblock_budget_mb": args.budget,
                "flops_per_pixel_baseline": window_flops,
                "flops_per_pixel_ours": shared_flops,
                "gflops_baseline": window_flops * n_pixels / res["baseline"]["seconds"] / 1e9,
                "gflops_achieved": shared_flops * n_pixels / res["whole"]["seconds"] / 1e9,
                "gflops_achieved_rowblock": shared_flops * n_pixels / res["rowblock"]["seconds"] / 1e9,
                "gflops_matmul": gflops_matmul,
                "gflops_matmul_numpy": mm["numpy"],
                "gflops_matmul_tensorflow": mm["tensorflow"],
                "runs": {m: res[m]["runs"] for m in METHODS},
                "median_s": {m: res[m]["median_s"] for m in METHODS},
                "machine": info,
            }
            records.append(rec)
    # The reference again at the end (best of both), so that a busy spell at the start does
    # not understate the machine.
    mm_end = matmul_gflops(args.matmul_size)
    print(
        f"float32 matmul {args.matmul_size}^2 (end): numpy {mm_end['numpy']:.1f} GFLOP/s, "
        f"TensorFlow {mm_end['tensorflow']:.1f} GFLOP/s",
        flush=True,
    )
    for rec in records:
        rec["gflops_matmul_numpy"] = max(mm["numpy"], mm_end["numpy"])
        rec["gflops_matmul_tensorflow"] = max(mm["tensorflow"], mm_end["tensorflow"])
        rec["gflops_matmul"] = max(rec["gflops_matmul_numpy"], rec["gflops_matmul_tensorflow"])
    info["load_average_after"] = machine.load_average()
    return records


def print_table(records: list[dict]) -> None:
    head = (
        f"{'k':>3} {'size':>5} {'base s':>8} {'whole s':>8} {'rows s':>8} {'speedup':>8} {'ident.':>7} "
        f"{'peak MB b/w/r':>17} {'MFLOP/px b/ours':>16} {'GFLOP/s b/w/r':>17} {'matmul':>7}"
    )
    print(head)
    print("-" * len(head))
    for r in records:
        print(
            f"{r['patch']:>3} {r['size']:>5} {r['baseline_s']:>8.2f} {r['whole_s']:>8.2f} {r['rowblock_s']:>8.2f} "
            f"{r['speedup']:>7.1f}x {100 * r['identical']:>6.2f}% "
            f"{r['baseline_peak_mb']:>5.0f}/{r['whole_peak_mb']:>5.0f}/{r['rowblock_peak_mb']:>5.0f} "
            f"{r['flops_per_pixel_baseline'] / 1e6:>8.3f}/{r['flops_per_pixel_ours'] / 1e6:<7.3f} "
            f"{r['gflops_baseline']:>5.0f}/{r['gflops_achieved']:>5.0f}/{r['gflops_achieved_rowblock']:>5.0f} "
            f"{r['gflops_matmul']:>7.0f}"
        )


def memory_check(args) -> dict:
    """Peak memory of row-block and whole-image inference at --memory-size (3000) squared, k = 15."""
    k = 15
    size = args.memory_size
    with tempfile.TemporaryDirectory(prefix="bench_inference_mem_") as tmp:
        tmp = Path(tmp)
        image = smooth_image(size, args.bands, args.seed)
        image_path = tmp / "image.npy"
        np.save(image_path, image)
        model = random_model(k, args.bands, image[:500, :500], args.seed + k)
        del image
        model_path = tmp / "patch15.keras"
        model.save(model_path)
        res = run_worker("rowblock", k, model_path, image_path, None, args)
        whole = run_worker("whole", k, model_path, image_path, None, args)
    n_windows = (size - k + 1) ** 2
    materialised_gb = n_windows * k * k * args.bands * 4 / 1e9
    rec = {
        "patch": k,
        "size": size,
        "bands": args.bands,
        "rowblock_s": res["seconds"],
        "rowblock_peak_mb": res["peak_mb"],
        "rowblock_rss_before_mb": res["rss_before_mb"],
        "rowblock_budget_mb": args.budget,
        "limit_mb": MEMORY_LIMIT_MB,
        "whole_s": whole["seconds"],
        "whole_peak_mb": whole["peak_mb"],
        "within_limit": max(res["peak_mb"], whole["peak_mb"]) < MEMORY_LIMIT_MB,
        "all_windows_float32_gb": materialised_gb,
        "machine": machine.machine_info(),
    }
    print(
        f"memory check, {size} x {size} x {args.bands}, k = {k}, row blocks (budget {args.budget} MB): "
        f"peak {res['peak_mb']:.0f} MB (limit {MEMORY_LIMIT_MB} MB: {'ok' if rec['within_limit'] else 'EXCEEDED'}), "
        f"{res['seconds']:.1f} s; whole image: peak {whole['peak_mb']:.0f} MB, {whole['seconds']:.1f} s; "
        f"all windows at once would need {materialised_gb:.0f} GB as float32."
    )
    return rec


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=1000, help="image edge in pixels [1000]")
    p.add_argument("--patch", type=int, nargs="+", default=[1, 3, 5, 7, 15], help="patch sizes [1 3 5 7 15]")
    p.add_argument("--bands", type=int, default=4, help="image bands [4]")
    p.add_argument("--budget", type=float, default=1024, help="row-block memory budget in MB [1024]")
    p.add_argument("--repeat", type=int, default=0,
                   help="runs per method, fastest reported; 0: as many as fit in --min-time (1 to 30) [0]")
    p.add_argument("--min-time", type=float, default=4.0,
                   help="seconds of repeated runs per method and round when --repeat is 0 [4]")
    p.add_argument("--rounds", type=int, default=2,
                   help="rounds of the three methods, alternated, fastest kept; a method whose single "
                        "run exceeds --min-time runs once [2]")
    p.add_argument("--seed", type=int, default=0, help="seed of image and models [0]")
    p.add_argument("--matmul-size", type=int, default=4096, help="edge of the reference matmul [4096]")
    p.add_argument("--json", type=Path, help="write the records to this JSON file")
    p.add_argument("--memory-check", action="store_true",
                   help="only the 3000 x 3000 k = 15 memory check (row blocks and whole image)")
    p.add_argument("--memory-size", type=int, default=3000, help="image edge of the memory check [3000]")
    # Hidden worker interface.
    p.add_argument("--worker", choices=METHODS, help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    p.add_argument("--image", help=argparse.SUPPRESS)
    p.add_argument("--out", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if args.memory_check:
        result = memory_check(args)
        records = [result]
        status = 0 if result["within_limit"] else 1
    else:
        records = benchmark(args)
        print_table(records)
        status = 0
    if args.json:
        from seeice.io.atomic import write_json

        write_json(args.json, records)
    return status


if __name__ == "__main__":
    sys.exit(main())

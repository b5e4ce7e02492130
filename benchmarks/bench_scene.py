"""End-to-end CSC of one synthetic scene: seconds and peak memory per stage.

Runs the whole CNN-supervised classification of one image, as ``CSC_Application/CSC.py``
does for each image of a folder (seeice.pipeline.image_csc.classify_image), and reports the seconds
and peak resident memory of every stage:

  read                 read the GeoTIFF and its companions, normalise
  phase_one_tiles      the phase-one CNN labels the image tile by tile
  sampling             k x k training windows of every phase-one class
  phase_two_training   train the image's own patch classifier (early stopping)
  inference            classify every pixel (whole image, or row blocks)
  mode_filter          clean-up
  front                calving-front detection and glacier refinement
  outputs              scores, class GeoTIFF, front GeoPackage, 4-part figure

Not timed: drawing the synthetic scene (seeice.datasets.synthetic, seed --scene-seed, into a
temporary folder) and obtaining the phase-one model: --model PATH, or the built-in demo's
model (seeice.pipeline.demo.ensure_model: 50 px tiles, 4 bands, trained once on two 600 px training
scenes and cached in --cache, by default the demo's folder demo_output/). The CSC runs in its own
process so that its peak memory (VmHWM: TensorFlow runtime, both models, the image and
every intermediate raster) is its own; the peak of each stage is measured by resetting
the peak counter at the stage's start (Linux; elsewhere the running peak is reported).

    python benchmarks/bench_scene.py [--size 3000] [--patch 7] [--samples 500000]
                                     [--max-epochs 1] [--precision auto]
                                     [--whole-image {0,1}] [--model PATH] [--json PATH]
                                     [--scene PATH]

A whole Sentinel-2 granule: ``--size 10980`` (drawing the scene takes about 5 minutes and
8 GB, not timed; ``--scene`` reuses one drawn before).

The phase-two samples per class default to CSC.py's 500 000, and phase two trains for one
epoch (``--max-epochs 1``): the memory of a whole run at the defaults is measured, and the
time of phase-two training is reported per epoch (``phase_two_epoch_s``; a real run trains
until early stopping, at most TrainingEpochs = 300 epochs). Timings depend on the machine
and its load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import machine

ROOT = Path(__file__).resolve().parents[1]
STAGES = ("read", "phase_one_tiles", "sampling", "phase_two_training", "inference",
          "mode_filter", "front", "outputs")


# ------------------------------------------------------------------------------------------
# Preparation (not timed)
# ------------------------------------------------------------------------------------------


def draw_scene(folder: Path, size: int, seed: int) -> Path:
    """Write the synthetic scene of ``size`` px and ``seed``, with its companions, into ``folder``."""
    from seeice.datasets.synthetic import make_scene, write_scene

    print(f"drawing the synthetic {size} x {size} scene (seed {seed}; not timed) ...", flush=True)
    folder.mkdir(parents=True, exist_ok=True)
    return write_scene(make_scene(seed, size), folder)


def ensure_demo_model(cache: Path, seed: int) -> Path:
    """The built-in demo's phase-one model, trained once (not timed) and cached in ``cache``."""
    from seeice.pipeline.demo import DemoSettings, ensure_model, ensure_scenes

    settings = DemoSettings()
    model_path = cache / "model" / f"{settings.model_name}.keras"
    if model_path.is_file() and model_path.with_name(f"{settings.model_name}.meta.json").is_file():
        return model_path
    print(f"training the demo's phase-one model into {cache / 'model'} (once; not timed) ...", flush=True)
    train_dir = cache / "scenes_train"
    ensure_scenes(train_dir, settings.n_train_scenes, settings.scene_size, settings.train_seed)
    return ensure_model(cache, train_dir, settings, seed)


# ------------------------------------------------------------------------------------------
# Worker: the CSC of the scene in its own process
# ------------------------------------------------------------------------------------------


def _stage_timer_class():
    from seeice.pipeline.image_csc import StageTimer

    class PeakStageTimer(StageTimer):
        """StageTimer that also records the peak resident memory (MB) of each stage."""

        def __init__(self):
            super().__init__()
            self.peak_mb: dict[str, float] = {}
            self.per_stage = True

        @contextmanager
        def __call__(self, stage: str):
            self.per_stage = machine.reset_peak() and self.per_stage
            try:
                with super().__call__(stage):
                    yield
            finally:
                peak = machine.proc_status_mb("VmHWM")
                self.peak_mb[stage] = max(self.peak_mb.get(stage, 0.0), peak)

    return PeakStageTimer


def worker(args) -> None:
    started = time.perf_counter()
    from seeice.pipeline.csc import CSCSettings, check_settings
    from seeice.pipeline.image_csc import classify_image
    from seeice.io.model_store import load_model

    import_s = time.perf_counter() - started
    t0 = time.perf_counter()
    model, metadata = load_model(args.model)
    load_s = time.perf_counter() - t0
    scene = Path(args.scene)
    settings = CSCSettings(
        model_path=Path(args.model), predict_dir=scene.parent, out_prefix=Path(args.out_dir) / "Bench",
        experiment="Bench", bands=metadata.bands, patch_size=args.patch, tile_size=metadata.tile_size,
        samples_per_class=args.samples, whole_image=bool(args.whole_image), patience=args.patience,
        dpi=args.dpi, seed=args.seed, memory_budget_mb=args.budget, progress=False,
        max_epochs=args.max_epochs, **_precision_setting(args),
    )
    scheme = check_settings(settings, metadata)
    settings.out_dir.mkdir(parents=True, exist_ok=True)
    before_mb = machine.proc_status_mb("VmHWM")  # imports and the phase-one model
    rss_before_mb = machine.proc_status_mb("VmRSS")
    timer = _stage_timer_class()()
    t0 = time.perf_counter()
    row = classify_image(scene, model, metadata, scheme, settings, timer=timer)
    total_s = time.perf_counter() - t0
    peak_mb = max([before_mb, *timer.peak_mb.values()])
    epochs = timer.epochs.get("phase_two_training", 0)

    def num(value):
        return None if value is None or value != value else float(value)  # NaN -> None

    print(json.dumps({
        "stages": timer.seconds, "stage_peak_mb": timer.peak_mb, "per_stage_peak": timer.per_stage,
        "total_s": total_s, "peak_mb": peak_mb, "phase_two_epochs": epochs,
        "phase_two_epoch_s": timer.seconds["phase_two_training"] / epochs if epochs else None,
        "precision": getattr(settings, "precision", None), "rss_before_mb": rss_before_mb,
        "import_s": import_s, "load_model_s": load_s, "model_base": metadata.base,
        "tile_size": metadata.tile_size, "bands": metadata.bands,
        "cnn_f1": num(row.get("CNN_F1")), "csc_f1": num(row.get("CSC_F1")),
        "front_found": bool(row.get("Front_found")), "front_median_m": num(row.get("Front_median_m")),
        "outputs": sorted(p.name for p in settings.out_dir.iterdir()),
    }))


def _precision_setting(args) -> dict:
    """The precision setting of the CSC, where the library has one."""
    from seeice.pipeline.csc import CSCSettings

    return {"precision": args.precision} if "precision" in CSCSettings.__dataclass_fields__ else {}


def run_worker(args, scene: Path, model: Path, out_dir: Path) -> dict:
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", "--scene", str(scene), "--model", str(model),
        "--patch", str(args.patch), "--samples", str(args.samples), "--whole-image", str(args.whole_image),
        "--budget", str(args.budget), "--patience", str(args.patience), "--dpi", str(args.dpi),
        "--seed", str(args.seed), "--out-dir", str(out_dir), "--max-epochs", str(args.max_epochs),
        "--precision", args.precision,
    ]
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise RuntimeError(f"the CSC worker failed:\n{proc.stderr[-4000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------------
# Driver
# ------------------------------------------------------------------------------------------


def print_table(rec: dict) -> None:
    total = rec["total_s"]
    print(f"CSC of one {rec['size']} x {rec['size']} x {rec['bands']} synthetic scene, k = {rec['patch']}, "
          f"{rec['samples_per_class']} samples per class, "
          f"{'whole image' if rec['whole_image'] else 'row blocks'}; phase one: {rec['model_base']} "
          f"({rec['tile_size']} px tiles)")
    peak_head = "peak MB" if rec["per_stage_peak"] else "running peak MB"
    print(f"{'stage':<20}{'seconds':>10}{'share':>8}{peak_head:>17}")
    print("-" * 55)
    for stage in STAGES:
        if stage in rec["stages"]:
            s = rec["stages"][stage]
            print(f"{stage:<20}{s:>10.2f}{100 * s / total:>7.1f}%{rec['stage_peak_mb'][stage]:>17.0f}")
    print("-" * 55)
    print(f"{'total':<20}{total:>10.2f}{100.0:>7.1f}%{rec['peak_mb']:>17.0f}")
    f1 = lambda v: "n/a" if v is None else f"{v:.3f}"  # noqa: E731
    front = (f"median error {rec['front_median_m']:.1f} m" if rec["front_median_m"] is not None
             else ("found" if rec["front_found"] else "not found"))
    if rec.get("phase_two_epoch_s"):
        print(f"phase two: {rec['phase_two_epochs']} epoch(s), {rec['phase_two_epoch_s']:.1f} s per epoch")
    print(f"(not timed: model load {rec['load_model_s']:.1f} s; process before the CSC {rec['rss_before_mb']:.0f} MB)  "
          f"CNN F1 {f1(rec['cnn_f1'])}, CSC F1 {f1(rec['csc_f1'])}, front {front}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--size", type=int, default=3000, help="scene edge in pixels [3000]")
    p.add_argument("--patch", type=int, default=7, help="phase-two patch size k [7]")
    p.add_argument("--samples", type=int, default=500_000, help="phase-two samples per class [500000, as CSC.py]")
    p.add_argument("--max-epochs", type=int, default=1, help="phase-two training epochs at most [1]")
    p.add_argument("--precision", default="auto", help="precision policy of the CNNs [auto]")
    p.add_argument("--whole-image", type=int, choices=(0, 1), default=1,
                   help="1: whole-image inference, 0: row blocks within --budget [1]")
    p.add_argument("--budget", type=int, default=1024, help="row-block memory budget in MB [1024]")
    p.add_argument("--patience", type=int, default=10, help="phase-two early-stopping patience [10]")
    p.add_argument("--dpi", type=int, default=400, help="figure resolution [400, as CSC.py]")
    p.add_argument("--seed", type=int, default=0, help="seed of sampling and training [0]")
    p.add_argument("--scene-seed", type=int, default=100, help="seed of the synthetic scene [100]")
    p.add_argument("--model", help="phase-one model (.keras with its .meta.json); default: the demo's")
    p.add_argument("--cache", type=Path, default=ROOT / "demo_output",
                   help="folder caching the demo model, shared with CSC.py --demo [demo_output/ of the repository]")
    p.add_argument("--keep", type=Path, help="keep the CSC outputs in this folder (default: a temporary one)")
    p.add_argument("--json", type=Path, help="write the figures to this JSON file")
    p.add_argument("--scene", help="classify this scene (with its companions) instead of drawing "
                                   "one; e.g. one drawn before with the same --size and --scene-seed")
    # Hidden worker interface.
    p.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        worker(args)
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES

    if args.patch not in SUPPORTED_PATCH_SIZES:
        p.error(f"--patch must be one of {SUPPORTED_PATCH_SIZES}")
    from seeice.datasets.synthetic import MIN_SIZE

    if args.size < MIN_SIZE:
        p.error(f"--size must be at least {MIN_SIZE}")
    model = Path(args.model).resolve() if args.model else ensure_demo_model(args.cache.resolve(), args.seed)
    with tempfile.TemporaryDirectory(prefix="bench_scene_") as tmp:
        if args.scene:
            import rasterio

            scene = Path(args.scene).resolve()
            with rasterio.open(scene) as src:
                args.size = src.width
        else:
            scene = draw_scene(Path(tmp) / "scene", args.size, args.scene_seed)
        info = machine.machine_info()
        print(f"machine: {machine.describe(info)}", flush=True)
        out_dir = args.keep.resolve() if args.keep else Path(tmp) / "csc"
        out_dir.mkdir(parents=True, exist_ok=True)
        res = run_worker(args, scene, model, out_dir)
    info["load_average_after"] = machine.load_average()
    rec = {
        "size": args.size, "patch": args.patch, "samples_per_class": args.samples,
        "max_epochs": args.max_epochs,
        "whole_image": bool(args.whole_image), "memory_budget_mb": args.budget, "patience": args.patience,
        "dpi": args.dpi, "seed": args.seed, "scene_seed": args.scene_seed, "model": str(model),
        "scene": str(scene) if args.scene else None,
        **res, "machine": info,
    }
    print_table(rec)
    if args.json:
        from seeice.io.atomic import write_json

        write_json(args.json, rec)
    return 0


if __name__ == "__main__":
    sys.exit(main())

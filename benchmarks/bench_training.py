"""CNN speed per precision policy: phase-one tiles per second and phase-two samples per second.

Phase one (the tile CNN, the project's builder, VGG16 by default): a float32 model is trained
on the demo's tiles for ``--epochs`` epochs; then training and prediction are timed under
every policy (``float32``, ``auto`` and ``mixed_bfloat16`` by default; ``--policies`` adds
``mixed_float16``), with and without XLA (``jit_compile``). The rounds of the policies are
interleaved (float32, the others, float32, ...) and the median of ``--repeat`` rounds is
kept, so that a change of the machine's load hits every policy alike. Safety: the float32
model's weights, run under each policy (:func:`seeice.phase1.precision.apply_model_policy`,
as CSC.py does after loading a model), label every demo tile; ``agreement`` is the share of
tiles given the same class as under float32, overall and for the class (by its float32
label) that agrees least. The model trained here for a few epochs is a weak classifier; the
demo's cached phase-one model (``--model``, trained to convergence) is compared the same way
(``saved_model_agreement``).

Phase two (the patch classifier, ``--patch`` sizes): samples per second of one training
epoch gathered from an image (float32, as CSC trains it) and pixels per second of the
whole-image inference under each policy, with the agreement of the classes.

    python benchmarks/bench_training.py [--base vgg16] [--tiles 1000] [--epochs 3]
        [--batches 8] [--repeat 3] [--policies float32 auto mixed_bfloat16]
        [--patch 7 15] [--cache demo_output] [--tensor T.npy --labels L.npy] [--json PATH]

The JSON is a list of records, one per (stage, base, policy): ``stage`` ("phase_one" or
"phase_two"), ``base`` ("vgg16", "patch7", ...), ``policy`` (as asked), ``resolved_policy``
(what ``auto`` chose on this machine, and why), ``train_tiles_per_s``,
``predict_tiles_per_s`` (phase two: ``train_samples_per_s``, ``predict_pixels_per_s``),
their XLA counterparts (``xla_...``, None where not measured), ``speedup_train`` and
``speedup_predict`` over float32, and ``agreement`` {``overall``, ``lowest_class``,
``lowest_class_agreement``, ``per_class``}. A policy that resolves to the same policy as
another one measured in the run (``auto`` -> ``mixed_bfloat16`` on a CPU with native
bfloat16) is measured once; its record says so in ``measured_as``. Timings depend on the
machine and its load; never assert them.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import machine
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------------------------------
# Data
# ------------------------------------------------------------------------------------------


def demo_tiles(cache: Path, seed: int) -> tuple[Path, Path]:
    """The demo's phase-one tile tensor and labels (made once, not timed)."""
    tensor = cache / "tensors" / "demo_T_float16.npy"
    labels = cache / "tensors" / "demo_L_float16.npy"
    if tensor.is_file() and labels.is_file():
        return tensor, labels
    from seeice.phase1.compilation import compile_tensor
    from seeice.phase1.preparation import prepare_tiles
    from seeice.phase1.thinning import thin_tiles
    from seeice.pipeline.demo import DemoSettings, ensure_scenes

    print(f"making the demo's tiles in {cache} (once; not timed) ...", flush=True)
    settings = DemoSettings()
    train_dir = cache / "scenes_train"
    ensure_scenes(train_dir, settings.n_train_scenes, settings.scene_size, settings.train_seed)
    prepare_tiles(train_dir, cache / "tiles", tile_size=50, stride=25, seed=seed, bands=4)
    thin_tiles(cache / "tiles" / "Train", per_class=settings.tiles_per_class, seed=seed)
    made = compile_tensor(cache / "tiles" / "Train", "demo", out_dir=cache / "tensors", tile_size=50,
                          bands=4, n_classes=7, mode="float16", seed=seed)
    return made.tensor, made.labels


def load_tiles(tensor: Path, labels: Path, n_tiles: int, seed: int):
    """Up to ``n_tiles`` tiles, as float32 (a tensor holds normalised pixels, as TrainCNN reads them)."""
    from seeice.phase1.tile_data import load_tile_data

    n_classes = int(np.max(np.load(labels)))
    data = load_tile_data(tensor, labels, n_classes=n_classes)
    y = np.asarray(data.labels).astype(np.int64)
    rng = np.random.default_rng(seed)
    take = min(n_tiles, y.size)
    pick = np.sort(rng.choice(y.size, size=take, replace=False)) if take < y.size else np.arange(y.size)
    x = np.asarray(data.tensor[pick], dtype=np.float32)
    return x, y[pick], n_classes


# ------------------------------------------------------------------------------------------
# Timing
# ------------------------------------------------------------------------------------------


def _policy_scope(policy: str):
    import contextlib

    import keras

    @contextlib.contextmanager
    def scope():
        before = keras.mixed_precision.global_policy().name
        keras.mixed_precision.set_global_policy(policy)
        try:
            yield
        finally:
            keras.mixed_precision.set_global_policy(before)

    return scope()


def agreement(reference: np.ndarray, other: np.ndarray) -> dict:
    """Share of equal labels, overall and per reference class."""
    per_class = {int(c): float(np.mean(other[reference == c] == c)) for c in np.unique(reference)}
    lowest = min(per_class, key=per_class.get)
    return {"overall": float(np.mean(reference == other)), "lowest_class": lowest,
            "lowest_class_agreement": per_class[lowest], "per_class": per_class}


class TileBench:
    """Training and prediction timings of one tile-CNN base under each policy."""

    def __init__(self, base, x, y, n_classes, batch_size, batches, seed):
        self.base, self.x, self.y, self.n_classes = base, x, y, n_classes
        self.batch_size, self.batches, self.seed = batch_size, batches, seed
        import keras

        self.onehot = keras.utils.to_categorical(y, n_classes + 1).astype(np.float32)
        self.models = {}

    def model(self, policy, jit, weights):
        """A compiled model under ``policy`` (cached), its weights set to ``weights``."""
        import keras

        from seeice.phase1.models import DEFAULT_LEARNING_RATE, build_tile_model

        key = (policy, jit)
        if key not in self.models:
            with _policy_scope(policy):
                model = build_tile_model(self.base, self.x.shape[1], self.x.shape[3], self.n_classes)
                # compile_tile_model's optimiser and loss, with XLA on or off
                model.compile(optimizer=keras.optimizers.Adam(
                                  DEFAULT_LEARNING_RATE.get(self.base, 1e-4), amsgrad=True),
                              loss="categorical_crossentropy", metrics=["accuracy"],
                              jit_compile=jit)
            self.models[key] = model
            self._warm(model)
        model = self.models[key]
        model.set_weights(weights)
        return model

    def _warm(self, model):
        n = self.batch_size
        model.train_on_batch(self.x[:n], self.onehot[:n])
        model.predict_on_batch(self.x[:n])

    def train_rate(self, model) -> float:
        n, rng = self.batch_size, np.random.default_rng(self.seed)
        starts = rng.integers(0, max(1, self.x.shape[0] - n), self.batches)
        started = time.perf_counter()
        for s in starts:
            model.train_on_batch(self.x[s:s + n], self.onehot[s:s + n])
        return self.batches * n / (time.perf_counter() - started)

    def predict(self, model) -> tuple[np.ndarray, float]:
        n = self.batch_size
        labels = np.empty(self.x.shape[0], np.int64)
        started = time.perf_counter()
        for s in range(0, self.x.shape[0], n):
            labels[s:s + n] = np.asarray(model.predict_on_batch(self.x[s:s + n])).argmax(axis=1)
        return labels, self.x.shape[0] / (time.perf_counter() - started)


def trained_model_agreement(model_path: Path, x: np.ndarray, policies: dict) -> dict:
    """Agreement with float32 of a trained, saved phase-one model's labels, per policy."""
    from seeice.io.model_store import load_model
    from seeice.phase1.precision import apply_model_policy

    labels = {}
    for resolved in sorted(set(policies.values()), key=lambda p: p != "float32"):
        model, _ = load_model(model_path)
        apply_model_policy(model, resolved)
        labels[resolved] = np.concatenate([np.asarray(model(x[s:s + 100], training=False)).argmax(axis=1)
                                           for s in range(0, x.shape[0], 100)])
    return {resolved: agreement(labels["float32"], got) for resolved, got in labels.items()}


def bench_phase_one(args, x, y, n_classes, policies) -> list[dict]:
    import keras

    from seeice.phase1.models import build_tile_model, compile_tile_model

    keras.utils.set_random_seed(args.seed)
    print(f"phase one: training a float32 {args.base} on {x.shape[0]} tiles for {args.epochs} "
          "epoch(s) (the model whose labels are compared) ...", flush=True)
    with _policy_scope("float32"):
        trained = compile_tile_model(build_tile_model(args.base, x.shape[1], x.shape[3], n_classes))
    onehot = keras.utils.to_categorical(y, n_classes + 1).astype(np.float32)
    started = time.perf_counter()
    history = trained.fit(x, onehot, batch_size=args.batch_size, epochs=args.epochs, shuffle=True,
                          verbose=0)
    fit_s = time.perf_counter() - started
    weights = trained.get_weights()
    bench = TileBench(args.base, x, y, n_classes, args.batch_size, args.batches, args.seed)
    measured = sorted(set(policies.values()), key=lambda p: p != "float32")
    rates = {(p, jit): {"train": [], "predict": []} for p in measured for jit in (False, True)}
    labels = {}
    for round_ in range(args.repeat):
        for policy in measured:
            for jit in (False, True):
                model = bench.model(policy, jit, weights)
                got, predict_rate = bench.predict(model)
                if not jit:
                    labels.setdefault(policy, got)
                model.set_weights(weights)
                rates[(policy, jit)]["predict"].append(predict_rate)
                rates[(policy, jit)]["train"].append(bench.train_rate(model))
                print(f"  round {round_ + 1}: {policy:<15} jit {jit!s:<5} train "
                      f"{rates[(policy, jit)]['train'][-1]:7.1f}  predict {predict_rate:7.1f} tiles/s",
                      flush=True)
    med = {key: {k: statistics.median(v) for k, v in r.items()} for key, r in rates.items()}
    saved = None
    if args.model and Path(args.model).is_file() and not args.tensor:
        saved = trained_model_agreement(Path(args.model), x, policies)
    reference = labels["float32"]
    records = []
    for asked, resolved in policies.items():
        plain, xla = med[(resolved, False)], med[(resolved, True)]
        base32 = med[("float32", False)]
        records.append({
            "stage": "phase_one", "base": args.base, "policy": asked, "resolved_policy": resolved,
            "measured_as": resolved if asked != resolved else None,
            "train_tiles_per_s": plain["train"], "predict_tiles_per_s": plain["predict"],
            "xla_train_tiles_per_s": xla["train"], "xla_predict_tiles_per_s": xla["predict"],
            "speedup_train": plain["train"] / base32["train"],
            "speedup_predict": plain["predict"] / base32["predict"],
            "xla_wins_train": xla["train"] > plain["train"],
            "xla_wins_predict": xla["predict"] > plain["predict"],
            "agreement": agreement(reference, labels[resolved]),
            "saved_model": str(args.model) if saved else None,
            "saved_model_agreement": saved[resolved] if saved else None,
            "batch_size": args.batch_size, "timed_batches": args.batches, "repeat": args.repeat,
            "tiles": int(x.shape[0]), "tile_size": int(x.shape[1]), "bands": int(x.shape[3]),
            "reference_accuracy": float(np.mean(reference == y)),
            "reference_training_epochs": args.epochs, "reference_fit_s": fit_s,
            "reference_train_accuracy": float(history.history["accuracy"][-1]),
        })
    return records


def bench_phase_two(args, policies) -> list[dict]:
    """Patch-model training samples per second and inference pixels per second."""
    import keras

    from seeice.datasets.synthetic import make_scene
    from seeice.normalise import SENTINEL2_NORM_FACTOR, normalise
    from seeice.phase1.precision import apply_model_policy
    from seeice.phase2.inference import predict_image
    from seeice.phase2.patch_training import train_patch_model_on_image
    from seeice.phase2.sampling import sample_indices

    scene = make_scene(args.seed, args.scene_size)
    image = normalise(scene.image, SENTINEL2_NORM_FACTOR)
    classes = scene.classes
    n_classes = int(classes.max())
    records = []
    for k in args.patch:
        samples = sample_indices(classes, k, args.samples, seed=args.seed, n_classes=n_classes)
        started = time.perf_counter()
        with _policy_scope("float32"):
            model, _ = train_patch_model_on_image(image, samples, n_classes, max_epochs=1,
                                                  seed=args.seed, verbose=0)
        train_s = time.perf_counter() - started
        weights = model.get_weights()
        train_rate = 0.8 * len(samples) / train_s  # the 80 % training share, one epoch (+ validation)
        measured = sorted(set(policies.values()), key=lambda p: p != "float32")
        out, rates = {}, {p: [] for p in measured}
        for _ in range(args.repeat):
            for policy in measured:
                with _policy_scope("float32"):
                    twin_model = keras.models.clone_model(model)
                twin_model.set_weights(weights)
                apply_model_policy(twin_model, policy)
                predict_image(twin_model, image[:64], k, progress=False)  # trace
                started = time.perf_counter()
                out[policy] = predict_image(twin_model, image, k, progress=False)
                rates[policy].append(image.shape[0] * image.shape[1] / (time.perf_counter() - started))
        half = k // 2
        inner = (slice(half, image.shape[0] - half), slice(half, image.shape[1] - half))
        reference = out["float32"][inner].ravel()
        for asked, resolved in policies.items():
            rate = statistics.median(rates[resolved])
            records.append({
                "stage": "phase_two", "base": f"patch{k}", "policy": asked, "resolved_policy": resolved,
                "measured_as": resolved if asked != resolved else None,
                "train_samples_per_s": train_rate, "train_policy": "float32",
                "predict_pixels_per_s": rate,
                "speedup_predict": rate / statistics.median(rates["float32"]),
                "agreement": agreement(reference, out[resolved][inner].ravel()),
                "samples": len(samples), "scene_size": args.scene_size,
            })
            print(f"phase two k={k}: {asked:<15} train {train_rate:8.0f} samples/s (float32), "
                  f"predict {rate:9.0f} px/s, agreement "
                  f"{records[-1]['agreement']['overall']:.4f}", flush=True)
    return records


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n\n", 1)[1])
    p.add_argument("--base", default="vgg16", help="phase-one base [vgg16]")
    p.add_argument("--tiles", type=int, default=1000, help="demo tiles used [1000]")
    p.add_argument("--epochs", type=int, default=3, help="float32 training epochs of the compared model [3]")
    p.add_argument("--batch-size", type=int, default=50, help="tiles per batch [50, as TrainCNN]")
    p.add_argument("--batches", type=int, default=8, help="timed training batches per round [8]")
    p.add_argument("--repeat", type=int, default=3, help="interleaved rounds; the median is kept [3]")
    p.add_argument("--policies", nargs="+", default=["float32", "auto", "mixed_bfloat16"],
                   help="policies [float32 auto mixed_bfloat16]")
    p.add_argument("--patch", type=int, nargs="*", default=[7, 15], help="phase-two patch sizes [7 15]")
    p.add_argument("--samples", type=int, default=20_000, help="phase-two samples per class [20000]")
    p.add_argument("--scene-size", type=int, default=600, help="phase-two scene edge [600]")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--cache", type=Path, default=ROOT / "demo_output", help="the demo's folder [demo_output/]")
    p.add_argument("--tensor", type=Path, help="tile tensor (default: the demo's)")
    p.add_argument("--labels", type=Path, help="its labels")
    p.add_argument("--model", type=Path, default=ROOT / "demo_output" / "model" / "demo_phase1.keras",
                   help="a trained phase-one model whose labels of the demo tiles are compared too "
                        "(saved_model_agreement) [the demo's, when cached]")
    p.add_argument("--json", type=Path, help="write the records to this JSON file")
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    from seeice.phase1.precision import POLICIES, explain_policy

    if "float32" not in args.policies:
        args.policies.insert(0, "float32")  # the reference of speed-ups and agreement
    policies, reasons = {}, {}
    for asked in args.policies:
        policies[asked], reasons[asked] = explain_policy(asked)
    unknown = set(policies.values()) - set(POLICIES)
    if unknown:
        p.error(f"unknown policies {unknown}")
    info = machine.machine_info()
    print(f"machine: {machine.describe(info)}; auto -> {policies.get('auto', 'n/a')}", flush=True)
    if args.tensor:
        tensor, labels = args.tensor, args.labels
    else:
        tensor, labels = demo_tiles(args.cache.resolve(), args.seed)
    x, y, n_classes = load_tiles(tensor, labels, args.tiles, args.seed)
    records = bench_phase_one(args, x, y, n_classes, policies)
    if args.patch:
        records += bench_phase_two(args, policies)
    info["load_average_after"] = machine.load_average()
    for rec in records:
        rec["reason"] = reasons[rec["policy"]]
        rec["machine"] = info
    print(f"{'stage':<10}{'base':<8}{'policy':<16}{'resolved':<16}{'train/s':>10}{'predict/s':>12}"
          f"{'x train':>9}{'x pred':>8}{'agree':>8}{'lowest':>8}")
    for rec in records:
        train = rec.get("train_tiles_per_s", rec.get("train_samples_per_s"))
        pred = rec.get("predict_tiles_per_s", rec.get("predict_pixels_per_s"))
        print(f"{rec['stage']:<10}{rec['base']:<8}{rec['policy']:<16}{rec['resolved_policy']:<16}"
              f"{train:>10.1f}{pred:>12.1f}{rec.get('speedup_train', float('nan')):>9.2f}"
              f"{rec['speedup_predict']:>8.2f}{rec['agreement']['overall']:>8.4f}"
              f"{rec['agreement']['lowest_class_agreement']:>8.4f}")
    if args.json:
        from seeice.io.atomic import write_json

        write_json(args.json, records)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The built-in demo: synthetic scenes, a small phase-one model, and CSC on an unseen scene.

``python CSC_Application/CSC.py --demo`` calls :func:`run_demo`. Everything it needs is made
on the spot and cached in the demo folder, so a second run skips straight to CSC:

1. two synthetic training scenes and one unseen scene (:mod:`seeice.datasets.synthetic`);
2. phase-one tiles of the training scenes, balanced to a few hundred per class, compiled
   into a tensor, and a small phase-one CNN trained on them until validation accuracy
   reaches the target (a few minutes on two CPU cores). It uses the ``compact`` base, a
   small VGG-style network under the VGG16 head, so that the demo fits a laptop CPU; for
   real work train a VGG16 with ``Phase_1_CNN/TrainCNN.py``;
3. CSC of the unseen scene, with its figure, CSVs, class GeoTIFF and front GeoPackage.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from seeice.io import raster as raster_io
from seeice.pipeline.csc import CSCRun, run_csc

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DemoSettings:
    """Sizes and budgets of the demo (small enough for a laptop CPU)."""

    scene_size: int = 600
    train_seed: int = 1
    n_train_scenes: int = 2
    predict_seed: int = 100
    tiles_per_class: int = 400
    epochs: int = 30
    target_accuracy: float = 0.97
    base: str = "compact"
    batch_size: int = 50
    samples_per_class: int = 20_000
    model_name: str = "demo_phase1"


def ensure_scenes(folder: Path, n_images: int, size: int, seed: int) -> list[Path]:
    """Synthetic scenes in ``folder``, generated only when the folder holds none."""
    from seeice.datasets.synthetic import generate_scenes

    if folder.is_dir() and raster_io.list_images(folder):
        return raster_io.list_images(folder)
    log.info("making %d synthetic scene(s) of %d px in %s", n_images, size, folder)
    return generate_scenes(folder, n_images=n_images, size=size, seed=seed)


def ensure_model(folder: Path, train_dir: Path, settings: DemoSettings, seed: int) -> Path:
    """The demo's phase-one model, trained on the training scenes unless already cached."""
    model_dir = folder / "model"
    model_path = model_dir / f"{settings.model_name}.keras"
    if model_path.is_file() and (model_dir / f"{settings.model_name}.meta.json").is_file():
        log.info("using the cached phase-one model %s", model_path)
        return model_path
    from seeice.phase1.compilation import compile_tensor
    from seeice.phase1.preparation import prepare_tiles
    from seeice.phase1.thinning import thin_tiles
    from seeice.phase1.training import train_tile_cnn

    log.info("training the demo's phase-one CNN (%s base; cached for later runs)", settings.base)
    tiles_dir = folder / "tiles"
    prepare_tiles(train_dir, tiles_dir, tile_size=50, stride=25, seed=seed, bands=4)
    thin_tiles(tiles_dir / "Train", per_class=settings.tiles_per_class, seed=seed)
    tensor = compile_tensor(tiles_dir / "Train", "demo", out_dir=folder / "tensors",
                            tile_size=50, bands=4, n_classes=7, mode="float16", seed=seed)
    result = train_tile_cnn(tensor.tensor, tensor.labels, model_dir,
                            settings.model_name, base=settings.base, bands=4, n_classes=7,
                            batch_size=settings.batch_size, epochs=settings.epochs,
                            target_accuracy=settings.target_accuracy, seed=seed)
    log.info("phase-one model: validation accuracy %.3f after %d epoch(s)",
             result.val_accuracy, result.epochs_run)
    return result.model_path


def run_demo(folder: str | os.PathLike = "demo_output", patch_size: int = 7, dpi: int = 150,
             seed: int = 0, settings: DemoSettings = DemoSettings()) -> CSCRun:
    """Run the whole workflow on synthetic scenes and log where the outputs are.

    Parameters
    ----------
    folder : path-like
        Working folder; scenes, tiles, the model and the results are kept there.
    patch_size : int
        Phase-two patch size k.
    dpi : int
        Figure resolution.
    seed : int
        Seed of tiling, training, sampling.
    settings : DemoSettings
        Sizes and budgets.

    Returns
    -------
    CSCRun
    """
    folder = Path(folder)
    train_dir = folder / "scenes_train"
    predict_dir = folder / "scenes_unseen"
    ensure_scenes(train_dir, settings.n_train_scenes, settings.scene_size, settings.train_seed)
    ensure_scenes(predict_dir, 1, settings.scene_size, settings.predict_seed)
    model_path = ensure_model(folder, train_dir, settings, seed)
    run = run_csc({
        "ModelName": str(model_path), "PredictPath": str(predict_dir),
        "ScorePath": str(folder / "results" / "Demo"), "Experiment": "Demo", "Ndims": 4,
        "Kernel_size": patch_size, "size": 50, "CNNsamples": settings.samples_per_class,
        "WholeImage": 1, "Patience": 10, "SmallestElement": 2, "GACglacier": 1,
        "OutDPI": dpi, "Seed": seed,
    }, script="CSC.py --demo")
    out = run.out_dir
    for row in run.summary.to_dict("records"):
        log.info("demo result for %s: CNN F1 %.3f, CSC F1 %.3f, front median error %s m",
                 row["Image"], row["CNN_F1"], row["CSC_F1"], f"{row['Front_median_m']:.1f}")
        log_per_class_f1(out, row["Image"], f"Demok{patch_size}")
    log.info("outputs in %s: figure CSC_*.png, reports CNN_*.csv / CSC_*.csv, class raster "
             "*_classified.tif, front *_front.gpkg, summary.csv", out.resolve())
    return run


#: A class whose CSC F1 on an image is below this is named as weak.
WEAK_F1 = 0.7


def log_per_class_f1(out_dir: Path, stem: str, experiment: str) -> list[str]:
    """Log the per-class F1 of phase one and of the CSC for one image; warn about weak classes.

    Reads the reports ``CNN_<stem>_<experiment>.csv`` and ``CSC_<stem>_<experiment>.csv``
    that the CSC wrote. Classes absent from the labels (no support) are left out.

    Returns
    -------
    list of str
        Names of the classes whose CSC F1 is below :data:`WEAK_F1`.
    """
    import pandas as pd

    reports = {}
    for phase in ("CNN", "CSC"):
        path = Path(out_dir) / f"{phase}_{stem}_{experiment}.csv"
        if not path.is_file():
            log.info("%s: no %s report (no labels); per-class F1 not available", stem, phase)
            return []
        reports[phase] = pd.read_csv(path)
    cnn, csc = (reports[p] for p in ("CNN", "CSC"))
    rows = csc[~csc["Class"].isin(["Accuracy", "Macro_avg", "Weighted_avg"])]
    rows = rows[pd.to_numeric(rows["Support"], errors="coerce").fillna(0) > 0]
    cnn_f1 = dict(zip(cnn["Class"], cnn["F1_score"]))
    lines = [f"{'class':<16}{'CNN F1':>8}{'CSC F1':>8}"]
    weak = []
    for name, f1 in zip(rows["Class"], rows["F1_score"]):
        lines.append(f"{name:<16}{float(cnn_f1.get(name, float('nan'))):>8.3f}{float(f1):>8.3f}")
        if float(f1) < WEAK_F1:
            weak.append(str(name))
    log.info("per-class F1 of %s:\n%s", stem, "\n".join(lines))
    if weak:
        log.warning("%s: weak classes (CSC F1 under %.1f): %s. Their pixels, and any front drawn "
                    "along them, deserve a check by eye.", stem, WEAK_F1, ", ".join(weak))
    else:
        log.info("%s: every labelled class has a CSC F1 of at least %.1f.", stem, WEAK_F1)
    return weak

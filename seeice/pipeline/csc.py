"""CNN-supervised classification (CSC) of a folder of images: the main job of SEE_ICE.

For every input image (DESIGN section 5):

1. read it, keep ``Ndims`` bands, find its companions;
2. phase one: the trained tile CNN labels the image's tiles;
3. sample k x k windows of every phase-one class;
4. train a per-image patch classifier on them;
5. predict every pixel (whole image or row blocks; identical results);
6. clean up with a mode filter;
7. find the calving front and refine the glacier (glacier schemes only);
8. score against labels and the manual front, where they exist;
9. draw the 4-part figure; 10. write the class raster and the front as a GeoPackage line.

One image failing (bad bands, too small, no front) gives a warning and a row in the run
summary; the other images are still processed.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

import pandas as pd
from tqdm.auto import tqdm

from seeice import defaults as D
from seeice.classes import ClassScheme
from seeice.config import run_record
from seeice.config.inputs import save_run_config
from seeice.errors import (
    ConfigError,
    DataError,
    InputFileError,
    ModelError,
    RasterError,
    SeeIceError,
)
from seeice.io import raster as raster_io
from seeice.io.atomic import write_csv
from seeice.io.georef import check_projected, pixel_size_m
from seeice.io.images import FLOAT, check_image_scale, probe_image
from seeice.io.model_inputs import check_pixel_kind
from seeice.io.front_schema import check_front_crs, warn_without_glacier_id
from seeice.phase2.patch_models import check_patch_size

log = logging.getLogger(__name__)

SUMMARY_COLUMNS = ["Image", "CNN_F1", "CSC_F1", "Front_found", "Front_median_m",
                   "Front_mean_m", "Seconds", "Front_note", "Error", "CNN_classes",
                   "Front_MDE_m", "Manual_front"]


@dataclass(frozen=True)
class CSCSettings:
    """Settings of one CSC run, resolved from the script's user inputs.

    Attributes mirror the user inputs of ``CSC_Application/CSC.py``.
    """

    model_path: Path
    predict_dir: Path
    out_prefix: Path
    experiment: str = D.EXPERIMENT
    bands: int = D.BANDS
    patch_size: int = D.PATCH_SIZE
    tile_size: int = D.TILE_SIZE
    samples_per_class: int = D.SAMPLES_PER_CLASS
    whole_image: bool = True
    patience: int = D.PATIENCE
    max_epochs: int = D.TRAINING_EPOCHS
    precision: str = D.PRECISION
    smallest_element: int = D.SMALLEST_ELEMENT
    gac_glacier: bool = True
    dpi: int = D.FIGURE_DPI
    seed: int = D.SEED
    memory_budget_mb: int = D.MEMORY_BUDGET_MB
    pixel_size: float | None = None
    image_scale: float | None = None
    n_classes: int | None = None
    resize_companions: bool = D.RESIZE_COMPANIONS
    progress: bool = True
    front_params: dict = field(default_factory=dict)
    glacier_id: str = D.GLACIER_ID
    glacier_name: str = D.GLACIER_NAME
    author: str = D.AUTHOR
    front_crs: str = D.FRONT_CRS
    validation: str = D.VALIDATION
    glacier: str = D.GLACIER
    patch_model: str = D.PATCH_MODEL
    batch_rule: str = D.BATCH_RULE

    @property
    def out_dir(self) -> Path:
        """``<OutFolder>_patch<k>``."""
        return Path(f"{self.out_prefix}_patch{self.patch_size}")

    @property
    def experiment_name(self) -> str:
        """The experiment name with ``k<k>`` appended."""
        return f"{self.experiment}k{self.patch_size}"

    @classmethod
    def from_config(cls, config: Mapping) -> "CSCSettings":
        """Build settings from the user inputs of ``CSC.py`` (header names)."""
        def get(name, default=None):
            value = config.get(name, default)
            return default if value is None else value

        pixel = config.get("PixelSize")
        scale = config.get("ImageScale")
        return cls(
            model_path=Path(get("ModelName", "")),
            predict_dir=Path(get("PredictPath", "")),
            out_prefix=Path(get("ScorePath", D.OUTPUT_PREFIX)),
            experiment=str(get("Experiment", D.EXPERIMENT)),
            bands=int(get("Ndims", D.BANDS)),
            patch_size=int(get("Kernel_size", D.PATCH_SIZE)),
            tile_size=int(get("size", D.TILE_SIZE)),
            samples_per_class=int(get("CNNsamples", D.SAMPLES_PER_CLASS)),
            whole_image=bool(int(get("WholeImage", 1))),
            patience=int(get("Patience", D.PATIENCE)),
            max_epochs=int(get("TrainingEpochs", D.TRAINING_EPOCHS)),
            precision=str(get("Precision", D.PRECISION)),
            smallest_element=int(get("SmallestElement", D.SMALLEST_ELEMENT)),
            gac_glacier=bool(int(get("GACglacier", 1))),
            dpi=int(get("OutDPI", D.FIGURE_DPI)),
            seed=int(get("Seed", D.SEED)),
            memory_budget_mb=int(get("MemoryBudgetMB", D.MEMORY_BUDGET_MB)),
            pixel_size=_number(pixel, "PixelSize (--pixel-size)"),
            image_scale=_number(scale, "ImageScale (--image-scale)"),
            n_classes=int(config["NClasses"]) if config.get("NClasses") else None,
            resize_companions=bool(get("ResizeCompanions", D.RESIZE_COMPANIONS)),
            progress=bool(get("Progress", True)),
            front_params={"ocean_rule": str(get("OceanRule", D.OCEAN_RULE)),
                          "min_sea_contact": float(get("MinSeaContact", D.MIN_SEA_CONTACT))},
            glacier_id=str(get("GlacierID", D.GLACIER_ID)),
            glacier_name=str(get("GlacierName", D.GLACIER_NAME)),
            author=str(get("Author", D.AUTHOR)),
            front_crs=str(get("FrontCRS", D.FRONT_CRS)),
            validation=str(get("Validation", D.VALIDATION)).strip(),
            glacier=str(get("Glacier", D.GLACIER)).strip(),
            patch_model=str(get("PatchModel", D.PATCH_MODEL)),
            batch_rule=str(get("BatchRule", D.BATCH_RULE)),
        )


def _number(value, name: str) -> float | None:
    """An optional positive number of the user inputs (None or empty: not given)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not (number > 0 and number != float("inf")):
        raise ConfigError(f"{name} must be a positive number, got {value!r}; leave it empty "
                          "when it does not apply.")
    return number


def check_images(images: list[Path], settings: CSCSettings, metadata) -> None:
    """Check every input image's header before anything runs (DESIGN 7, 10.12).

    Refused for the whole run, naming the image and the fix: a geographic CRS (degrees), a
    ``PixelSize`` that contradicts a georeferenced image, a floating-point image without
    ``ImageScale``, a pixel type other than the model's. Unreadable files are left to the
    per-image step, which reports them and goes on.

    Raises
    ------
    RasterError, ConfigError, ModelError
    """
    for path in images:
        try:
            header = probe_image(path)
        except (InputFileError, RasterError):
            continue                      # reported by the per-image step
        check_projected(header.crs, header.transform, header.shape, path.name)
        if settings.pixel_size is not None:
            pixel_size_m(header.crs, header.transform, header.shape, path.name,
                         settings.pixel_size)
        if header.kind == FLOAT:          # integer images with a scale: warned when read
            check_image_scale(header, settings.image_scale)
        check_pixel_kind(header, metadata, settings.model_path.name)


@dataclass
class CSCRun:
    """Outcome of :func:`run_csc`: the output folder and one summary row per image."""

    out_dir: Path
    summary: pd.DataFrame

    @property
    def failed(self) -> pd.DataFrame:
        """Rows of images that could not be classified."""
        return self.summary[self.summary["Error"].fillna("") != ""]


def warn_weak_classes(metadata, scheme: ClassScheme, model_path) -> list[int]:
    """Repeat the phase-one warning about the weak classes recorded in the model's metadata.

    Parameters
    ----------
    metadata : seeice.io.model_store.ModelMetadata
        ``weak_classes`` and ``validation_recall`` as TrainCNN recorded them (read from
        ``training`` for sidecars that kept them there; None for models saved before the
        record existed: then nothing is known and nothing is warned).
    scheme : ClassScheme
        Names the classes.
    model_path : path-like
        Named in the warning.

    Returns
    -------
    list of int
        The weak classes, ascending (empty when none or not recorded).
    """
    training = metadata.training or {}
    weak = getattr(metadata, "weak_classes", None)
    recall = getattr(metadata, "validation_recall", None)
    if weak is None:
        weak = training.get("weak_classes")
        recall = training.get("validation_recall")
    if weak is None:
        log.info("phase-one model %s records no per-class validation recall (saved before it "
                 "was recorded); its weak classes are unknown.", Path(model_path).name)
        return []
    recall = {int(k): float(v) for k, v in (recall or {}).items()}
    weak = sorted(int(k) for k in weak)
    if weak:
        named = ", ".join(f"{k} ({scheme.names[k - 1]}, "
                          + (f"recall {recall[k]:.2f})" if k in recall else "no training tiles)")
                          for k in weak if 1 <= k <= scheme.n_classes)
        log.warning("phase-one model %s is weak on %s: phase one (and so the CSC) will "
                    "mislabel these classes; check them in the figures, and retrain with more "
                    "examples of them where you can.", Path(model_path).name, named)
    return weak


def check_settings(settings: CSCSettings, metadata) -> ClassScheme:
    """Check the run's settings against each other and the model; return the class scheme."""
    check_patch_size(settings.patch_size)
    if settings.tile_size != metadata.tile_size:
        raise ModelError(f"tile size {settings.tile_size} does not match the model "
                         f"{settings.model_path.name}, trained on {metadata.tile_size} px tiles. "
                         f"Use --tile-size {metadata.tile_size}.")
    if settings.bands != metadata.bands:
        raise ModelError(f"{settings.bands} bands asked (Ndims / --bands) but the model "
                         f"{settings.model_path.name} was trained on {metadata.bands}. "
                         f"Use --bands {metadata.bands}.")
    if settings.n_classes is not None and settings.n_classes != metadata.n_classes:
        raise ModelError(f"NClasses = {settings.n_classes} but the model "
                         f"{settings.model_path.name} has {metadata.n_classes} classes. "
                         "Leave NClasses empty to take it from the model.")
    for name, value, choices in (("PatchModel", settings.patch_model, ("fresh", "carried")),
                                 ("BatchRule", settings.batch_rule, ("updates", "published"))):
        if value not in choices:
            raise ConfigError(f"{name} is {value!r}; valid choices are {', '.join(choices)}.")
    if settings.validation.lower() not in ("", "seen", "unseen"):
        raise ConfigError(f"Validation (--validation) is {settings.validation!r}; give seen, "
                          "unseen, or nothing to let the results tables infer it.")
    for name, value, low in (("CNNsamples", settings.samples_per_class, 1),
                             ("Patience", settings.patience, 0),
                             ("TrainingEpochs", settings.max_epochs, 1),
                             ("SmallestElement", settings.smallest_element, 0),
                             ("OutDPI", settings.dpi, 10),
                             ("MemoryBudgetMB", settings.memory_budget_mb, 64)):
        if value < low:
            raise ConfigError(f"{name} must be at least {low}, got {value}.")
    # The metadata always hold a scheme consistent with the model's class count
    # (ModelMetadata fills in the default scheme and checks the count).
    return metadata.class_scheme()


def run_csc(config: Mapping | CSCSettings, script: str = "CSC.py") -> CSCRun:
    """Classify every input image of a folder with CSC; write per-image outputs and a summary.

    Parameters
    ----------
    config : mapping or CSCSettings
        The user inputs of ``CSC_Application/CSC.py`` (header names), or settings.
    script : str
        Recorded in ``run.json``.

    Returns
    -------
    CSCRun
        Output folder ``<ScorePath>_patch<k>`` and the summary (also ``summary.csv`` there).

    Raises
    ------
    SeeIceError
        For problems of the whole run (model missing or mismatched, bad settings, an empty
        input folder). Problems of one image are logged and recorded in the summary instead.
    """
    from seeice.io.model_store import (
        load_model,  # TensorFlow is imported only when needed
    )

    from seeice.phase1.precision import explain_policy

    settings = config if isinstance(config, CSCSettings) else CSCSettings.from_config(config)
    check_patch_size(settings.patch_size)  # before the (slow) model load
    policy, policy_reason = explain_policy(settings.precision)
    log.info("precision policy of phase-one inference and phase-two inference: %s (%s)",
             policy, policy_reason)
    check_front_crs(settings.front_crs)
    model, metadata = load_model(settings.model_path)
    scheme = check_settings(settings, metadata)
    warn_weak_classes(metadata, scheme, settings.model_path)
    images = raster_io.list_images(settings.predict_dir)
    if not images:
        raise DataError(f"no input images in {settings.predict_dir} (GeoTIFF, PNG or JPEG; "
                        "files starting with SCLS_, EDGE_ or VM_ are companions, not inputs).")
    check_images(images, settings, metadata)
    out_dir = settings.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    raw_config = dict(config) if not isinstance(config, CSCSettings) else {
        k: (os.fspath(v) if isinstance(v, Path) else v) for k, v in vars(settings).items()}
    job = raw_config.pop(run_record.JOB_KEY, None)  # the sweep job that owns the folder
    save_run_config(out_dir, raw_config, script=script,
                    extra={"model": metadata.to_dict(), "scheme": scheme.to_dict(),
                           "experiment_name": settings.experiment_name,
                           "images": [p.name for p in images],
                           "precision_policy": policy, "precision_reason": policy_reason,
                           **run_record.start_fields(job)})
    if scheme.has_front:
        warn_without_glacier_id(settings.glacier_id)
    log.info("CSC of %d image(s) from %s with patch size %d -> %s", len(images),
             settings.predict_dir, settings.patch_size, out_dir)
    if not settings.validation:
        log.info("Validation not given: the results tables will infer Seen/Unseen (from the "
                 "model's training record or a Hel/Jak/Sto token of %s); --validation seen or "
                 "unseen records it.", out_dir.name)

    from seeice.pipeline.image_csc import classify_image

    rows = []
    # the phase-two model carried from image to image (PatchModel carried)
    carry = {"carried": {}} if settings.patch_model == "carried" else {}
    if carry:
        log.info("PatchModel carried: one phase-two classifier trained on image after image, as "
                 "the published scripts did (each image's classes then depend on the images "
                 "before it)")
    for image_path in tqdm(images, desc="images", unit="image", disable=not settings.progress):
        started = time.perf_counter()
        try:
            row = classify_image(image_path, model, metadata, scheme, settings, **carry)
        except SeeIceError as exc:
            log.warning("%s skipped: %s", image_path.name, exc)
            row = {"Image": image_path.stem, "Error": str(exc)}
        except KeyboardInterrupt:
            _report_interrupt(out_dir, image_path, rows)
            raise
        row["Seconds"] = round(time.perf_counter() - started, 2)
        rows.append(row)
        summary = pd.DataFrame(rows).reindex(columns=SUMMARY_COLUMNS)
        write_csv(out_dir / "summary.csv", summary)  # after every image: a crash keeps the rest
        # Last: the image counts as finished only once all its outputs are written.
        run_record.add_image(out_dir, image_path.name, failed=bool(row.get("Error")),
                             stage_seconds=row.get("stages"))
    run_record.mark_complete(out_dir)
    run = CSCRun(out_dir=out_dir, summary=summary)
    log.info("CSC finished: %d image(s) classified, %d failed. Summary: %s",
             len(summary) - len(run.failed), len(run.failed), out_dir / "summary.csv")
    return run


def _report_interrupt(out_dir: Path, image_path: Path, rows: list) -> None:
    """Mark the run interrupted and say what is complete and what is not."""
    try:
        run_record.mark_interrupted(out_dir, image_path.name)
    except SeeIceError as exc:
        log.error("%s", exc)
    log.error("Interrupted during %s: the outputs of that image in %s may be partly written. "
              "run.json does not list it in images_complete and marks the run 'interrupted', "
              "so the results scripts skip it. The %d image(s) before it are finished and "
              "recorded there. Rerun to redo the run (CSC_Batch.py redoes the job from a clean "
              "folder).",
              image_path.name, out_dir, len(rows))

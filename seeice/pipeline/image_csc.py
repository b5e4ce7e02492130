"""CSC of one image: phase one, per-image classifier, clean-up, front, scores and outputs.

:func:`classify_image` runs DESIGN section 5 on one image and writes its outputs into the
run's folder; :func:`seeice.pipeline.csc.run_csc` calls it for every image of a folder.
"""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from seeice.classes import ClassScheme
from seeice.config.runner import keras_verbosity
from seeice.errors import DataError, FrontNotFoundError
from seeice.fronts.detection import FrontParams
from seeice.fronts.region import detect_front_in_region
from seeice.fronts.terminus import front_touches_nodata, nodata_near_front
from seeice.io import raster as raster_io
from seeice.io.atomic import write_csv, write_npy
from seeice.io.georef import pixel_size_m
from seeice.io.images import probe_image, read_scene
from seeice.io.model_inputs import check_bands, check_value_range
from seeice.io.validity import near_nodata
from seeice.io.front_schema import check_front_crs, label_fields, method_text, scene_fields
from seeice.io.ovpdat import write_ovpdat
from seeice.io.scene_info import read_scene_info
from seeice.io.vector import write_front_gpkg
from seeice.metrics.distances import PREDICTED_CFDIST_SUFFIX, mean_distance_error
from seeice.metrics.scoring import (
    distance_stats,
    front_distances_both_ways,
    score_classification,
    scored_pixels,
    weighted_f1,
)
from seeice.normalise import NormalisedImage
from seeice.phase1.precision import apply_model_policy, choose_policy
from seeice.phase2.filtering import mode_filter
from seeice.phase2.inference import predict_image
from seeice.phase2.patch_training import default_batch_size, train_patch_model_on_image
from seeice.phase2.sampling import sample_indices
from seeice.phase2.tile_classification import classify_tiles
from seeice.pipeline.figure import csc_figure

log = logging.getLogger(__name__)


class StageTimer:
    """Seconds spent per named stage, for the run summary and the scene benchmark."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.epochs: dict[str, int] = {}

    @contextmanager
    def __call__(self, stage: str):
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[stage] = self.seconds.get(stage, 0.0) + time.perf_counter() - started


def output_paths(out_dir: Path, stem: str, experiment: str, georeferenced: bool) -> dict[str, Path]:
    """Paths of one image's outputs (DESIGN 5.8-5.11 naming)."""
    return {
        "cnn_report": out_dir / f"CNN_{stem}_{experiment}.csv",
        "csc_report": out_dir / f"CSC_{stem}_{experiment}.csv",
        "scored": out_dir / f"OvPdat_{stem}_{experiment}.npz",
        "distances": out_dir / f"{stem}_cfdistances.npy",
        "distances_predicted": out_dir / f"{stem}{PREDICTED_CFDIST_SUFFIX}",
        "figure": out_dir / f"CSC_{experiment}_{stem}.png",
        "classes": raster_io.class_raster_path(out_dir, stem, georeferenced),
        "front": out_dir / f"{stem}_front.gpkg",
        "front_geojson": out_dir / f"{stem}_front.geojson",
    }


def classify_image(image_path: Path, model, metadata, scheme: ClassScheme, settings,
                   timer: StageTimer | None = None, carried: dict | None = None) -> dict:
    """Run CSC on one image and write its outputs.

    Parameters
    ----------
    image_path : pathlib.Path
        The image (GeoTIFF, PNG or JPEG).
    model : keras.Model
        The phase-one tile CNN.
    metadata : seeice.io.model_store.ModelMetadata
        Its metadata (tile size, normalisation factor, ...).
    scheme : ClassScheme
        The class scheme of the model.
    settings : seeice.pipeline.csc.CSCSettings
        The run's settings.
    timer : StageTimer, optional
        Receives seconds per stage.
    carried : dict, optional
        With ``settings.patch_model == "carried"``: holds under ``"model"`` the phase-two
        model of the previous image, trained further here and left there for the next.

    Returns
    -------
    dict
        One summary row: Image, CNN_F1, CSC_F1, Front_found, Front_median_m, Front_mean_m
        (one-directional: manual to predicted), Front_MDE_m (mean distance error, both
        directions pooled), Manual_front (an ``EDGE_`` front exists), Error, plus ``stages``
        (seconds per stage).
    """
    timer = timer or StageTimer()
    stem = image_path.stem
    out_dir = settings.out_dir
    with timer("read"):
        header = probe_image(image_path)
        check_bands(header, settings.bands, metadata.bands, settings.model_path.name)
        image = read_scene(image_path, bands=settings.bands, image_scale=settings.image_scale)
        valid = image.valid
        height, width = image.shape2d
        k = settings.patch_size
        if height < settings.tile_size or width < settings.tile_size:
            raise DataError(f"{image_path.name} is {height} x {width} px, smaller than one "
                            f"{settings.tile_size} px tile; it cannot be classified.")
        if not valid.any():
            raise DataError(f"{image_path.name} holds only no-data (declared nodata, mask, NaN "
                            "or 0 in every band); nothing to classify.")
        check_value_range(image.data, valid, header, metadata, settings.model_path.name)
        pixel_size = pixel_size_m(image.crs, image.transform, (height, width), image_path.name,
                                  settings.pixel_size)
        companions = raster_io.find_companions(image_path)
        grid = raster_io.Grid.of(image)
        # A companion on another grid is refused (the image fails, the run goes on), unless
        # --resize-companions asks for the published match by position.
        labels = (raster_io.read_labels(companions.classes, grid,
                                        resize_to_shape=settings.resize_companions,
                                        image_name=image_path.name)
                  if companions.classes else None)
        if labels is not None:
            raster_io.check_class_values(labels, scheme.n_classes, companions.classes.name)
            labels = np.where(valid, labels, 0).astype(labels.dtype)   # no-data is never scored
        manual_front = (raster_io.read_labels(companions.edge, grid,
                                              resize_to_shape=settings.resize_companions,
                                              image_name=image_path.name) > 0
                        if companions.edge else None)
        if manual_front is not None:
            manual_front &= valid
        # No-data reaches the networks as 0 (every band), never as NaN or a fill value. The
        # image stays raw; each stage normalises the rows or windows it takes (a granule
        # would be 1.9 GB as float32).
        pixels = NormalisedImage(image.data, metadata.norm_factor)
        # Only pixels whose k x k window lies wholly in valid data are sampled and
        # classified; no-data and the k // 2 band around it stay 0, like the image border.
        unclassifiable = near_nodata(valid, k)
    paths = output_paths(out_dir, stem, settings.experiment_name, image.is_georeferenced)
    # Inference under the run's policy, whatever the policy the model was saved with.
    policy = choose_policy(settings.precision)

    with timer("phase_one_tiles"):
        apply_model_policy(model, policy)
        cnn_classes = classify_tiles(model, pixels, settings.tile_size, valid=valid,
                                     progress=settings.progress)
        cnn_classes[~valid] = 0
    present = [c for c in range(1, scheme.n_classes + 1) if np.any(cnn_classes == c)]
    if not present:
        raise DataError(f"phase one labelled no tile of {image_path.name} (nodata everywhere?).")

    with timer("sampling"):
        # Window centres, not windows: each training batch is gathered from ``pixels``.
        samples = sample_indices(cnn_classes, k, settings.samples_per_class, settings.seed,
                                 valid=valid)
    carry = carried if getattr(settings, "patch_model", "fresh") == "carried" else None
    batch = (default_batch_size(k) if getattr(settings, "batch_rule", "updates") == "published"
             else None)
    with timer("phase_two_training"):
        patch_model, history = train_patch_model_on_image(
            pixels, samples, scheme.n_classes, patience=settings.patience, seed=settings.seed,
            max_epochs=settings.max_epochs,
            verbose=keras_verbosity() if settings.progress else 0, batch_size=batch,
            model=None if carry is None else carry.get("model"))
    if carry is not None:
        carry["model"] = patch_model
    del samples
    timer.epochs["phase_two_training"] = len(history.epoch)
    with timer("inference"):
        csc_classes = predict_image(_inference_model(patch_model, policy, carry), pixels, k,
                                    whole_image=settings.whole_image,
                                    memory_budget_mb=settings.memory_budget_mb,
                                    progress=settings.progress)
    with timer("mode_filter"):
        csc_classes[unclassifiable] = 0
        csc_classes = mode_filter(csc_classes, settings.smallest_element)
        csc_classes[unclassifiable] = 0

    # ``scored`` is the final classification without the front line (what is validated);
    # ``csc_classes`` carries the front as scheme.front_value (what is written and drawn).
    front = None
    front_error = ""
    sea_contact = float("nan")
    scored = csc_classes
    with timer("front"):
        if scheme.has_front:
            try:
                # A whole granule: the front is sought where the glacier meets the sea.
                result = detect_front_in_region(
                    csc_classes, scheme, FrontParams(gac_glacier=settings.gac_glacier,
                                                     **settings.front_params),
                    nodata=unclassifiable)
                front, scored = result.front, result.classes_refined
                sea_contact = result.sea_contact
                csc_classes = result.classes_out
                front_error = result.note
                if result.note:
                    log.warning("%s: calving front kept with a note: %s", stem, result.note)
            except FrontNotFoundError as exc:
                front_error = str(exc)
                log.warning("%s: no calving front: %s", stem, exc)

    # No-data stays 0 whatever the front step painted (DESIGN 7).
    csc_classes = np.where(unclassifiable, 0, csc_classes).astype(np.uint8)
    scored = np.where(unclassifiable, 0, scored).astype(np.uint8)

    row = {"Image": stem, "CNN_F1": np.nan, "CSC_F1": np.nan, "Front_found": front is not None,
           "Front_median_m": np.nan, "Front_mean_m": np.nan, "Front_MDE_m": np.nan,
           "Manual_front": bool(manual_front is not None and manual_front.any()), "Error": "",
           "CNN_classes": " ".join(str(c) for c in present)}
    with timer("outputs"):
        if labels is not None and np.any(labels > 0):
            cnn_report = score_classification(labels, cnn_classes, scheme)
            csc_report = score_classification(labels, scored, scheme)
            write_csv(paths["cnn_report"], cnn_report)
            write_csv(paths["csc_report"], csc_report)
            truth_px, cnn_px, csc_px = scored_pixels(labels, cnn_classes, scored)
            write_ovpdat(paths["scored"], truth_px, cnn_px, csc_px)
            row["CNN_F1"] = weighted_f1(cnn_report)
            row["CSC_F1"] = weighted_f1(csc_report)
        median = None
        if front is not None and manual_front is not None and manual_front.any():
            if pixel_size is None:
                log.warning("%s is not georeferenced and no PixelSize was given: front "
                            "distances are in pixels.", stem)
            distances, predicted_distances = front_distances_both_ways(
                manual_front, front, pixel_size or 1.0)
            write_npy(paths["distances_predicted"], predicted_distances)
            write_npy(paths["distances"], distances)
            stats = distance_stats(distances)
            median = stats["median"]
            row["Front_median_m"], row["Front_mean_m"] = stats["median"], stats["mean"]
            row["Front_MDE_m"] = mean_distance_error(distances, predicted_distances)
        raster_io.write_class_raster(paths["classes"], csc_classes, scheme, reference=image)
        if front is not None and image.is_georeferenced:
            params = FrontParams()
            write_front_gpkg(
                paths["front"], front, image.crs, image.transform,
                attributes={"image": stem, **front_attributes(image_path, metadata, settings),
                            "Front_touches_nodata": front_touches_nodata(front, ~valid,
                                                                         params.frame + 3),
                            "Sea_contact": sea_contact, "Several_crossings": None,
                            "Cloud_share": nodata_near_front(front, ~valid,
                                                             params.ocean_dilation)},
                out_crs=check_front_crs(settings.front_crs), geojson_path=paths["front_geojson"])
        csc_figure(paths["figure"], image.data, labels, manual_front, cnn_classes, csc_classes,
                   scheme, image_name=stem, cnn_f1=row["CNN_F1"], csc_f1=row["CSC_F1"],
                   front_median_m=median, dpi=settings.dpi, valid=valid)
    row["Front_note"] = front_error
    row["stages"] = dict(timer.seconds)
    log.info("%s: seconds per stage: %s (run.json, stage_seconds)", stem,
             ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in timer.seconds.items()))
    if not scheme.has_front:
        front_text = "no front step (the scheme has no ocean and glacier classes)"
    elif median is not None:
        front_text = f"front median error {median:.1f} m"
    else:
        front_text = "front found" if front is not None else "front not found"
    log.info("%s: CNN F1 %s, CSC F1 %s, %s", stem, _fmt(row["CNN_F1"]), _fmt(row["CSC_F1"]),
             front_text)
    return row


def _inference_model(patch_model, policy: str, carry):
    """The trained patch model under the run's precision policy (trained in float32).

    A carried model is trained further on the next image, so it keeps float32 and a copy
    with the same weights predicts under the policy.
    """
    if carry is not None and policy != "float32":
        import keras

        copy = keras.models.clone_model(patch_model)
        copy.set_weights(patch_model.get_weights())
        patch_model = copy
    return apply_model_policy(patch_model, policy)


def front_attributes(image_path: Path, metadata, settings) -> dict:
    """The terminus-schema fields of an image's front but the centroid (DESIGN 8; the
    field list is in :mod:`seeice.io.front_schema`)."""
    fields = label_fields(settings.glacier_id, settings.glacier_name or settings.glacier,
                          settings.author,
                          method_text(settings.patch_size, getattr(metadata, "base", None)))
    fields.update(scene_fields(read_scene_info(image_path), image_path.name))
    return fields


def _fmt(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.3f}"

"""Phase-one training of the tile CNN and its fine-tuning (DESIGN section 4).

:func:`train_tile_cnn` builds a tile CNN and trains it on a compiled tensor (or for a fixed
number of epochs in tuning mode), writes the classification report of the validation split and
saves the model with its metadata. :func:`fine_tune` continues training a saved model on new
data ("joint" training).

Both follow DESIGN section 9 by default: validation tiles come from other source windows than
the training tiles (where the tensor has a group file), the loss is weighted by inverse class
frequency (or batches are class-balanced), every epoch is scored per class, and the epoch with
the best macro F1 (or lowest recall) is kept. Classes whose validation recall stays under 0.6
are named in a warning and recorded in the model's metadata. ``class_balance="none"`` and
``select="accuracy"`` give the published training.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras
import pandas as pd

from seeice.checks import positive_int, positive_number
from seeice.classes import ClassScheme, load_scheme, scheme_from_dict
from seeice.config.inputs import save_run_config
from seeice.defaults import (
    BANDS,
    BATCH_SIZE,
    CLASS_BALANCE,
    FINE_TUNE_BATCH_SIZE,
    FINE_TUNE_LEARNING_RATE,
    FINE_TUNE_MAX_EPOCHS,
    FINE_TUNE_TARGET_ACCURACY,
    MAX_EPOCHS,
    N_CLASSES,
    PHASE_ONE_PATIENCE,
    SEED,
    SELECT,
    SPLIT,
    TARGET_ACCURACY,
    TUNING_EPOCHS,
)
from seeice.errors import ConfigError, DataError, ModelError
from seeice.io.model_metadata import ModelMetadata, default_scheme
from seeice.io.model_store import check_model_name, load_model, save_model
from seeice.phase1 import precision as _precision
from seeice.phase1.balance import check_class_balance
from seeice.phase1.fit import fit_and_report, outcome, weak_record
from seeice.phase1.history import (
    check_selection,
)
from seeice.phase1.models import (
    build_tile_model,
    check_base,
    compile_tile_model,
    default_learning_rate,
    model_policy,
    rebuild_under_policy,
)
from seeice.phase1.tile_data import (
    SPLITS,
    load_tile_data,
)

log = logging.getLogger(__name__)


@dataclass
class TrainingResult:
    """Outcome of :func:`train_tile_cnn` or :func:`fine_tune`.

    Attributes
    ----------
    model_path : pathlib.Path or None
        The saved ``.keras`` model (None in tuning mode).
    metadata : ModelMetadata
        Metadata of the model (saved beside it unless tuning).
    history : pandas.DataFrame
        Per-epoch ``epoch, loss, accuracy, val_loss, val_accuracy, val_macro_f1,
        val_min_recall`` and ``val_recall_<k>`` for every class with validation tiles.
    report : pandas.DataFrame
        Classification report on the validation tiles (of the kept epoch).
    epochs_run : int
    target_reached : bool
    val_accuracy : float
        Validation accuracy of the kept epoch (the last one unless the best was restored).
    precision : str
        Precision policy trained under.
    history_path, report_path, figure_path, run_path : pathlib.Path
    seconds : float
        Wall time of the training (fit) only.
    """

    model_path: Path | None
    metadata: ModelMetadata
    history: pd.DataFrame
    report: pd.DataFrame
    epochs_run: int
    target_reached: bool
    val_accuracy: float
    precision: str
    history_path: Path
    report_path: Path
    figure_path: Path | None
    run_path: Path
    seconds: float
    best_epoch: int | None = None
    """1-based epoch whose weights were kept (None: the last, as published)."""


def _resolve_scheme(scheme, n_classes: int, sidecar: dict) -> ClassScheme:
    if scheme is None and isinstance(sidecar.get("scheme"), dict):
        resolved = scheme_from_dict(sidecar["scheme"], source="tensor sidecar")
        if resolved.n_classes == n_classes:
            return resolved
    if scheme is None or (isinstance(scheme, str) and scheme.strip() in ("", "auto")):
        return default_scheme(n_classes)
    resolved = scheme if isinstance(scheme, ClassScheme) else load_scheme(scheme)
    if resolved.n_classes != n_classes:
        raise ConfigError(f"class scheme {resolved.name!r} has {resolved.n_classes} classes but "
                          f"{n_classes} were asked for (--classes {n_classes}). Give a scheme "
                          f"of {n_classes} classes or --classes {resolved.n_classes}.")
    return resolved


def train_tile_cnn(tensor_path: str | os.PathLike, labels_path: str | os.PathLike,
                   out_dir: str | os.PathLike, name: str, base: str = "vgg16", bands: int = BANDS,
                   n_classes: int = N_CLASSES, batch_size: int = BATCH_SIZE,
                   epochs: int = MAX_EPOCHS, target_accuracy: float = TARGET_ACCURACY,
                   tuning: bool = False, tuning_epochs: int = TUNING_EPOCHS,
                   precision: str = "auto", seed: int = SEED, learning_rate: float | None = None,
                   scheme: str | ClassScheme | None = None, norm_factor: float | None = None,
                   class_balance: str = CLASS_BALANCE, select: str = SELECT,
                   patience: int = PHASE_ONE_PATIENCE, tile_crop: int = 0,
                   split: str = SPLIT,
                   run_config: dict | None = None, script: str | None = None) -> TrainingResult:
    """Train the phase-one tile CNN on a compiled tile tensor.

    Parameters
    ----------
    tensor_path : path-like
        Tile tensor ``.npy``, shape (n, tile, tile, bands); opened memory-mapped. The tile size
        is read from it; its sidecar ``<name>_<mode>.json`` gives the normalisation factor.
    labels_path : path-like
        Labels ``.npy``, shape (n,), class numbers 1..n_classes.
    out_dir : path-like
        Output folder (created when missing).
    name : str
        Model name: outputs are ``<name>.keras``, ``<name>.meta.json``, ``<name>_history.csv``,
        ``<name>_history.png``, ``<name>_report.csv`` and ``run.json``.
    base : {"vgg16", "densenet121", "resnet50", "compact"}
    bands : int
        Bands to train on: the tensor's first ``bands`` (3 from a 4-band tensor: RGB, the
        published ``NIR = False``); more than the tensor has is an error.
    n_classes : int
        Number of classes (labels 1..n_classes; n_classes + 1 outputs).
    batch_size : int
        Tiles per batch (50).
    epochs : int
        Most epochs (120).
    target_accuracy : float
        Stop at the end of the first epoch whose validation ``select`` metric reaches this
        (0.985).
    tuning : bool
        Train ``tuning_epochs`` epochs without the target stop; save the history and figure
        but not the model.
    tuning_epochs : int
        Epochs in tuning mode (50).
    precision : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        Precision policy (see :mod:`seeice.phase1.precision`).
    seed : int
        Seeds the split, the shuffling and Keras (weights, dropout).
    learning_rate : float, optional
        Adam learning rate; default 1e-4 for VGG16, 1e-5 for DenseNet121 / ResNet50.
    scheme : str or ClassScheme, optional
        Class scheme for class names in the report and metadata ("glacier", "fluvial", a YAML
        path); default: the tensor sidecar's, else the glacier scheme for 7 classes.
    norm_factor : float, optional
        Override of the factor raw pixels are divided by to give the tensor's values.
    class_balance : {"weights", "batches", "none"}
        Loss weighted by inverse class frequency (default), class-balanced batches, or none
        (published); see :mod:`seeice.phase1.balance`.
    select : {"macro_f1", "min_recall", "accuracy"}
        Metric that stops training at ``target_accuracy`` and, except for ``accuracy`` (the
        published rule), chooses the epoch whose weights are kept (default macro_f1).
    patience : int
        With ``macro_f1`` or ``min_recall``: stop after this many epochs without improvement.
    tile_crop : int
        Train on the top-left ``tile_crop`` px of every tile (published ``Tilesize``); 0: whole.
    split : {"group", "random"}
        Validation split by source window (needs the group file) or at random (published).
    run_config, script : optional
        The calling script's resolved inputs and name, recorded in ``run.json``.

    The validation split is by source window when the tensor has a group file
    (``<name>_G_<mode>.npy``), else random with a warning. Every class whose validation
    recall is under 0.6 (or without training tiles) is named in a warning, in ``run.json`` and
    in the model's metadata (``weak_classes``, ``validation_recall``), which ``CSC.py``
    repeats when it loads the model.

    Returns
    -------
    TrainingResult

    Raises
    ------
    InputFileError, DataError, ConfigError, ModelError
        Missing files; tensor and labels that do not fit; unknown options; tiles too small for
        the base.
    """
    started = time.perf_counter()
    base = check_base(base)
    bands = None if bands is None else positive_int(bands, "bands")
    n_classes = positive_int(n_classes, "n_classes")
    batch_size = positive_int(batch_size, "batch_size")
    epochs = positive_int(tuning_epochs if tuning else epochs,
                                 "tuning_epochs" if tuning else "epochs")
    if not tuning and not 0 < float(target_accuracy) <= 1:
        raise ConfigError(f"target accuracy must be in (0, 1], got {target_accuracy!r}.")
    name = check_model_name(name)
    check_class_balance(class_balance)
    check_selection(select)
    patience = positive_int(patience, "patience")
    check_split(split)
    policy, reason = _precision.explain_policy(precision)
    data = load_tile_data(tensor_path, labels_path, bands=bands, n_classes=n_classes,
                          norm_factor=norm_factor, tile_crop=tile_crop)
    class_scheme = _resolve_scheme(scheme, n_classes, data.sidecar)
    if learning_rate is None:
        learning_rate = default_learning_rate(base)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    log.info("tensor %s: %d tiles of %dx%d px, %d bands, %s (pixels / %g)", data.tensor_path.name,
             data.n, data.tile_size, data.tile_size, data.bands, data.tensor.dtype,
             data.norm_factor)
    log.info("precision policy %s (%s)", policy, reason)

    keras.utils.set_random_seed(seed)
    previous_policy = _precision.apply_policy(policy)
    try:
        model = build_tile_model(base, data.tile_size, data.bands, n_classes)
        compile_tile_model(model, learning_rate)
        log.info("%s tile model: %d parameters, learning rate %g%s", base, model.count_params(),
                 learning_rate, " (tuning mode)" if tuning else "")
        fit = fit_and_report(model, data, out_dir=out_dir, name=name,
                              class_names=list(class_scheme.names), batch_size=batch_size,
                              epochs=epochs, target_accuracy=None if tuning else target_accuracy,
                              seed=seed, tuning=tuning, class_balance=class_balance,
                              select=select, patience=patience, split=split)
        training_info = {
            "tensor": str(data.tensor_path), "labels": str(data.labels_path),
            "tensor_mode": data.sidecar.get("mode"), "n_tiles": data.n,
            "source_dtype": data.sidecar.get("source_dtype"),
            "tile_crop": int(tile_crop or 0),
            "batch_size": batch_size, "max_epochs": epochs,
            "target_accuracy": None if tuning else float(target_accuracy),
            "learning_rate": float(learning_rate), "seed": seed, **outcome(fit),
        }
        metadata = ModelMetadata(base=base, tile_size=data.tile_size, bands=data.bands,
                                 n_classes=n_classes, class_names=list(class_scheme.names),
                                 scheme=class_scheme.to_dict(), norm_factor=data.norm_factor,
                                 precision=policy, weak_classes=fit["weak_classes"],
                                 validation_recall=fit["validation_recall"],
                                 training=training_info)
        model_path = None
        if tuning:
            log.info("tuning mode: the model is not saved; see %s and %s",
                     fit["history_path"].name, fit["figure_path"].name)
        else:
            model_path = save_model(model, out_dir, name, metadata)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)

    config = run_config if run_config is not None else {
        "tensor_path": str(tensor_path), "labels_path": str(labels_path), "out_dir": str(out_dir),
        "name": name, "base": base, "bands": bands, "n_classes": n_classes,
        "batch_size": batch_size, "epochs": epochs, "target_accuracy": target_accuracy,
        "tuning": tuning, "tuning_epochs": tuning_epochs, "precision": precision, "seed": seed,
        "learning_rate": learning_rate, "scheme": class_scheme.name, "norm_factor": norm_factor,
        "class_balance": class_balance, "select": select, "patience": patience,
        "tile_crop": tile_crop, "split": split}
    run_path = save_run_config(out_dir, config, script=script or "seeice.phase1.training.train_tile_cnn",
                               extra={"precision_policy": policy, "precision_reason": reason,
                                      "model_path": str(model_path) if model_path else None,
                                      "model": metadata.to_dict(), **weak_record(fit),
                                      "seconds": round(time.perf_counter() - started, 2)})
    return TrainingResult(model_path=model_path, metadata=metadata, history=fit["history"],
                          report=fit["report"], epochs_run=fit["epochs_run"],
                          target_reached=fit["target_reached"], val_accuracy=fit["val_accuracy"],
                          precision=policy, history_path=fit["history_path"],
                          report_path=fit["report_path"], figure_path=fit["figure_path"],
                          run_path=run_path, seconds=fit["seconds"], best_epoch=fit["best_epoch"])


def fine_tune(model_path: str | os.PathLike, tensor_path: str | os.PathLike,
              labels_path: str | os.PathLike, out_dir: str | os.PathLike, name: str,
              learning_rate: float = FINE_TUNE_LEARNING_RATE,
              batch_size: int = FINE_TUNE_BATCH_SIZE,
              target_accuracy: float = FINE_TUNE_TARGET_ACCURACY,
              epochs: int = FINE_TUNE_MAX_EPOCHS, seed: int = SEED,
              class_balance: str = CLASS_BALANCE, select: str = SELECT,
              patience: int = PHASE_ONE_PATIENCE, precision: str = "auto",
              split: str = SPLIT, run_config: dict | None = None,
              script: str | None = None) -> TrainingResult:
    """Continue training a saved tile model on new data ("joint" fine-tuning).

    Parameters
    ----------
    model_path : path-like
        A ``.keras`` model with metadata, or a legacy ``.h5`` model.
    tensor_path, labels_path : path-like
        The new tile tensor and labels (as in :func:`train_tile_cnn`); tile size and bands must
        match the model's input.
    out_dir : path-like
        Output folder.
    name : str
        Name of the fine-tuned model (outputs as in :func:`train_tile_cnn`).
    learning_rate : float
        Adam learning rate (1e-5, amsgrad).
    batch_size : int
        Tiles per batch (25).
    target_accuracy : float
        Stop at the first epoch whose validation ``select`` metric reaches this (0.995).
    epochs : int
        Most epochs (120).
    seed : int
        Seeds the split, the shuffling and Keras.
    class_balance, select, patience, split
        As in :func:`train_tile_cnn`.
    precision : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        Precision of the fine-tuning (see :mod:`seeice.phase1.precision`). A model saved in
        another precision is built again in this one with its weights; a legacy model that
        cannot be rebuilt keeps its own (with a warning under ``auto``, an error otherwise).

    Returns
    -------
    TrainingResult

    Raises
    ------
    ModelError
        The model cannot be loaded, or its tile size or bands differ from the tensor's, or it
        cannot be rebuilt in the precision asked for.
    InputFileError, DataError, ConfigError
        As in :func:`train_tile_cnn`.
    """
    started = time.perf_counter()
    batch_size = positive_int(batch_size, "batch_size")
    epochs = positive_int(epochs, "epochs")
    if not 0 < float(target_accuracy) <= 1:
        raise ConfigError(f"target accuracy must be in (0, 1], got {target_accuracy!r}.")
    positive_number(learning_rate, "learning rate")
    name = check_model_name(name)
    check_class_balance(class_balance)
    check_selection(select)
    patience = positive_int(patience, "patience")
    check_split(split)
    policy, reason = _precision.explain_policy(precision)
    model, parent = load_model(model_path)
    tensor_path = Path(tensor_path)
    data = load_tile_data(tensor_path, labels_path, bands=None, n_classes=parent.n_classes)
    if data.tile_size != parent.tile_size or data.bands != parent.bands:
        raise ModelError(f"model {Path(model_path).name} takes {parent.tile_size}x"
                         f"{parent.tile_size} px tiles of {parent.bands} bands but tensor "
                         f"{tensor_path.name} holds {data.tile_size}x{data.tile_size} px tiles "
                         f"of {data.bands} bands. Compile a tensor with the model's tile size "
                         "and bands.")
    norm = data.norm_factor
    if not math.isclose(norm, parent.norm_factor, rel_tol=1e-6):
        if parent.inferred:
            log.warning("model %s has no recorded normalisation factor; using the tensor's (%g).",
                        Path(model_path).name, norm)
        else:
            raise DataError(f"model {Path(model_path).name} was trained on pixels / "
                            f"{parent.norm_factor:g} but tensor {tensor_path.name} holds pixels / "
                            f"{norm:g}. Compile the tensor in the mode the model was trained "
                            "with.")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(seed)
    previous_policy = _precision.apply_policy(policy)
    try:
        model, policy = _in_precision(model, parent, policy, reason, explicit=precision != "auto")
        compile_tile_model(model, learning_rate)
        log.info("fine-tuning %s (%s base) on %d tiles, learning rate %g, precision %s",
                 Path(model_path).name, parent.base, data.n, learning_rate, policy)
        fit = fit_and_report(model, data, out_dir=out_dir, name=name,
                              class_names=parent.class_names, batch_size=batch_size,
                              epochs=epochs, target_accuracy=target_accuracy, seed=seed,
                              tuning=False, class_balance=class_balance, select=select,
                              patience=patience, split=split)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    training_info = {
        "fine_tuned_from": str(model_path), "parent_training": parent.training,
        "tensor": str(data.tensor_path), "labels": str(data.labels_path),
        "tensor_mode": data.sidecar.get("mode"), "n_tiles": data.n, "batch_size": batch_size,
        "source_dtype": data.sidecar.get("source_dtype")
        or (parent.training or {}).get("source_dtype"), "max_epochs": epochs, "target_accuracy": float(target_accuracy),
        "learning_rate": float(learning_rate), "seed": seed, **outcome(fit),
    }
    metadata = dataclasses.replace(parent, norm_factor=norm, training=training_info, created="",
                                   precision=policy,
                                   weak_classes=fit["weak_classes"],
                                   validation_recall=fit["validation_recall"], inferred=False)
    model_path_out = save_model(model, out_dir, name, metadata)
    config = run_config if run_config is not None else {
        "model_path": str(model_path), "tensor_path": str(tensor_path),
        "labels_path": str(labels_path), "out_dir": str(out_dir), "name": name,
        "learning_rate": learning_rate, "batch_size": batch_size,
        "target_accuracy": target_accuracy, "epochs": epochs, "seed": seed,
        "class_balance": class_balance, "select": select, "patience": patience,
        "precision": precision, "split": split}
    run_path = save_run_config(out_dir, config, script=script or "seeice.phase1.training.fine_tune",
                               extra={"model_path": str(model_path_out),
                                      "model": metadata.to_dict(), **weak_record(fit),
                                      "seconds": round(time.perf_counter() - started, 2)})
    return TrainingResult(model_path=model_path_out, metadata=metadata, history=fit["history"],
                          report=fit["report"], epochs_run=fit["epochs_run"],
                          target_reached=fit["target_reached"], val_accuracy=fit["val_accuracy"],
                          precision=policy, history_path=fit["history_path"],
                          report_path=fit["report_path"], figure_path=fit["figure_path"],
                          run_path=run_path, seconds=fit["seconds"], best_epoch=fit["best_epoch"])


def check_split(split: str) -> str:
    """Return ``split`` when it is one of :data:`seeice.phase1.tile_data.SPLITS`."""
    if split not in SPLITS:
        raise ConfigError(f"unknown validation split {split!r}; valid choices are "
                          f"{', '.join(SPLITS)} (random is the published split).")
    return split


def _in_precision(model, parent: ModelMetadata, policy: str, reason: str, explicit: bool):
    """The loaded model in ``policy`` (rebuilt when it was saved in another), and the policy."""
    saved = model_policy(model)
    if saved == policy:
        log.info("precision policy %s (%s)", policy, reason)
        return model, policy
    try:
        rebuilt = rebuild_under_policy(model, parent.base, parent.tile_size, parent.bands,
                                       parent.n_classes)
    except ModelError as exc:
        if explicit:
            raise ModelError(f"{exc} Fine-tune it in its own precision: --precision {saved}.") \
                from None
        log.warning("%s It is fine-tuned in its own precision, %s.", exc, saved)
        keras.mixed_precision.set_global_policy(saved)
        return model, saved
    log.info("precision policy %s (%s); the model, saved in %s, is rebuilt in it", policy,
             reason, saved)
    return rebuilt, policy

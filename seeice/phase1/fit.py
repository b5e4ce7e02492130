"""One phase-one fit: split by source window, balance the classes, train, keep the selected
epoch, report on the validation split and name the weak classes (DESIGN 9).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np

from seeice.config.runner import keras_verbosity
from seeice.defaults import (
    CLASS_BALANCE,
    PHASE_ONE_PATIENCE,
    SELECT,
    SPLIT,
)
from seeice.io.atomic import write_csv
from seeice.metrics.reports import classification_report_frame, format_report
from seeice.phase1.balance import inverse_frequency_weights
from seeice.phase1.class_counts import report_class_counts, report_weak_classes
from seeice.phase1.history import (
    class_scores,
    history_frame,
    plot_history,
    selection_callbacks,
)
from seeice.phase1.tile_data import (
    TileData,
    TileDataset,
    split_for_training,
)

log = logging.getLogger(__name__)


def fit_and_report(model, data: TileData, *, out_dir: Path, name: str, class_names,
                    batch_size: int, epochs: int, target_accuracy: float | None, seed: int,
                    tuning: bool, class_balance: str = CLASS_BALANCE, select: str = SELECT,
                    patience: int = PHASE_ONE_PATIENCE, split: str = SPLIT) -> dict:
    """Split, fit with streaming batches, keep the selected epoch, report on the validation split.

    Parameters
    ----------
    model : keras.Model
        Compiled tile model, output n_classes + 1 wide.
    data : TileData
        Tensor (n, tile, tile, bands), labels (n,) and, where known, source windows (n,).
    class_names : sequence of str
        Names of classes 1..n_classes.
    target_accuracy : float or None
        Target of the ``select`` metric; None (tuning) trains every epoch, keeps the last.
    class_balance, select, patience, split
        As in :func:`train_tile_cnn`.

    Returns
    -------
    dict
        History, report, outcome, paths, the split and the weak-class record.
    """
    n_classes = len(class_names)
    train_idx, val_idx, split = split_for_training(data, seed, split)
    names = {k + 1: n for k, n in enumerate(class_names)}
    for part, idx, warn in (("training split", train_idx, True),
                            ("validation split", val_idx, False)):
        counts = np.bincount(data.labels[idx], minlength=n_classes + 1)[1:]
        report_class_counts({k + 1: int(c) for k, c in enumerate(counts)},
                            f"{part} tiles", list(names.values()), warn=warn)
    weights = None
    if class_balance == "weights":
        weights = inverse_frequency_weights(data.labels[train_idx], n_classes + 1)
        log.info("loss weights by inverse class frequency: %s", ", ".join(
            f"{names[k]} {weights[k]:.2f}" for k in range(1, n_classes + 1) if weights[k]))
    elif class_balance == "batches":
        log.info("class-balanced batches: every class drawn equally often (with replacement "
                 "within a class), %d tiles an epoch", len(train_idx))
    train_ds = TileDataset(data.tensor, data.labels, train_idx, batch_size, n_classes + 1,
                           shuffle=True, seed=seed, class_weights=weights,
                           balanced=class_balance == "batches")
    val_ds = TileDataset(data.tensor, data.labels, val_idx, batch_size, n_classes + 1)
    callbacks, stopper = selection_callbacks(val_ds, select, None if tuning else target_accuracy,
                                             patience)
    log.info("training on %d tiles, validating on %d (batch %d, at most %d epochs%s)",
             len(train_idx), len(val_idx), batch_size, epochs,
             "" if stopper is None else f", stop at validation {select} {target_accuracy}"
             + ("" if select == "accuracy" else f" or after {patience} epochs without "
                "improvement, keeping the best epoch"))
    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks,
                        verbose=keras_verbosity(), shuffle=False)
    seconds = time.perf_counter() - start
    frame = history_frame(history.history)
    epochs_run = len(frame)
    best_epoch = getattr(stopper, "best_epoch", None)
    kept = best_epoch if best_epoch is not None else epochs_run
    val_accuracy = (float(frame["val_accuracy"].iloc[kept - 1]) if "val_accuracy" in frame
                    else float("nan"))
    reached = stopper is not None and stopper.stopped_epoch is not None
    if stopper is not None and not reached:
        if select == "accuracy":
            log.warning("validation accuracy %.4f after %d epochs did not reach the target "
                        "%.4f.", val_accuracy, epochs_run, target_accuracy)
        else:
            log.warning("validation %s did not reach the target %.4f in %d epochs; keeping "
                        "epoch %s (validation %s %.4f).", select, target_accuracy, epochs_run,
                        kept, select, getattr(stopper, "best_value", float("nan")))
    log.info("trained %d epochs in %.1f s; kept epoch %d, validation accuracy %.4f", epochs_run,
             seconds, kept, val_accuracy)

    probabilities = model.predict(val_ds, verbose=0)
    predicted = np.argmax(probabilities, axis=1)
    report = classification_report_frame(val_ds.truth(), predicted, class_names,
                                         labels=list(range(1, n_classes + 1)))
    log.info("%s", format_report(report, f"Classification report for {name} "
                                         f"(validation tiles: {len(val_idx)})"))
    scores = class_scores(val_ds.truth(), predicted)
    weak = report_weak_classes(scores["recall"], set(np.unique(data.labels[train_idx]).tolist()),
                               list(class_names), name)
    history_path = write_csv(out_dir / f"{name}_history.csv", frame)
    report_path = write_csv(out_dir / f"{name}_report.csv", report)
    figure_path = plot_history(frame, out_dir / f"{name}_history.png", title=name)
    return dict(history=frame, report=report, epochs_run=epochs_run, target_reached=reached,
                split=split, class_balance=class_balance, select=select, best_epoch=best_epoch,
                weak_classes=weak,
                validation_recall={k: round(v, 4) for k, v in scores["recall"].items()},
                val_macro_f1=round(scores["macro_f1"], 4),
                val_accuracy=val_accuracy, seconds=seconds, history_path=history_path,
                report_path=report_path, figure_path=figure_path,
                n_train=len(train_idx), n_validation=len(val_idx))


def outcome(fit: dict) -> dict:
    """The training record of a fit (the weak classes and recalls go in their own fields)."""
    return {"epochs_run": fit["epochs_run"], "target_reached": fit["target_reached"],
            "val_accuracy": round(fit["val_accuracy"], 6), "fit_seconds": round(fit["seconds"], 2),
            "n_train": fit["n_train"], "n_validation": fit["n_validation"],
            "validation_split": fit["split"], "class_balance": fit["class_balance"],
            "select": fit["select"], "best_epoch": fit["best_epoch"],
            "val_macro_f1": fit["val_macro_f1"]}


def weak_record(fit: dict) -> dict:
    """``weak_classes`` and ``validation_recall`` for run.json (JSON keys are text)."""
    return {"weak_classes": fit["weak_classes"],
            "validation_recall": {str(k): v for k, v in fit["validation_recall"].items()}}

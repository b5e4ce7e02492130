"""Training history: per-class scores of every epoch, the stop rules, the best epoch, the history
table and its two-panel figure."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from seeice.checks import one_of
from seeice.io.atomic import atomic_path

log = logging.getLogger(__name__)


class TargetAccuracyStop(keras.callbacks.Callback):
    """Stop training at the end of the first epoch whose ``monitor`` reaches ``target``.

    Attributes
    ----------
    stopped_epoch : int or None
        1-based number of the epoch that reached the target, None while not reached.
    """

    def __init__(self, target: float, monitor: str = "val_accuracy"):
        super().__init__()
        self.target = float(target)
        self.monitor = monitor
        self.stopped_epoch: int | None = None
        self._warned = False

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            if not self._warned:
                log.warning("%s not in the training logs; the accuracy target cannot stop "
                            "training.", self.monitor)
                self._warned = True
            return
        if float(value) >= self.target:
            self.stopped_epoch = epoch + 1
            log.info("epoch %d: %s %.4f reached the target %.4f; stopping.", epoch + 1,
                     self.monitor, float(value), self.target)
            self.model.stop_training = True


def history_frame(history: dict) -> pd.DataFrame:
    """Keras history (metric -> list per epoch) as a table with a 1-based ``epoch`` column."""
    frame = pd.DataFrame({k: [float(v) for v in vals] for k, vals in history.items()})
    frame.insert(0, "epoch", np.arange(1, len(frame) + 1))
    return frame


def plot_history(frame: pd.DataFrame, path: str | os.PathLike, title: str = "") -> Path:
    """Save a two-panel figure: training and validation loss; training and validation accuracy
    (with the validation macro F1 where the history has it)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(12, 5))
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    epochs = frame["epoch"]
    for ax, key, label in ((ax_loss, "loss", "Loss"), (ax_acc, "accuracy", "Accuracy")):
        if key in frame:
            ax.plot(epochs, frame[key], "o-", label=f"Training {label.lower()}", markersize=4)
        if f"val_{key}" in frame:
            ax.plot(epochs, frame[f"val_{key}"], "s-", label=f"Validation {label.lower()}",
                    markersize=4)
        if key == "accuracy" and "val_macro_f1" in frame:
            ax.plot(epochs, frame["val_macro_f1"], "^-", label="Validation macro F1",
                    markersize=4)
        ax.set_xlabel("Epoch")
        ax.set_ylabel(label)
        ax.set_title(f"Training and validation {label.lower()}")
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100, format="png")
    return Path(path)


#: What chooses and stops on the best epoch: ``accuracy`` is the published rule.
SELECTIONS = ("macro_f1", "min_recall", "accuracy")


def check_selection(name: str) -> str:
    """``name`` if it is a known selection metric, else a :class:`ConfigError` naming them."""
    return one_of(name, SELECTIONS, "selection",
                  "accuracy, without restoring the best epoch, is the published rule.")


def class_scores(truth: np.ndarray, predicted: np.ndarray) -> dict:
    """Accuracy, per-class recall, macro F1 and the lowest recall over the classes in ``truth``.

    Parameters
    ----------
    truth, predicted : numpy.ndarray
        Class numbers, shape (n,).

    Returns
    -------
    dict
        ``accuracy``, ``macro_f1``, ``min_recall`` (floats) and ``recall`` (class -> float).
    """
    truth, predicted = np.asarray(truth), np.asarray(predicted)
    recall, f1 = {}, []
    for k in np.unique(truth):
        hit = np.count_nonzero((truth == k) & (predicted == k))
        r = hit / np.count_nonzero(truth == k)
        n_pred = np.count_nonzero(predicted == k)
        p = hit / n_pred if n_pred else 0.0
        recall[int(k)] = float(r)
        f1.append(0.0 if p + r == 0 else 2 * p * r / (p + r))
    return {"accuracy": float(np.mean(truth == predicted)), "macro_f1": float(np.mean(f1)),
            "min_recall": float(min(recall.values())), "recall": recall}


def recall_column(cls: int) -> str:
    """History column of the validation recall of class ``cls``: ``val_recall_<cls>``."""
    return f"val_recall_{int(cls)}"


class ClassScores(keras.callbacks.Callback):
    """Score every epoch per class on the validation tiles and add the scores to the logs.

    At each epoch's end the validation tiles are predicted and ``val_macro_f1``,
    ``val_min_recall`` and ``val_recall_<k>`` (one per class with validation tiles) are added
    to the logs, so to the history. Nothing else changes: training goes on as it would.

    Parameters
    ----------
    validation : TileDataset
        Unshuffled validation batches (its ``truth()`` gives the labels in serving order,
        shape (n,)).

    Attributes
    ----------
    last_scores : dict or None
        :func:`class_scores` of the latest epoch.
    """

    def __init__(self, validation):
        super().__init__()
        self.validation = validation
        self.last_scores: dict | None = None

    def score_epoch(self, logs: dict) -> dict:
        """Predict the validation tiles, add their scores to ``logs`` and return them."""
        probabilities = self.model.predict(self.validation, verbose=0)
        scores = class_scores(self.validation.truth(), np.argmax(probabilities, axis=1))
        logs["val_macro_f1"] = scores["macro_f1"]
        logs["val_min_recall"] = scores["min_recall"]
        for cls, recall in scores["recall"].items():
            logs[recall_column(cls)] = recall
        self.last_scores = scores
        return scores

    def on_epoch_end(self, epoch, logs=None):
        self.score_epoch(logs if logs is not None else {})


class BestEpoch(ClassScores):
    """Score every epoch per class (as :class:`ClassScores`); keep and restore the best epoch.

    The epoch with the highest ``select`` metric is remembered with its weights, restored when
    training ends. Training stops at the first epoch whose metric reaches ``target``, or after
    ``patience`` epochs without improvement.

    Parameters
    ----------
    validation : TileDataset
        Unshuffled validation batches (its ``truth()`` gives the labels in serving order).
    select : {"macro_f1", "min_recall"}
    target : float
    patience : int

    Attributes
    ----------
    best_epoch : int or None
        1-based.
    best_value : float
    stopped_epoch : int or None
        1-based epoch that reached the target, None otherwise.
    """

    def __init__(self, validation, select: str, target: float, patience: int):
        super().__init__(validation)
        if select not in ("macro_f1", "min_recall"):
            raise ValueError(f"BestEpoch selects on macro_f1 or min_recall, not {select!r} "
                             "(accuracy is the published rule: use TargetAccuracyStop).")
        self.select = select
        self.target = float(target)
        self.patience = int(patience)
        self.best_epoch: int | None = None
        self.best_value = -np.inf
        self.stopped_epoch: int | None = None
        self._best_weights = None
        self._wait = 0

    def on_epoch_end(self, epoch, logs=None):
        scores = self.score_epoch(logs if logs is not None else {})
        value = scores[self.select]
        if value > self.best_value:
            self.best_value, self.best_epoch = value, epoch + 1
            self._best_weights = self.model.get_weights()
            self._wait = 0
        else:
            self._wait += 1
        if value >= self.target:
            self.stopped_epoch = epoch + 1
            log.info("epoch %d: validation %s %.4f reached the target %.4f; stopping.",
                     epoch + 1, self.select, value, self.target)
            self.model.stop_training = True
        elif self._wait >= self.patience:
            log.info("epoch %d: validation %s has not improved for %d epochs; stopping.",
                     epoch + 1, self.select, self.patience)
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self._best_weights is not None:
            self.model.set_weights(self._best_weights)
            log.info("restored the weights of epoch %d (validation %s %.4f).", self.best_epoch,
                     self.select, self.best_value)


def selection_callbacks(validation, select: str, target: float | None,
                        patience: int) -> tuple[list, keras.callbacks.Callback | None]:
    """The callbacks that score, stop and choose the epoch of a phase-one training run.

    Parameters
    ----------
    validation : TileDataset
        Unshuffled validation batches.
    select : {"macro_f1", "min_recall", "accuracy"}
        ``accuracy``: stop at the first epoch whose validation accuracy reaches ``target`` and
        keep the last epoch (published). Otherwise: :class:`BestEpoch` on that metric.
    target : float or None
        None (tuning runs): no stop and no restore, only the per-class scores.
    patience : int
        Epochs without improvement before :class:`BestEpoch` stops.

    Returns
    -------
    callbacks : list
        Every epoch is scored per class in all cases (history columns ``val_macro_f1``,
        ``val_min_recall``, ``val_recall_<k>``).
    stopper : TargetAccuracyStop or BestEpoch or None
        The callback whose ``stopped_epoch`` says whether the target was reached.
    """
    check_selection(select)
    if target is None:
        return [ClassScores(validation)], None
    if select == "accuracy":
        stopper = TargetAccuracyStop(target)
        return [ClassScores(validation), stopper], stopper
    stopper = BestEpoch(validation, select, target, patience)
    return [stopper], stopper

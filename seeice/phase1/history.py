"""Training history: the target-accuracy stop, the history table and its two-panel figure."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import keras
import numpy as np
import pandas as pd

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
    """Save a two-panel figure: training and validation loss, training and validation accuracy."""
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

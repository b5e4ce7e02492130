"""Phase-one training: the tile CNN on a compiled tile tensor, and fine-tuning ("joint").

The tensor (n, tile, tile, bands) is opened memory-mapped and streamed in batches, so tensors
larger than the memory train as well as small ones. Labels (n,) hold class numbers 1..n_classes
and become one-hot rows over ``n_classes + 1`` columns (column 0 unused). An 80/20 seeded random
split gives training and validation tiles; training stops at the end of the first epoch whose
validation accuracy reaches the target, after at most ``epochs`` epochs. Tuning mode trains a
fixed number of epochs and saves the learning curves but no model.

Outputs in ``out_dir`` (``<name>`` is the model name):

* ``<name>.keras`` + ``<name>.meta.json``: the model and its metadata (not in tuning mode);
* ``<name>_history.csv``: loss and accuracy per epoch; ``<name>_history.png``: the curves;
* ``<name>_report.csv``: classification report on the validation tiles;
* ``run.json``: the resolved parameters and the outcome.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from seeice.phase1 import precision as _precision
from seeice.io.atomic import atomic_path, write_csv
from seeice.classes import ClassScheme, load_scheme, scheme_from_dict
from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError, DataError, InputFileError, ModelError
from seeice.io.model_store import ModelMetadata, default_scheme, load_model, save_model
from seeice.phase1.models import build_tile_model, check_base, compile_tile_model, default_learning_rate
from seeice.normalise import SENTINEL2_NORM_FACTOR
from seeice.metrics.reports import classification_report_frame, format_report

log = logging.getLogger(__name__)

VALIDATION_FRACTION = 0.2
DEFAULT_TUNING_EPOCHS = 50
RAW_RANGE = 16384.0  # Sentinel-2 DN range assumed by the uint8 tensor mode (255 * I / 16384)


# --------------------------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------------------------

@dataclass
class TileData:
    """A tile tensor opened for training, with its labels and what is known about it.

    Attributes
    ----------
    tensor : numpy.ndarray
        Memory-mapped tiles, shape (n, tile, tile, bands).
    labels : numpy.ndarray
        Class numbers 1..n_classes, shape (n,), int64.
    tensor_path, labels_path : pathlib.Path
    sidecar : dict
        The tensor's sidecar JSON (empty when absent).
    norm_factor : float
        Raw pixels divided by this give the tensor's values.
    """

    tensor: np.ndarray
    labels: np.ndarray
    tensor_path: Path
    labels_path: Path
    sidecar: dict = field(default_factory=dict)
    norm_factor: float = SENTINEL2_NORM_FACTOR

    @property
    def n(self) -> int:
        return int(self.tensor.shape[0])

    @property
    def tile_size(self) -> int:
        return int(self.tensor.shape[1])

    @property
    def bands(self) -> int:
        return int(self.tensor.shape[3])


def tensor_sidecar_path(tensor_path: str | os.PathLike) -> Path:
    """The sidecar JSON of a tensor ``<name>_T_<mode>.npy``: ``<name>_<mode>.json`` beside it
    (``<stem>.json`` for tensors not named that way)."""
    path = Path(tensor_path)
    head, sep, mode = path.stem.rpartition("_T_")
    if sep and head and mode:
        return path.with_name(f"{head}_{mode}.json")
    return path.with_suffix(".json")


def read_tensor_sidecar(tensor_path: str | os.PathLike) -> dict:
    """The tensor's sidecar JSON as a dict, or ``{}`` when there is none.

    Raises
    ------
    DataError
        The sidecar exists but is not a JSON object.
    """
    path = tensor_sidecar_path(tensor_path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DataError(f"tensor sidecar {path} cannot be read ({exc}). Compile the tensor "
                        "again, or delete the sidecar to fall back on defaults.") from None
    if not isinstance(data, dict):
        raise DataError(f"tensor sidecar {path} is not a JSON object.")
    return data


def infer_norm_factor(dtype, sidecar: dict | None = None, source: str = "tensor") -> float:
    """The number raw pixels are divided by to give the tensor's values.

    Taken from the sidecar's ``input_scale``; without it, guessed from the dtype: float
    tensors 8192 (mode float16, with a warning), int16 tensors 1 (raw values), uint8 tensors
    16384 / 255 (mode uint8, with a warning).
    """
    if sidecar and sidecar.get("input_scale") is not None:
        try:
            factor = float(sidecar["input_scale"])
        except (TypeError, ValueError):
            raise DataError(f"{source}: sidecar input_scale {sidecar['input_scale']!r} is not "
                            "a number.") from None
        if not factor > 0:
            raise DataError(f"{source}: sidecar input_scale must be positive, got {factor}.")
        return factor
    dtype = np.dtype(dtype)
    if dtype == np.int16:
        log.info("%s has no sidecar: int16 tensor taken as raw pixel values (factor 1).", source)
        return 1.0
    if dtype == np.uint8:
        factor = RAW_RANGE / 255.0
        log.warning("%s has no sidecar JSON: assuming uint8 mode (255 * DN / 16384), i.e. "
                    "normalisation factor %.4g.", source, factor)
        return factor
    log.warning("%s has no sidecar JSON: assuming values are raw pixels / %g (mode float16). "
                "Compile tensors with CompileTensor to record the factor.", source,
                SENTINEL2_NORM_FACTOR)
    return SENTINEL2_NORM_FACTOR


def _open_npy(path: Path, what: str, mmap: bool) -> np.ndarray:
    if not path.is_file():
        raise InputFileError(f"{what} {path} not found. Check the path (compile tensors with "
                             "CompileTensor: <name>_T_<mode>.npy and <name>_L_<mode>.npy).")
    try:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise DataError(f"{what} {path} is not a readable .npy array ({exc}).") from None


def load_tile_data(tensor_path: str | os.PathLike, labels_path: str | os.PathLike,
                   bands: int | None = None, n_classes: int = 7,
                   norm_factor: float | None = None) -> TileData:
    """Open a tile tensor (memory-mapped) and its labels, and check that they fit together.

    Parameters
    ----------
    tensor_path : path-like
        ``.npy`` of shape (n, tile, tile, bands).
    labels_path : path-like
        ``.npy`` of shape (n,) with class numbers 1..n_classes (integers, or floats holding
        integers).
    bands : int, optional
        Expected band count; None accepts the tensor's.
    n_classes : int
        Number of classes.
    norm_factor : float, optional
        Overrides the factor from the tensor's sidecar or dtype.

    Raises
    ------
    InputFileError
        A file is missing.
    DataError
        Unreadable arrays, wrong shapes, lengths that differ, labels outside 1..n_classes.
    ConfigError
        ``bands`` or ``n_classes`` disagree with the tensor.
    """
    tensor_path, labels_path = Path(tensor_path), Path(labels_path)
    tensor = _open_npy(tensor_path, "tile tensor", mmap=True)
    if tensor.ndim != 4 or tensor.shape[1] != tensor.shape[2] or tensor.shape[0] == 0:
        raise DataError(f"tile tensor {tensor_path} has shape {tensor.shape}; expected "
                        "(n, tile, tile, bands) with n > 0 square tiles.")
    if not (np.issubdtype(tensor.dtype, np.floating) or np.issubdtype(tensor.dtype, np.integer)):
        raise DataError(f"tile tensor {tensor_path} has dtype {tensor.dtype}; expected numbers.")
    if bands is not None and tensor.shape[3] != bands:
        raise ConfigError(f"tile tensor {tensor_path.name} has {tensor.shape[3]} bands but "
                          f"{bands} bands were asked for (--bands {bands}). Use --bands "
                          f"{tensor.shape[3]}, or compile a tensor of {bands}-band tiles.")
    labels = _open_npy(labels_path, "label file", mmap=False)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise DataError(f"label file {labels_path} has shape {labels.shape}; expected one class "
                        "number per tile, shape (n,).")
    if labels.shape[0] != tensor.shape[0]:
        raise DataError(f"tile tensor {tensor_path.name} holds {tensor.shape[0]} tiles but label "
                        f"file {labels_path.name} holds {labels.shape[0]} labels. Give the label "
                        "file compiled with this tensor.")
    if not (np.issubdtype(labels.dtype, np.integer) or np.issubdtype(labels.dtype, np.floating)):
        raise DataError(f"label file {labels_path} has dtype {labels.dtype}; expected integers.")
    if np.issubdtype(labels.dtype, np.floating):
        if not np.all(np.isfinite(labels)) or np.any(labels != np.round(labels)):
            raise DataError(f"label file {labels_path} holds non-integer values; labels are "
                            "class numbers 1..n.")
    labels = labels.astype(np.int64)
    bad = (labels < 1) | (labels > n_classes)
    if bad.any():
        values, counts = np.unique(labels[bad], return_counts=True)
        shown = ", ".join(f"{v} ({c} tiles)" for v, c in zip(values[:10], counts[:10]))
        raise DataError(f"label file {labels_path.name} has labels outside 1..{n_classes}: "
                        f"{shown}. Use --classes to give the number of classes, or recompile "
                        "the tensor.")
    sidecar = read_tensor_sidecar(tensor_path)
    side_classes = sidecar.get("n_classes")
    if side_classes is not None and int(side_classes) != n_classes:
        raise ConfigError(f"tile tensor {tensor_path.name} was compiled for {side_classes} "
                          f"classes but {n_classes} were asked for (--classes {n_classes}). Use "
                          f"--classes {side_classes}.")
    if norm_factor is None:
        norm_factor = infer_norm_factor(tensor.dtype, sidecar, source=str(tensor_path.name))
    elif not norm_factor > 0:
        raise ConfigError(f"norm_factor must be positive, got {norm_factor!r}.")
    return TileData(tensor, labels, tensor_path, labels_path, sidecar, float(norm_factor))


def split_indices(n: int, seed: int = 0, validation_fraction: float = VALIDATION_FRACTION
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random split of ``range(n)`` into training and validation indices.

    Returns
    -------
    train, validation : numpy.ndarray
        Sorted int64 indices; the validation part has ``round(validation_fraction * n)``
        entries (at least 1), the training part the rest (at least 1).

    Raises
    ------
    DataError
        Fewer than 2 tiles.
    """
    if n < 2:
        raise DataError(f"training needs at least 2 tiles (one for validation), got {n}.")
    n_val = min(max(1, int(round(validation_fraction * n))), n - 1)
    order = np.random.default_rng(seed).permutation(n)
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def one_hot(labels: np.ndarray, n_outputs: int) -> np.ndarray:
    """One-hot rows, shape (len(labels), n_outputs), float32; column k is class k."""
    out = np.zeros((len(labels), n_outputs), dtype=np.float32)
    out[np.arange(len(labels)), labels] = 1.0
    return out


class TileDataset(keras.utils.PyDataset):
    """Batches of (tiles, one-hot labels) read from a memory-mapped tensor.

    Parameters
    ----------
    tensor : numpy.ndarray
        Tiles (n, tile, tile, bands), typically a memory map; only the rows of a batch are read.
    labels : numpy.ndarray
        Class numbers (n,).
    indices : numpy.ndarray
        Rows of ``tensor`` this dataset serves.
    batch_size : int
    n_outputs : int
        Width of the one-hot rows (n_classes + 1).
    shuffle : bool
        Serve the rows in a new seeded random order every epoch; otherwise in sorted order
        (then :meth:`truth` gives the labels in serving order).
    seed : int
        Seed of the shuffling.
    """

    def __init__(self, tensor, labels, indices, batch_size: int, n_outputs: int,
                 shuffle: bool = False, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.tensor = tensor
        self.labels = np.asarray(labels)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.n_outputs = int(n_outputs)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self.order = self._rng.permutation(self.indices) if shuffle else np.sort(self.indices)

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (0..{len(self) - 1})")
        # Rows read in increasing order: contiguous reads from the memory map.
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        x = np.asarray(self.tensor[rows], dtype=np.float32)
        y = one_hot(self.labels[rows], self.n_outputs)
        return x, y

    def on_epoch_end(self):
        if self.shuffle:
            self.order = self._rng.permutation(self.indices)

    def truth(self) -> np.ndarray:
        """Labels in serving order (meaningful without shuffling)."""
        return self.labels[self.order]


# --------------------------------------------------------------------------------------------
# Training loop pieces
# --------------------------------------------------------------------------------------------

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


def keras_verbosity() -> int:
    """Keras progress bar when interactive, one line per epoch otherwise."""
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):
        return 2


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
        Per-epoch ``epoch, loss, accuracy, val_loss, val_accuracy``.
    report : pandas.DataFrame
        Classification report on the validation tiles.
    epochs_run : int
    target_reached : bool
    val_accuracy : float
        Validation accuracy after the last epoch.
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


def _check_positive_int(value, name: str) -> int:
    if isinstance(value, bool) or int(value) != value or value < 1:
        raise ConfigError(f"{name} must be a positive integer, got {value!r}.")
    return int(value)


def _check_name(name: str) -> str:
    name = str(name)
    if name.endswith(".keras"):
        name = name[:-6]
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigError(f"model name {name!r} is not a plain file name; give a name such as "
                          "'VGG16_50_RGBNIR' (the folder goes in --out).")
    return name


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


def _fit_and_report(model, data: TileData, *, out_dir: Path, name: str, class_names,
                    batch_size: int, epochs: int, target_accuracy: float | None, seed: int,
                    tuning: bool) -> dict:
    """Split, fit with streaming batches, then report on the validation split."""
    n_classes = len(class_names)
    train_idx, val_idx = split_indices(data.n, seed)
    train_ds = TileDataset(data.tensor, data.labels, train_idx, batch_size, n_classes + 1,
                           shuffle=True, seed=seed)
    val_ds = TileDataset(data.tensor, data.labels, val_idx, batch_size, n_classes + 1)
    callbacks = []
    stopper = None
    if not tuning and target_accuracy is not None:
        stopper = TargetAccuracyStop(target_accuracy)
        callbacks.append(stopper)
    log.info("training on %d tiles, validating on %d (batch %d, at most %d epochs%s)",
             len(train_idx), len(val_idx), batch_size, epochs,
             "" if stopper is None else f", stop at validation accuracy {target_accuracy}")
    start = time.perf_counter()
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, callbacks=callbacks,
                        verbose=keras_verbosity(), shuffle=False)
    seconds = time.perf_counter() - start
    frame = history_frame(history.history)
    epochs_run = len(frame)
    val_accuracy = float(frame["val_accuracy"].iloc[-1]) if "val_accuracy" in frame else float("nan")
    reached = stopper is not None and stopper.stopped_epoch is not None
    if stopper is not None and not reached:
        log.warning("validation accuracy %.4f after %d epochs did not reach the target %.4f.",
                    val_accuracy, epochs_run, target_accuracy)
    log.info("trained %d epochs in %.1f s; validation accuracy %.4f", epochs_run, seconds,
             val_accuracy)

    probabilities = model.predict(val_ds, verbose=0)
    predicted = np.argmax(probabilities, axis=1)
    report = classification_report_frame(val_ds.truth(), predicted, class_names,
                                         labels=list(range(1, n_classes + 1)))
    log.info("%s", format_report(report, f"Classification report for {name} "
                                         f"(validation tiles: {len(val_idx)})"))
    history_path = write_csv(out_dir / f"{name}_history.csv", frame)
    report_path = write_csv(out_dir / f"{name}_report.csv", report)
    figure_path = plot_history(frame, out_dir / f"{name}_history.png", title=name)
    return dict(history=frame, report=report, epochs_run=epochs_run, target_reached=reached,
                val_accuracy=val_accuracy, seconds=seconds, history_path=history_path,
                report_path=report_path, figure_path=figure_path,
                n_train=len(train_idx), n_validation=len(val_idx))


def _outcome(fit: dict) -> dict:
    return {"epochs_run": fit["epochs_run"], "target_reached": fit["target_reached"],
            "val_accuracy": round(fit["val_accuracy"], 6), "fit_seconds": round(fit["seconds"], 2),
            "n_train": fit["n_train"], "n_validation": fit["n_validation"]}


# --------------------------------------------------------------------------------------------
# Entry points
# --------------------------------------------------------------------------------------------

def train_tile_cnn(tensor_path: str | os.PathLike, labels_path: str | os.PathLike,
                   out_dir: str | os.PathLike, name: str, base: str = "vgg16", bands: int = 4,
                   n_classes: int = 7, batch_size: int = 50, epochs: int = 120,
                   target_accuracy: float = 0.985, tuning: bool = False,
                   tuning_epochs: int = DEFAULT_TUNING_EPOCHS, precision: str = "auto",
                   seed: int = 0, learning_rate: float | None = None,
                   scheme: str | ClassScheme | None = None, norm_factor: float | None = None,
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
        Bands per tile; must match the tensor.
    n_classes : int
        Number of classes (labels 1..n_classes; n_classes + 1 outputs).
    batch_size : int
        Tiles per batch (50).
    epochs : int
        Most epochs (120).
    target_accuracy : float
        Stop at the end of the first epoch whose validation accuracy reaches this (0.985).
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
    run_config, script : optional
        The calling script's resolved inputs and name, recorded in ``run.json``.

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
    bands = None if bands is None else _check_positive_int(bands, "bands")
    n_classes = _check_positive_int(n_classes, "n_classes")
    batch_size = _check_positive_int(batch_size, "batch_size")
    epochs = _check_positive_int(tuning_epochs if tuning else epochs,
                                 "tuning_epochs" if tuning else "epochs")
    if not tuning and not 0 < float(target_accuracy) <= 1:
        raise ConfigError(f"target accuracy must be in (0, 1], got {target_accuracy!r}.")
    name = _check_name(name)
    policy, reason = _precision.explain_policy(precision)
    data = load_tile_data(tensor_path, labels_path, bands=bands, n_classes=n_classes,
                          norm_factor=norm_factor)
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
        fit = _fit_and_report(model, data, out_dir=out_dir, name=name,
                              class_names=list(class_scheme.names), batch_size=batch_size,
                              epochs=epochs, target_accuracy=None if tuning else target_accuracy,
                              seed=seed, tuning=tuning)
        training_info = {
            "tensor": str(data.tensor_path), "labels": str(data.labels_path),
            "tensor_mode": data.sidecar.get("mode"), "n_tiles": data.n,
            "batch_size": batch_size, "max_epochs": epochs,
            "target_accuracy": None if tuning else float(target_accuracy),
            "learning_rate": float(learning_rate), "seed": seed, **_outcome(fit),
        }
        metadata = ModelMetadata(base=base, tile_size=data.tile_size, bands=data.bands,
                                 n_classes=n_classes, class_names=list(class_scheme.names),
                                 scheme=class_scheme.to_dict(), norm_factor=data.norm_factor,
                                 precision=policy, training=training_info)
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
        "learning_rate": learning_rate, "scheme": class_scheme.name, "norm_factor": norm_factor}
    run_path = save_run_config(out_dir, config, script=script or "seeice.phase1.training.train_tile_cnn",
                               extra={"precision_policy": policy, "precision_reason": reason,
                                      "model_path": str(model_path) if model_path else None,
                                      "model": metadata.to_dict(),
                                      "seconds": round(time.perf_counter() - started, 2)})
    return TrainingResult(model_path=model_path, metadata=metadata, history=fit["history"],
                          report=fit["report"], epochs_run=fit["epochs_run"],
                          target_reached=fit["target_reached"], val_accuracy=fit["val_accuracy"],
                          precision=policy, history_path=fit["history_path"],
                          report_path=fit["report_path"], figure_path=fit["figure_path"],
                          run_path=run_path, seconds=fit["seconds"])


def fine_tune(model_path: str | os.PathLike, tensor_path: str | os.PathLike,
              labels_path: str | os.PathLike, out_dir: str | os.PathLike, name: str,
              learning_rate: float = 1e-5, batch_size: int = 25, target_accuracy: float = 0.995,
              epochs: int = 120, seed: int = 0, run_config: dict | None = None,
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
        Stop at the first epoch whose validation accuracy reaches this (0.995).
    epochs : int
        Most epochs (120).
    seed : int
        Seeds the split, the shuffling and Keras.

    Returns
    -------
    TrainingResult

    Raises
    ------
    ModelError
        The model cannot be loaded, or its tile size or bands differ from the tensor's.
    InputFileError, DataError, ConfigError
        As in :func:`train_tile_cnn`.
    """
    started = time.perf_counter()
    batch_size = _check_positive_int(batch_size, "batch_size")
    epochs = _check_positive_int(epochs, "epochs")
    if not 0 < float(target_accuracy) <= 1:
        raise ConfigError(f"target accuracy must be in (0, 1], got {target_accuracy!r}.")
    if not learning_rate > 0:
        raise ConfigError(f"learning rate must be positive, got {learning_rate!r}.")
    name = _check_name(name)
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
    compile_tile_model(model, learning_rate)
    log.info("fine-tuning %s (%s base) on %d tiles, learning rate %g", Path(model_path).name,
             parent.base, data.n, learning_rate)
    fit = _fit_and_report(model, data, out_dir=out_dir, name=name,
                          class_names=parent.class_names, batch_size=batch_size, epochs=epochs,
                          target_accuracy=target_accuracy, seed=seed, tuning=False)
    training_info = {
        "fine_tuned_from": str(model_path), "parent_training": parent.training,
        "tensor": str(data.tensor_path), "labels": str(data.labels_path),
        "tensor_mode": data.sidecar.get("mode"), "n_tiles": data.n, "batch_size": batch_size,
        "max_epochs": epochs, "target_accuracy": float(target_accuracy),
        "learning_rate": float(learning_rate), "seed": seed, **_outcome(fit),
    }
    metadata = dataclasses.replace(parent, norm_factor=norm, training=training_info, created="",
                                   inferred=False)
    model_path_out = save_model(model, out_dir, name, metadata)
    config = run_config if run_config is not None else {
        "model_path": str(model_path), "tensor_path": str(tensor_path),
        "labels_path": str(labels_path), "out_dir": str(out_dir), "name": name,
        "learning_rate": learning_rate, "batch_size": batch_size,
        "target_accuracy": target_accuracy, "epochs": epochs, "seed": seed}
    run_path = save_run_config(out_dir, config, script=script or "seeice.phase1.training.fine_tune",
                               extra={"model_path": str(model_path_out),
                                      "model": metadata.to_dict(),
                                      "seconds": round(time.perf_counter() - started, 2)})
    return TrainingResult(model_path=model_path_out, metadata=metadata, history=fit["history"],
                          report=fit["report"], epochs_run=fit["epochs_run"],
                          target_reached=fit["target_reached"], val_accuracy=fit["val_accuracy"],
                          precision=parent.precision, history_path=fit["history_path"],
                          report_path=fit["report_path"], figure_path=fit["figure_path"],
                          run_path=run_path, seconds=fit["seconds"])

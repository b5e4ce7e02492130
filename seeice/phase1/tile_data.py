"""Compiled tile tensors as training data: loading, the validation split and batches for Keras."""

from __future__ import annotations

import json
import logging
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from seeice.errors import ConfigError, DataError, InputFileError
from seeice.normalise import SENTINEL2_DN_RANGE, SENTINEL2_NORM_FACTOR

log = logging.getLogger(__name__)


VALIDATION_FRACTION = 0.2


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
        factor = SENTINEL2_DN_RANGE / 255.0
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

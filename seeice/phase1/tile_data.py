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
from seeice.phase1.balance import balanced_order

log = logging.getLogger(__name__)


VALIDATION_FRACTION = 0.2
#: Validation splits: by source window (group file needed; else random) or random (published).
SPLITS = ("group", "random")


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
    groups : numpy.ndarray or None
        Source window of each tile, shape (n,), int (``<name>_G_<mode>.npy``, DESIGN 10.4);
        None for a tensor without a group file.
    """

    tensor: np.ndarray
    labels: np.ndarray
    tensor_path: Path
    labels_path: Path
    sidecar: dict = field(default_factory=dict)
    norm_factor: float = SENTINEL2_NORM_FACTOR
    groups: np.ndarray | None = None

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
        detail = " ".join(str(exc).split())[:200]
        raise DataError(f"{what} {path} is not a readable .npy array ({detail}). It may be "
                        "damaged or truncated (an interrupted copy), or another file: compile it "
                        "again with CompileTensor.") from None


def load_tile_data(tensor_path: str | os.PathLike, labels_path: str | os.PathLike,
                   bands: int | None = None, n_classes: int = 7,
                   norm_factor: float | None = None, tile_crop: int = 0) -> TileData:
    """Open a tile tensor (memory-mapped) and its labels, and check that they fit together.

    Parameters
    ----------
    tensor_path : path-like
        ``.npy`` of shape (n, tile, tile, bands).
    labels_path : path-like
        ``.npy`` of shape (n,) with class numbers 1..n_classes (integers, or floats holding
        integers).
    bands : int, optional
        Bands to use: the first ``bands`` of the tensor (3 of a 4-band tensor: R, G, B, the
        published ``NIR = False``); None uses all. More bands than the tensor has is an error.
    n_classes : int
        Number of classes.
    norm_factor : float, optional
        Overrides the factor from the tensor's sidecar or dtype.
    tile_crop : int
        Use the top-left ``tile_crop`` x ``tile_crop`` pixels of every tile (the published
        ``Tilesize`` crop); 0 uses whole tiles.

    The band selection and the crop are views of the memory-mapped tensor: nothing is copied.

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
    if bands is not None and tensor.shape[3] < bands:
        raise ConfigError(f"tile tensor {tensor_path.name} has {tensor.shape[3]} bands but "
                          f"{bands} bands were asked for (--bands {bands}). Use --bands "
                          f"{tensor.shape[3]}, or compile a tensor of {bands}-band tiles.")
    if bands is not None and tensor.shape[3] > bands:
        log.info("tile tensor %s has %d bands: training on its first %d (%s), as the published "
                 "NIR = False did", tensor_path.name, tensor.shape[3], bands,
                 "R, G, B" if bands == 3 else f"bands 1-{bands}")
        tensor = tensor[..., :bands]
    if tile_crop:
        if isinstance(tile_crop, bool) or not 0 < int(tile_crop) <= tensor.shape[1]:
            raise ConfigError(f"tile crop {tile_crop!r} must be a size from 1 to the tensor's "
                              f"tile size {tensor.shape[1]} (0: whole tiles).")
        if int(tile_crop) < tensor.shape[1]:
            log.info("training on the top-left %d x %d px of the %d x %d px tiles of %s",
                     int(tile_crop), int(tile_crop), tensor.shape[1], tensor.shape[1],
                     tensor_path.name)
            tensor = tensor[:, :int(tile_crop), :int(tile_crop), :]
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
    groups = _load_groups(tensor_path, tensor.shape[0])
    return TileData(tensor, labels, tensor_path, labels_path, sidecar, float(norm_factor), groups)


def group_path_for(tensor_path: str | os.PathLike) -> Path | None:
    """``<name>_G_<mode>.npy`` beside a tensor ``<name>_T_<mode>.npy`` (None for other names)."""
    tensor_path = Path(tensor_path)
    stem = tensor_path.name
    if "_T_" not in stem:
        return None
    head, _, tail = stem.rpartition("_T_")
    return tensor_path.with_name(f"{head}_G_{tail}")


def _load_groups(tensor_path: Path, n: int) -> np.ndarray | None:
    path = group_path_for(tensor_path)
    if path is None or not path.is_file():
        return None
    groups = _open_npy(path, "group file", mmap=False)
    if groups.shape != (n,) or not np.issubdtype(groups.dtype, np.integer):
        raise DataError(f"group file {path.name} has shape {groups.shape} and dtype "
                        f"{groups.dtype}; expected one integer source-window id per tile of "
                        f"{tensor_path.name} ({n}). Recompile the tensor, or delete the group "
                        "file to split at random.")
    return groups.astype(np.int64)


def split_by_groups(labels: np.ndarray, groups: np.ndarray, seed: int = 0,
                    validation_fraction: float = VALIDATION_FRACTION
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Seeded split of tiles by source window, stratified by class.

    All tiles of one group (the augmented copies of one window) fall on the same side, so
    validation never sees a rotated copy of a training tile. For each class, a
    ``validation_fraction`` of its groups (rounded, at least one when the class has two or
    more groups, none when it has one) goes to validation.

    Parameters
    ----------
    labels, groups : numpy.ndarray
        Shape (n,): class and source window of each tile (a window's class is that of its
        first tile).
    seed : int
        Seeds the choice of validation windows.
    validation_fraction : float
        Share of each class's windows that validate (0.2).

    Returns
    -------
    train, validation : numpy.ndarray
        Sorted int64 tile indices.

    Raises
    ------
    DataError
        Fewer than two groups, so that no split is possible.
    """
    labels, groups = np.asarray(labels), np.asarray(groups)
    unique_groups, first = np.unique(groups, return_index=True)
    if unique_groups.size < 2:
        raise DataError(f"training needs at least 2 source windows (one for validation), got "
                        f"{unique_groups.size}. Prepare tiles from more of the images.")
    group_class = labels[first]
    rng = np.random.default_rng(seed)
    validation_groups = []
    for k in np.unique(group_class):
        members = unique_groups[group_class == k]
        if members.size < 2:
            continue
        n_val = min(max(1, int(round(validation_fraction * members.size))), members.size - 1)
        validation_groups.append(rng.choice(members, size=n_val, replace=False))
    if not validation_groups:
        chosen = rng.choice(unique_groups, size=1)
        log.warning("every class comes from a single source window: window %d (class %d) "
                    "validates, so the model never trains on that class. Prepare tiles from "
                    "more images.", int(chosen[0]), int(group_class[unique_groups == chosen[0]][0]))
        validation_groups.append(chosen)
    is_val = np.isin(groups, np.concatenate(validation_groups))
    return np.flatnonzero(~is_val), np.flatnonzero(is_val)


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
    class_weights : numpy.ndarray, optional
        Loss weight per class, shape (n_outputs,); batches are then (tiles, labels, weights).
    balanced : bool
        Draw every epoch's rows class by class, equally often (:func:`balanced_order`).
    """

    def __init__(self, tensor, labels, indices, batch_size: int, n_outputs: int,
                 shuffle: bool = False, seed: int = 0, class_weights: np.ndarray | None = None,
                 balanced: bool = False, **kwargs):
        super().__init__(**kwargs)
        self.class_weights = None if class_weights is None else np.asarray(class_weights,
                                                                            np.float32)
        self.balanced = balanced
        self.tensor = tensor
        self.labels = np.asarray(labels)
        self.indices = np.asarray(indices, dtype=np.int64)
        self.batch_size = int(batch_size)
        self.n_outputs = int(n_outputs)
        self.shuffle = shuffle
        self._rng = np.random.default_rng(seed)
        self.order = self._epoch_order()

    def _epoch_order(self) -> np.ndarray:
        if self.balanced:
            return balanced_order(self.indices, self.labels, self._rng)
        return self._rng.permutation(self.indices) if self.shuffle else np.sort(self.indices)

    def __len__(self) -> int:
        return math.ceil(len(self.indices) / self.batch_size)

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range (0..{len(self) - 1})")
        # Rows read in increasing order: contiguous reads from the memory map.
        rows = np.sort(self.order[index * self.batch_size:(index + 1) * self.batch_size])
        # (balanced epochs may repeat a row: fancy indexing keeps the repeats)
        x = np.asarray(self.tensor[rows], dtype=np.float32)
        y = one_hot(self.labels[rows], self.n_outputs)
        if self.class_weights is not None:
            return x, y, self.class_weights[self.labels[rows]]
        return x, y

    def on_epoch_end(self):
        if self.shuffle or self.balanced:
            self.order = self._epoch_order()

    def truth(self) -> np.ndarray:
        """Labels in serving order (meaningful without shuffling)."""
        return self.labels[self.order]


def split_for_training(data: TileData, seed: int, split: str = "group"
                       ) -> tuple[np.ndarray, np.ndarray, str]:
    """Training and validation indices, and how they were split.

    Parameters
    ----------
    data : TileData
        With ``groups`` (shape (n,)) and ``split="group"`` the split is
        :func:`split_by_groups`; otherwise it is :func:`split_indices` (the published random
        split), with a warning that validation will read high.
    seed : int
    split : {"group", "random"}

    Returns
    -------
    train, validation : numpy.ndarray
        Sorted int64 tile indices.
    split : {"source_window", "random"}
    """
    if split not in SPLITS:
        raise ConfigError(f"split {split!r} is not one of {', '.join(SPLITS)}.")
    if data.groups is not None and split == "group":
        train_idx, val_idx = split_by_groups(data.labels, data.groups, seed)
        log.info("validation split by source window: %d windows for training, %d for "
                 "validation (copies of one window never on both sides)",
                 np.unique(data.groups[train_idx]).size, np.unique(data.groups[val_idx]).size)
        return train_idx, val_idx, "source_window"
    train_idx, val_idx = split_indices(data.n, seed)
    if data.groups is not None:
        shared = np.isin(data.groups[val_idx], data.groups[train_idx])
        log.warning("validation split at random (--split random, the published split): %d of "
                    "%d validation tiles are copies of a window that also trains, so the "
                    "validation scores will read high.", int(shared.sum()), val_idx.size)
        return train_idx, val_idx, "random"
    expected = group_path_for(data.tensor_path)
    log.warning("%s has no group file (%s): tiles are split at random, so rotated copies of "
                "one window fall on both sides and the validation scores will read high. "
                "Compile the tensor again with CompileTensor to split by source window.",
                data.tensor_path.name,
                expected.name if expected is not None else "tensors named <name>_T_<mode>.npy "
                "have <name>_G_<mode>.npy beside them")
    return train_idx, val_idx, "random"

"""Compiling tile tensors: the memory-mapped writer (tiles, labels, source-window groups,
committed atomically), compilation of tile folders, and loading. Modes and conversion are in
:mod:`seeice.phase1.tensors`.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from pathlib import Path

import numpy as np
from numpy.lib.format import open_memmap
from tqdm import tqdm

from seeice.classes import class_count_advice
from seeice.checks import positive_int
from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.io.atomic import atomic_path, write_npy
from seeice.io.raster import read_image
from seeice.io.tiles import find_class_folders, list_tiles, source_window
from seeice.phase1.class_counts import report_class_counts
from seeice.phase1.tensors import (
    LABEL_DTYPE,
    TENSOR_DTYPES,
    UINT8_INPUT_RANGE,
    TensorFiles,
    check_mode,
    convert_tiles,
    group_path,
    input_scale,
    resolve_norm_factor,
    saturated,
    tensor_paths,
)
from seeice.phase1.tiling import TILE_SIZE

log = logging.getLogger(__name__)


_READ_BATCH = 1024


class TensorWriter:
    """Write tiles into a memory-mapped tensor and label vector of known size.

    Use :meth:`put` (tiles at given rows) or :meth:`append` (next rows), then :meth:`commit`;
    on an error call :meth:`abort` (or use the writer as a context manager, which does both).
    Until :meth:`commit` the files have temporary names; nothing of an aborted run remains.

    Parameters
    ----------
    out_dir : path-like
        Folder of the outputs (created).
    name : str
        Tensor name (``NAME_T_MODE.npy``).
    n_tiles : int
        Number of tiles, n.
    tile_size, bands : int
        Tile shape (t, t, bands).
    source_dtype : numpy dtype
        Pixel type of the raw tiles (uint8, uint16, ...).
    mode : str
        One of :data:`MODES`.
    norm_factor : float, optional
        float16 divisor (default 255 for 8-bit, 8192 otherwise).
    n_classes : int
        Labels must lie in 1..n_classes.
    run_config, script, extra : optional
        Recorded in the metadata JSON.
    """

    def __init__(self, out_dir: str | os.PathLike, name: str, n_tiles: int,
                 tile_size: int = TILE_SIZE, bands: int = 4, source_dtype=np.uint16,
                 mode: str = "float16", norm_factor: float | None = None, n_classes: int = 7,
                 run_config: dict | None = None, script: str | None = None,
                 extra: dict | None = None):
        check_mode(mode)
        if n_tiles < 1:
            raise DataError(f"tensor {name!r} would hold no tiles; nothing to compile.")
        self.out_dir = Path(out_dir)
        self.name = name
        self.mode = mode
        self.n_tiles = int(n_tiles)
        self.tile_size = int(tile_size)
        self.bands = int(bands)
        self.n_classes = int(n_classes)
        self.source_dtype = np.dtype(source_dtype)
        self.norm_factor = resolve_norm_factor(norm_factor, self.source_dtype)
        self.scale = input_scale(mode, self.source_dtype, self.norm_factor)
        self.run_config = run_config
        self.script = script
        self.extra = extra or {}
        self.paths = tensor_paths(self.out_dir, name, mode)
        self.group_file = group_path(self.out_dir, name, mode)
        self._filled = np.zeros(self.n_tiles, dtype=bool)
        self._grouped = np.zeros(self.n_tiles, dtype=bool)
        self._groups = np.zeros(self.n_tiles, dtype=np.int32)
        self._next = 0
        self._saturated = 0
        self._stack = contextlib.ExitStack()
        self._open = True
        try:
            tmp_t = self._stack.enter_context(atomic_path(self.paths[0], suffix=".npy"))
            tmp_l = self._stack.enter_context(atomic_path(self.paths[1], suffix=".npy"))
            shape = (self.n_tiles, self.tile_size, self.tile_size, self.bands)
            self._tensor = open_memmap(tmp_t, mode="w+", dtype=TENSOR_DTYPES[mode], shape=shape)
            self._labels = open_memmap(tmp_l, mode="w+", dtype=LABEL_DTYPE,
                                       shape=(self.n_tiles,))
        except BaseException:
            self.abort()
            raise

    def __enter__(self) -> "TensorWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            if self._open:
                self.commit()
        else:
            self.abort()
        return False

    def put(self, positions, tiles: np.ndarray, labels, groups=None) -> None:
        """Write raw tiles (m, t, t, bands), labels (m,) and source-window groups (m,) at rows
        ``positions`` (m,). Without ``groups`` the tensor gets no group file."""
        positions = np.asarray(positions, dtype=np.int64)
        labels = np.asarray(labels)
        tiles = np.asarray(tiles)
        expected = (self.tile_size, self.tile_size, self.bands)
        if tiles.ndim != 4 or tiles.shape[1:] != expected:
            raise RasterError(f"tiles of shape {tiles.shape[1:]} do not fit tensor {self.name!r} "
                              f"of tile shape {expected}.")
        if not (len(positions) == len(labels) == tiles.shape[0]):
            raise ValueError("positions, tiles and labels must have the same length")
        if tiles.dtype != self.source_dtype:
            raise RasterError(f"tiles hold {tiles.dtype} pixels but tensor {self.name!r} was "
                              f"started for {self.source_dtype}; one tensor takes one pixel type.")
        if len(labels) and (labels.min() < 1 or labels.max() > self.n_classes):
            raise DataError(f"labels must lie in 1..{self.n_classes}, got "
                            f"{int(labels.min())}..{int(labels.max())}. Set the class count "
                            "(--classes) to the scheme's.")
        if len(positions) and (positions.min() < 0 or positions.max() >= self.n_tiles):
            raise IndexError(f"tensor rows must lie in 0..{self.n_tiles - 1}")
        self._saturated += saturated(tiles, self.mode)
        self._tensor[positions] = convert_tiles(tiles, self.mode, self.norm_factor)
        self._labels[positions] = labels.astype(LABEL_DTYPE)
        self._filled[positions] = True
        if groups is not None:
            self._groups[positions] = np.asarray(groups, dtype=np.int32)
            self._grouped[positions] = True

    def append(self, tiles: np.ndarray, labels, groups=None) -> None:
        """Write raw tiles (m, t, t, bands), labels (m,) and groups (m,) at the next free rows."""
        m = np.asarray(labels).shape[0]
        self.put(np.arange(self._next, self._next + m), tiles, labels, groups)
        self._next += m

    def commit(self) -> TensorFiles:
        """Flush, give the files their final names and write the metadata JSON."""
        if not self._filled.all():
            self.abort()
            raise RuntimeError(f"tensor {self.name!r}: {int((~self._filled).sum())} of "
                               f"{self.n_tiles} rows were never written")
        counts = np.bincount(np.asarray(self._labels), minlength=self.n_classes + 1)[1:]
        class_counts = {k + 1: int(n) for k, n in enumerate(counts)}
        self._close_maps()
        self._stack.close()           # renames the temporary files onto their targets
        self._open = False
        groups_file = None
        if self._grouped.all():
            groups_file = write_npy(self.group_file, self._groups)
        elif self.group_file.exists():
            self.group_file.unlink()  # an old group file would not match these tiles
        if self._saturated:
            limit = "32767" if self.mode == "int16" else f"{UINT8_INPUT_RANGE:g}"
            log.warning("%s: %d pixel values lay beyond %s and were saturated in mode %s.",
                        self.name, self._saturated, limit, self.mode)
        meta = {
            "name": self.name, "mode": self.mode, "tensor": self.paths[0].name,
            "labels": self.paths[1].name, "tensor_dtype": np.dtype(TENSOR_DTYPES[self.mode]).name,
            "input_scale": self.scale, "norm_factor": self.norm_factor,
            "tile_size": self.tile_size, "bands": self.bands, "n_classes": self.n_classes,
            "n_tiles": self.n_tiles, "class_counts": {str(k): n for k, n in class_counts.items()},
            "source_dtype": self.source_dtype.name,
            "groups": groups_file.name if groups_file else None,
            "n_source_windows": int(np.unique(self._groups).size) if groups_file else None,
            **self.extra,
        }
        run_config = self.run_config if self.run_config is not None else {
            "name": self.name, "mode": self.mode, "tile_size": self.tile_size,
            "bands": self.bands, "n_classes": self.n_classes, "norm_factor": self.norm_factor}
        save_run_config(self.out_dir, run_config, script=self.script or "seeice.phase1.tensors",
                        extra=meta, filename=self.paths[2].name)
        log.info("Tensor %s: %d tiles of %d x %d x %d, %s; per class %s; raw / %g = network "
                 "input.", self.paths[0].name, self.n_tiles, self.tile_size, self.tile_size,
                 self.bands, self.mode, ", ".join(f"C{k}: {n}" for k, n in class_counts.items()),
                 self.scale)
        return TensorFiles(self.paths[0], self.paths[1], self.paths[2], self.mode, self.n_tiles,
                           class_counts, self.scale, groups_file)

    def abort(self) -> None:
        """Drop the temporary files; the targets are left as they were."""
        if not self._open:
            return
        self._open = False
        self._close_maps()
        error = DataError(f"tensor {self.name!r} aborted")
        self._stack.__exit__(DataError, error, None)

    def _close_maps(self) -> None:
        for attr in ("_tensor", "_labels"):
            array = getattr(self, attr, None)
            if array is not None:
                array.flush()
                mm = getattr(array, "_mmap", None)
                setattr(self, attr, None)
                del array
                if mm is not None:
                    with contextlib.suppress(BufferError):
                        mm.close()


def _read_tile(path: Path, tile_size: int, bands: int) -> np.ndarray:
    data = read_image(path).data
    if data.shape[:2] != (tile_size, tile_size):
        raise RasterError(f"{path} is {data.shape[0]} x {data.shape[1]} pixels but the tile "
                          f"size is {tile_size} (--tile-size). Compile with --tile-size "
                          f"{data.shape[0]} if all tiles have that size, or remove the file.")
    if data.shape[2] != bands:
        raise RasterError(f"{path} has {data.shape[2]} band(s) but {bands} were asked for "
                          f"(--bands). Use --bands {data.shape[2]} if all tiles have that many.")
    return data


def compile_tensor(folder: str | os.PathLike, name: str, out_dir: str | os.PathLike | None = None,
                   tile_size: int = TILE_SIZE, bands: int = 4, n_classes: int = 7,
                   mode: str = "float16", norm_factor: float | None = None,
                   subsample: float = 1.0, seed: int = 0, run_config: dict | None = None,
                   script: str | None = None) -> TensorFiles:
    """Compile the tiles of C1..CN into a tensor (n, t, t, bands) and labels (n,).

    Parameters
    ----------
    folder : path-like
        Folder holding ``C<k>`` class folders of tile GeoTIFFs, or the output folder of tile
        preparation (its ``Train/`` is used).
    name : str
        Tensor name: writes ``NAME_T_MODE.npy``, ``NAME_L_MODE.npy``, ``NAME_MODE.json`` and,
        when every tile name gives its source window (:func:`seeice.io.tiles.source_window`),
        ``NAME_G_MODE.npy``: int32 (n,), the group id of each tile's source window, numbered
        in sorted ``(stem, row, col)`` order (copies of one window share an id).
    out_dir : path-like, optional
        Output folder (default: ``folder``).
    tile_size, bands : int
        Expected tile shape; a tile of another size or band count is an error.
    n_classes : int
        Classes 1..n_classes are read, in order; each folder's tiles sorted by file name.
    mode : {"float16", "uint8", "uint8float16", "int16"}
        Tensor values (see the module docstring).
    norm_factor : float, optional
        float16 divisor; default 255 for 8-bit tiles, 8192 otherwise.
    subsample : float
        Fraction of each class's tiles to keep, drawn at random (seeded); 1 keeps all.
        A class with tiles keeps at least one.
    seed : int
        Seed of the subsample.
    run_config, script : optional
        Recorded in the metadata JSON.

    Returns
    -------
    TensorFiles

    Raises
    ------
    InputFileError
        ``folder`` does not exist.
    DataError
        No class folders, or every class folder 1..N is empty.
    ConfigError
        Bad mode, subsample, sizes, or tiles in a class folder above ``n_classes``.
    RasterError
        A tile of the wrong size, band count or pixel type (the file is named).

    Nothing is left behind on an error.
    """
    check_mode(mode)
    for label, value in (("tile size", tile_size), ("bands", bands), ("classes", n_classes)):
        positive_int(value, label)
    if not 0.0 < float(subsample) <= 1.0:
        raise ConfigError(f"subsample must lie in (0, 1], got {subsample}; 1 keeps every tile.")
    if norm_factor is not None:
        resolve_norm_factor(norm_factor, np.uint16)
    root, class_dirs = find_class_folders(folder)
    beyond = {k: len(list_tiles(d)) for k, d in class_dirs.items() if not 1 <= k <= n_classes}
    beyond = {k: n for k, n in beyond.items() if n}
    if beyond:
        k = max(beyond)
        others = "".join(f", C{j}" for j in sorted(beyond) if j != k)
        raise ConfigError(f"{root} holds {beyond[k]} tiles of class {k} (C{k}{others}) but the "
                          f"class count is {n_classes} (--classes). "
                          + class_count_advice(beyond, n_classes)
                          + f" Or move the folder C{k} out of {root}.")
    files = {k: list_tiles(class_dirs[k]) if k in class_dirs else [] for k in
             range(1, n_classes + 1)}
    if not any(files.values()):
        raise DataError(f"the class folders C1..C{n_classes} in {root} hold no tiles (.tif). "
                        "Run tile preparation first, or point --folder at its output.")
    empty = [f"C{k}" for k, f in files.items() if not f]
    if empty:
        log.warning("No tiles for %s in %s; the tensor has no examples of %s.",
                    ", ".join(empty), root, "these classes" if len(empty) > 1 else "this class")
    if subsample < 1.0:
        rng = np.random.default_rng(seed)
        for k, paths in files.items():
            if paths:
                n_keep = max(1, int(round(subsample * len(paths))))
                keep = np.sort(rng.choice(len(paths), size=n_keep, replace=False))
                files[k] = [paths[i] for i in keep]
    ordered = [(k, p) for k, paths in files.items() for p in paths]
    groups = _source_window_groups([p for _, p in ordered])
    first = _read_tile(ordered[0][1], tile_size, bands)
    out_dir = Path(out_dir) if out_dir is not None else Path(folder)
    if run_config is None:
        run_config = {"folder": str(folder), "name": name, "out_dir": str(out_dir),
                      "tile_size": tile_size, "bands": bands, "n_classes": n_classes,
                      "mode": mode, "norm_factor": norm_factor, "subsample": subsample,
                      "seed": seed}
    writer = TensorWriter(out_dir, name, len(ordered), tile_size, bands, first.dtype, mode,
                          norm_factor, n_classes, run_config=run_config,
                          script=script or "seeice.phase1.tensors.compile_tensor",
                          extra={"source": str(root), "subsample": subsample})
    try:
        with tqdm(total=len(ordered), desc=f"Compiling {name}", unit="tile", disable=None) as bar:
            for start in range(0, len(ordered), _READ_BATCH):
                batch = ordered[start:start + _READ_BATCH]
                tiles = np.empty((len(batch), tile_size, tile_size, bands), dtype=first.dtype)
                for i, (_, path) in enumerate(batch):
                    data = _read_tile(path, tile_size, bands)
                    if data.dtype != first.dtype:
                        raise RasterError(f"{path} holds {data.dtype} pixels but "
                                          f"{ordered[0][1].name} holds {first.dtype}; tiles of "
                                          "one tensor must share one pixel type. Compile them "
                                          "separately.")
                    tiles[i] = data
                writer.append(tiles, np.array([k for k, _ in batch], dtype=LABEL_DTYPE),
                              None if groups is None else groups[start:start + len(batch)])
                bar.update(len(batch))
        files_out = writer.commit()
    except BaseException:
        writer.abort()
        raise
    report_class_counts(files_out.class_counts, f"tensor {files_out.tensor.name}")
    return files_out


def _source_window_groups(paths: list[Path]) -> np.ndarray | None:
    """Group id per tile file: tiles cut from one source window (``<stem>_<row>_<col>_*``,
    :func:`seeice.io.tiles.tile_name`) share an id. None when some names are not tile names
    (tiles made elsewhere): the tensor then gets no group file."""
    keys = [source_window(p.name) for p in paths]
    unknown = [p.name for p, k in zip(paths, keys) if k is None]
    if unknown:
        log.warning("%d tile file name(s) do not name their source window (for example %s); "
                    "the tensor gets no group file, so training splits tiles at random and its "
                    "validation will read high.", len(unknown), unknown[0])
        return None
    ids = {key: i for i, key in enumerate(sorted(set(keys)))}
    return np.array([ids[k] for k in keys], dtype=np.int32)


def load_tensor(out_dir: str | os.PathLike, name: str, mode: str = "float16",
                mmap: bool = True) -> tuple[np.ndarray, np.ndarray, dict]:
    """Load a compiled tensor: (tiles (n, t, t, bands), labels (n,), metadata dict).

    With ``mmap`` the tiles are memory-mapped read-only (no copy into memory).
    """
    tensor, labels, meta = tensor_paths(out_dir, name, check_mode(mode))
    for path in (tensor, labels):
        if not path.is_file():
            raise InputFileError(f"{path} does not exist. Compile the tensor first "
                                 "(CompileTensor.py) or check --name and --mode.")
    metadata = json.loads(meta.read_text(encoding="utf-8")) if meta.is_file() else {}
    return (np.load(tensor, mmap_mode="r" if mmap else None), np.load(labels), metadata)

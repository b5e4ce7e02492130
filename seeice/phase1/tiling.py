"""Phase-one tile preparation: pure training tiles from images and their class rasters.

Method (DESIGN section 4; Marochov, Stokes and Carbonneau 2021):

1. Crop the image and its ``SCLS_`` class raster to whole multiples of the tile size,
   keeping the top-left origin.
2. Slide a tile-sized window with the given stride (defaults: tile 50, stride 25). Windows
   start at 0, stride, 2 * stride, ... and the last start that still fits inside the cropped
   raster is included.
3. Keep a window when unlabelled (0) pixels are at most 10 % of it and its most frequent
   class (among 1..N) covers at least 95 % of the whole window; that class is its label.
   (A majority of 95 % implies at most 5 % unlabelled, so the first rule only matters if the
   thresholds are changed.)
4. Augment every kept tile: the tile itself, plus its 90, 180 and 270 degree rotations
   (counter-clockwise, :func:`numpy.rot90`), each rotated copy with integer noise drawn
   uniformly from [-10, 10) per pixel and band, clipped to the dtype's valid range.
5. Write the tiles to ``<out>/Train/C<k>/<stem>_<row>_<col>_<rot>.tif`` (row and column of
   the window's top-left pixel, zero-padded so that names sort in image order; rotation in
   degrees), a seeded fraction of source tiles with their copies to ``<out>/Valid/C<k>/``;
   or, in tensor mode, straight into the compiled tensors of :mod:`seeice.phase1.tensors`.

Window counting and the purity test are vectorised (block counts by ``bincount``, window
counts by summed-area tables, tiles cut through a strided window view); no Python loop runs
over window positions or pixels.
"""

from __future__ import annotations

import logging
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from tqdm import tqdm

from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.io.raster import _open as _open_raster
from seeice.io.raster import find_companions, list_images, read_image, read_labels, write_raster

log = logging.getLogger(__name__)

TILE_SIZE = 50
STRIDE = 25
MAX_UNLABELLED = 0.10
MIN_MAJORITY = 0.95
NOISE_LOW = -10
NOISE_HIGH = 10          # exclusive
ROTATIONS = (0, 90, 180, 270)
TRAIN_DIR = "Train"
VALID_DIR = "Valid"
TILE_EXTENSIONS = (".tif", ".tiff")

# Pixels indexed per bincount call (bounds the temporary index array to ~32 MB).
_COUNT_BLOCK = 1 << 22
# Largest block grid (blocks x class values) counted with one bincount; finer grids
# (small gcd of tile size and stride) are counted one class value at a time.
_BLOCK_GRID_LIMIT = 1 << 22
# Source tiles augmented at once (fixed: the noise sequence depends on it).
_AUGMENT_CHUNK = 256
_CLASS_DIR = re.compile(r"^C(\d+)$")


@dataclass
class TileSet:
    """Pure tiles cut from one image.

    Attributes
    ----------
    tiles : numpy.ndarray
        Shape (n, t, t, bands), the image's dtype.
    labels : numpy.ndarray
        Shape (n,), uint8, the class (1..N) of each tile.
    rows, cols : numpy.ndarray
        Shape (n,), int, pixel row and column of each tile's top-left corner.
    """

    tiles: np.ndarray
    labels: np.ndarray
    rows: np.ndarray
    cols: np.ndarray

    def __len__(self) -> int:
        return int(self.labels.shape[0])


@dataclass
class PreparationResult:
    """What :func:`prepare_tiles` produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    counts : dict
        ``{"Train": {k: n}, "Valid": {k: n}}``: tiles written per class, augmented copies
        included.
    images : list of str
        Images that gave tiles or were tiled without any pure tile.
    skipped : list of str
        Images skipped for lack of an ``SCLS_`` class raster.
    tensors : dict
        In tensor mode, ``{"Train": TensorFiles, "Valid": TensorFiles}`` (Valid only with a
        validation fraction).
    """

    out_dir: Path
    counts: dict = field(default_factory=dict)
    images: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    tensors: dict = field(default_factory=dict)

    @property
    def n_tiles(self) -> int:
        """All tiles written (both subsets)."""
        return sum(sum(c.values()) for c in self.counts.values())


# --------------------------------------------------------------------------- windows


def _check_tiling(tile_size: int, stride: int) -> None:
    for name, value in (("tile size", tile_size), ("stride", stride)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name} must be a positive whole number of pixels, got {value!r}.")


def crop_to_tiles(array: np.ndarray, tile_size: int) -> np.ndarray:
    """Crop an (H, W, ...) array to whole multiples of ``tile_size`` (origin top-left).

    Returns a view of shape (H // t * t, W // t * t, ...).
    """
    height = array.shape[0] // tile_size * tile_size
    width = array.shape[1] // tile_size * tile_size
    return array[:height, :width]


def window_starts(length: int, tile_size: int = TILE_SIZE, stride: int = STRIDE) -> np.ndarray:
    """Start offsets of the windows along one axis: 0, stride, ... up to the last that fits.

    Parameters
    ----------
    length : int
        Length of the (cropped) axis in pixels.

    Returns
    -------
    numpy.ndarray
        Shape (m,), int; empty when ``length < tile_size``.
    """
    _check_tiling(tile_size, stride)
    if length < tile_size:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, length - tile_size + 1, stride, dtype=np.int64)


def window_class_counts(labels: np.ndarray, tile_size: int = TILE_SIZE, stride: int = STRIDE,
                        n_values: int | None = None) -> np.ndarray:
    """Count the pixels of every class value in every window.

    The raster is cut into g x g blocks, g = gcd(tile_size, stride), so that every window is
    a whole number of blocks. Block counts of all class values come from one ``bincount``
    and window counts are box sums read from their summed-area table at every window corner
    at once. For a fine block grid (small g on a large raster) each class value present is
    counted in turn with separable running sums, to bound memory.

    Parameters
    ----------
    labels : numpy.ndarray
        Class raster, shape (H, W), non-negative integers (not cropped here).
    tile_size, stride : int
        Window edge and step in pixels.
    n_values : int, optional
        Number of class values counted (0..n_values-1); default ``labels.max() + 1``.

    Returns
    -------
    numpy.ndarray
        Shape (ny, nx, n_values), int32: ``counts[i, j, k]`` is the number of pixels of value
        ``k`` in the window starting at ``(i * stride, j * stride)``.
    """
    _check_tiling(tile_size, stride)
    labels = np.asarray(labels)
    if labels.ndim != 2:
        raise RasterError(f"a class raster must be 2-D (H, W), got shape {labels.shape}.")
    if n_values is None:
        n_values = int(labels.max()) + 1 if labels.size else 1
    ny = len(window_starts(labels.shape[0], tile_size, stride))
    nx = len(window_starts(labels.shape[1], tile_size, stride))
    if ny == 0 or nx == 0:
        return np.zeros((ny, nx, n_values), dtype=np.int32)
    g = math.gcd(tile_size, stride)
    span, step = tile_size // g, stride // g          # window edge and step in blocks
    nby, nbx = (ny - 1) * step + span, (nx - 1) * step + span
    covered = labels[:nby * g, :nbx * g]               # the pixels some window covers
    sat_dtype = np.int32 if covered.size < 2 ** 31 else np.int64
    ys, xs = np.arange(ny) * step, np.arange(nx) * step

    def box_sums(blocks: np.ndarray) -> np.ndarray:
        # blocks: (nby, nbx, m) counts -> (ny, nx, m) window sums via a summed-area table.
        table = np.zeros((nby + 1, nbx + 1, blocks.shape[2]), dtype=sat_dtype)
        np.cumsum(blocks, axis=0, dtype=sat_dtype, out=table[1:, 1:])
        np.cumsum(table[1:, 1:], axis=1, out=table[1:, 1:])
        y0, y1, x0, x1 = ys[:, None], ys[:, None] + span, xs[None, :], xs[None, :] + span
        return (table[y1, x1] - table[y0, x1] - table[y1, x0] + table[y0, x0]).astype(np.int32)

    if nby * nbx * n_values <= _BLOCK_GRID_LIMIT:
        # One bincount: pixel value k of block b goes to bin b * n_values + k. Processed in
        # bands of block rows to bound the temporary index array.
        block_view = covered.reshape(nby, g, nbx, g).transpose(0, 2, 1, 3)
        rows_per_band = max(1, _COUNT_BLOCK // (nbx * g * g))
        blocks = np.empty((nby, nbx, n_values), dtype=np.int64)
        for r0 in range(0, nby, rows_per_band):
            band = block_view[r0:r0 + rows_per_band]
            n_blocks = band.shape[0] * nbx
            base = (np.arange(n_blocks, dtype=np.int64) * n_values).reshape(band.shape[0], nbx,
                                                                             1, 1)
            index = band + base
            blocks[r0:r0 + rows_per_band] = np.bincount(
                index.ravel(), minlength=n_blocks * n_values).reshape(band.shape[0], nbx,
                                                                       n_values)
        return box_sums(blocks)
    # Fine block grid (small gcd): one class value at a time, as separable box sums (running
    # sums along rows, read at the window columns, then along columns), keeps memory small.
    present = np.bincount(covered.ravel(), minlength=n_values) > 0
    counts = np.zeros((ny, nx, n_values), dtype=np.int32)
    for k in np.flatnonzero(present):
        mask = covered == k
        if g > 1:
            mask = mask.reshape(nby, g, nbx, g).sum(axis=(1, 3), dtype=sat_dtype)
        along_x = np.zeros((nby, nbx + 1), dtype=sat_dtype)
        np.cumsum(mask, axis=1, dtype=sat_dtype, out=along_x[:, 1:])
        row_sums = along_x[:, xs + span] - along_x[:, xs]                  # (nby, nx)
        along_y = np.zeros((nby + 1, nx), dtype=sat_dtype)
        np.cumsum(row_sums, axis=0, out=along_y[1:])
        counts[..., k] = along_y[ys + span] - along_y[ys]
    return counts


def purity_labels(counts: np.ndarray, tile_size: int, max_unlabelled: float = MAX_UNLABELLED,
                  min_majority: float = MIN_MAJORITY) -> np.ndarray:
    """Apply the purity rule to window class counts.

    Parameters
    ----------
    counts : numpy.ndarray
        Shape (..., n_values) as from :func:`window_class_counts`; value 0 = unlabelled.
    tile_size : int
        Window edge (the window holds ``tile_size ** 2`` pixels).
    max_unlabelled : float
        Largest allowed fraction of unlabelled pixels (0.10).
    min_majority : float
        Smallest fraction of the whole window the most frequent class must cover (0.95).

    Returns
    -------
    numpy.ndarray
        Shape (...,), uint8: the tile's class (1..N) where kept, 0 where rejected.
    """
    area = float(tile_size * tile_size)
    if counts.shape[-1] < 2:
        return np.zeros(counts.shape[:-1], dtype=np.uint8)
    classes = counts[..., 1:]
    major = classes.argmax(axis=-1)
    major_count = np.take_along_axis(classes, major[..., None], axis=-1)[..., 0]
    eps = 1e-9 * area
    keep = ((counts[..., 0] <= max_unlabelled * area + eps)
            & (major_count >= min_majority * area - eps))
    return np.where(keep, major + 1, 0).astype(np.uint8)


def select_windows(labels: np.ndarray, tile_size: int = TILE_SIZE, stride: int = STRIDE,
                   max_unlabelled: float = MAX_UNLABELLED, min_majority: float = MIN_MAJORITY
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of a class raster that pass purity (after cropping to whole tiles).

    Returns
    -------
    rows, cols : numpy.ndarray
        Shape (n,), int64: top-left pixel of each kept window, in row-major order.
    classes : numpy.ndarray
        Shape (n,), uint8: the label of each kept window.
    """
    cropped = crop_to_tiles(np.asarray(labels), tile_size)
    counts = window_class_counts(cropped, tile_size, stride)
    classes = purity_labels(counts, tile_size, max_unlabelled, min_majority)
    iy, ix = np.nonzero(classes)
    return iy * stride, ix * stride, classes[iy, ix]


def cut_tiles(image: np.ndarray, rows: np.ndarray, cols: np.ndarray, tile_size: int) -> np.ndarray:
    """Cut (t, t) tiles at the given top-left pixels of an (H, W, bands) image.

    Returns
    -------
    numpy.ndarray
        Shape (n, t, t, bands), a copy in the image's dtype.
    """
    if image.ndim == 2:
        image = image[..., np.newaxis]
    if len(rows) == 0:
        return np.zeros((0, tile_size, tile_size, image.shape[2]), dtype=image.dtype)
    view = sliding_window_view(image, (tile_size, tile_size), axis=(0, 1))  # (H', W', B, t, t)
    return np.ascontiguousarray(view.transpose(0, 1, 3, 4, 2)[rows, cols])


def extract_tiles(image: np.ndarray, labels: np.ndarray, tile_size: int = TILE_SIZE,
                  stride: int = STRIDE, max_unlabelled: float = MAX_UNLABELLED,
                  min_majority: float = MIN_MAJORITY) -> TileSet:
    """Crop, slide windows and keep the pure tiles of one image (no augmentation).

    Parameters
    ----------
    image : numpy.ndarray
        Shape (H, W, bands) (or (H, W)).
    labels : numpy.ndarray
        Class raster, shape (H, W), 0 = unlabelled.
    tile_size, stride : int
        Window edge and step in pixels.

    Returns
    -------
    TileSet
        Tiles (n, t, t, bands) in row-major window order, with labels and positions.
    """
    _check_tiling(tile_size, stride)
    if image.shape[:2] != labels.shape:
        raise RasterError(f"class raster is {labels.shape[0]} x {labels.shape[1]} pixels but the "
                          f"image is {image.shape[0]} x {image.shape[1]}; they must match.")
    rows, cols, classes = select_windows(labels, tile_size, stride, max_unlabelled, min_majority)
    return TileSet(cut_tiles(image, rows, cols, tile_size), classes, rows, cols)


# ---------------------------------------------------------------------- augmentation


def augment_tiles(tiles: np.ndarray, rng: np.random.Generator, noise_low: int = NOISE_LOW,
                  noise_high: int = NOISE_HIGH) -> np.ndarray:
    """The tile and its 90/180/270 degree rotations, the rotations with clipped integer noise.

    Parameters
    ----------
    tiles : numpy.ndarray
        Shape (n, t, t, bands).
    rng : numpy.random.Generator
        Source of the noise (seeded by the caller).
    noise_low, noise_high : int
        Noise is drawn uniformly from ``[noise_low, noise_high)`` per pixel and band.

    Returns
    -------
    numpy.ndarray
        Shape (n, 4, t, t, bands), same dtype: index i along axis 1 is the tile rotated by
        ``ROTATIONS[i]`` degrees counter-clockwise (``numpy.rot90(tile, i)``); copies 1-3
        carry noise. Integer tiles are clipped to the dtype's range (no wrap-around).
    """
    if tiles.ndim != 4 or tiles.shape[1] != tiles.shape[2]:
        raise ValueError(f"tiles must have shape (n, t, t, bands), got {tiles.shape}")
    out = np.stack([np.rot90(tiles, k, axes=(1, 2)) for k in range(4)], axis=1)
    noise = rng.integers(noise_low, noise_high, size=(tiles.shape[0], 3) + tiles.shape[1:],
                         dtype=np.int16)
    if np.issubdtype(tiles.dtype, np.integer):
        info = np.iinfo(tiles.dtype)
        work = np.int32 if tiles.dtype.itemsize <= 2 else np.int64
        noisy = out[:, 1:].astype(work) + noise
        np.clip(noisy, info.min, info.max, out=noisy)
        out[:, 1:] = noisy.astype(tiles.dtype)
    else:
        out[:, 1:] = out[:, 1:] + noise.astype(tiles.dtype)
    return out


def tile_name(stem: str, row: int, col: int, rotation: int) -> str:
    """File name of a tile: ``<stem>_<row>_<col>_<rot>.tif``, zero-padded so names sort."""
    return f"{stem}_{int(row):05d}_{int(col):05d}_{int(rotation):03d}.tif"


# ------------------------------------------------------------------ class folders


def find_class_folders(folder: str | os.PathLike) -> tuple[Path, dict[int, Path]]:
    """Locate the ``C<k>`` class folders of a tile set.

    ``folder`` may hold the ``C<k>`` folders itself, or be the output folder of tile
    preparation holding them under ``Train/`` (then ``Train/`` is used, never ``Valid/``).

    Returns
    -------
    root : pathlib.Path
        The folder holding the ``C<k>`` folders.
    classes : dict
        ``{k: path}`` sorted by class number.

    Raises
    ------
    InputFileError
        ``folder`` does not exist.
    DataError
        Neither ``folder`` nor ``folder/Train`` holds ``C<k>`` folders.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"tile folder {folder} does not exist. Give the folder that tile "
                             "preparation wrote (or its Train/ subfolder).")
    for root in (folder, folder / TRAIN_DIR):
        if not root.is_dir():
            continue
        found = {}
        for child in root.iterdir():
            match = _CLASS_DIR.match(child.name)
            if match and child.is_dir():
                found[int(match.group(1))] = child
        if found:
            if root != folder:
                log.info("Using the class folders in %s.", root)
            return root, dict(sorted(found.items()))
    raise DataError(f"no class folders (C1, C2, ...) in {folder} or {folder / TRAIN_DIR}. Give "
                    "the output folder of tile preparation, or the folder holding C<k>.")


def list_tiles(class_dir: str | os.PathLike) -> list[Path]:
    """Tile files (``.tif``/``.tiff``, not hidden) of one class folder, sorted by name."""
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        return []
    return sorted((p for p in class_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in TILE_EXTENSIONS
                   and not p.name.startswith(".")), key=lambda p: p.name)


def count_tiles(folder: str | os.PathLike) -> dict[int, int]:
    """``{k: number of tiles in C<k>}`` for a folder of class folders (or its Train/)."""
    _, classes = find_class_folders(folder)
    return {k: len(list_tiles(path)) for k, path in classes.items()}


# ------------------------------------------------------------------ preparation


@dataclass
class _ImagePlan:
    path: Path
    stem: str
    classes_path: Path
    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray
    valid: np.ndarray          # bool, shape (n,)


def _check_inputs(tile_size, stride, valid_fraction, bands):
    _check_tiling(tile_size, stride)
    if not 0.0 <= float(valid_fraction) < 1.0:
        raise ConfigError(f"validation fraction must lie in [0, 1), got {valid_fraction}. "
                          "Use 0 for no validation tiles, 0.2 for a fifth.")
    if bands is not None and (isinstance(bands, bool) or not isinstance(bands, (int, np.integer))
                              or bands < 1):
        raise ConfigError(f"bands must be a positive whole number or None (all bands), "
                          f"got {bands!r}.")


def _plan(images_dir: Path, tile_size: int, stride: int, valid_fraction: float, bands,
          rng: np.random.Generator) -> tuple[list[_ImagePlan], list[str], int, np.dtype]:
    """First pass: check every input, select pure windows and the validation split.

    Nothing is written; every error a user can cause is raised here.
    """
    images = list_images(images_dir)
    if not images:
        raise InputFileError(f"{images_dir} holds no images (.tif, .png, .jpg). Check the path "
                             "(TrainPath / --images).")
    stems = Counter(p.stem for p in images)
    doubles = sorted(s for s, n in stems.items() if n > 1)
    if doubles:
        raise DataError(f"{images_dir} holds several images with the stem {doubles[0]!r} (for "
                        "example .tif and .jpg); tile names and class rasters go by stem. Keep "
                        "one image per stem.")
    plans, skipped = [], []
    band_counts, dtypes = {}, {}
    for path in tqdm(images, desc="Checking class rasters", unit="image", disable=None):
        companions = find_companions(path)
        if companions.classes is None:
            log.warning("%s has no SCLS_%s class raster beside it: skipped.", path.name, path.stem)
            skipped.append(path.name)
            continue
        with _open_raster(path) as src:
            height, width, count, dtype = src.height, src.width, src.count, np.dtype(src.dtypes[0])
        if bands is not None and count < bands:
            raise RasterError(f"{path.name} has {count} band(s) but {bands} were asked for "
                              f"(--bands). Use --bands {count} or give images with {bands} bands.")
        if tile_size > min(height, width):
            raise ConfigError(f"tile size {tile_size} is larger than {path.name} ({height} x "
                              f"{width} pixels). Use --tile-size {min(height, width)} or less, or "
                              "remove that image from the folder.")
        band_counts[path.name] = bands or count
        dtypes[path.name] = dtype
        labels = read_labels(companions.classes, shape=(height, width), resize_to_shape=False)
        rows, cols, classes = select_windows(labels, tile_size, stride)
        if len(classes) == 0:
            log.warning("%s: no tile passes purity (at most %d%% unlabelled, at least %d%% one "
                        "class).", path.name, round(100 * MAX_UNLABELLED),
                        round(100 * MIN_MAJORITY))
        valid = np.zeros(len(classes), dtype=bool)
        if valid_fraction > 0:
            # Stratified per class so that every class of the image reaches Valid/.
            for k in np.unique(classes):
                members = np.flatnonzero(classes == k)
                n_valid = int(round(valid_fraction * len(members)))
                valid[rng.choice(members, size=n_valid, replace=False)] = True
        plans.append(_ImagePlan(path, path.stem, companions.classes, rows, cols, classes, valid))
    if not plans:
        raise InputFileError(f"no image in {images_dir} has an SCLS_<image stem> class raster "
                             "beside it. Put each image's class raster next to it.")
    if len(set(band_counts.values())) > 1:
        listing = ", ".join(f"{n}: {b}" for n, b in band_counts.items())
        raise RasterError(f"the images have different band counts ({listing}); tiles of one set "
                          f"must match. Use --bands {min(band_counts.values())}.")
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise RasterError(f"the images have different pixel types ({listing}); mixing 8-bit and "
                          "16-bit images in one tile set would mix value ranges. Prepare them "
                          "in separate folders.")
    if sum(len(p.labels) for p in plans) == 0:
        raise DataError(f"no tile of any image in {images_dir} passes purity (at most "
                        f"{round(100 * MAX_UNLABELLED)}% unlabelled and at least "
                        f"{round(100 * MIN_MAJORITY)}% of one class in a {tile_size} x "
                        f"{tile_size} tile). Use a smaller --tile-size or label larger, "
                        "purer areas in the SCLS_ rasters.")
    return plans, skipped, next(iter(band_counts.values())), next(iter(dtypes.values()))


def _augmented_chunks(plan: _ImagePlan, image: np.ndarray, subset_mask: np.ndarray,
                      tile_size: int, rng: np.random.Generator):
    """Yield (tiles (m, 4, t, t, B), labels (m,), rows (m,), cols (m,)) for one subset."""
    index = np.flatnonzero(subset_mask)
    for start in range(0, len(index), _AUGMENT_CHUNK):
        part = index[start:start + _AUGMENT_CHUNK]
        tiles = cut_tiles(image, plan.rows[part], plan.cols[part], tile_size)
        yield augment_tiles(tiles, rng), plan.labels[part], plan.rows[part], plan.cols[part]


def prepare_tiles(images_dir: str | os.PathLike, out_dir: str | os.PathLike,
                  tile_size: int = TILE_SIZE, stride: int = STRIDE, valid_fraction: float = 0.0,
                  seed: int = 0, bands: int | None = None, tensor_name: str | None = None,
                  tensor_mode: str = "float16", norm_factor: float | None = None,
                  n_classes: int | None = None, run_config: dict | None = None,
                  script: str | None = None) -> PreparationResult:
    """Cut, check and augment training tiles from a folder of images with class rasters.

    Parameters
    ----------
    images_dir : path-like
        Folder of images (GeoTIFF, PNG, JPEG), each with its ``SCLS_<stem>`` class raster;
        images without one are skipped with a warning.
    out_dir : path-like
        Output folder: tiles go to ``Train/C<k>/`` (and ``Valid/C<k>/``), ``run.json`` beside.
        Tiles already there are kept (tiles of the same name are replaced), so several image
        folders may feed one tile set.
    tile_size, stride : int
        Tile edge and window step in pixels (50, 25).
    valid_fraction : float
        Fraction of each image's pure source tiles, per class, that go (with their three
        rotated copies) to ``Valid/`` instead of ``Train/``. 0 (default) writes no Valid/.
    seed : int
        Seed of the validation split and of the noise.
    bands : int, optional
        Keep the first ``bands`` bands (3 = RGB, 4 = RGB + NIR); all when None.
    tensor_name : str, optional
        Tensor mode: write ``<out>/<name>_T_<mode>.npy``, ``<name>_L_<mode>.npy`` and
        ``<name>_<mode>.json`` (validation tiles: ``<name>_valid_...``) instead of tile files.
        The tensors equal those :func:`seeice.phase1.tensors.compile_tensor` makes from the files.
    tensor_mode, norm_factor : optional
        Tensor dtype and normalisation (see :func:`seeice.phase1.tensors.convert_tiles`).
    n_classes : int, optional
        Tensor mode: number of classes recorded (default: the largest class found).
    run_config, script : optional
        Resolved user inputs and script name for ``run.json`` (default: these arguments).

    Returns
    -------
    PreparationResult

    Raises
    ------
    InputFileError
        The folder is missing, holds no images, or no image has a class raster.
    RasterError
        A class raster's size differs from its image's, images differ in band count or
        pixel type, or an image has fewer bands than asked.
    ConfigError
        Bad tile size, stride, fraction, bands, or a tile larger than an image.
    DataError
        No tile of any image passes purity, or two images share a stem.

    All these are raised before anything is written.
    """
    from seeice.phase1.tensors import TensorWriter, check_mode  # tensors imports this module

    images_dir, out_dir = Path(images_dir), Path(out_dir)
    _check_inputs(tile_size, stride, valid_fraction, bands)
    if tensor_name is not None:
        check_mode(tensor_mode)
        tensor_name = str(tensor_name)
        if not tensor_name or any(c in tensor_name for c in "/\\"):
            raise ConfigError(f"tensor name {tensor_name!r} must be a plain file name stem.")
    rng = np.random.default_rng(seed)
    plans, skipped, n_bands, dtype = _plan(images_dir, tile_size, stride, valid_fraction,
                                           bands, rng)
    found_classes = sorted({int(k) for p in plans for k in np.unique(p.labels)})
    if tensor_name is not None:
        if n_classes is None:
            n_classes = max(found_classes)
        elif max(found_classes) > n_classes:
            raise ConfigError(f"the class rasters hold class {max(found_classes)} but "
                              f"{n_classes} classes were given (--classes). Use --classes "
                              f"{max(found_classes)} or check the class rasters.")

    subsets = [TRAIN_DIR] + ([VALID_DIR] if valid_fraction > 0 else [])
    masks = {TRAIN_DIR: lambda p: ~p.valid, VALID_DIR: lambda p: p.valid}
    result = PreparationResult(out_dir)
    result.images = [p.path.name for p in plans]
    result.skipped = skipped
    counts = {s: Counter() for s in subsets}
    for s in subsets:
        for p in plans:
            counts[s].update({int(k): 4 * int(n) for k, n in
                              zip(*np.unique(p.labels[masks[s](p)], return_counts=True))})

    if run_config is None:
        run_config = {"images_dir": str(images_dir), "out_dir": str(out_dir),
                      "tile_size": tile_size, "stride": stride, "valid_fraction": valid_fraction,
                      "seed": seed, "bands": bands, "tensor_name": tensor_name,
                      "tensor_mode": tensor_mode, "norm_factor": norm_factor,
                      "n_classes": n_classes}
    script = script or "seeice.phase1.tiling.prepare_tiles"

    if VALID_DIR in subsets and not counts[VALID_DIR]:
        log.warning("The validation fraction %g selects no tile (too few pure tiles per class "
                    "and image); no validation tiles are written.", valid_fraction)
        subsets.remove(VALID_DIR)
    if tensor_name is None:
        existing = sum(len(list_tiles(out_dir / s / f"C{k}")) for s in subsets
                       for k in found_classes)
        if existing:
            log.warning("%s already holds %d tiles; new tiles are added beside them (same "
                        "names are replaced).", out_dir, existing)
    writers, destinations = {}, {}
    try:
        if tensor_name is not None:
            for s in subsets:
                destinations[s] = _tensor_positions(plans, masks[s])
                name = tensor_name if s == TRAIN_DIR else f"{tensor_name}_valid"
                writers[s] = TensorWriter(out_dir, name, n_tiles=len(destinations[s]),
                                          tile_size=tile_size, bands=n_bands, source_dtype=dtype,
                                          mode=tensor_mode, norm_factor=norm_factor,
                                          n_classes=n_classes, run_config=run_config,
                                          script=script,
                                          extra={"source": str(images_dir), "subset": s})
        filled = {s: 0 for s in subsets}
        for plan in tqdm(plans, desc="Tiling", unit="image", disable=None):
            if len(plan.labels) == 0:
                continue
            image = read_image(plan.path, bands=bands).data
            for s in subsets:
                for aug, labels, rows, cols in _augmented_chunks(plan, image, masks[s](plan),
                                                                 tile_size, rng):
                    if tensor_name is None:
                        _write_tile_files(out_dir / s, plan.stem, aug, labels, rows, cols)
                    else:
                        m = aug.shape[0] * 4
                        positions = destinations[s][filled[s]:filled[s] + m]
                        writers[s].put(positions, aug.reshape((m,) + aug.shape[2:]),
                                       np.repeat(labels, 4))
                        filled[s] += m
        for s, writer in writers.items():
            result.tensors[s] = writer.commit()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise

    result.counts = {s: dict(sorted(counts[s].items())) for s in subsets}
    for s in subsets:
        summary = ", ".join(f"C{k}: {n}" for k, n in result.counts[s].items())
        log.info("%s tiles per class (%d in all): %s", s, sum(result.counts[s].values()), summary)
    extra = {"tiles_per_class": {s: {f"C{k}": n for k, n in c.items()}
                                 for s, c in result.counts.items()},
             "images": result.images, "skipped_images": skipped,
             "bands": n_bands, "source_dtype": str(dtype)}
    if tensor_name is not None:
        extra["tensors"] = {s: str(t.tensor) for s, t in result.tensors.items()}
    save_run_config(out_dir, run_config, script=script, extra=extra)
    return result


def _write_tile_files(subset_dir: Path, stem: str, aug: np.ndarray, labels: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray) -> None:
    """Write every tile and rotated copy of one chunk as a small uncompressed GeoTIFF."""
    for k in np.unique(labels):
        (subset_dir / f"C{int(k)}").mkdir(parents=True, exist_ok=True)
    for i in range(aug.shape[0]):
        folder = subset_dir / f"C{int(labels[i])}"
        for r, rotation in enumerate(ROTATIONS):
            write_raster(folder / tile_name(stem, rows[i], cols[i], rotation), aug[i, r],
                         compress=None)


def _tensor_positions(plans: list[_ImagePlan], mask_of) -> np.ndarray:
    """Row of each generated tile in the compiled tensor, in generation order.

    Compilation reads C1..CN in order and each folder sorted by file name; tensor mode
    writes each tile where that reading would put its file, so both give equal tensors.
    """
    keys = []
    for plan in plans:
        mask = mask_of(plan)
        for label, row, col in zip(plan.labels[mask], plan.rows[mask], plan.cols[mask]):
            for rotation in ROTATIONS:
                keys.append((int(label), tile_name(plan.stem, row, col, rotation)))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    positions = np.empty(len(keys), dtype=np.int64)
    positions[order] = np.arange(len(keys))
    return positions

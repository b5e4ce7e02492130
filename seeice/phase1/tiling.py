"""Training windows of one image: crop to whole tiles, window positions and purity labels (DESIGN section 4).

A window is kept when unlabelled pixels are at most 10 % of it and its most frequent class
covers at least 95 % of it; its label is that class. A window holding any no-data pixel of the
image (:mod:`seeice.io.validity`) is never kept: training tiles hold no filled values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from seeice.checks import positive_int
from seeice.defaults import STRIDE, TILE_SIZE
from seeice.errors import RasterError

MAX_UNLABELLED = 0.10
MIN_MAJORITY = 0.95
# Pixels indexed per bincount call (bounds the temporary index array to ~32 MB).
_COUNT_BLOCK = 1 << 22
# Largest block grid (blocks x class values) counted with one bincount; finer grids
# (small gcd of tile size and stride) are counted one class value at a time.
_BLOCK_GRID_LIMIT = 1 << 22


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


def check_tiling(tile_size: int, stride: int) -> None:
    positive_int(tile_size, "tile size", "Give it in pixels.")
    positive_int(stride, "stride", "Give it in pixels.")


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
    check_tiling(tile_size, stride)
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
    check_tiling(tile_size, stride)
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
                   max_unlabelled: float = MAX_UNLABELLED, min_majority: float = MIN_MAJORITY,
                   valid: np.ndarray | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows of a class raster that pass purity (after cropping to whole tiles).

    Parameters
    ----------
    labels : numpy.ndarray
        (H, W) class raster, 0 = unlabelled.
    tile_size, stride, max_unlabelled, min_majority
        As in :func:`purity_labels`.
    valid : numpy.ndarray, optional
        (H, W) bool, the image's valid pixels: windows touching no-data are rejected.

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
    if valid is not None and not np.all(valid):
        if np.shape(valid) != np.shape(labels):
            raise RasterError(f"the valid mask is {np.shape(valid)} but the class raster "
                              f"{np.shape(labels)}; they must match.")
        invalid = crop_to_tiles(~np.asarray(valid, dtype=bool), tile_size).astype(np.uint8)
        touched = window_class_counts(invalid, tile_size, stride, n_values=2)[..., 1] > 0
        classes = np.where(touched, 0, classes).astype(np.uint8)
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
                  min_majority: float = MIN_MAJORITY, valid: np.ndarray | None = None) -> TileSet:
    """Crop, slide windows and keep the pure tiles of one image (no augmentation).

    Parameters
    ----------
    image : numpy.ndarray
        Shape (H, W, bands) (or (H, W)).
    labels : numpy.ndarray
        Class raster, shape (H, W), 0 = unlabelled.
    tile_size, stride : int
        Window edge and step in pixels.
    valid : numpy.ndarray, optional
        (H, W) bool valid mask; windows touching no-data are not kept.

    Returns
    -------
    TileSet
        Tiles (n, t, t, bands) in row-major window order, with labels and positions.
    """
    check_tiling(tile_size, stride)
    if image.shape[:2] != labels.shape:
        raise RasterError(f"class raster is {labels.shape[0]} x {labels.shape[1]} pixels but the "
                          f"image is {image.shape[0]} x {image.shape[1]}; they must match.")
    rows, cols, classes = select_windows(labels, tile_size, stride, max_unlabelled, min_majority,
                                         valid=valid)
    return TileSet(cut_tiles(image, rows, cols, tile_size), classes, rows, cols)

"""Phase one applied to one image: label its non-overlapping tiles with the trained tile CNN.

The image is cropped to whole tiles (origin top-left), split into tiles in row-major order,
predicted in batches, and each tile's class (argmax over the NClasses + 1 outputs) is painted
over its pixels. The cropped-off right and bottom margins stay 0 (unclassified).
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from seeice.errors import DataError, ModelError

log = logging.getLogger(__name__)


def split_into_tiles(image: np.ndarray, tile_size: int) -> tuple[np.ndarray, tuple[int, int]]:
    """Split the top-left whole-tile part of an image into tiles, row-major.

    Parameters
    ----------
    image : numpy.ndarray
        Shape (H, W, bands).
    tile_size : int
        Tile edge t in pixels.

    Returns
    -------
    tiles : numpy.ndarray
        Shape (rows * cols, t, t, bands), a copy.
    grid : (int, int)
        (rows, cols) = (H // t, W // t).
    """
    height, width = image.shape[:2]
    rows, cols = height // tile_size, width // tile_size
    if rows == 0 or cols == 0:
        raise DataError(f"the image ({height} x {width} px) is smaller than one {tile_size} x "
                        f"{tile_size} tile; phase one cannot label it. Use a larger image or a "
                        "model trained on smaller tiles.")
    cropped = image[:rows * tile_size, :cols * tile_size]
    tiles = cropped.reshape(rows, tile_size, cols, tile_size, -1).swapaxes(1, 2)
    return tiles.reshape(rows * cols, tile_size, tile_size, image.shape[2]), (rows, cols)


def paint_tiles(tile_classes: np.ndarray, grid: tuple[int, int], tile_size: int,
                shape: tuple[int, int]) -> np.ndarray:
    """Paint one class per tile back onto an (H, W) raster; the uncovered margin is 0.

    Parameters
    ----------
    tile_classes : numpy.ndarray
        Shape (rows * cols,), row-major.
    grid : (int, int)
        (rows, cols).
    tile_size : int
        Tile edge t.
    shape : (int, int)
        (H, W) of the full image.
    """
    rows, cols = grid
    raster = np.zeros(shape, dtype=np.uint8)
    block = np.repeat(np.repeat(tile_classes.reshape(rows, cols).astype(np.uint8), tile_size, 0),
                      tile_size, 1)
    raster[:rows * tile_size, :cols * tile_size] = block
    return raster


def classify_tiles(model, image: np.ndarray, tile_size: int, valid: np.ndarray | None = None,
                   max_invalid_fraction: float = 0.1, batch_size: int = 256,
                   progress: bool = True) -> np.ndarray:
    """Label an image tile by tile with the phase-one CNN.

    Parameters
    ----------
    model : keras.Model
        Tile CNN with input (t, t, bands) and NClasses + 1 softmax outputs.
    image : numpy.ndarray
        Normalised image, shape (H, W, bands), float32.
    tile_size : int
        Tile edge t; must equal the model's input size.
    valid : numpy.ndarray of bool, optional
        Shape (H, W); False marks nodata pixels. Tiles with more than
        ``max_invalid_fraction`` nodata stay 0.
    batch_size : int
        Tiles per prediction batch.
    progress : bool
        Show a progress bar over batches.

    Returns
    -------
    numpy.ndarray
        Shape (H, W), uint8: the tile classes painted over their pixels, 0 in the margin.
    """
    input_shape = tuple(model.input_shape[1:])
    if input_shape[:2] != (tile_size, tile_size):
        raise ModelError(f"tile size {tile_size} does not match the model, whose input is "
                         f"{input_shape[0]} x {input_shape[1]} px. Use --tile-size "
                         f"{input_shape[0]}.")
    if input_shape[2] != image.shape[2]:
        raise ModelError(f"the model expects {input_shape[2]} bands but the image has "
                         f"{image.shape[2]}. Use --bands {input_shape[2]}.")
    tiles, grid = split_into_tiles(image, tile_size)
    n_tiles = tiles.shape[0]
    predicted = np.empty(n_tiles, dtype=np.uint8)
    starts = range(0, n_tiles, batch_size)
    for start in tqdm(starts, desc="phase-one tiles", unit="batch", disable=not progress,
                      leave=False):
        batch = tiles[start:start + batch_size].astype(np.float32, copy=False)
        scores = np.asarray(model(batch, training=False))
        predicted[start:start + batch_size] = scores.argmax(axis=1)
    if valid is not None:
        valid_tiles, _ = split_into_tiles(valid[..., np.newaxis], tile_size)
        invalid_share = 1.0 - valid_tiles.reshape(n_tiles, -1).mean(axis=1)
        predicted[invalid_share > max_invalid_fraction] = 0
    log.debug("phase one labelled %d tiles of %d x %d px", n_tiles, tile_size, tile_size)
    return paint_tiles(predicted, grid, tile_size, image.shape[:2])

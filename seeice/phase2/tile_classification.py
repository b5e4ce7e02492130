"""Phase one applied to one image: label its non-overlapping tiles with the trained tile CNN.

The image is cropped to whole tiles (origin top-left), split into tiles in row-major order,
predicted in batches, and each tile's class (argmax over the NClasses + 1 outputs) is painted
over its pixels. The cropped-off right and bottom margins stay 0 (unclassified).

The tiles are streamed: each batch is cut from the few tile rows it covers, so memory holds
one batch of tiles, never all of them (48 000 tiles, 1.9 GB as float32, for a whole
Sentinel-2 granule at 50 px). The batches are the same as when all tiles were cut at once.
"""

from __future__ import annotations

import logging

import numpy as np
from tqdm.auto import tqdm

from seeice.errors import DataError, ModelError
from seeice.normalise import pixel_source

log = logging.getLogger(__name__)


def tile_grid(shape: tuple[int, int], tile_size: int) -> tuple[int, int]:
    """(rows, cols) of whole tiles in an (H, W) image, origin top-left.

    Parameters
    ----------
    shape : (int, int)
        (H, W) of the image.
    tile_size : int
        Tile edge t in pixels.

    Returns
    -------
    (int, int)
        (H // t, W // t).

    Raises
    ------
    DataError
        The image is smaller than one tile.
    """
    height, width = shape
    rows, cols = height // tile_size, width // tile_size
    if rows == 0 or cols == 0:
        raise DataError(f"the image ({height} x {width} px) is smaller than one {tile_size} x "
                        f"{tile_size} tile; phase one cannot label it. Use a larger image or a "
                        "model trained on smaller tiles.")
    return rows, cols


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
    rows, cols = tile_grid(image.shape[:2], tile_size)
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
    image : numpy.ndarray or seeice.normalise.NormalisedImage
        Normalised image, shape (H, W, bands), float32 (a :class:`NormalisedImage` is
        normalised tile row by tile row).
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
    image = pixel_source(image)
    input_shape = tuple(model.input_shape[1:])
    if input_shape[:2] != (tile_size, tile_size):
        raise ModelError(f"tile size {tile_size} does not match the model, whose input is "
                         f"{input_shape[0]} x {input_shape[1]} px. Use --tile-size "
                         f"{input_shape[0]}.")
    if input_shape[2] != image.shape[2]:
        raise ModelError(f"the model expects {input_shape[2]} bands but the image has "
                         f"{image.shape[2]}. Use --bands {input_shape[2]}.")
    rows, cols = tile_grid(image.shape[:2], tile_size)
    n_tiles = rows * cols
    predicted = np.empty(n_tiles, dtype=np.uint8)
    starts = range(0, n_tiles, batch_size)
    for start in tqdm(starts, desc="phase-one tiles", unit="batch", disable=not progress,
                      leave=False):
        stop = min(start + batch_size, n_tiles)
        first_row, last_row = start // cols, (stop - 1) // cols
        band = image[first_row * tile_size:(last_row + 1) * tile_size, :cols * tile_size]
        tiles, _ = split_into_tiles(np.asarray(band, dtype=np.float32), tile_size)
        offset = first_row * cols
        scores = np.asarray(model(tiles[start - offset:stop - offset], training=False))
        predicted[start:stop] = scores.argmax(axis=1)
    if valid is not None:
        covered = np.asarray(valid, dtype=bool)[:rows * tile_size, :cols * tile_size]
        valid_count = covered.reshape(rows, tile_size, cols, tile_size).sum(axis=(1, 3),
                                                                          dtype=np.int64)
        invalid_share = 1.0 - valid_count.ravel() / float(tile_size * tile_size)
        predicted[invalid_share > max_invalid_fraction] = 0
    log.debug("phase one labelled %d tiles of %d x %d px", n_tiles, tile_size, tile_size)
    return paint_tiles(predicted, (rows, cols), tile_size, image.shape[:2])

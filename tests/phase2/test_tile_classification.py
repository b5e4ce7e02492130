"""Known answers for phase one on an image: tile order, painting, margin and the no-data rule."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.errors import ModelError
from seeice.phase2.tile_classification import classify_tiles

TILE = 10


class ValueModel:
    """Stand-in tile CNN: the class of a tile is the value of its top-left pixel in band 0."""

    def __init__(self, tile=TILE, bands=2, outputs=8):
        self.input_shape = (None, tile, tile, bands)
        self.outputs = outputs
        self.calls = 0

    def __call__(self, batch, training=False):
        self.calls += 1
        classes = np.rint(np.asarray(batch)[:, 0, 0, 0]).astype(int)
        return np.eye(self.outputs, dtype=np.float32)[classes]


def _image():
    """25 x 35 px, 2 bands: a 2 x 3 grid of 10 px tiles holding classes 1..6 row by row."""
    image = np.zeros((25, 35, 2), np.float32)
    for i in range(2):
        for j in range(3):
            image[i * TILE:(i + 1) * TILE, j * TILE:(j + 1) * TILE, 0] = 1 + 3 * i + j
    return image


def test_tiles_are_classified_in_row_major_order_and_painted():
    out = classify_tiles(ValueModel(), _image(), TILE, batch_size=4, progress=False)
    assert out.shape == (25, 35) and out.dtype == np.uint8
    expected = np.zeros((25, 35), np.uint8)
    for i in range(2):
        for j in range(3):
            expected[i * TILE:(i + 1) * TILE, j * TILE:(j + 1) * TILE] = 1 + 3 * i + j
    np.testing.assert_array_equal(out, expected)   # the cropped-off margin stays 0


def test_a_tile_with_more_than_a_tenth_no_data_is_not_classified():
    valid = np.ones((25, 35), bool)
    valid[0, :10] = False                          # tile (0, 0): 10 of 100 px, exactly 0.1
    valid[0, 10:20] = False
    valid[1, 10] = False                           # tile (0, 1): 11 of 100 px
    out = classify_tiles(ValueModel(), _image(), TILE, valid=valid, progress=False)
    assert np.all(out[:10, :10] == 1)              # kept: the share is not above 0.1
    assert np.all(out[:10, 10:20] == 0)            # refused: 0.11
    assert np.all(out[:10, 20:30] == 3)


def test_model_shape_mismatch_names_the_fix():
    with pytest.raises(ModelError, match="--tile-size 10"):
        classify_tiles(ValueModel(), _image(), 5, progress=False)
    with pytest.raises(ModelError, match="--bands 3"):
        classify_tiles(ValueModel(bands=3), _image(), TILE, progress=False)

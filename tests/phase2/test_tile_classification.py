"""Known answers for phase one on an image: tile order, painting, margin and the no-data rule."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.errors import DataError, ModelError
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


class RecordingModel(ValueModel):
    """Stand-in tile CNN that keeps every batch it is given and labels every tile class 1."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.batches = []
        self.training = []

    def __call__(self, batch, training=False):
        self.batches.append(np.array(batch))
        self.training.append(training)
        return np.eye(self.outputs, dtype=np.float32)[np.ones(len(batch), int)]


def _image():
    """25 x 35 px, 2 bands: a 2 x 3 grid of 10 px tiles holding classes 1..6 row by row."""
    image = np.zeros((25, 35, 2), np.float32)
    for i in range(2):
        for j in range(3):
            image[i * TILE:(i + 1) * TILE, j * TILE:(j + 1) * TILE, 0] = 1 + 3 * i + j
    return image


def _painted():
    """The known answer for :func:`_image`: classes 1..6 over the tiles, 0 in the 5 px margin."""
    expected = np.zeros((25, 35), np.uint8)
    for i in range(2):
        for j in range(3):
            expected[i * TILE:(i + 1) * TILE, j * TILE:(j + 1) * TILE] = 1 + 3 * i + j
    return expected


def test_tiles_are_classified_in_row_major_order_and_painted():
    out = classify_tiles(ValueModel(), _image(), TILE, batch_size=4, progress=False)
    assert out.shape == (25, 35) and out.dtype == np.uint8
    np.testing.assert_array_equal(out, _painted())   # the cropped-off margin stays 0


def test_the_model_sees_each_whole_tile_once_row_major_in_batches():
    """Tiles reach the model unchanged (pixel layout and bands), row by row, batch_size at a time."""
    image = np.arange(25 * 35 * 2, dtype=np.float32).reshape(25, 35, 2)
    model = RecordingModel()
    out = classify_tiles(model, image, TILE, batch_size=4, progress=False)
    assert [b.shape for b in model.batches] == [(4, TILE, TILE, 2), (2, TILE, TILE, 2)]
    assert all(b.dtype == np.float32 for b in model.batches)
    assert model.training == [False, False]
    expected = [image[i * TILE:(i + 1) * TILE, j * TILE:(j + 1) * TILE] for i in range(2) for j in range(3)]
    np.testing.assert_array_equal(np.concatenate(model.batches), np.stack(expected))
    assert np.all(out[:20, :30] == 1) and not out[20:].any() and not out[:, 30:].any()


@pytest.mark.parametrize("batch_size, calls", [(1, 6), (5, 2), (6, 1), (256, 1)])
def test_the_result_does_not_depend_on_the_batch_size(batch_size, calls):
    model = ValueModel()
    out = classify_tiles(model, _image(), TILE, batch_size=batch_size, progress=False)
    assert model.calls == calls
    np.testing.assert_array_equal(out, _painted())


def test_an_image_smaller_than_one_tile_is_a_data_error():
    with pytest.raises(DataError, match="smaller than one 10 x 10 tile"):
        classify_tiles(ValueModel(), np.zeros((9, 40, 2), np.float32), TILE, progress=False)


def test_a_tile_with_more_than_a_tenth_no_data_is_not_classified():
    valid = np.ones((25, 35), bool)
    valid[0, :10] = False                          # tile (0, 0): 10 of 100 px, exactly 0.1
    valid[0, 10:20] = False
    valid[1, 10] = False                           # tile (0, 1): 11 of 100 px
    out = classify_tiles(ValueModel(), _image(), TILE, valid=valid, progress=False)
    assert np.all(out[:10, :10] == 1)              # kept: the share is not above 0.1
    assert np.all(out[:10, 10:20] == 0)            # refused: 0.11
    assert np.all(out[:10, 20:30] == 3)
    assert np.all(out[10:20, :30] == np.repeat([4, 5, 6], TILE))  # the second row is untouched


@pytest.mark.parametrize("n_invalid, classified", [(0, True), (9, True), (10, True), (11, False),
                                                   (50, False), (100, False)])
def test_the_no_data_rule_at_and_around_its_threshold(n_invalid, classified):
    """Tile (1, 1), class 5, with ``n_invalid`` of its 100 px marked no-data."""
    valid = np.ones((25, 35), bool)
    valid[10:20, 10:20].flat[:n_invalid] = False
    out = classify_tiles(ValueModel(), _image(), TILE, valid=valid, progress=False)
    expected = _painted()
    if not classified:
        expected[10:20, 10:20] = 0
    np.testing.assert_array_equal(out, expected)


@pytest.mark.parametrize("fraction, kept", [(0.0, [1]), (0.05, [1, 3]), (0.2, [1, 2, 3]), (1.0, [1, 2, 3])])
def test_the_no_data_share_is_a_parameter(fraction, kept):
    """Tile (0, 0) is all valid, tile (0, 1) has 20 % no-data, tile (0, 2) 1 %."""
    valid = np.ones((25, 35), bool)
    valid[:2, 10:20] = False
    valid[0, 20] = False
    out = classify_tiles(ValueModel(), _image(), TILE, valid=valid, max_invalid_fraction=fraction,
                         progress=False)
    first_row = [int(out[5, j * TILE + 5]) for j in range(3)]
    assert first_row == [c if c in kept else 0 for c in (1, 2, 3)]


def test_no_data_in_the_cropped_margin_does_not_count():
    """Only the pixels of a tile count: an all-no-data margin leaves every tile classified."""
    valid = np.ones((25, 35), bool)
    valid[20:, :] = False
    valid[:, 30:] = False
    out = classify_tiles(ValueModel(), _image(), TILE, valid=valid, progress=False)
    np.testing.assert_array_equal(out, _painted())


def test_model_shape_mismatch_names_the_fix():
    with pytest.raises(ModelError, match="--tile-size 10"):
        classify_tiles(ValueModel(), _image(), 5, progress=False)
    with pytest.raises(ModelError, match="--bands 3"):
        classify_tiles(ValueModel(bands=3), _image(), TILE, progress=False)

"""The image normalised on read: every stage of phase two gives what the float copy gave."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.normalise import NormalisedImage, normalise, pixel_source
from seeice.phase2.sampling import gather_windows, sample_indices
from seeice.phase2.tile_classification import classify_tiles

FACTOR = 8192.0


@pytest.fixture
def raw():
    """30 x 41 x 4 uint16 DN, every value different where the range allows."""
    rng = np.random.default_rng(3)
    return rng.integers(1, 16000, size=(30, 41, 4), dtype=np.uint16)


def test_slices_and_windows_equal_those_of_the_float_copy(raw):
    lazy, whole = NormalisedImage(raw, FACTOR), normalise(raw, FACTOR)
    assert lazy.shape == (30, 41, 4) and lazy.ndim == 3 and lazy.dtype == np.float32
    for key in (np.s_[3:17], np.s_[5:9, 2:40:3], np.s_[7, 8], np.s_[:, :, 1:3]):
        part = lazy[key]
        assert part.dtype == np.float32
        np.testing.assert_array_equal(part, whole[key])
    rows, cols = np.array([3, 10, 26]), np.array([3, 37, 20])
    np.testing.assert_array_equal(gather_windows(lazy, rows, cols, 7),
                                  gather_windows(whole, rows, cols, 7))
    np.testing.assert_array_equal(np.asarray(lazy), whole)


def test_the_raw_pixels_are_kept_not_copied(raw):
    lazy = NormalisedImage(raw, FACTOR)
    assert lazy.raw is raw and lazy.raw.dtype == np.uint16
    assert pixel_source(lazy) is lazy
    assert pixel_source(raw[..., 0]).shape == (30, 41, 1)


@pytest.mark.parametrize("factor", [0, -1.0, float("nan")])
def test_a_factor_that_is_not_positive_is_refused(raw, factor):
    with pytest.raises(ValueError, match="must be positive"):
        NormalisedImage(raw, factor)


class RecordingModel:
    """Stand-in tile CNN: records the batches and labels a tile by its mean brightness."""

    def __init__(self, tile: int, bands: int = 4):
        self.input_shape = (None, tile, tile, bands)
        self.batches = []

    def __call__(self, batch, training=False):
        batch = np.asarray(batch)
        self.batches.append(batch.copy())
        classes = 1 + (batch.mean(axis=(1, 2, 3)) > 0.98).astype(int)
        return np.eye(3, dtype=np.float32)[classes]


@pytest.mark.parametrize("batch_size", [1, 3, 7, 100])
def test_phase_one_streams_the_same_batches_from_the_raw_image(raw, batch_size):
    """Batches cut from the few tile rows they cover equal the batches of all tiles cut at once."""
    lazy_model, whole_model = RecordingModel(6), RecordingModel(6)
    out_lazy = classify_tiles(lazy_model, NormalisedImage(raw, FACTOR), 6, batch_size=batch_size,
                              progress=False)
    out_whole = classify_tiles(whole_model, normalise(raw, FACTOR), 6, batch_size=batch_size,
                               progress=False)
    np.testing.assert_array_equal(out_lazy, out_whole)
    assert len(lazy_model.batches) == -(-(5 * 6) // batch_size)
    for a, b in zip(lazy_model.batches, whole_model.batches):
        np.testing.assert_array_equal(a, b)
    tiles = [normalise(raw[i * 6:(i + 1) * 6, j * 6:(j + 1) * 6], FACTOR)
             for i in range(5) for j in range(6)]
    np.testing.assert_array_equal(np.concatenate(lazy_model.batches), np.stack(tiles))


def test_samples_gathered_from_the_raw_image_train_on_the_same_windows(raw):
    classes = np.ones((30, 41), np.uint8)
    classes[:, 20:] = 2
    samples = sample_indices(classes, 5, 50, seed=1)
    lazy = gather_windows(NormalisedImage(raw, FACTOR), samples.rows, samples.cols, 5)
    whole = gather_windows(normalise(raw, FACTOR), samples.rows, samples.cols, 5)
    np.testing.assert_array_equal(lazy, whole)


def test_no_array_without_a_copy(raw):
    with pytest.raises(ValueError, match="without a copy"):
        np.asarray(NormalisedImage(raw, FACTOR), copy=False)

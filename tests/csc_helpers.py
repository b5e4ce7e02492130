"""Helpers of the CSC tests: a tiny tile model with metadata, scenes, an ideal phase one."""

from __future__ import annotations

import numpy as np

from seeice.io.model_metadata import ModelMetadata
from seeice.io.model_store import save_model
from seeice.datasets.synthetic import make_scene, write_scene
from seeice.phase2.tile_classification import paint_tiles, split_into_tiles


def tiny_tile_model(out_dir, tile_size=32, bands=4, n_classes=7, name="tiny", scheme=None,
                    norm_factor=8192.0):
    """A small (untrained) tile classifier saved with SEE_ICE metadata."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((tile_size, tile_size, bands)),
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dense(n_classes + 1, activation="softmax"),
    ])
    metadata = ModelMetadata(base="custom", tile_size=tile_size, bands=bands, n_classes=n_classes,
                             scheme=scheme, norm_factor=norm_factor)
    return save_model(model, out_dir, name, metadata)


def write_scenes(folder, seeds, size=300):
    """Synthetic scenes written to ``folder``; returns the Scene objects."""
    scenes = [make_scene(seed, size) for seed in seeds]
    for scene in scenes:
        write_scene(scene, folder)
    return scenes


def ideal_phase_one(truth_by_shape):
    """A replacement for ``classify_tiles`` that labels each tile with its true majority class.

    ``truth_by_shape`` maps an image's (H, W) to its true class raster, so the stand-in
    knows which scene it is given.
    """

    def classify(model, image, tile_size, valid=None, progress=True, **kwargs):
        truth = truth_by_shape[image.shape[:2]]
        tiles, grid = split_into_tiles(truth[..., np.newaxis], tile_size)
        flat = tiles.reshape(tiles.shape[0], -1)
        majority = np.array([np.bincount(t, minlength=8).argmax() for t in flat], np.uint8)
        return paint_tiles(majority, grid, tile_size, image.shape[:2])

    return classify

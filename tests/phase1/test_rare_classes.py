"""Rare classes get more windows; every window's copies share one source-window group."""

from __future__ import annotations

import logging
import numpy as np
import pytest

from tiling_helpers import random_image, write_pair  # noqa: E402

from seeice.errors import ConfigError  # noqa: E402
from seeice.io.tiles import source_window, tile_name  # noqa: E402
from seeice.phase1.augmentation import augment_tiles  # noqa: E402
from seeice.phase1.class_counts import weak_classes  # noqa: E402
from seeice.phase1.preparation import prepare_tiles  # noqa: E402
from seeice.phase1.compilation import compile_tensor  # noqa: E402


def _labels_with_a_thin_belt():
    """60 x 60: class 1 everywhere but a 12 px deep belt of class 3 at rows 20-31."""
    labels = np.ones((60, 60), np.uint8)
    labels[20:32] = 3
    return labels


def test_dihedral_copies_are_the_eight_symmetries():
    tile = np.arange(2 * 3 * 3, dtype=np.uint16).reshape(1, 3, 3, 2) * 100
    rng = np.random.default_rng(0)
    out = augment_tiles(tile, rng, noise_low=0, noise_high=1, augmentation="dihedral")
    assert out.shape == (1, 8, 3, 3, 2)
    expected = [np.rot90(t, k) for t in (tile[0], tile[0][:, ::-1]) for k in range(4)]
    for copy, want in zip(out[0], expected):
        np.testing.assert_array_equal(copy, want)
    assert len({c.tobytes() for c in out[0]}) == 8
    with pytest.raises(ConfigError, match="rotations"):
        augment_tiles(tile, rng, augmentation="flips")


def test_tile_names_keep_their_source_window():
    assert tile_name("S2_a_b", 5, 20, 90, mirrored=True) == "S2_a_b_00005_00020_m090.tif"
    assert source_window("S2_a_b_00005_00020_m090.tif") == ("S2_a_b", 5, 20)
    assert source_window("S2_a_b_00005_00020_270.tif") == ("S2_a_b", 5, 20)
    assert source_window("my_own_tile.tif") is None


def test_denser_stride_adds_only_rare_class_windows(tmp_path, caplog):
    images = tmp_path / "images"
    write_pair(images, "s", random_image(60, 60, bands=3), _labels_with_a_thin_belt())
    common = prepare_tiles(images, tmp_path / "a", tile_size=10, stride=10, seed=0,
                           augmentation="rotations", rare_class_tiles=0)
    # stride 10: rows 0..50; belt rows 20-31 holds pure windows at row 20 only (6 columns)
    assert common.counts["Train"] == {1: 4 * 24, 3: 4 * 6}
    with caplog.at_level(logging.INFO, logger="seeice"):
        dense = prepare_tiles(images, tmp_path / "b", tile_size=10, stride=10, seed=0,
                              augmentation="rotations", rare_class_tiles=50, rare_stride=2)
    # stride 2 within the belt: window rows 20 and 22 (22 + 10 = 32), columns 0, 2, ..., 50
    # (26 each): 52 class-3 windows, 6 of which the common pass took; class 1 unchanged.
    assert dense.counts["Train"] == {1: 4 * 24, 3: 4 * 52}
    assert "C3: 24 -> 208 tiles" in caplog.text
    # the added windows carry their own positions in the file names
    names = {p.name for p in (tmp_path / "b" / "Train" / "C3").glob("*.tif")}
    assert tile_name("s", 22, 2, 0) in names and tile_name("s", 20, 2, 0) in names


def test_group_file_maps_copies_of_a_window_to_one_id(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "s", random_image(40, 40, bands=3), np.ones((40, 40), np.uint8))
    prepare_tiles(images, tmp_path / "tiles", tile_size=10, stride=10, seed=0, rare_class_tiles=0)
    files = compile_tensor(tmp_path / "tiles", "T", tile_size=10, bands=3, n_classes=1)
    groups = np.load(files.groups)
    assert files.groups.name == "T_G_float16.npy" and groups.dtype == np.int32
    assert groups.size == 16 * 8 and np.unique(groups).size == 16
    assert np.all(np.bincount(groups) == 8)


def test_weak_classes_rule():
    assert weak_classes({1: 3000, 2: 350, 3: 150, 4: 299}) == [3, 4]   # 150 < 200; 299 < 300
    assert weak_classes({1: 1000, 2: 1000}) == []


def test_radiometric_augmentation_is_bounded_seeded_and_keeps_no_data():
    tiles = np.full((50, 6, 6, 4), 4000, np.uint16)
    tiles[:, 0, 0] = 0                                    # a no-data pixel
    a = augment_tiles(tiles, np.random.default_rng(5), noise_low=0, noise_high=1,
                      augmentation="dihedral", radiometric=0.1)
    b = augment_tiles(tiles, np.random.default_rng(5), noise_low=0, noise_high=1,
                      augmentation="dihedral", radiometric=0.1)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a[:, 0], tiles)          # the tile itself is untouched
    copies = a[:, 1:].astype(float)
    valid = copies[copies > 0]
    # gain 0.9..1.1 of 4000 DN plus an offset of at most 0.1 x 5 % x 10 000 DN = 50 DN
    assert valid.min() >= 3600 - 50 and valid.max() <= 4400 + 50 and valid.std() > 50
    # every copy keeps exactly one no-data pixel (moved by the rotation or mirror)
    assert np.all(np.all(a == 0, axis=-1).sum(axis=(2, 3)) == 1)
    with pytest.raises(ConfigError, match="radiometric"):
        augment_tiles(tiles, np.random.default_rng(0), radiometric=0.9)

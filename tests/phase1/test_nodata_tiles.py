"""Phase-one windows never touch no-data; float tiles get noise on their own scale."""

import numpy as np
import pytest

from seeice.errors import ConfigError
from seeice.phase1.augmentation import augment_tiles
from seeice.phase1.tiling import extract_tiles, select_windows


def test_windows_touching_no_data_are_never_kept():
    labels = np.full((40, 40), 2, np.uint8)
    valid = np.ones((40, 40), bool)
    valid[12, 33] = False
    rows, cols, _ = select_windows(labels, tile_size=10, stride=5)
    assert len(rows) == 49
    rows, cols, _ = select_windows(labels, tile_size=10, stride=5, valid=valid)
    kept = set(zip(rows.tolist(), cols.tolist()))
    # the windows holding pixel (12, 33): rows 5 and 10, columns 25 and 30
    assert len(kept) == 45 and not kept & {(5, 25), (5, 30), (10, 25), (10, 30)}
    image = np.arange(40 * 40 * 2, dtype=np.uint16).reshape(40, 40, 2) + 1
    image[~valid] = 0
    tiles = extract_tiles(image, labels, tile_size=10, stride=5, valid=valid)
    assert len(tiles) == 45 and (tiles.tiles != 0).all()


def test_unlabelled_share_and_no_data_are_separate_rules():
    labels = np.full((20, 20), 3, np.uint8)
    labels[0, :8] = 0                     # 8 % unlabelled: still a tile
    valid = np.ones((20, 20), bool)
    assert len(select_windows(labels, 20, 20, valid=valid)[0]) == 1
    valid[19, 19] = False                 # one no-data pixel: not a tile
    assert len(select_windows(labels, 20, 20, valid=valid)[0]) == 0


def test_float_tiles_get_noise_in_dn_of_their_scale():
    tiles = np.full((30, 6, 6, 4), 0.25, np.float32)
    with pytest.raises(ConfigError, match="value_scale"):
        augment_tiles(tiles, np.random.default_rng(0))
    out = augment_tiles(tiles, np.random.default_rng(0), value_scale=1.0)
    noise = out[:, 1:] - 0.25
    assert np.abs(noise).max() <= 10 / 10000 + 1e-6 and noise.std() > 1e-4
    dn = augment_tiles(np.full((30, 6, 6, 4), 2500.0, np.float32), np.random.default_rng(0),
                       value_scale=10000.0)
    np.testing.assert_allclose((dn[:, 1:] - 2500.0) / 10000, noise, atol=1e-6)

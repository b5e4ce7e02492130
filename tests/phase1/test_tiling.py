"""Tile preparation: windows, purity, augmentation, file and tensor outputs, bad inputs."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import numpy as np
import pytest

from seeice.phase1 import tiling
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.io.raster import read_image, write_raster
from seeice.phase1.compilation import compile_tensor, load_tensor
from seeice.phase1.thinning import thin_tiles
from seeice.io.tiles import find_class_folders, tile_name
from seeice.phase1.augmentation import ROTATIONS, augment_tiles
from seeice.phase1.preparation import prepare_tiles
from seeice.phase1.tiling import crop_to_tiles, extract_tiles, purity_labels, window_class_counts, window_starts

from repo_paths import STMARG
from tiling_helpers import files_under, halves_labels, random_image, write_pair


def _tile(counts: dict, size: int = 10) -> np.ndarray:
    """A (size, size) class tile with the given number of pixels per value, filled row-major."""
    values = np.concatenate([np.full(n, v, dtype=np.uint8) for v, n in counts.items()])
    assert values.size == size * size
    return values.reshape(size, size)


# ------------------------------------------------------------------ purity and windows


@pytest.mark.parametrize("counts, expected", [
    ({3: 96, 1: 4}, 3),          # 96 % class 3: kept, label 3
    ({3: 95, 2: 5}, 3),          # exactly 95 %: kept
    ({3: 94, 2: 6}, 0),          # 94 %: rejected
    ({0: 11, 2: 89}, 0),         # 11 % unlabelled: rejected
    ({0: 6, 5: 94}, 0),          # 94 % of the whole tile (100 % of labelled pixels): rejected
    ({0: 4, 7: 96}, 7),          # 4 % unlabelled, 96 % class 7: kept
])
def test_purity_rule_on_hand_made_tiles(counts, expected):
    labels = _tile(counts)
    got = purity_labels(window_class_counts(labels, 10, 10), 10)
    assert got.shape == (1, 1)
    assert got[0, 0] == expected


def test_unlabelled_rule_on_its_own():
    # With the majority threshold lowered, the 10 % unlabelled limit decides alone.
    ten = window_class_counts(_tile({0: 10, 4: 90}), 10, 10)
    eleven = window_class_counts(_tile({0: 11, 4: 89}), 10, 10)
    assert purity_labels(ten, 10, min_majority=0.5)[0, 0] == 4
    assert purity_labels(eleven, 10, min_majority=0.5)[0, 0] == 0


@pytest.mark.parametrize("tile_size, stride", [(7, 3), (6, 4), (10, 5), (5, 5), (4, 6), (9, 1)])
@pytest.mark.parametrize("per_class_path", [False, True])
def test_window_counts_match_direct_counts(tile_size, stride, per_class_path, monkeypatch):
    if per_class_path:
        monkeypatch.setattr(tiling, "_BLOCK_GRID_LIMIT", 0)
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 5, size=(37, 29)).astype(np.uint8)
    labels[:12, :12] = 2
    counts = window_class_counts(labels, tile_size, stride)
    starts_y, starts_x = window_starts(37, tile_size, stride), window_starts(29, tile_size, stride)
    assert counts.shape == (len(starts_y), len(starts_x), 5) and counts.dtype == np.int32
    expected = np.array([[np.bincount(labels[y:y + tile_size, x:x + tile_size].ravel(),
                                      minlength=5) for x in starts_x] for y in starts_y])
    np.testing.assert_array_equal(counts, expected)


def test_window_starts_include_last_window():
    np.testing.assert_array_equal(window_starts(100, 50, 25), [0, 25, 50])
    np.testing.assert_array_equal(window_starts(60, 20, 20), [0, 20, 40])
    np.testing.assert_array_equal(window_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(window_starts(12, 4, 3), [0, 3, 6])
    assert len(window_starts(3, 4, 1)) == 0


def test_crop_to_whole_tiles_from_top_left():
    image = np.arange(13 * 11).reshape(13, 11)
    cropped = crop_to_tiles(image, 5)
    assert cropped.shape == (10, 10)
    np.testing.assert_array_equal(cropped, image[:10, :10])


def test_last_window_included_when_size_is_not_a_multiple_of_stride():
    # 130 x 110 crops to 120 x 100; tile 20, stride 15: starts 0..90 (7) by 0..75 (6);
    # the last windows (row 90, column 75) end at 110 and 95.
    image = random_image(130, 110, bands=2)
    labels = np.ones((130, 110), dtype=np.uint8)
    tiles = extract_tiles(image, labels, tile_size=20, stride=15)
    assert len(tiles) == 7 * 6
    assert tiles.rows.max() == 90 and tiles.cols.max() == 75
    # Tile 50, stride 25 on 110 x 110: cropped to 100, starts 0, 25, 50 on each axis.
    tiles = extract_tiles(random_image(110, 110, 1), np.ones((110, 110), np.uint8), 50, 25)
    assert len(tiles) == 9
    assert set(tiles.rows.tolist()) == {0, 25, 50}


def test_tile_count_and_content_known_answer():
    # Top 20 rows class 1, bottom 20 rows class 2; tile 10, stride 5: window rows starting
    # at 0, 5, 10 are class 1 and 20, 25, 30 class 2 (15 straddles), 11 columns each.
    labels = halves_labels(40, 60)
    labels[0:3, 50:60] = 0            # 30 % / 15 % unlabelled in windows (0, 50) / (0, 45)
    labels[5:7, 0:2] = 0              # 4 % unlabelled in windows (0, 0) and (5, 0): kept
    image = random_image(40, 60, bands=3)
    tiles = extract_tiles(image, labels, tile_size=10, stride=5)
    top_right = (tiles.rows == 0) & (tiles.cols >= 45)
    assert not top_right.any()
    assert len(tiles) == 66 - 2
    assert np.count_nonzero(tiles.labels == 1) == 31
    assert np.count_nonzero(tiles.labels == 2) == 33
    assert tiles.tiles.shape == (64, 10, 10, 3) and tiles.tiles.dtype == np.uint16
    for i in (0, 17, 63):
        r, c = tiles.rows[i], tiles.cols[i]
        np.testing.assert_array_equal(tiles.tiles[i], image[r:r + 10, c:c + 10])


# ------------------------------------------------------------------------ augmentation


def test_augmented_copies_are_rotations_plus_bounded_noise():
    tiles = random_image(56, 8, bands=3, seed=1, high=5000).reshape(-1, 8, 8, 3)[:7] + 100
    aug = augment_tiles(tiles, np.random.default_rng(0))
    assert aug.shape == (7, 4, 8, 8, 3) and aug.dtype == tiles.dtype
    np.testing.assert_array_equal(aug[:, 0], tiles)
    for k, degrees in enumerate(ROTATIONS[1:], start=1):
        assert degrees == 90 * k
        diff = aug[:, k].astype(np.int32) - np.rot90(tiles, k, axes=(1, 2)).astype(np.int32)
        assert diff.min() >= -10 and diff.max() <= 9
        assert set(np.unique(diff)) == set(range(-10, 10))   # all noise values drawn


def test_noise_is_clipped_not_wrapped_uint8():
    tiles = np.zeros((20, 6, 6, 3), dtype=np.uint8)
    tiles[:10] = 255
    tiles[10:, 0, 0, 0] = 3
    aug = augment_tiles(tiles, np.random.default_rng(0))
    low, high = aug[10:, 1:].astype(int), aug[:10, 1:].astype(int)
    assert low.max() <= 9 + 3 and low.min() == 0            # wrapping would give ~250
    assert high.min() >= 245 and high.max() == 255          # wrapping would give ~0..8
    assert np.count_nonzero(low == 0) > low.size // 3        # negative noise clipped to 0


def test_noise_is_clipped_not_wrapped_uint16():
    tiles = np.full((10, 6, 6, 4), 2, dtype=np.uint16)
    aug = augment_tiles(tiles, np.random.default_rng(5))
    assert aug.dtype == np.uint16
    assert aug[:, 1:].max() <= 11 and aug[:, 1:].min() == 0


def test_augmentation_is_seeded():
    tiles = random_image(24, 6, bands=2).reshape(-1, 6, 6, 2)
    a = augment_tiles(tiles, np.random.default_rng(4))
    b = augment_tiles(tiles, np.random.default_rng(4))
    c = augment_tiles(tiles, np.random.default_rng(5))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


# ---------------------------------------------------------------------- prepare_tiles


#: The published tiling: the tile and its three rotations, one stride for every class.
PUBLISHED = dict(augmentation="rotations", rare_class_tiles=0)


def test_prepare_tiles_writes_named_tiles(tmp_path):
    images = tmp_path / "images"
    image = random_image(40, 60, bands=4)
    write_pair(images, "scene_a", image, halves_labels(40, 60))
    write_pair(images, "scene_b", image[:, :30], halves_labels(40, 30), georeferenced=False)
    out = tmp_path / "tiles"
    result = prepare_tiles(images, out, tile_size=10, stride=5, seed=1, **PUBLISHED)
    # scene_a: 66 tiles, scene_b: 3 + 3 window rows x 5 columns = 30; four copies each.
    assert result.counts == {"Train": {1: 4 * (33 + 15), 2: 4 * (33 + 15)}}
    files = files_under(out / "Train")
    assert len(files) == 4 * 96
    assert len({f.name for f in files}) == len(files)                 # unique across images
    assert {f.name.split("_")[1] for f in files} == {"a", "b"}
    assert not (out / "Valid").exists()
    name = tile_name("scene_a", 5, 20, 90)
    assert name == "scene_a_00005_00020_090.tif"
    tile = read_image(out / "Train" / "C1" / name).data
    assert tile.shape == (10, 10, 4) and tile.dtype == np.uint16
    diff = tile.astype(int) - np.rot90(image[5:15, 20:30], 1).astype(int)
    assert diff.min() >= -10 and diff.max() <= 9
    original = read_image(out / "Train" / "C2" / tile_name("scene_b", 30, 20, 0)).data
    np.testing.assert_array_equal(original, image[30:40, 20:30])
    run = json.loads((out / "run.json").read_text())
    assert run["config"]["tile_size"] == 10
    assert run["tiles_per_class"]["Train"] == {"C1": 192, "C2": 192}


def test_prepare_tiles_keeps_first_bands_and_is_seeded(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "s", random_image(20, 20, bands=4), np.full((20, 20), 3, np.uint8))
    prepare_tiles(images, tmp_path / "a", tile_size=10, stride=10, bands=3, seed=7)
    prepare_tiles(images, tmp_path / "b", tile_size=10, stride=10, bands=3, seed=7)
    prepare_tiles(images, tmp_path / "c", tile_size=10, stride=10, bands=3, seed=8)
    name = tile_name("s", 10, 0, 180)
    a = read_image(tmp_path / "a" / "Train" / "C3" / name).data
    assert a.shape == (10, 10, 3)
    np.testing.assert_array_equal(a, read_image(tmp_path / "b" / "Train" / "C3" / name).data)
    assert not np.array_equal(a, read_image(tmp_path / "c" / "Train" / "C3" / name).data)


def test_validation_fraction_moves_whole_tile_groups(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "s", random_image(40, 60, bands=2), halves_labels(40, 60))
    out = tmp_path / "tiles"
    result = prepare_tiles(images, out, tile_size=10, stride=5, valid_fraction=0.25, seed=0,
                           **PUBLISHED)
    # 33 source tiles per class: round(0.25 * 33) = 8 go to Valid with their 3 copies.
    assert result.counts == {"Train": {1: 100, 2: 100}, "Valid": {1: 32, 2: 32}}
    valid = files_under(out / "Valid")
    train = {f.name for f in files_under(out / "Train")}
    groups = {f.name.rsplit("_", 1)[0] for f in valid}
    assert len(groups) == 16
    assert all(f"{g}_{r:03d}.tif" not in train for g in groups for r in ROTATIONS)


def test_tensor_mode_equals_files_then_compile(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "img", random_image(40, 60, bands=3, seed=2), halves_labels(40, 60))
    labels = halves_labels(30, 30)
    labels[:, 15:] = 3
    write_pair(images, "img_2", random_image(30, 30, bands=3, seed=3), labels)
    write_pair(images, "img0", random_image(30, 30, bands=3, seed=4), labels[::-1])
    files_out, tensor_out = tmp_path / "files", tmp_path / "tensor"
    kw = dict(tile_size=10, stride=5, valid_fraction=0.2, seed=3)
    prepare_tiles(images, files_out, **kw)
    result = prepare_tiles(images, tensor_out, tensor_name="T", tensor_mode="int16",
                           n_classes=3, **kw)
    assert not (tensor_out / "Train").exists()
    compile_tensor(files_out, "T", tile_size=10, bands=3, n_classes=3, mode="int16")
    compile_tensor(files_out / "Valid", "T_valid", out_dir=files_out, tile_size=10, bands=3,
                   n_classes=3, mode="int16")
    for name in ("T", "T_valid"):
        x_files, y_files, meta_files = load_tensor(files_out, name, "int16")
        x_tensor, y_tensor, meta_tensor = load_tensor(tensor_out, name, "int16")
        assert x_files.shape[0] > 0
        np.testing.assert_array_equal(x_files, x_tensor)
        np.testing.assert_array_equal(y_files, y_tensor)
        assert meta_files["class_counts"] == meta_tensor["class_counts"]
        # the source-window groups agree too: every window's 8 copies share one id
        g_files = np.load(files_out / f"{name}_G_int16.npy")
        np.testing.assert_array_equal(g_files, np.load(tensor_out / f"{name}_G_int16.npy"))
        assert np.all(np.bincount(g_files) == 8)
    assert result.tensors["Train"].n_tiles == sum(result.counts["Train"].values())


def test_image_without_class_raster_is_skipped_with_warning(tmp_path, caplog):
    images = tmp_path / "images"
    write_pair(images, "labelled", random_image(20, 20), np.ones((20, 20), np.uint8))
    write_pair(images, "bare", random_image(20, 20), None)
    with caplog.at_level(logging.WARNING, logger="seeice.phase1.preparation"):
        result = prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10)
    assert result.skipped == ["bare.tif"]
    assert any("bare.tif" in r.message and "SCLS_bare" in r.message for r in caplog.records)
    assert all(f.name.startswith("labelled_") for f in files_under(tmp_path / "out" / "Train"))


def _assert_nothing_written(out: Path):
    assert files_under(out) == []


def test_class_raster_of_another_size_is_an_error(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "a_good", random_image(20, 20), np.ones((20, 20), np.uint8))
    write_pair(images, "b_bad", random_image(20, 20), np.ones((20, 24), np.uint8))
    with pytest.raises(RasterError, match=r"SCLS_b_bad\.tif is not on the grid of b_bad\.tif "
                                          r"\(size differs; SCLS_b_bad\.tif: 20 x 24 px.*; "
                                          r"b_bad\.tif: 20 x 20 px"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10)
    _assert_nothing_written(tmp_path / "out")


def test_tile_larger_than_image_is_an_error(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "big", random_image(60, 60), np.ones((60, 60), np.uint8))
    write_pair(images, "small", random_image(30, 40), np.ones((30, 40), np.uint8))
    with pytest.raises(ConfigError, match=r"tile size 50 is larger than small\.tif \(30 x 40"):
        prepare_tiles(images, tmp_path / "out")
    _assert_nothing_written(tmp_path / "out")


def test_no_pure_tile_is_an_error(tmp_path):
    images = tmp_path / "images"
    labels = np.tile(np.array([[1, 2]], np.uint8), (20, 10))       # 50/50 everywhere
    write_pair(images, "mixed", random_image(20, 20), labels)
    with pytest.raises(DataError, match="no tile of any image .* passes purity"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, stride=5)
    _assert_nothing_written(tmp_path / "out")


def test_other_bad_inputs(tmp_path):
    images = tmp_path / "images"
    with pytest.raises(InputFileError, match="does not exist"):
        prepare_tiles(images, tmp_path / "out")
    write_pair(images, "only", random_image(20, 20), None)
    with pytest.raises(InputFileError, match="SCLS_"):
        prepare_tiles(images, tmp_path / "out", tile_size=10)
    write_pair(images, "three", random_image(20, 20, bands=3), np.ones((20, 20), np.uint8))
    with pytest.raises(RasterError, match=r"three\.tif has 3 band.* --bands 3"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, bands=4)
    write_pair(images, "four", random_image(20, 20, bands=4), np.ones((20, 20), np.uint8))
    with pytest.raises(RasterError, match="different band counts"):
        prepare_tiles(images, tmp_path / "out", tile_size=10)
    with pytest.raises(ConfigError, match="stride"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, stride=0)
    with pytest.raises(ConfigError, match="validation fraction"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, valid_fraction=1.5)
    with pytest.raises(ConfigError, match="class count|--classes"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, bands=3, tensor_name="x",
                      n_classes=0)
    _assert_nothing_written(tmp_path / "out")


def test_two_images_with_one_stem_is_an_error(tmp_path):
    images = tmp_path / "images"
    write_pair(images, "scene", random_image(20, 20, bands=3, dtype=np.uint8, high=255),
               np.ones((20, 20), np.uint8))
    write_raster(images / "scene.png", random_image(20, 20, bands=3, dtype=np.uint8, high=255))
    with pytest.raises(DataError, match="stem 'scene'"):
        prepare_tiles(images, tmp_path / "out", tile_size=10)
    _assert_nothing_written(tmp_path / "out")


def test_find_class_folders_accepts_output_or_train(tmp_path):
    (tmp_path / "Train" / "C2").mkdir(parents=True)
    (tmp_path / "Valid" / "C1").mkdir(parents=True)
    root, classes = find_class_folders(tmp_path)
    assert root == tmp_path / "Train" and list(classes) == [2]
    assert find_class_folders(tmp_path / "Train")[0] == tmp_path / "Train"
    with pytest.raises(DataError, match="no class folders"):
        find_class_folders(tmp_path / "Valid" / "C1")


# ---------------------------------------------------------------------- real imagery


@pytest.mark.slow
@pytest.mark.skipif(not STMARG.is_dir(), reason=f"St Marguerite sample data not found at {STMARG}")
def test_st_marguerite_pipeline(tmp_path):
    """Tile preparation, thinning and compilation on one real 8-bit RGB image."""
    images = tmp_path / "images"
    images.mkdir()
    for stem in ("StMarg_26758",):
        os.symlink(STMARG / f"{stem}.jpg", images / f"{stem}.jpg")
        os.symlink(STMARG / f"SCLS_{stem}.tif", images / f"SCLS_{stem}.tif")
    tiles = tmp_path / "tiles"
    result = prepare_tiles(images, tiles)
    assert set(result.counts["Train"]) <= {1, 2, 3}
    assert all(n % 4 == 0 and n > 0 for n in result.counts["Train"].values())
    direct = prepare_tiles(images, tmp_path / "direct", tensor_name="S", tensor_mode="uint8",
                           n_classes=5)
    compiled = compile_tensor(tiles, "S", bands=3, n_classes=5, mode="uint8")
    x_a, y_a, meta = load_tensor(tiles, "S", "uint8")
    x_b, y_b, _ = load_tensor(tmp_path / "direct", "S", "uint8")
    np.testing.assert_array_equal(x_a, x_b)
    np.testing.assert_array_equal(y_a, y_b)
    assert meta["input_scale"] == 1.0 and meta["source_dtype"] == "uint8"
    assert compiled.n_tiles == direct.tensors["Train"].n_tiles
    thinned = thin_tiles(tiles, per_class=500, seed=0)
    assert all(thinned.after[k] == min(500, n) for k, n in thinned.before.items())
    final = compile_tensor(tiles, "S500", bands=3, n_classes=5, mode="uint8float16")
    x, y, meta = load_tensor(tiles, "S500", "uint8float16")
    assert x.shape == (sum(thinned.after.values()), 50, 50, 3) and x.dtype == np.float16
    assert meta["input_scale"] == 255.0 and float(x.max()) <= 1.0
    assert final.class_counts == {k: thinned.after.get(k, 0) for k in range(1, 6)}

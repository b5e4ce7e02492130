"""Rare-class windows, dihedral copies on disk, source-window groups in both tensor paths,
per-class counts with weak-class warnings at every stage, radiometric augmentation of 8-bit tiles."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from tiling_helpers import random_image, write_pair, write_tile_folder

from seeice.io.raster import read_image, write_raster
from seeice.io.tiles import source_window, tile_name
from seeice.phase1.augmentation import augment_tiles
from seeice.phase1.class_counts import report_class_counts
from seeice.phase1.compilation import compile_tensor, load_tensor
from seeice.phase1.preparation import prepare_tiles
from seeice.phase1.thinning import thin_tiles

# ------------------------------------------------------------------ the denser stride


def test_a_class_without_common_windows_is_found_by_the_dense_pass(tmp_path, caplog):
    # 40 x 40, class 1 with a belt of class 3 at rows 5-16 (12 px). With 10 px tiles at stride
    # 10 the windows start at rows 0, 10, 20, 30: neither row 0 (5 rows of class 1) nor row 10
    # (7 rows of belt) is pure, so class 3 has no tile at the common stride. At stride 2 the
    # window at row 6 (rows 6-15) is pure: columns 0, 2, ..., 30 give 16 windows.
    labels = np.ones((40, 40), np.uint8)
    labels[5:17] = 3
    images = tmp_path / "images"
    write_pair(images, "belt", random_image(40, 40, bands=3), labels)
    with caplog.at_level(logging.INFO, logger="seeice"):
        result = prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10, seed=0,
                               augmentation="rotations", rare_class_tiles=100, rare_stride=2)
    # class 1 at stride 10: rows 20 and 30, 4 columns each = 8 windows (32 tiles, also rare:
    # at stride 2 its pure windows are rows 18..30 (7 rows) x 16 columns = 112, 8 of them common)
    assert result.counts["Train"] == {1: 4 * 112, 3: 4 * 16}
    assert "C1: 32 -> 448 tiles" in caplog.text and "C3: 0 -> 64 tiles" in caplog.text
    assert "Tiles per class at the common stride (10 px): C1: 32, C3: 0" in caplog.text
    names = sorted(p.name for p in (tmp_path / "out" / "Train" / "C3").glob("*.tif"))
    assert names[0] == tile_name("belt", 6, 0, 0) and len(names) == 64
    assert {source_window(n)[1] for n in names} == {6}


def test_only_rare_classes_get_dense_windows(tmp_path):
    # Left half class 1 (common), right half class 2 (rare by the threshold). 20 x 40 image,
    # tile 10: at stride 10 class 1 has 2 x 2 = 4 windows (16 tiles), class 2 the same.
    labels = np.ones((20, 40), np.uint8)
    labels[:, 20:] = 2
    images = tmp_path / "images"
    write_pair(images, "s", random_image(20, 40, bands=2), labels)
    common = prepare_tiles(images, tmp_path / "a", tile_size=10, stride=10, seed=0,
                           augmentation="rotations", rare_class_tiles=0)
    assert common.counts["Train"] == {1: 16, 2: 16}
    # a second image makes class 1 common (4 + 8 windows x 4 copies = 48 >= 40), class 2 not
    write_pair(images, "t", random_image(20, 40, bands=2, seed=1), np.ones((20, 40), np.uint8))
    dense = prepare_tiles(images, tmp_path / "b", tile_size=10, stride=10, seed=0,
                          augmentation="rotations", rare_class_tiles=40, rare_stride=5)
    # class 2 at stride 5 in image s: rows 0, 5, 10 x columns 20, 25, 30 = 9 windows
    assert dense.counts["Train"] == {1: 48, 2: 36}
    c1 = {source_window(p.name) for p in (tmp_path / "b" / "Train" / "C1").glob("*.tif")}
    assert all(r % 10 == 0 and c % 10 == 0 for _, r, c in c1)          # no dense window
    c2 = [source_window(p.name) for p in (tmp_path / "b" / "Train" / "C2").glob("*.tif")]
    assert len(c2) == 36 and len(set(c2)) == 9                         # no window twice


def test_rare_stride_not_denser_than_the_stride_adds_nothing(tmp_path, caplog):
    labels = np.ones((30, 30), np.uint8)
    labels[:, 20:] = 2
    images = tmp_path / "images"
    write_pair(images, "s", random_image(30, 30, bands=2), labels)
    with caplog.at_level(logging.INFO, logger="seeice"):
        result = prepare_tiles(images, tmp_path / "out", tile_size=10, stride=5, seed=0,
                               augmentation="rotations", rare_class_tiles=10_000, rare_stride=10)
    # stride 5: rows 0, 5, 10, 15, 20 x columns 0, 5, 10 (class 1) and 20 (class 2)
    assert result.counts["Train"] == {1: 4 * 15, 2: 4 * 5}
    assert "not denser than the common stride" in caplog.text


# ------------------------------------------------------------------ dihedral copies on disk


def test_dihedral_tile_files_are_the_eight_symmetries_of_the_window(tmp_path):
    images = tmp_path / "images"
    image = random_image(10, 10, bands=2, seed=3, high=10_000)
    write_pair(images, "s", image, np.ones((10, 10), np.uint8))
    result = prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10, seed=0)
    assert result.counts["Train"] == {1: 8}
    folder = tmp_path / "out" / "Train" / "C1"
    symmetries = {(r, m): np.rot90(image[:, ::-1] if m else image, r // 90).astype(int)
                  for m in (False, True) for r in (0, 90, 180, 270)}
    for (rotation, mirrored), want in symmetries.items():
        got = read_image(folder / tile_name("s", 0, 0, rotation, mirrored)).data.astype(int)
        if (rotation, mirrored) == (0, False):
            np.testing.assert_array_equal(got, want)                     # the tile itself
        # noise in [-10, 10): each copy is its own symmetry and none of the others
        for key, other in symmetries.items():
            assert (np.abs(got - other).max() <= 10) == (key == (rotation, mirrored))


# ------------------------------------------------------------------ source-window groups


def _two_images(folder):
    write_pair(folder, "a", random_image(40, 40, bands=3, seed=1), np.ones((40, 40), np.uint8))
    write_pair(folder, "b", random_image(30, 30, bands=3, seed=2), np.full((30, 30), 2, np.uint8))


def test_direct_tensor_groups_name_each_source_window(tmp_path):
    images = tmp_path / "images"
    _two_images(images)
    result = prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10, seed=0,
                           tensor_name="T", tensor_mode="int16", rare_class_tiles=0)
    files = result.tensors["Train"]
    assert files.groups == tmp_path / "out" / "T_G_int16.npy"
    x, y, _ = load_tensor(tmp_path / "out", "T", "int16")
    groups = np.load(files.groups)
    assert groups.dtype == np.int32 and groups.shape == (x.shape[0],) == (25 * 8,)
    # 16 windows of a, 9 of b: 25 ids, 8 copies each, one label per id
    assert np.unique(groups).size == 25 and np.all(np.bincount(groups) == 8)
    windows = sorted([("a", r, c) for r in range(0, 40, 10) for c in range(0, 40, 10)]
                     + [("b", r, c) for r in range(0, 30, 10) for c in range(0, 30, 10)])
    sources = {"a": random_image(40, 40, bands=3, seed=1), "b": random_image(30, 30, bands=3, seed=2)}
    for g, (stem, r, c) in enumerate(windows):
        rows = np.flatnonzero(groups == g)
        assert set(y[rows].tolist()) == {1 if stem == "a" else 2}
        # the first row of a group is the unrotated tile (names sort _000 first)
        np.testing.assert_array_equal(x[rows[0]], sources[stem][r:r + 10, c:c + 10])


def test_group_files_agree_with_a_rare_pass_and_across_paths(tmp_path):
    # Windows of the dense pass overlap those of the common pass; each is its own group.
    labels = np.ones((40, 40), np.uint8)
    labels[5:17] = 3
    images = tmp_path / "images"
    write_pair(images, "belt", random_image(40, 40, bands=3), labels)
    kw = {"tile_size": 10, "stride": 10, "seed": 0, "rare_class_tiles": 100, "rare_stride": 2}
    prepare_tiles(images, tmp_path / "files", **kw)
    compiled = compile_tensor(tmp_path / "files", "T", tile_size=10, bands=3, n_classes=3)
    direct = prepare_tiles(images, tmp_path / "direct", tensor_name="T", n_classes=3, **kw)
    g_files, g_direct = np.load(compiled.groups), np.load(direct.tensors["Train"].groups)
    np.testing.assert_array_equal(g_files, g_direct)
    assert np.unique(g_files).size == 112 + 16 and np.all(np.bincount(g_files) == 8)


def test_tiles_named_otherwise_give_no_group_file(tmp_path, caplog):
    write_tile_folder(tmp_path / "tiles", {1: 3, 2: 2}, tile_size=4, bands=3)
    stale = tmp_path / "tiles" / "T_G_float16.npy"
    np.save(stale, np.zeros(9, np.int32))                  # left by an older tile set
    with caplog.at_level(logging.WARNING, logger="seeice"):
        files = compile_tensor(tmp_path / "tiles", "T", tile_size=4, bands=3, n_classes=2)
    assert files.groups is None and not stale.exists()
    assert "no group file" in caplog.text and files.tensor.exists() and files.labels.exists()


def test_published_and_mirrored_names_group_together(tmp_path):
    tiles = {n: np.full((4, 4, 1), i, np.uint16) for i, n in enumerate(
        [tile_name("s", 0, 0, 0), tile_name("s", 0, 0, 270), tile_name("s", 0, 0, 90, True),
         tile_name("s", 0, 4, 0), tile_name("s_2", 0, 0, 180)])}
    for name, tile in tiles.items():
        (tmp_path / "C1").mkdir(exist_ok=True)
        write_raster(tmp_path / "C1" / name, tile, compress=None)
    files = compile_tensor(tmp_path, "T", tile_size=4, bands=1, n_classes=1, mode="int16")
    # sorted names: s_00000_00000_000, _270, _m090 | s_00000_00004_000 | s_2_00000_00000_180
    np.testing.assert_array_equal(np.load(files.groups), [0, 0, 0, 1, 2])


# ------------------------------------------------------------------ per-class counts, weak classes


def test_weak_class_warning_names_the_class(caplog):
    names = ["open water", "iceberg water", "melange", "glacier ice"]
    with caplog.at_level(logging.INFO, logger="seeice"):
        weak = report_class_counts({1: 5000, 2: 2000, 3: 150, 4: 4000}, "tensor T",
                                   class_names=names)
    assert weak == [3]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "3 (melange) has 150" in warnings[0]
    assert "open water" not in warnings[0]
    assert "tensor T per class: 1 (open water): 5000" in caplog.text


def test_every_stage_reports_its_counts(tmp_path, caplog):
    labels = np.ones((40, 40), np.uint8)
    labels[:, 30:] = 2
    images = tmp_path / "images"
    write_pair(images, "s", random_image(40, 40, bands=2), labels)
    with caplog.at_level(logging.INFO, logger="seeice"):
        prepare_tiles(images, tmp_path / "out", tile_size=10, stride=10, seed=0,
                      rare_class_tiles=0)
    # 12 windows of class 1, 4 of class 2, 8 copies each; both under 200 tiles: weak
    assert "Train tiles written (128 in all) per class: 1: 96, 2: 32" in caplog.text
    assert "1 has 96; 2 has 32" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seeice"):
        thin_tiles(tmp_path / "out", per_class=40, seed=0)
    assert "tiles before thinning per class: 1: 96, 2: 32" in caplog.text
    assert "tiles after thinning per class: 1: 40, 2: 32" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seeice"):
        compile_tensor(tmp_path / "out", "T", tile_size=10, bands=2, n_classes=3)
    # class 3 has no tile: named as weak in the tensor's counts
    assert "tensor T_T_float16.npy per class: 1: 40, 2: 32, 3: 0" in caplog.text
    assert "3 has 0" in caplog.text


# ------------------------------------------------------------------ radiometric, 8-bit


def test_radiometric_augmentation_of_8_bit_tiles_clips_and_is_seeded():
    tiles = np.full((40, 5, 5, 3), 240, np.uint8)
    a = augment_tiles(tiles, np.random.default_rng(1), augmentation="dihedral", radiometric=0.2)
    b = augment_tiles(tiles, np.random.default_rng(1), augmentation="dihedral", radiometric=0.2)
    c = augment_tiles(tiles, np.random.default_rng(2), augmentation="dihedral", radiometric=0.2)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    copies = a[:, 1:].astype(int)
    # gain 0.8..1.2 of 240, offset within 0.2 x 5 % x 255 = 2.55, noise in [-10, 10):
    # nothing wraps around to dark values, bright copies saturate at 255
    assert copies.min() >= 240 * 0.8 - 2.55 - 10 and copies.max() == 255
    assert (copies == 255).mean() > 0.2
    # one gain and offset per copy: the copies' means spread far beyond the noise's
    assert copies.mean(axis=(2, 3, 4)).std() > 5


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16])
def test_radiometric_zero_changes_nothing_but_the_noise(dtype):
    tiles = random_image(6, 6, bands=2, dtype=dtype, high=200)[None]
    plain = augment_tiles(tiles, np.random.default_rng(4), augmentation="dihedral")
    off = augment_tiles(tiles, np.random.default_rng(4), augmentation="dihedral", radiometric=0.0)
    np.testing.assert_array_equal(plain, off)

"""Tests of the synthetic Sentinel-2 glacier scenes (seeice.datasets.synthetic)."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import rasterio
from scipy import ndimage as ndi

from seeice.errors import ConfigError
from seeice.io.raster import find_companions, list_images, read_image, read_labels
from seeice.datasets.render import DN_MAX, GLACIER_CLASSES, OCEAN_CLASSES, ROCK_CLASSES
from seeice.datasets.synthetic import EPSG, PIXEL_SIZE, Scene, generate_scenes, main, make_scene, write_scene

EIGHT = np.ones((3, 3), bool)
R, G, B, NIR = range(4)


@pytest.fixture(scope="module")
def scenes() -> dict[tuple[int, int], Scene]:
    """Scenes shared by the tests, keyed by (seed, size)."""
    return {(seed, size): make_scene(seed, size)
            for seed, size in [(0, 300), (1, 300), (2, 200), (3, 250), (4, 300), (5, 200)]}


def _has_masked_neighbour(mask: np.ndarray) -> np.ndarray:
    """Pixels with a ``mask`` pixel among their 4 neighbours (written independently here)."""
    out = np.zeros_like(mask)
    out[1:] |= mask[:-1]
    out[:-1] |= mask[1:]
    out[:, 1:] |= mask[:, :-1]
    out[:, :-1] |= mask[:, 1:]
    return out


def test_every_pixel_labelled_and_all_seven_classes_present(scenes):
    for (seed, size), scene in scenes.items():
        counts = np.bincount(scene.classes.ravel(), minlength=9)
        assert counts[0] == 0, f"seed {seed}: unlabelled pixels"
        assert counts[8:].sum() == 0
        missing = [c for c in range(1, 8) if counts[c] == 0]
        assert not missing, f"seed {seed} size {size}: classes {missing} missing"


def test_scene_arrays_shapes_and_dtypes(scenes):
    scene = scenes[(0, 300)]
    assert scene.image.shape == (300, 300, 4) and scene.image.dtype == np.uint16
    assert scene.classes.shape == (300, 300) and scene.classes.dtype == np.uint8
    assert scene.front.dtype == bool and scene.margins.dtype == bool
    assert scene.stem == "S2_synthetic_s0"
    assert scene.crs.to_epsg() == EPSG
    assert int(scene.image.max()) <= DN_MAX


def test_front_is_glacier_ice_next_to_ocean(scenes):
    """EDGE = every glacier-ice pixel (4) with an ocean pixel (1, 2, 3) among its 4 neighbours."""
    for (seed, _), scene in scenes.items():
        ocean = np.isin(scene.classes, OCEAN_CLASSES)
        expected = (scene.classes == 4) & _has_masked_neighbour(ocean)
        assert scene.front.any(), f"seed {seed}: empty front"
        np.testing.assert_array_equal(scene.front, expected)
        # and conversely every ocean pixel touching glacier ice touches the front
        touching = ocean & _has_masked_neighbour(scene.classes == 4)
        assert np.all(_has_masked_neighbour(scene.front)[touching])


def test_front_is_one_thin_line_spanning_the_fjord(scenes):
    for (seed, size), scene in scenes.items():
        front = scene.front
        _, n_parts = ndi.label(front, structure=EIGHT)
        assert n_parts == 1, f"seed {seed}: front in {n_parts} pieces"
        # one pixel wide: no 2 x 2 block of front pixels
        assert not (front[:-1, :-1] & front[1:, :-1] & front[:-1, 1:] & front[1:, 1:]).any()
        # from wall to wall: its ends touch two different valley-wall bodies
        walls, _ = ndi.label(np.isin(scene.classes, ROCK_CLASSES), structure=EIGHT)
        touched = np.unique(walls[ndi.binary_dilation(front, structure=EIGHT)])
        assert len(touched[touched > 0]) >= 2, f"seed {seed}: front does not span the fjord"
        # a line, not a blob: at most ~2.5 px per pixel of image edge
        assert front.sum() < 2.5 * size


def test_margins_are_glacier_next_to_rock(scenes):
    """VM = every glacier pixel (4 or 5) with a rock-class pixel (6, 7) among its 4 neighbours."""
    for (seed, size), scene in scenes.items():
        rock = np.isin(scene.classes, ROCK_CLASSES)
        expected = np.isin(scene.classes, GLACIER_CLASSES) & _has_masked_neighbour(rock)
        np.testing.assert_array_equal(scene.margins, expected)
        assert scene.margins.sum() > size / 2, f"seed {seed}: margins too short"
        # margins and front meet only where the front ends at the valley walls
        assert (scene.margins & scene.front).sum() <= 10


def test_write_scene_files_georeferencing_and_round_trip(tmp_path, scenes):
    scene = scenes[(3, 250)]
    image_path = write_scene(scene, tmp_path)
    assert image_path == tmp_path / "S2_synthetic_s3.tif"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["EDGE_S2_synthetic_s3.tif", "S2_synthetic_s3.tif",
                     "SCLS_S2_synthetic_s3.tif", "VM_S2_synthetic_s3.tif"]
    companions = find_companions(image_path)
    assert companions.classes.name == "SCLS_S2_synthetic_s3.tif"
    assert companions.edge.name == "EDGE_S2_synthetic_s3.tif"
    assert companions.valley_margin.name == "VM_S2_synthetic_s3.tif"

    raster = read_image(image_path)
    assert raster.data.shape == (250, 250, 4) and raster.data.dtype == np.uint16
    np.testing.assert_array_equal(raster.data, scene.image)
    assert raster.crs.to_epsg() == 32624
    assert raster.pixel_size == PIXEL_SIZE
    t = raster.transform
    assert (t.a, t.b, t.d, t.e) == (10.0, 0.0, 0.0, -10.0)
    # a plausible origin: UTM 24N over Greenland, on the 10 m grid
    assert 400_000 <= t.c <= 600_000 and 7_000_000 <= t.f <= 7_700_000
    assert t.c % 10 == 0 and t.f % 10 == 0

    for path, expected in [(companions.classes, scene.classes),
                           (companions.edge, scene.front.astype(np.uint8)),
                           (companions.valley_margin, scene.margins.astype(np.uint8))]:
        with rasterio.open(path) as src:
            assert src.count == 1 and src.dtypes[0] == "uint8"
            assert src.crs.to_epsg() == 32624 and src.transform == scene.transform
            assert (src.height, src.width) == (250, 250)
        labels = read_labels(path, shape=(250, 250))
        np.testing.assert_array_equal(labels, expected)
    assert set(np.unique(read_labels(companions.edge))) == {0, 1}
    assert set(np.unique(read_labels(companions.valley_margin))) == {0, 1}
    with rasterio.open(companions.classes) as src:   # the glacier palette travels along
        assert src.colormap(1)[1][:3] == (0x03, 0x71, 0x9C)


def test_write_scene_overwrites(tmp_path, scenes):
    write_scene(scenes[(2, 200)], tmp_path)
    other = make_scene(2, 200)
    other.image[:] = 7
    write_scene(other, tmp_path)
    assert np.all(read_image(tmp_path / "S2_synthetic_s2.tif").data == 7)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_same_seed_gives_identical_arrays(scenes):
    again = make_scene(1, 300)
    first = scenes[(1, 300)]
    for name in ("image", "classes", "front", "margins"):
        a, b = getattr(first, name), getattr(again, name)
        assert a.tobytes() == b.tobytes(), name
    assert first.transform == again.transform and first.info == again.info


def test_different_seeds_give_different_geometry():
    found = [make_scene(seed, 160) for seed in range(8)]
    orientations = {(s.info["rotation_deg"], s.info["mirrored"]) for s in found}
    assert len(orientations) >= 3
    fronts = [s.info["front_position"] for s in found]
    assert len(set(np.round(fronts, 3))) == 8
    for a, b in zip(found[:-1], found[1:]):
        assert (a.classes != b.classes).mean() > 0.1
        assert not np.array_equal(a.front, b.front)


def test_geometry_does_not_depend_on_size():
    small, large = make_scene(6, 200), make_scene(6, 400)
    assert (small.info["rotation_deg"], small.info["mirrored"]) == \
        (large.info["rotation_deg"], large.info["mirrored"])
    assert small.info["front_position"] == large.info["front_position"]
    agree = (large.classes[::2, ::2] == small.classes).mean()
    assert agree > 0.9


def test_reflectance_levels_are_class_typical(scenes):
    scene = scenes[(0, 300)]
    img, cls = scene.image.astype(np.float64), scene.classes
    mean = {c: img[cls == c].mean(axis=0) for c in range(1, 8)}
    # open water: dark, NIR lowest, deep blue; rock: dark-mid, NIR above water
    assert mean[1][R] < 600 and mean[1][NIR] < 300 and mean[1][B] > 2 * mean[1][R]
    assert mean[7][NIR] > 3 * mean[1][NIR] and mean[7][R] < 2000
    # snow brighter than ice in red and NIR; ice bluer (blue/red ratio) than snow
    assert mean[5][R] > mean[4][R] and mean[5][NIR] > mean[4][NIR] + 1000
    assert mean[4][B] / mean[4][R] > mean[5][B] / mean[5][R] + 0.05
    # ice cover rises from open water through iceberg water and melange to glacier ice
    assert mean[1][R] < mean[2][R] < mean[3][R] < mean[4][R]
    # snow on rock: dustier than glacier snow (less blue, more NIR per red), with outcrops
    assert mean[6][B] / mean[6][R] < mean[5][B] / mean[5][R] - 0.05
    assert mean[6][NIR] / mean[6][R] > mean[5][NIR] / mean[5][R] + 0.05
    # high-reflectance classes in a Sentinel-2-like DN range
    assert 5000 < mean[5][R] < 9000 and img.max() <= DN_MAX


def _interior(cls: np.ndarray, c: int, k: int = 7) -> np.ndarray:
    """Pixels of class ``c`` whose k x k window lies wholly in class ``c``."""
    return ndi.binary_erosion(cls == c, np.ones((k, k), bool), border_value=0)


def _window_stats(img: np.ndarray, k: int = 7) -> np.ndarray:
    """Per-pixel k x k mean and standard deviation of each band, shape (H, W, 2 * bands)."""
    mean = np.stack([ndi.uniform_filter(img[..., b], k) for b in range(img.shape[2])], -1)
    sq = np.stack([ndi.uniform_filter(img[..., b] ** 2, k) for b in range(img.shape[2])], -1)
    return np.concatenate([mean, np.sqrt(np.maximum(sq - mean ** 2, 0.0))], -1)


# Classes that share a boundary in every scene, with the band in which their single pixels
# overlap most.
NEIGHBOURS = [(1, 2, B), (2, 3, R), (3, 4, R), (4, 5, B), (5, 6, R), (6, 7, NIR)]


def test_neighbouring_classes_overlap_in_single_pixel_brightness(scenes):
    """The intended difficulty: in the named band, a share of each neighbouring pair's pixels
    lies inside the other class's central range (its 5-95 % percentiles), so brightness
    alone cannot separate them (colour, texture and context must)."""
    img, cls = scenes[(0, 300)].image.astype(np.float64), scenes[(0, 300)].classes
    for a, b, band in NEIGHBOURS:
        xa, xb = img[cls == a, band], img[cls == b, band]
        lo_a, hi_a = np.percentile(xa, [5, 95])
        lo_b, hi_b = np.percentile(xb, [5, 95])
        inside = max(((xa >= lo_b) & (xa <= hi_b)).mean(), ((xb >= lo_a) & (xb <= hi_a)).mean())
        assert inside > 0.3, f"classes {a}/{b} do not overlap in band {band}: {inside:.3f}"
    far = img[cls == 5, R].min() - img[cls == 1, R].max()   # sanity: water and snow apart
    assert far > 2000


def test_windows_separate_what_single_pixels_cannot(scenes):
    """Per-pixel band values confuse the classes; 7 x 7 window statistics separate them.

    Quadratic discriminants on window interiors: single pixels (4 bands) misclassify a good
    share, 7 x 7 window means and standard deviations hardly any, for all seven classes and
    for the ocean classes, whose pixels overlap most.
    """
    from sklearn.discriminant_analysis import QuadraticDiscriminantAnalysis

    scene = scenes[(4, 300)]
    img, cls = scene.image.astype(np.float32) / 8192, scene.classes
    stats = _window_stats(img)
    for group, pixel_max, window_min in [(range(1, 8), 0.93, 0.97), (OCEAN_CLASSES, 0.9, 0.98)]:
        keep = np.zeros(cls.shape, bool)
        for c in group:
            keep |= _interior(cls, c)
        y = cls[keep]
        pixel, window = img[keep], stats[keep]
        acc_pixel = QuadraticDiscriminantAnalysis(reg_param=1e-3).fit(pixel, y).score(pixel, y)
        acc_window = QuadraticDiscriminantAnalysis(reg_param=1e-3).fit(window, y).score(window, y)
        assert acc_pixel < pixel_max, (list(group), acc_pixel)
        assert acc_window > window_min, (list(group), acc_window)
        assert acc_window > acc_pixel + 0.04, (list(group), acc_pixel, acc_window)


def test_every_ocean_window_shows_its_ice_cover(scenes):
    """Iceberg water holds ice fragments in nearly every 7 x 7 window, open water in none,
    and the melange covers far more: ice cover is visible at the window scale."""
    for key in [(0, 300), (4, 300)]:
        scene = scenes[key]
        img, cls = scene.image.astype(np.float64), scene.classes
        bright = ndi.maximum_filter(img[..., NIR], 7)   # fragments are bright in the NIR
        cover = ndi.uniform_filter((img[..., NIR] > 1500).astype(float), 7)
        open_w, bergs, melange = (_interior(cls, c) for c in OCEAN_CLASSES)
        assert np.mean(bright[bergs] > 1500) > 0.95, key
        assert np.mean(bright[open_w] > 1500) < 0.01, key
        assert np.percentile(cover[bergs], 90) < np.percentile(cover[melange], 10), key


def _pure_tiles(classes: np.ndarray, tile: int = 50, stride: int = 25) -> np.ndarray:
    """Count of tiles per class whose majority class covers >= 95 % (index = class)."""
    counts = np.zeros(8, int)
    h, w = classes.shape
    for i in range(0, h - tile + 1, stride):
        for j in range(0, w - tile + 1, stride):
            hist = np.bincount(classes[i:i + tile, j:j + tile].ravel(), minlength=8)
            if hist.max() >= 0.95 * tile * tile:
                counts[hist.argmax()] += 1
    return counts


def test_regions_large_enough_for_pure_tiles():
    """Every class, melange and iceberg water included, fills at least 20 tiles of 50 px
    (stride 25) to 95 % or more in a 600-pixel scene: enough pure tiles to train on."""
    for seed in (0, 1):
        counts = _pure_tiles(make_scene(seed, 600).classes)[1:]
        assert counts.min() >= 20, (seed, counts)


@pytest.fixture
def restore_logging():
    """main() configures the root logger as a command line does; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_generate_scenes_and_cli(tmp_path, restore_logging):
    paths = generate_scenes(tmp_path / "a", n_images=2, size=160, seed=5)
    assert [p.name for p in paths] == ["S2_synthetic_s5.tif", "S2_synthetic_s6.tif"]

    out = tmp_path / "cli"
    assert main([str(out), "--n-images", "3", "--size", "160", "--seed", "5"]) == 0
    images = list_images(out)
    assert [p.name for p in images] == [f"S2_synthetic_s{s}.tif" for s in (5, 6, 7)]
    for image in images:
        companions = find_companions(image)
        assert None not in (companions.classes, companions.edge, companions.valley_margin)
    assert len(list(out.iterdir())) == 12
    np.testing.assert_array_equal(read_image(out / "S2_synthetic_s5.tif").data,
                                  read_image(paths[0]).data)


def test_bad_inputs_raise_config_errors(tmp_path, capsys, restore_logging):
    with pytest.raises(ConfigError, match="size"):
        make_scene(0, size=50)
    with pytest.raises(ConfigError, match="seed"):
        make_scene(-1)
    with pytest.raises(ConfigError, match="n_images"):
        generate_scenes(tmp_path, n_images=0)
    assert main([str(tmp_path / "x"), "--size", "20"]) == 2
    assert "ConfigError: size must be" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()

"""Tests of seeice.fronts.detection: calving-front detection (DESIGN 5.7)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage.measure import find_contours
from skimage.segmentation import morphological_geodesic_active_contour

from front_helpers import ROCK_BOTTOM, ROCK_TOP, fjord_scene
from seeice.classes import GLACIER_SCHEME, ClassScheme
from seeice.errors import ConfigError, FrontNotFoundError
from seeice.fronts.detection import FrontParams, FrontResult, contour_glacier, detect_front, display_front, ocean_mask
from seeice.fronts.morphology import longest_contour, rasterise_contour

S = GLACIER_SCHEME


def median_error_px(known: np.ndarray, found: np.ndarray) -> float:
    """Median distance from each known front pixel to the nearest found front pixel."""
    return float(np.median(ndi.distance_transform_edt(~found)[known]))


@pytest.fixture(scope="module")
def fjord():
    classes, known = fjord_scene()
    return classes, known, detect_front(classes, S)


def test_front_on_true_classes_is_within_two_pixels(fjord):
    classes, known, result = fjord
    assert isinstance(result, FrontResult)
    assert result.front.dtype == bool and result.front.shape == classes.shape
    assert result.n_pixels > 0.8 * known.sum()
    assert median_error_px(known, result.front) <= 2.0
    # and the other way round: the found front follows the terminus, not the rock walls
    assert np.median(ndi.distance_transform_edt(~known)[result.front]) <= 2.0
    assert result.n_pixels < math.hypot(*classes.shape)
    # a single 8-connected object
    assert ndi.label(result.front, structure=np.ones((3, 3)))[1] == 1


def test_class_output_paints_the_front(fjord):
    classes, _, result = fjord
    assert result.classes_out.dtype == np.uint8 and result.classes_refined.dtype == np.uint8
    np.testing.assert_array_equal(result.classes_out == S.front_value, result.front)
    np.testing.assert_array_equal(result.classes_out[~result.front],
                                  result.classes_refined[~result.front])
    assert not np.any(result.classes_refined == S.front_value)
    assert result.classes_out.max() == S.front_value


def test_ocean_excludes_border_ponds_and_the_glacier(fjord):
    classes, _, result = fjord
    assert not result.ocean[2:40, 100:130].any()          # meltwater pond at the border
    assert not result.ocean[200:206, 180:186].any()       # water patch on the ice
    assert result.ocean[150, 380] and result.ocean[200, 300]
    assert not (result.ocean & result.glacier).any()
    raw = ocean_mask(classes, S)
    assert not raw[2:40, 100:130].any() and raw[200, 399]


def test_refinement_keeps_rock_inside_the_glacier(fjord):
    classes, _, result = fjord
    refined = result.classes_refined
    inside = result.glacier
    # the nunatak (7) and its snow on rock (6) lie inside the contoured glacier and keep their class
    assert inside[180:215, 90:120].all()
    np.testing.assert_array_equal(refined[180:215, 90:120], classes[180:215, 90:120])
    assert set(np.unique(refined[180:215, 90:120])) == {6, 7}
    # snow on ice and the misclassified water patch become glacier ice
    assert (refined[130:150, 40:70] == 4).all()
    assert (refined[250:270, 120:160] == 4).all()
    assert (refined[200:206, 180:186] == 4).all()
    # rock walls outside the glacier are untouched
    np.testing.assert_array_equal(refined[:ROCK_TOP - 5], classes[:ROCK_TOP - 5])
    np.testing.assert_array_equal(refined[ROCK_BOTTOM + 5:], classes[ROCK_BOTTOM + 5:])
    # no rock pixel anywhere changed class
    rock = np.isin(classes, S.rock)
    np.testing.assert_array_equal(refined[rock], classes[rock])


def test_refinement_off_and_unclassified_pixels():
    classes, _ = fjord_scene()
    classes[150:160, 150:160] = 0          # unclassified pixels inside the glacier
    on = detect_front(classes, S)
    assert (on.classes_refined[150:160, 150:160] == 0).all()
    off = detect_front(classes, S, FrontParams(gac_glacier=False))
    np.testing.assert_array_equal(off.classes_refined, classes)
    np.testing.assert_array_equal(off.front, on.front)


def test_no_ocean_no_front():
    classes, _ = fjord_scene(with_ocean=False)
    with pytest.raises(FrontNotFoundError, match="no ocean"):
        detect_front(classes, S)


def test_no_glacier_no_front():
    classes, _ = fjord_scene()
    classes[classes == 4] = 5
    with pytest.raises(FrontNotFoundError, match="glacier class"):
        detect_front(classes, S)


def test_small_ocean_is_not_an_ocean():
    classes, _ = fjord_scene()
    with pytest.raises(FrontNotFoundError, match="no ocean"):
        detect_front(classes, S, FrontParams(min_ocean_area=10 ** 6))


def test_front_longer_than_the_diagonal_is_rejected():
    rows, cols = np.mgrid[0:120, 0:1000]
    boundary = np.where((cols // 50) % 2 == 0, 30, 80)      # square teeth 50 px wide
    classes = np.where(rows < boundary, 4, 1).astype(np.uint8)
    with pytest.raises(FrontNotFoundError, match="diagonal"):
        detect_front(classes, S)


def test_scheme_without_front_is_a_clear_error():
    fluvial = ClassScheme(name="fluvial", names=("water", "gravel", "veg"),
                          colours=("blue", "tan", "green"))
    assert not fluvial.has_front
    with pytest.raises(ConfigError, match="has_front"):
        detect_front(np.ones((50, 50), np.uint8), fluvial)


def test_longest_contour_is_kept_not_the_last():
    mask = np.zeros((100, 100), bool)
    mask[10:60, 10:60] = True     # long outline, found first
    mask[80:85, 80:85] = True     # short outline, found last
    contours = find_contours(mask.astype(float), 0.5)
    assert len(contours) == 2 and len(contours[-1]) < len(contours[0])   # the trap
    best = longest_contour(mask)
    assert best is contours[0] or np.array_equal(best, contours[0])
    line = rasterise_contour(best, mask)
    # the outline is the outermost row of the big square, on its inside
    expected = mask.copy()
    expected[80:85, 80:85] = False
    expected &= ~ndi.binary_erosion(expected)
    np.testing.assert_array_equal(line, expected)
    assert longest_contour(np.zeros((10, 10), bool)) is None


def test_longest_contour_of_a_contoured_glacier_in_two_pieces():
    # two glacier pieces survive the active contour; the longer outline is kept
    glacier = np.zeros((200, 200), bool)
    glacier[20:120, 20:120] = True
    glacier[160:175, 160:175] = True
    contoured = contour_glacier(glacier)
    contours = find_contours(contoured.astype(float), 0.5)
    assert len(contours) == 2 and len(contours[-1]) < len(contours[0])
    best = longest_contour(contoured)
    assert best[:, 0].max() < 130     # the big one


def test_cropped_active_contour_equals_the_full_image_one():
    rng = np.random.default_rng(3)
    glacier = np.zeros((300, 360), bool)
    glacier[120:200, 150:260] = True
    glacier[140:150, 250:300] = True
    glacier &= rng.random(glacier.shape) > 0.03
    for params in (FrontParams(), FrontParams(balloon=1.0, threshold=0.3)):
        init = ndi.binary_fill_holes(ndi.binary_closing(
            ndi.binary_dilation(glacier, np.ones((5, 5))), np.ones((30, 30)), border_value=0))
        # same initial set as seeice (closing never removes pixels; here far from the edge)
        full = morphological_geodesic_active_contour(
            1.0 - glacier, num_iter=params.gac_iterations, init_level_set=init.astype(np.int8),
            smoothing=params.smoothing, threshold=params.threshold, balloon=params.balloon) > 0
        full = ndi.binary_erosion(full, np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool),
                                  iterations=params.erosions, border_value=1)
        np.testing.assert_array_equal(contour_glacier(glacier, params), full)


def test_display_front_dilates_by_a_square():
    front = np.zeros((50, 50), bool)
    front[25, 25] = True
    shown = display_front(front, 10)
    assert shown.sum() == 100
    rows, cols = np.nonzero(shown)
    assert rows.max() - rows.min() == 9 and cols.max() - cols.min() == 9
    assert shown[25, 25]
    np.testing.assert_array_equal(display_front(front, 0), front)


def test_params_are_checked():
    with pytest.raises(ConfigError):
        FrontParams(closing=-1)
    with pytest.raises(ConfigError):
        FrontParams(contour_level=1.5)
    assert FrontParams().to_dict()["closing"] == 30


# ------------------------------------------------------------------ synthetic scenes

synthetic = pytest.importorskip("seeice.datasets.synthetic")


def test_front_on_a_synthetic_scene():
    scene = synthetic.make_scene(0, 300)
    result = detect_front(scene.classes, S)
    assert median_error_px(scene.front, result.front) <= 2.0


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_front_on_synthetic_scenes_600(seed):
    scene = synthetic.make_scene(seed, 600)
    result = detect_front(scene.classes, S)
    assert median_error_px(scene.front, result.front) <= 2.0

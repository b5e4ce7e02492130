"""The front of a large image sought where the glacier meets the sea: the same front as over
the whole image, from a bounded box."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from front_helpers import fjord_scene
from seeice.classes import GLACIER_SCHEME
from seeice.errors import FrontNotFoundError
from seeice.fronts.detection import FrontParams, detect_front
from seeice.fronts.region import (
    contact_reach,
    detect_front_in_region,
    front_region,
    region_margin,
)

OFFSET = 400


def _fjord_in_rock(size: int = 1300, offset: int = OFFSET):
    """The 400 px test fjord placed at (offset, offset) in a larger field of rock."""
    piece, front = fjord_scene()
    classes = np.full((size, size), 7, np.uint8)
    known = np.zeros((size, size), bool)
    classes[offset:offset + 400, offset:offset + 400] = piece
    known[offset:offset + 400, offset:offset + 400] = front
    return classes, known


def test_the_region_is_the_contact_zone_with_its_margin():
    classes, known = _fjord_in_rock()
    (rows, cols), sea, glacier = front_region(classes, GLACIER_SCHEME, FrontParams())
    assert sea.shape == glacier.shape == classes.shape and (sea & glacier).sum() == 0
    margin = region_margin(FrontParams())
    assert margin > contact_reach(FrontParams()) > 100
    assert 0 < rows.start and rows.stop < 1300 and 0 < cols.start and cols.stop < 1300
    front_rows, front_cols = np.nonzero(known)
    assert rows.start <= front_rows.min() - margin and rows.stop > front_rows.max() + margin
    assert cols.start <= front_cols.min() - margin and cols.stop > front_cols.max() + margin


def test_the_front_from_the_region_is_the_front_from_the_whole_image(caplog):
    classes, _ = _fjord_in_rock()
    nodata = np.zeros(classes.shape, bool)
    nodata[OFFSET + 120:OFFSET + 140, OFFSET + 245:OFFSET + 275] = True   # a cloud on the front
    whole = detect_front(classes, GLACIER_SCHEME, nodata=nodata)
    with caplog.at_level(logging.INFO, logger="seeice.fronts.region"):
        bounded = detect_front_in_region(classes, GLACIER_SCHEME, nodata=nodata,
                                         region_min_pixels=0)
    assert "front sought in the region" in caplog.text
    assert bounded.front.sum() > 150
    np.testing.assert_array_equal(bounded.front, whole.front)
    np.testing.assert_array_equal(bounded.classes_out, whole.classes_out)
    np.testing.assert_array_equal(bounded.classes_refined, whole.classes_refined)
    assert bounded.note == whole.note and "no-data" in bounded.note
    assert bounded.sea_contact == pytest.approx(whole.sea_contact)


def test_images_up_to_the_threshold_use_the_whole_image(caplog):
    classes, _ = _fjord_in_rock(500, offset=50)
    with caplog.at_level(logging.INFO, logger="seeice.fronts.region"):
        result = detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=500 * 500)
    assert "region" not in caplog.text
    np.testing.assert_array_equal(result.front, detect_front(classes, GLACIER_SCHEME).front)


def test_a_glacier_far_from_the_sea_has_no_front():
    classes = np.full((900, 900), 7, np.uint8)
    classes[50:250, 50:250] = 4
    classes[600:850, 600:850] = 1
    with pytest.raises(FrontNotFoundError, match="nowhere near the sea"):
        detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)


def test_without_sea_the_whole_image_says_so():
    classes, _ = _fjord_in_rock(700, offset=150)
    classes[np.isin(classes, (1, 2, 3))] = 7
    with pytest.raises(FrontNotFoundError, match="no ocean object"):
        detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)


def test_a_sea_that_leaves_the_region_and_comes_back_is_still_one_sea(caplog):
    """A rock bar cuts the fjord's water in two; a channel joins the parts far outside the box.
    Within the box the water is two pieces, yet both are the sea, as over the whole image."""
    classes, _ = _fjord_in_rock(1400)
    classes[OFFSET + 100:OFFSET + 300, OFFSET + 340:OFFSET + 346] = 7     # the bar
    classes[10:OFFSET + 101, OFFSET + 330:OFFSET + 338] = 1             # up from the left part
    classes[10:18, OFFSET + 330:1300] = 1                                # across, outside the box
    classes[10:OFFSET + 101, 1292:1300] = 1                              # and down
    classes[OFFSET + 100:OFFSET + 108, OFFSET + 346:1300] = 1            # into the right part
    box, _, _ = front_region(classes, GLACIER_SCHEME, FrontParams())
    assert box[0].start > 18                                             # the channel is outside
    with caplog.at_level(logging.INFO, logger="seeice.fronts.region"):
        result = detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)
    assert "front sought in the region" in caplog.text
    whole = detect_front(classes, GLACIER_SCHEME)
    np.testing.assert_array_equal(result.front, whole.front)
    np.testing.assert_array_equal(result.ocean[box], whole.ocean[box])


def test_an_ice_patch_larger_than_the_tongue_within_the_region_is_not_the_glacier():
    """The glacier reaches far upstream, out of the region; within the region a separate ice
    patch is larger than the glacier's tongue. The glacier is still the whole image's."""
    classes = np.full((1800, 2600), 7, np.uint8)
    classes[700:900, 200:1300] = 4                  # the glacier, from far upstream
    classes[700:900, 1300:2500] = 1                 # the fjord's sea
    classes[950:1219, 824:1219] = 4                 # a separate ice field beside the tongue
    whole = detect_front(classes, GLACIER_SCHEME)
    result = detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)
    assert whole.front.sum() > 150
    np.testing.assert_array_equal(result.front, whole.front)


def test_the_front_is_judged_against_the_whole_image_diagonal_not_the_region(monkeypatch):
    """The region passes the image's diagonal on: a front longer than the region's diagonal
    but shorter than the image's is accepted, as over the whole image."""
    from seeice.fronts import region

    classes, _ = _fjord_in_rock()
    seen = []

    def recording(*args, **kwargs):
        seen.append(kwargs.get("image_diagonal"))
        return detect_front(*args, **kwargs)

    monkeypatch.setattr(region, "detect_front", recording)
    detect_front_in_region(classes, GLACIER_SCHEME, region_min_pixels=0)
    assert seen == [pytest.approx(np.hypot(1300, 1300))]


def test_the_diagonal_check_uses_the_diagonal_given():
    classes, _ = _fjord_in_rock(500, offset=50)
    n_front = int(detect_front(classes, GLACIER_SCHEME).front.sum())
    with pytest.raises(FrontNotFoundError, match=f"image diagonal \\({n_front} px\\)"):
        detect_front(classes, GLACIER_SCHEME, image_diagonal=n_front)
    assert detect_front(classes, GLACIER_SCHEME, image_diagonal=n_front + 1).front.sum() == n_front


def test_a_no_data_mask_on_another_grid_is_refused_naming_both():
    from seeice.errors import RasterError

    classes, _ = _fjord_in_rock(700, offset=150)
    with pytest.raises(RasterError, match="share one grid"):
        detect_front_in_region(classes, GLACIER_SCHEME, nodata=np.zeros((700, 699), bool),
                               region_min_pixels=0)

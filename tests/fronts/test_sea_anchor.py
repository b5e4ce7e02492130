"""The front anchored to the sea (DESIGN 9 and 10.3): known answers on hand-made class rasters."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from seeice.classes import GLACIER_SCHEME
from seeice.datasets.synthetic import make_scene
from seeice.errors import ConfigError, FrontNotFoundError
from seeice.fronts.detection import FrontParams, detect_front, valid_frame

WATER, GLACIER, ROCK = 1, 4, 7
PUBLISHED = FrontParams(ocean_rule="published")


def fjord(size=400):
    """Glacier (cols 0-199) and open water (cols 200-) in a fjord of rows 120-299; rock around."""
    classes = np.full((size, size), ROCK, np.uint8)
    classes[120:300, :200] = GLACIER
    classes[120:300, 200:] = WATER
    return classes


def test_inland_water_beside_the_glacier_does_not_move_the_front():
    clean = detect_front(fjord(), GLACIER_SCHEME).front
    classes = fjord()
    classes[12:120, 20:180] = WATER          # 17 280 px of "water" on the glacier's flank
    sea = detect_front(classes, GLACIER_SCHEME).front
    np.testing.assert_array_equal(sea, clean)
    assert np.all(np.nonzero(sea)[1] >= 185)  # the front is the glacier's seaward edge
    # the published rule takes the patch for ocean and drags the front along the flank
    published = detect_front(classes, GLACIER_SCHEME, PUBLISHED).front
    rows, cols = np.nonzero(published)
    assert np.any((rows < 130) & (cols < 175))


def test_a_k_half_margin_changes_nothing():
    classes = fjord()
    base = detect_front(classes, GLACIER_SCHEME)
    margin = 3                                 # k // 2 for k = 7: unclassified, class 0
    padded = detect_front(np.pad(classes, margin), GLACIER_SCHEME)
    np.testing.assert_array_equal(padded.front, np.pad(base.front, margin))


def test_front_next_to_no_data_is_trimmed_and_noted():
    classes = fjord()
    nodata = np.zeros(classes.shape, bool)
    nodata[200:216, 185:216] = True            # a cloud over the middle of the front
    result = detect_front(classes, GLACIER_SCHEME, nodata=nodata)
    rows, cols = np.nonzero(result.front)
    touching = ndi.binary_dilation(nodata, structure=np.ones((3, 3), bool))
    assert not np.any(result.front & touching)
    assert np.any(rows < 200) and np.any(rows > 215)      # both sides of the cloud kept
    assert "runs into no-data" in result.note
    assert detect_front(classes, GLACIER_SCHEME).note == ""


def test_short_contact_with_the_sea_is_refused_with_the_reason():
    classes = np.full((400, 400), ROCK, np.uint8)
    classes[100:300, :200] = GLACIER                      # 200 px wide glacier
    classes[20:380, 240:] = WATER                         # the sea, behind 40 px of rock ...
    classes[195:200, 200:240] = WATER                     # ... reached by a 5 px channel
    with pytest.raises(FrontNotFoundError, match="short contact"):
        detect_front(classes, GLACIER_SCHEME)
    accepted = detect_front(classes, GLACIER_SCHEME, FrontParams(min_sea_contact=0.0))
    assert 0 < accepted.sea_contact < 0.5


@pytest.mark.parametrize("seed", [3, 501])
def test_fronts_of_synthetic_scenes_lie_on_the_true_front(seed):
    scene = make_scene(seed, 300)
    result = detect_front(scene.classes, GLACIER_SCHEME)
    distance = ndi.distance_transform_edt(~result.front)[scene.front]
    assert np.median(distance) <= 4.0 and result.sea_contact > 1.0   # within 40 m


def test_frame_is_measured_from_the_valid_data():
    valid = np.ones((8, 8), bool)
    assert valid_frame(valid, 2).sum() == 64 - 16         # the 2 px image frame
    valid[:, :3] = False
    frame = valid_frame(valid, 2)
    assert frame[:, :5].all() and not frame[2:6, 5].any()
    with pytest.raises(ConfigError, match="sea"):
        FrontParams(ocean_rule="coast")

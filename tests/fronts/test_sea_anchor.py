"""The front anchored to the sea (DESIGN 9 and 10.3): known answers on hand-made class rasters."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy import ndimage as ndi

from seeice.classes import GLACIER_SCHEME
from seeice.datasets.synthetic import make_scene
from seeice.errors import ConfigError, FrontNotFoundError
from seeice.fronts.contact import sea_contact
from seeice.fronts.detection import FrontParams, detect_front
from seeice.fronts.morphology import valid_frame
from seeice.pipeline.csc import CSCSettings

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
    clean = detect_front(classes, GLACIER_SCHEME)
    rows = np.nonzero(result.front)[0]
    # the glacier's 10 px frame is cleared around no-data as around the image border, so the
    # outline runs 11 px from it there: those pixels are "touching" and dropped
    near = ndi.distance_transform_cdt(~nodata, metric="chessboard") <= 11
    assert not np.any(result.front & near)
    assert np.any(rows < 200) and np.any(rows > 215)      # both sides of the cloud kept
    np.testing.assert_array_equal(result.front, clean.front & ~near)
    assert re.fullmatch(r"front runs into no-data: \d+ front pixels within 11 px of no-data "
                        r"dropped, the rest kept", result.note)
    assert clean.note == ""


def test_no_data_away_from_the_front_changes_nothing():
    classes = fjord()
    nodata = np.zeros(classes.shape, bool)
    nodata[330:360, 20:60] = True                         # a cloud on the rock
    result = detect_front(classes, GLACIER_SCHEME, nodata=nodata)
    np.testing.assert_array_equal(result.front, detect_front(classes, GLACIER_SCHEME).front)
    assert result.note == ""


def test_a_front_hidden_by_no_data_is_not_reported():
    classes = fjord()
    nodata = np.zeros(classes.shape, bool)
    nodata[100:320, 170:230] = True                       # the whole front under cloud
    with pytest.raises(FrontNotFoundError, match="no-data may hide the front"):
        detect_front(classes, GLACIER_SCHEME, nodata=nodata)


def test_short_contact_with_the_sea_is_refused_with_the_reason():
    classes = np.full((400, 400), ROCK, np.uint8)
    classes[100:300, :200] = GLACIER                      # 200 px wide glacier
    classes[20:380, 240:] = WATER                         # the sea, behind 40 px of rock ...
    classes[195:200, 200:240] = WATER                     # ... reached by a 5 px channel
    with pytest.raises(FrontNotFoundError, match="short contact"):
        detect_front(classes, GLACIER_SCHEME)
    accepted = detect_front(classes, GLACIER_SCHEME, FrontParams(min_sea_contact=0.0))
    assert 0 < accepted.sea_contact < 0.5
    assert accepted.note == ""


def test_an_outlet_of_a_wider_ice_field_is_not_a_short_contact():
    classes = np.full((500, 500), ROCK, np.uint8)
    classes[20:480, 20:260] = GLACIER                     # ice field, 460 x 240 px
    classes[200:300, 260:330] = GLACIER                   # its outlet, 100 px wide
    classes[200:300, 330:] = WATER
    classes[100:400, 400:] = WATER
    result = detect_front(classes, GLACIER_SCHEME)        # width measured at the tongue
    assert 0.9 < result.sea_contact < 1.5
    assert np.all(np.nonzero(result.front)[1] >= 315)


def test_sea_contact_is_front_length_over_the_width_at_the_front():
    glacier = np.zeros((200, 300), bool)
    glacier[80:120, :150] = True                          # a tongue 40 px wide
    front = np.zeros_like(glacier)
    front[80:120, 149] = True
    contact, width = sea_contact(front, glacier)
    assert width == 40.0 and contact == 1.0
    assert sea_contact(np.zeros_like(front), glacier)[0] == 0.0
    wide = np.zeros((300, 400), bool)
    wide[:, :300] = True                                  # a glacier 300 px wide ...
    short = np.zeros_like(wide)
    short[140:160, 299] = True                            # ... meeting the sea along 20 px
    contact, width = sea_contact(short, wide)             # the widest disc centred within
    assert width == 122.0 and contact == 20 / 122         # 60 px of the front: 2 x 61 px


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
    with pytest.raises(ConfigError, match="min-sea-contact"):
        FrontParams(min_sea_contact=-1)


def test_settings_carry_the_ocean_rule_and_the_minimum_contact():
    base = {"ModelName": "m.keras", "PredictPath": "p"}
    assert CSCSettings.from_config(base).front_params == {"ocean_rule": "sea",
                                                          "min_sea_contact": 0.5}
    settings = CSCSettings.from_config({**base, "OceanRule": "published", "MinSeaContact": 0})
    params = FrontParams(**settings.front_params)
    assert params.ocean_rule == "published" and params.min_sea_contact == 0.0


def test_the_published_frame_rule_takes_ocean_objects_8_connected():
    from seeice.fronts.detection import ocean_mask

    classes = np.full((60, 60), 4, np.uint8)
    classes[:, :1] = 7                      # valid everywhere; the frame is the image edge
    classes[0:5, 20:25] = 1                 # a patch touching the frame ...
    classes[5:30, 25:50] = 1                # ... linked to a 625 px water body by one corner
    classes[40:58, 2:40] = 1                # the largest ocean object (684 px), off the frame
    params = FrontParams(ocean_rule="published", min_ocean_area=100, border=3)
    ocean = ocean_mask(classes, GLACIER_SCHEME, params)
    # 8-connected, the corner-linked body touches the frame and goes, as published
    assert not ocean[10:30, 25:50].any() and ocean[40:58, 2:40].all()
    # the sea rule keeps the largest object only, whatever the connectivity
    sea = ocean_mask(classes, GLACIER_SCHEME, FrontParams(min_ocean_area=100))
    assert sea.sum() == 18 * 38

"""Terminus positions by the box and centreline methods on a synthetic series with known shifts."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from scipy import ndimage as ndi

from seeice.classes import GLACIER_SCHEME
from seeice.datasets.timeseries import DEFAULT_CLOUD_DATE, make_series
from seeice.errors import DataError
from seeice.fronts.detection import FrontParams, detect_front
from seeice.fronts.series import DatedFront, terminus_series
from seeice.fronts.terminus import box_frame, box_position, centreline_position
from seeice.io.vector import front_geometry


@pytest.fixture(scope="module")
def series():
    return make_series()


@pytest.fixture(scope="module")
def detected(series):
    """The series as the CSC would leave it: fronts detected on the classes, cloud as no-data."""
    out = []
    for item in series.dates:
        result = detect_front(item.scene.classes, GLACIER_SCHEME, FrontParams(),
                              nodata=item.nodata)
        classes = np.where(item.nodata, 0, result.classes_out).astype(np.uint8)
        out.append(DatedFront(date=item.date, image=item.scene.stem, classes=classes,
                              nodata=item.nodata, front_mask=result.front, note=result.note,
                              front=front_geometry(result.front, item.scene.transform)))
    return out


def test_true_fronts_give_the_known_positions_exactly(series):
    transform = series.dates[0].scene.transform
    frame = box_frame(series.box, [d.scene.classes for d in series.dates], transform,
                      GLACIER_SCHEME)
    assert frame.flow == pytest.approx((1.0, 0.0))       # glacier to ocean: +x
    assert frame.width == pytest.approx(series.box.area / frame.length)
    first_box = first_line = None
    for item in series.dates:
        front = front_geometry(item.scene.front, transform)
        length = box_position(front, frame).length_m
        distance = centreline_position(front, series.centreline, 10.0).distance_m
        first_box = length if first_box is None else first_box
        first_line = distance if first_line is None else first_line
        assert length - first_box == pytest.approx(item.shift_m, abs=1e-6)
        assert first_line - distance == pytest.approx(item.shift_m, abs=1e-6)


def test_series_from_detected_fronts_within_15_m_with_signs_and_the_cloud_flagged(series,
                                                                                   detected):
    transform = series.dates[0].scene.transform
    table, notes = terminus_series(detected[::-1], transform, GLACIER_SCHEME, box=series.box,
                                   centreline=series.centreline)
    assert notes == []
    truth = np.array([d.shift_m for d in series.dates])
    assert list(table["Image"]) == [d.scene.stem for d in series.dates]   # sorted by date
    clear = np.arange(len(truth)) != DEFAULT_CLOUD_DATE
    for column in ("Box_m", "Centreline_m"):
        assert np.abs(table[column].to_numpy() - truth)[clear].max() <= 15.0, column
        change = table[column.replace("_m", "_change_m")].to_numpy()[1:]
        assert np.array_equal(np.sign(change)[clear[1:]], np.sign(np.diff(truth))[clear[1:]])
    # Advance of 120 m in 16 days: 7.5 m/day; retreat of 80 m next.
    assert table["Centreline_rate_m_per_day"].iloc[1] == pytest.approx(120 / 16, abs=1.0)
    assert table["Box_change_m"].iloc[2] == pytest.approx(-80.0, abs=15.0)
    flagged = table["Flagged"].to_numpy()
    assert flagged[DEFAULT_CLOUD_DATE] and not flagged[clear].any()
    cloudy = table.iloc[DEFAULT_CLOUD_DATE]
    assert cloudy["Box_nodata_share"] > 0.05 and bool(cloudy["Front_touches_nodata"])
    assert cloudy["Box_front_cover"] < 0.9
    assert not table["Several_crossings"].any() and (table["Crossings"] == 1).all()


def test_reversed_centreline_is_turned_round_and_said(series, detected, caplog):
    transform = series.dates[0].scene.transform
    reversed_line = shapely.LineString(list(series.centreline.coords)[::-1])
    table, notes = terminus_series(detected, transform, GLACIER_SCHEME,
                                   centreline=reversed_line)
    assert any("drawn from the glacier to the ocean" in n for n in notes)
    truth = np.array([d.shift_m for d in series.dates])
    assert np.abs(table["Centreline_m"].to_numpy() - truth)[:3].max() <= 15.0
    assert table["Box_m"].isna().all()


def test_several_crossings_take_the_most_seaward_and_count():
    line = shapely.LineString([(100, 0), (0, 0)])          # ocean end at x = 100
    front = shapely.LineString([(30, -5), (30, 5), (60, 5), (60, -5)])
    position = centreline_position(front, line, 1.0)
    assert position.crossings == 2 and position.distance_m == pytest.approx(40.0)
    assert centreline_position(shapely.LineString([(0, 9), (100, 9)]), line, 1.0).crossings == 0


def test_bad_boxes_and_centrelines_are_refused(series, detected):
    transform = series.dates[0].scene.transform
    x0, y0 = transform @ (0, 0)
    with pytest.raises(DataError, match="give a box"):
        terminus_series(detected, transform, GLACIER_SCHEME)
    upstream = shapely.box(x0 + 10, y0 - 1800, x0 + 400, y0 - 1300)   # on the glacier only
    with pytest.raises(DataError, match="box does not lie across"):
        terminus_series(detected, transform, GLACIER_SCHEME, box=upstream)
    away = shapely.box(x0 - 9000, y0 + 1000, x0 - 8000, y0 + 2000)
    with pytest.raises(DataError, match="covers no pixel"):
        terminus_series(detected, transform, GLACIER_SCHEME, box=away)
    # A centreline along the glacier only, never reaching the front.
    inland = shapely.LineString([transform @ (60, 150), transform @ (5, 150)])
    with pytest.raises(DataError, match="crosses no front"):
        terminus_series(detected, transform, GLACIER_SCHEME, centreline=inland)
    outside = shapely.LineString([(x0 - 9000, y0 + 10), (x0 - 8000, y0 + 10)])
    with pytest.raises(DataError, match="does not cross the classified part"):
        terminus_series(detected, transform, GLACIER_SCHEME, centreline=outside)


def test_repeated_dates_are_kept_and_said(series, detected):
    transform = series.dates[0].scene.transform
    twin = DatedFront(**{**detected[1].__dict__, "image": "twin_of_date_1"})
    table, notes = terminus_series([*detected, twin], transform, GLACIER_SCHEME,
                                   box=series.box)
    assert len(table) == len(detected) + 1
    assert table["Repeated_date"].sum() == 2
    assert any("twin_of_date_1" in n for n in notes)


def test_a_front_crossing_the_centreline_twice_is_flagged_and_said(series, detected, caplog):
    """A front folded back across the centreline: the most seaward crossing, and a flag."""
    transform = series.dates[0].scene.transform
    y = series.centreline.coords[0][1]
    first = detected[0]
    x = shapely.get_coordinates(first.front.intersection(series.centreline))[0, 0]
    # A loop of front just upstream of the crossing adds two more crossings.
    folded = shapely.MultiLineString([first.front, shapely.LineString(
        [(x - 100, y - 30), (x - 100, y + 30), (x - 60, y + 30), (x - 60, y - 30)])])
    item = DatedFront(**{**first.__dict__, "front": folded})
    with caplog.at_level("WARNING", logger="seeice"):
        table, _ = terminus_series([item, *detected[1:]], transform, GLACIER_SCHEME,
                                   centreline=series.centreline)
    row = table.iloc[0]
    assert row["Crossings"] == 3 and bool(row["Several_crossings"]) and bool(row["Flagged"])
    # Most seaward: the original crossing, nearest the ocean end.
    assert row["Centreline_distance_m"] == pytest.approx(
        series.centreline.project(shapely.Point(x, y)))
    assert "3 crossings of the centreline" in caplog.text


def test_no_data_near_the_front_is_measured_on_the_front_box_with_known_answers():
    """A vertical front at column 50 (rows 20-79) of a 200 x 300 grid; a cloud 4 px off it."""
    from seeice.fronts.terminus import front_touches_nodata, nodata_near_front

    front = np.zeros((200, 300), bool)
    front[20:80, 50] = True
    nodata = np.zeros((200, 300), bool)
    nodata[40:60, 54:60] = True                  # 4 px to the right of the front
    nodata[150:, 250:] = True                    # far away: never counts
    assert front_touches_nodata(front, nodata, 4.0)
    assert not front_touches_nodata(front, nodata, 3.9)
    # Within 5 px of the front: rows 15-84 (70 rows) x columns 45-55 (11 columns), minus the
    # corners beyond 5 px; of those the cloud covers rows 40-59 x columns 54-55 (40 px).
    zone = ndi.distance_transform_edt(~front) <= 5.0
    assert nodata_near_front(front, nodata, 5.0) == pytest.approx(40 / zone.sum())
    assert nodata_near_front(front, np.zeros_like(nodata), 5.0) == 0.0
    assert not front_touches_nodata(front, np.zeros_like(nodata), 5.0)

"""A terminus time series: positions of dated fronts by both methods, changes, rates and flags.

:func:`terminus_series` takes one :class:`DatedFront` per image (its class raster, no-data
mask and front line, all on one grid) and a box and/or a centreline, and returns the table
that ``Batch/TerminusTimeSeries.py`` writes as ``terminus_positions.csv`` (DESIGN section 8).
Positions are relative to the first date with a position for the method, in metres, advance
positive; changes are since the previous date with a position, and rates are those changes
per day. Dates are sorted; repeated dates are kept, both, and said once.

Quality flags (a date is ``Flagged`` when any holds): no front found; the front touches
no-data (DESIGN 10.3); the box holds no-data or cloud (``Box_nodata_share`` > 0); the front
covers under 90 % of the box's width (``Box_front_cover``); the centreline does not cross the
front (``No_crossing``) or crosses it more than once (``Several_crossings``: the most seaward
crossing is used).
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from seeice.classes import ClassScheme
from seeice.errors import DataError
from seeice.fronts.detection import FrontParams
from seeice.fronts.terminus import (
    box_frame,
    box_position,
    centreline_position,
    front_touches_nodata,
    nodata_share,
    orient_centreline,
)

log = logging.getLogger(__name__)

#: Columns of :func:`terminus_series`, in order.
SERIES_COLUMNS = ("Date", "Image", "Box_m", "Centreline_m", "Box_change_m",
                  "Box_rate_m_per_day", "Centreline_change_m", "Centreline_rate_m_per_day",
                  "Front_found", "Front_MDE_m", "Box_nodata_share", "Box_front_cover",
                  "Front_touches_nodata", "No_crossing", "Several_crossings", "Crossings",
                  "Repeated_date", "Flagged", "Box_glacier_length_m",
                  "Centreline_distance_m", "Front_note")
#: A front covering less of the box's width than this is flagged.
MIN_FRONT_COVER = 0.9


@dataclass
class DatedFront:
    """One date of a series.

    Attributes
    ----------
    date : datetime.date
    image : str
        The image's name.
    classes : numpy.ndarray
        (H, W) uint8 class raster (0: unclassified or no data; the front value allowed).
    nodata : numpy.ndarray
        (H, W) bool, the image's no-data (cloud masked as no-data included).
    front : shapely geometry or None
        The front line in the grid's CRS; None when no front was found.
    front_mask : numpy.ndarray or None
        (H, W) bool front pixels.
    mde_m : float
        Mean distance error against a manual front (NaN where none).
    note : str
        What the front step said (``Front_note``).
    """

    date: dt.date
    image: str
    classes: np.ndarray
    nodata: np.ndarray
    front: object = None
    front_mask: np.ndarray | None = None
    mde_m: float = float("nan")
    note: str = ""


def _relative(values: pd.Series, dates: pd.Series, name: str) -> tuple[pd.Series, ...]:
    """Position relative to the first valid value, change since the previous valid one and
    its rate per day (NaN for a repeated date)."""
    valid = values.notna()
    relative = pd.Series(np.nan, index=values.index)
    change = pd.Series(np.nan, index=values.index)
    rate = pd.Series(np.nan, index=values.index)
    if not valid.any():
        return relative, change, rate
    first = values[valid].iloc[0]
    relative[valid] = values[valid] - first
    previous = None
    for i in values.index[valid]:
        if previous is not None:
            change[i] = relative[i] - relative[previous]
            days = (dates[i] - dates[previous]).days
            rate[i] = change[i] / days if days > 0 else np.nan
        previous = i
    if not valid.iloc[0]:
        log.warning("%s positions are relative to %s, the first date with a position (the "
                    "first date has none).", name, dates[valid].iloc[0])
    return relative, change, rate


def terminus_series(dated: list[DatedFront], transform, scheme: ClassScheme, box=None,
                    centreline=None, pixel_size: float | None = None,
                    params: FrontParams | None = None) -> tuple[pd.DataFrame, list[str]]:
    """Terminus positions of a series of dated fronts (module notes).

    Parameters
    ----------
    dated : list of DatedFront
        One per image, any order, on one grid.
    transform : affine.Affine
        The grid's transform (a projected CRS in metres).
    scheme : ClassScheme
        The class scheme of the class rasters.
    box : shapely.Polygon, optional
        Box of the box method, in the grid's CRS.
    centreline : shapely.LineString, optional
        Centreline, in the grid's CRS; ocean end first (a reversed one is turned round).
    pixel_size : float, optional
        Metres per pixel (default: from ``transform``).
    params : FrontParams, optional
        Its ``frame`` sets how near no-data a front counts as touching it (frame + 3 px).

    Returns
    -------
    table : pandas.DataFrame
        Columns :data:`SERIES_COLUMNS`, one row per image, sorted by date.
    notes : list of str
        What the user should know about the whole series (repeated dates, a reversed
        centreline).

    Raises
    ------
    DataError
        Neither a box nor a centreline; no date; the box holds no front on any date; the
        centreline crosses no front on any date.
    """
    if box is None and centreline is None:
        raise DataError("give a box (--box) or a centreline (--centreline), or both: the "
                        "terminus position is measured with them.")
    if not dated:
        raise DataError("no dated front to measure.")
    dated = sorted(dated, key=lambda d: d.date)
    params = params or FrontParams()
    pixel_size = pixel_size or float(abs(transform.a))
    rasters = [d.classes for d in dated]
    notes = []
    counts = pd.Series([d.date for d in dated]).value_counts()
    repeated = {date for date, n in counts.items() if n > 1}
    if repeated:
        names = "; ".join(f"{date}: " + ", ".join(d.image for d in dated if d.date == date)
                          for date in sorted(repeated))
        notes.append(f"repeated dates kept, each image a row of its own ({names}); their "
                     "change and rate are measured from the row before")
        log.warning("Repeated dates, both kept: %s.", names)
    frame = box_frame(box, rasters, transform, scheme) if box is not None else None
    if centreline is not None:
        centreline, note = orient_centreline(centreline, rasters, transform, scheme)
        if note:
            notes.append(note)
    rows = []
    for d in dated:
        found = d.front is not None and not d.front.is_empty
        row = {"Date": d.date, "Image": d.image, "Front_found": found, "Front_MDE_m": d.mde_m,
               "Front_note": d.note, "Repeated_date": d.date in repeated,
               "Front_touches_nodata": front_touches_nodata(d.front_mask, d.nodata,
                                                            params.frame + 3)}
        if frame is not None:
            position = box_position(d.front if found else None, frame)
            row.update(Box_glacier_length_m=position.length_m,
                       Box_nodata_share=nodata_share(frame.box, d.nodata, transform),
                       Box_front_cover=position.front_cover)
        if centreline is not None:
            crossing = centreline_position(d.front if found else None, centreline, pixel_size)
            row.update(Centreline_distance_m=crossing.distance_m, Crossings=crossing.crossings,
                       No_crossing=crossing.crossings == 0,
                       Several_crossings=crossing.crossings > 1)
        rows.append(row)
    table = pd.DataFrame(rows).reindex(columns=SERIES_COLUMNS)
    dates = pd.to_datetime(table["Date"])
    if frame is not None:
        if table["Box_glacier_length_m"].isna().all():
            raise DataError("the box holds no front on any date: draw it across the front "
                            "zone (where the fronts lie), in the images' coordinate system.")
        (table["Box_m"], table["Box_change_m"],
         table["Box_rate_m_per_day"]) = _relative(table["Box_glacier_length_m"], dates, "Box")
    if centreline is not None:
        if table["Centreline_distance_m"].isna().all():
            raise DataError("the centreline crosses no front on any date: draw it along the "
                            "fjord across the whole front zone, ocean end first.")
        (table["Centreline_m"], table["Centreline_change_m"],
         table["Centreline_rate_m_per_day"]) = _relative(-table["Centreline_distance_m"], dates,
                                                         "Centreline")
    flags = ~table["Front_found"].astype(bool) | table["Front_touches_nodata"].astype(bool)
    if frame is not None:
        flags |= (table["Box_nodata_share"].fillna(0) > 0) \
            | (table["Box_front_cover"].fillna(0) < MIN_FRONT_COVER)
    if centreline is not None:
        flags |= table["No_crossing"].astype(bool) | table["Several_crossings"].astype(bool)
    table["Flagged"] = flags
    for _, row in table[flags].iterrows():
        log.warning("%s (%s) flagged: %s", row["Image"], row["Date"], _reasons(row))
    return table, notes


def _true(value) -> bool:
    return value is not None and not (isinstance(value, float) and np.isnan(value)) \
        and bool(value)


def _reasons(row: pd.Series) -> str:
    reasons = []
    if not row["Front_found"]:
        reasons.append("no front")
    if row["Front_touches_nodata"]:
        reasons.append("the front touches no-data")
    if row.get("Box_nodata_share", 0) and row["Box_nodata_share"] > 0:
        reasons.append(f"{100 * row['Box_nodata_share']:.0f} % of the box is no-data or cloud")
    if pd.notna(row.get("Box_front_cover")) and row["Box_front_cover"] < MIN_FRONT_COVER:
        reasons.append(f"the front spans {100 * row['Box_front_cover']:.0f} % of the box's width")
    if _true(row.get("No_crossing")):
        reasons.append("the centreline does not cross the front")
    if _true(row.get("Several_crossings")):
        reasons.append(f"{row['Crossings']} crossings of the centreline (most seaward used)")
    return "; ".join(reasons) or "flagged"

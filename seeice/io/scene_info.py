"""What a scene is: acquisition date, spacecraft and product id, from tags or the file name.

Composites written from Sentinel-2 products carry GeoTIFF tags (dataset-level metadata):

* ``ACQUISITION_DATETIME``: ISO 8601 in UTC, for example ``2020-08-15T14:32:11Z``;
* ``SPACECRAFT``: for example ``Sentinel-2B``;
* ``PROCESSING_BASELINE``: for example ``04.00``;
* ``PRODUCT_ID``: the product's name, for example
  ``S2B_MSIL2A_20200815T143209_N0214_R096_T24WWU_20200815T165001``.

A scene without the date tag is dated from a ``YYYYMMDD`` or ``YYYY-MM-DD`` in its file name
(the first one that is a real calendar date); never guessed beyond that.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

from seeice.io.raster import open_raster

TAG_DATETIME = "ACQUISITION_DATETIME"
TAG_SPACECRAFT = "SPACECRAFT"
TAG_BASELINE = "PROCESSING_BASELINE"
TAG_PRODUCT_ID = "PRODUCT_ID"

#: Where a scene's date came from.
FROM_TAGS, FROM_NAME = "tags", "file name"

_NAME_DATE = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})(?!\d)")
_SPACECRAFT_PREFIX = re.compile(r"^S2([ABCD])_", re.IGNORECASE)


@dataclass(frozen=True)
class SceneInfo:
    """Date and origin of one scene.

    Attributes
    ----------
    date : datetime.date or None
        Acquisition date; None where neither the tags nor the name give one.
    acquired : datetime.datetime or None
        Acquisition time (UTC) where the tags give it.
    date_source : str or None
        ``"tags"``, ``"file name"`` or None.
    spacecraft : str or None
        For example ``"Sentinel-2A"``.
    product_id : str or None
        The product's name where known.
    baseline : str or None
        Processing baseline, for example ``"04.00"``.
    """

    date: dt.date | None = None
    acquired: dt.datetime | None = None
    date_source: str | None = None
    spacecraft: str | None = None
    product_id: str | None = None
    baseline: str | None = None


def date_from_name(name: str) -> dt.date | None:
    """The first ``YYYYMMDD`` or ``YYYY-MM-DD`` in ``name`` that is a calendar date, or None.

    Examples
    --------
    >>> date_from_name("S2B_20200815_T24WWU.tif")
    datetime.date(2020, 8, 15)
    >>> date_from_name("helheim_2019-07-03.tif")
    datetime.date(2019, 7, 3)
    >>> date_from_name("scene_12345678.tif") is None
    True
    """
    for match in _NAME_DATE.finditer(Path(name).name):
        year, month, day = (int(g) for g in match.groups())
        if not 1950 <= year <= 2100:
            continue
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


def parse_datetime(text: str) -> dt.datetime | None:
    """An ISO 8601 date or date-time (``Z`` accepted) as an aware UTC datetime, or None."""
    text = str(text).strip()
    if not text:
        return None
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc)


def spacecraft_from_name(name: str) -> str | None:
    """``Sentinel-2A`` etc. from a product or composite name starting ``S2A_``; else None."""
    match = _SPACECRAFT_PREFIX.match(Path(name).name)
    return f"Sentinel-2{match.group(1).upper()}" if match else None


def scene_info_from_tags(tags: dict, name: str) -> SceneInfo:
    """Scene info from dataset tags, falling back on the file name for the date.

    Parameters
    ----------
    tags : dict
        Dataset-level tags (``rasterio`` ``src.tags()``).
    name : str
        The file name.
    """
    acquired = parse_datetime(tags.get(TAG_DATETIME, ""))
    if acquired is not None:
        date, source = acquired.date(), FROM_TAGS
    else:
        date = date_from_name(name)
        source = FROM_NAME if date is not None else None
    return SceneInfo(date=date, acquired=acquired, date_source=source,
                     spacecraft=tags.get(TAG_SPACECRAFT) or spacecraft_from_name(name),
                     product_id=tags.get(TAG_PRODUCT_ID) or None,
                     baseline=tags.get(TAG_BASELINE) or None)


def read_scene_info(path: str | os.PathLike) -> SceneInfo:
    """Scene info of an image file: its tags, else its name."""
    with open_raster(path) as src:
        tags = src.tags()
    return scene_info_from_tags(tags, Path(path).name)


def decimal_year(date: dt.date) -> float:
    """The date as a decimal year (1 January = year + 0, at the start of the day).

    Examples
    --------
    >>> decimal_year(dt.date(2021, 7, 2))
    2021.4986301369863
    """
    start = dt.date(date.year, 1, 1)
    days = (dt.date(date.year + 1, 1, 1) - start).days
    return date.year + (date - start).days / days

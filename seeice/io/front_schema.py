"""The attributes of a written front: the fields terminus databases use (CALFIN, TermPicks).

Every front SEE_ICE writes (per image by CSC, per date by the time series) carries, beside
its own fields, the terminus schema that merged products share:

========================  =================================================================
``GlacierID``             the user's glacier identifier (text; empty when not given)
``GlacierName``           the user's glacier name (optional)
``Date``                  acquisition date ``YYYY-MM-DD`` from the image's tags or name
                          (:mod:`seeice.io.scene_info`); empty when unknown, never guessed
``DecDate``               the date as a decimal year (empty when unknown)
``Year``                  its year (empty when unknown)
``Satellite``             for example ``Sentinel-2A`` (tags or product name); ``unknown``
``ImageID``               the product id where known, else the image's file name
``Center_X``/``Center_Y`` the line's centroid in the layer's CRS
``Latitude``/``Longitude`` that centroid in WGS84 degrees
``QualFlag``              10: an automated front (CALFIN's code)
``Author``                default ``SEE_ICE <version>``
``Method``                ``CSC k=<k>, <phase-one base>``
========================  =================================================================

The project's own quality fields stay separate, each named (never folded into one number):
``Front_touches_nodata`` (0/1), ``Sea_contact`` (front pixels over the glacier's width),
``Several_crossings`` (0/1; empty without a centreline) and ``Cloud_share`` (share of no-data
or masked cloud near the front, or in the box for a time series).
"""

from __future__ import annotations

import logging
import math
from pathlib import Path

from seeice import __version__
from seeice.errors import ConfigError
from seeice.io.scene_info import SceneInfo, decimal_year

log = logging.getLogger(__name__)

#: CALFIN's quality code of an automated front.
QUALFLAG_AUTOMATED = 10
#: The terminus-schema fields, in layer order.
SCHEMA_FIELDS = ("GlacierID", "GlacierName", "Date", "DecDate", "Year", "Satellite", "ImageID",
                 "Center_X", "Center_Y", "Latitude", "Longitude", "QualFlag", "Author",
                 "Method")
#: The project's quality fields, in layer order.
QUALITY_FIELDS = ("Front_touches_nodata", "Sea_contact", "Several_crossings", "Cloud_share")
#: Field types that do not depend on the values (a field may be empty on every feature).
FIELD_TYPES = {"GlacierID": "text", "GlacierName": "text", "Date": "text", "DecDate": "float",
               "Year": "int", "Satellite": "text", "ImageID": "text", "Center_X": "float",
               "Center_Y": "float", "Latitude": "float", "Longitude": "float", "QualFlag": "int",
               "Author": "text", "Method": "text", "Front_touches_nodata": "bool",
               "Sea_contact": "float", "Several_crossings": "bool", "Cloud_share": "float"}


def default_author() -> str:
    """``SEE_ICE <version>``."""
    return f"SEE_ICE {__version__}"


def method_text(patch_size: int, base: str | None) -> str:
    """``CSC k=<k>, <base>`` (the phase-one base, ``unknown`` when not recorded)."""
    return f"CSC k={int(patch_size)}, {base or 'unknown'}"


def check_front_crs(value):
    """The output CRS of fronts (``--front-crs``): None (the image's) or a projected CRS in metres.

    Raises
    ------
    ConfigError
        The CRS cannot be read, is geographic, or its unit is not the metre.
    """
    from rasterio.crs import CRS
    from rasterio.errors import CRSError

    if value is None or str(value).strip() == "":
        return None
    try:
        crs = CRS.from_user_input(str(value).strip())
    except CRSError as exc:
        raise ConfigError(f"--front-crs {value!r} cannot be read as a coordinate reference "
                          f"system ({exc}). Give an EPSG code such as EPSG:3413 (polar "
                          "stereographic north) or EPSG:32624 (UTM 24N).") from None
    units = (crs.linear_units or "").lower()
    if not crs.is_projected or units not in ("metre", "meter", "m"):
        kind = "geographic (degrees)" if crs.is_geographic else f"in {units or 'unknown units'}"
        raise ConfigError(f"--front-crs {value} is {kind}; fronts are written in a projected CRS "
                          "in metres so that lengths and centroids are metres. Use for "
                          "example EPSG:3413 or the image's UTM zone (the default).")
    return crs


def scene_fields(info: SceneInfo, image_name: str) -> dict:
    """``Date``, ``DecDate``, ``Year``, ``Satellite`` and ``ImageID`` of one image.

    An image without a date gets an empty ``Date`` (and empty ``DecDate`` and ``Year``) and
    one warning naming it.
    """
    if info.date is None:
        log.warning("%s: no acquisition date in its tags or name; its front gets an empty "
                    "Date. Name the file with its date (YYYYMMDD) to date it.", image_name)
    return {"Date": info.date.isoformat() if info.date else "",
            "DecDate": decimal_year(info.date) if info.date else math.nan,
            "Year": info.date.year if info.date else None,
            "Satellite": info.spacecraft or "unknown",
            "ImageID": info.product_id or Path(image_name).name}


def centroid_fields(geometry, crs) -> dict:
    """``Center_X``, ``Center_Y`` (the line's centroid in ``crs``), ``Latitude``, ``Longitude``."""
    from rasterio.warp import transform

    centre = geometry.centroid
    lon, lat = transform(crs, "EPSG:4326", [centre.x], [centre.y])
    return {"Center_X": float(centre.x), "Center_Y": float(centre.y),
            "Latitude": float(lat[0]), "Longitude": float(lon[0])}


def label_fields(glacier_id, glacier_name, author, method: str) -> dict:
    """``GlacierID``, ``GlacierName``, ``QualFlag``, ``Author``, ``Method``."""
    return {"GlacierID": "" if glacier_id is None else str(glacier_id),
            "GlacierName": glacier_name or "", "QualFlag": QUALFLAG_AUTOMATED,
            "Author": author or default_author(), "Method": method}


def warn_without_glacier_id(glacier_id) -> None:
    """Say once (per call: once per run) that fronts without a GlacierID cannot be merged."""
    if glacier_id is None or str(glacier_id).strip() == "":
        log.warning("no GlacierID (--glacier-id) given: the fronts are written with an empty "
                    "GlacierID and cannot be merged with other terminus databases by glacier.")

"""Fronts in the terminus schema (seeice.io.front_schema): fields read back with known answers."""

from __future__ import annotations

import datetime as dt
import json
import logging

import numpy as np
import pyogrio
import pyogrio.raw
import pytest
import shapely
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform

from seeice import __version__
from seeice.errors import ConfigError
from seeice.io.front_schema import (QUALFLAG_AUTOMATED, SCHEMA_FIELDS, check_front_crs,
                                    label_fields, method_text, scene_fields)
from seeice.io.scene_info import SceneInfo
from seeice.io.vector import LAYER, write_front_gpkg

# Pixel centres of columns 2..12 of row 5: x from 499950 to 500050, centroid x = 500000, the
# central meridian of UTM zone 24N (39 degrees west), y = 7 399 945.
TRANSFORM = Affine(10.0, 0.0, 499_925.0, 0.0, -10.0, 7_400_000.0)
UTM = CRS.from_epsg(32624)
PRODUCT = "S2B_MSIL2A_20200815T143209_N0214_R096_T24WWU_20200815T165001"


def _front():
    front = np.zeros((12, 16), bool)
    front[5, 2:13] = True
    return front


def _attributes(date=dt.date(2020, 8, 15), glacier_id="RGI60-05.01234"):
    info = SceneInfo(date=date, spacecraft="Sentinel-2B", product_id=PRODUCT if date else None)
    return {**label_fields(glacier_id, "Helheim", "", method_text(7, "vgg16")),
            **scene_fields(info, "helheim.tif"), "Front_touches_nodata": False,
            "Sea_contact": 1.5, "Several_crossings": None, "Cloud_share": 0.25}


def _read(path, layer=None):
    meta, _, geometry, fields = pyogrio.raw.read(path, layer=layer)
    return meta, shapely.from_wkb(geometry[0]), {k: v[0] for k, v in zip(meta["fields"], fields)}


def test_gpkg_and_geojson_carry_every_field_with_known_values(tmp_path):
    gpkg = write_front_gpkg(tmp_path / "helheim_front.gpkg", _front(), UTM, TRANSFORM,
                            attributes={"image": "helheim", **_attributes()},
                            geojson_path=tmp_path / "helheim_front.geojson")
    meta, line, fields = _read(gpkg, LAYER)
    assert set(SCHEMA_FIELDS) <= set(fields)
    assert fields["GlacierID"] == "RGI60-05.01234" and fields["GlacierName"] == "Helheim"
    assert fields["Date"] == "2020-08-15" and fields["Year"] == 2020
    assert fields["DecDate"] == pytest.approx(2020 + 227 / 366)    # 15 August of a leap year
    assert fields["Satellite"] == "Sentinel-2B" and fields["ImageID"] == PRODUCT
    assert fields["QualFlag"] == QUALFLAG_AUTOMATED == 10
    assert fields["Author"] == f"SEE_ICE {__version__}"
    assert fields["Method"] == "CSC k=7, vgg16"
    # Centroid within a pixel of the true line's (thinning may trim an end pixel).
    assert (fields["Center_X"], fields["Center_Y"]) == pytest.approx((500_000.0, 7_399_945.0),
                                                                     abs=10.0)
    assert (line.centroid.x, line.centroid.y) == pytest.approx((fields["Center_X"],
                                                                fields["Center_Y"]))
    lon, lat = warp_transform(UTM, "EPSG:4326", [fields["Center_X"]], [fields["Center_Y"]])
    assert (fields["Longitude"], fields["Latitude"]) == pytest.approx((lon[0], lat[0]),
                                                                      abs=1e-9)
    # Known answer: 500 000 m east is the zone's central meridian, 39 degrees west.
    assert fields["Longitude"] == pytest.approx(-39.0, abs=1e-6) and 66.6 < lat[0] < 66.8
    assert fields["Front_touches_nodata"] == 0 and fields["Sea_contact"] == 1.5
    assert fields["Cloud_share"] == 0.25
    assert fields["length"] == pytest.approx(100.0) and fields["n_pixels"] == 11
    types = dict(zip(meta["fields"], meta["dtypes"]))
    assert types["Year"] == "int64" and types["QualFlag"] == "int64"
    assert types["DecDate"] == "float64" and types["Date"] == "object"

    geojson = tmp_path / "helheim_front.geojson"
    document = json.loads(geojson.read_text())
    assert "crs" not in document                                    # RFC 7946: WGS84 implied
    properties = document["features"][0]["properties"]
    assert properties["GlacierID"] == "RGI60-05.01234" and properties["QualFlag"] == 10
    assert properties["Several_crossings"] is None
    coordinates = np.array(document["features"][0]["geometry"]["coordinates"])
    assert coordinates[:, 0].mean() == pytest.approx(-39.0, abs=1e-3)    # longitude first
    assert coordinates[:, 1].mean() == pytest.approx(lat[0], abs=1e-3)


def test_epsg_3413_output_when_asked(tmp_path):
    polar = check_front_crs("EPSG:3413")
    gpkg = write_front_gpkg(tmp_path / "f.gpkg", _front(), UTM, TRANSFORM,
                            attributes=_attributes(), out_crs=polar)
    assert pyogrio.read_info(gpkg, layer=LAYER)["crs"] == "EPSG:3413"
    _, line, fields = _read(gpkg, LAYER)
    x, y = warp_transform(UTM, polar, [500_000.0], [7_399_945.0])
    assert (fields["Center_X"], fields["Center_Y"]) == pytest.approx((x[0], y[0]), abs=10.0)
    assert (line.centroid.x, line.centroid.y) == pytest.approx((fields["Center_X"],
                                                                fields["Center_Y"]))
    # Metres on the polar stereographic grid (scale factor about 1.01 at 66.7 N).
    assert fields["length"] == pytest.approx(100.0, rel=0.02)
    assert fields["Longitude"] == pytest.approx(-39.0, abs=3e-4)


def test_unknown_date_is_empty_and_warned_never_guessed(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="seeice"):
        attributes = _attributes(date=None, glacier_id=None)
    assert [r.getMessage() for r in caplog.records if "no acquisition date" in r.getMessage()]
    assert "helheim.tif" in caplog.text
    gpkg = write_front_gpkg(tmp_path / "f.gpkg", _front(), UTM, TRANSFORM, attributes=attributes)
    _, _, fields = _read(gpkg, LAYER)
    assert fields["Date"] == "" and np.isnan(fields["DecDate"])
    assert fields["ImageID"] == "helheim.tif" and fields["GlacierID"] == ""
    meta, _, _, values = pyogrio.raw.read(gpkg, layer=LAYER, return_fids=False)
    year = dict(zip(meta["fields"], values))["Year"]
    assert np.ma.is_masked(year[0]) or year[0] in (None,) or np.isnan(float(year[0]))


@pytest.mark.parametrize("value,reason", [("EPSG:4326", "geographic"),
                                          ("EPSG:2263", "foot"),
                                          ("not a crs", "cannot be read")])
def test_front_crs_refused_with_the_reason(value, reason):
    with pytest.raises(ConfigError, match=reason):
        check_front_crs(value)
    assert check_front_crs("") is None and check_front_crs(None) is None

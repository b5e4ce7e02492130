"""Composites from synthetic products: known DN, masks, tags, name, grid, several products."""

from __future__ import annotations

import datetime as dt
import shutil

import numpy as np
import pytest
import rasterio
from rasterio.crs import CRS
from rasterio.transform import Affine
from rasterio.warp import transform as warp_transform
from rasterio.warp import transform_bounds

from seeice.datasets.sentinel2_product import write_product
from seeice.errors import ConfigError, DataError, ProductError
from seeice.io.scene_info import read_scene_info
from seeice.products.composite import make_composites

from product_helpers import SIZE, box_text, scene

CLOUD = (20, 20, 8)          # cloud disc in 10 m pixels (SCL 9)
COLS, ROWS = (6, 46), (4, 40)   # the AOI: columns 6..46, rows 4..40 of the product


def _aoi(s):
    return box_text(s.transform.c, s.transform.f, COLS, ROWS)


def _read(path):
    with rasterio.open(path) as src:
        return src.read(), src.profile, src.tags(), src.descriptions


def _expected_mask():
    """Cloud of the SCL at 20 m, read at 10 m by nearest neighbour, on the AOI."""
    from seeice.datasets.sentinel2_product import scl_from_classes
    scl = scl_from_classes(scene().classes[:SIZE, :SIZE], (CLOUD[0] / 2, CLOUD[1] / 2, CLOUD[2] / 2))
    fine = np.repeat(np.repeat(scl, 2, axis=0), 2, axis=1)
    return fine[ROWS[0]:ROWS[1], COLS[0]:COLS[1]]


def test_l2a_composite_known_dn_masks_tags_and_grid(tmp_path):
    s = scene()
    product = write_product(s, tmp_path / "in", size=SIZE, cloud=CLOUD)
    [result] = make_composites([product], tmp_path / "out", aoi=_aoi(s))
    assert result.path.name == "S2B_20220815_T24WWU.tif"
    data, profile, tags, descriptions = _read(result.path)
    # The grid is the product's own 10 m grid cropped to the AOI, not resampled.
    assert profile["crs"] == s.crs and profile["transform"] == Affine(
        10, 0, s.transform.c + 10 * COLS[0], 0, -10, s.transform.f - 10 * ROWS[0])
    assert data.shape == (4, ROWS[1] - ROWS[0], COLS[1] - COLS[0]) and data.dtype == np.uint16
    assert profile["nodata"] == 0 and profile["tiled"] and profile["compress"] == "deflate"
    assert descriptions == ("B04 red", "B03 green", "B02 blue", "B08 near infrared")
    scl = _expected_mask()
    masked = scl == 9
    crop = s.image[ROWS[0]:ROWS[1], COLS[0]:COLS[1]]
    # Harmonised: stored DN - 1000 = the scene's (pre-2022 scale) DN, at least 1.
    expected = np.maximum(np.moveaxis(crop, -1, 0).astype(int), 1)
    expected[:, masked] = 0
    np.testing.assert_array_equal(data, expected)
    assert result.masked_share == pytest.approx(masked.mean())
    assert 0.05 < result.masked_share < 0.5 and result.nodata_share == 0
    # Snow and ice (SCL 11) is the glacier: never masked.
    assert (scl == 11).any() and (data[:, scl == 11] > 0).all()
    assert tags["ACQUISITION_DATETIME"] == "2022-08-15T14:32:09.024Z"
    assert tags["SPACECRAFT"] == "Sentinel-2B" and tags["PROCESSING_BASELINE"] == "04.00"
    assert tags["PRODUCT_ID"] == product.name[:-5]
    info = read_scene_info(result.path)
    assert str(info.date) == "2022-08-15" and info.date_source == "tags"


def test_raw_dn_option_keeps_the_stored_values(tmp_path):
    s = scene()
    product = write_product(s, tmp_path / "in", size=SIZE, cloud=CLOUD)
    [result] = make_composites([product], tmp_path / "out", aoi=_aoi(s), harmonise=False)
    data, _, tags, _ = _read(result.path)
    crop = np.moveaxis(s.image[ROWS[0]:ROWS[1], COLS[0]:COLS[1]], -1, 0).astype(int)
    valid = data[0] > 0
    np.testing.assert_array_equal(data[:, valid], crop[:, valid] + 1000)
    assert tags["RADIOMETRY"] == "DN as in the product"


def test_masked_classes_are_configurable_and_11_is_refused(tmp_path):
    s = scene()
    product = write_product(s, tmp_path / "in", size=SIZE, cloud=CLOUD)
    [result] = make_composites([product], tmp_path / "out", aoi=_aoi(s), scl_classes=[0, 6])
    water = _expected_mask() == 6
    assert result.masked_share == pytest.approx(water.mean())
    with pytest.raises(ConfigError, match="11 .*never masked"):
        make_composites([product], tmp_path / "out2", aoi=_aoi(s), scl_classes=[9, 11])
    assert not (tmp_path / "out2").exists()


def test_lonlat_aoi_zip_and_band_files_give_the_same_composite(tmp_path):
    s = scene()
    safe = write_product(s, tmp_path / "safe", size=SIZE, cloud=CLOUD)
    zipped = write_product(s, tmp_path / "zip", size=SIZE, cloud=CLOUD, as_zip=True)
    [reference] = make_composites([safe], tmp_path / "ref", aoi=_aoi(s))
    [from_zip] = make_composites([zipped], tmp_path / "z", aoi=_aoi(s))
    ref_data = _read(reference.path)[0]
    np.testing.assert_array_equal(_read(from_zip.path)[0], ref_data)
    # A lon/lat box well inside the AOI's pixels: the composite covers it, on the same lattice.
    x0, y0 = s.transform.c, s.transform.f
    xs, ys = warp_transform(s.crs, "EPSG:4326", [x0 + 100, x0 + 300], [y0 - 300, y0 - 100])
    lonlat = f"{xs[0]},{ys[0]},{xs[1]},{ys[1]}"
    [geo] = make_composites([safe], tmp_path / "ll", aoi=lonlat, aoi_crs="EPSG:4326")
    data, profile, _, _ = _read(geo.path)
    t = profile["transform"]
    assert (t.c - x0) % 10 == 0 and (y0 - t.f) % 10 == 0   # on the product's lattice
    left, top = int((t.c - x0) / 10), int((y0 - t.f) / 10)
    assert left <= 10 and top <= 10 and left + data.shape[2] >= 30 and top + data.shape[1] >= 30
    # Band files without metadata: no offset can be read, the DN are kept, with a warning.
    bands = tmp_path / "bands"
    bands.mkdir()
    for jp2 in safe.glob("GRANULE/*/IMG_DATA/R10m/*.jp2"):
        shutil.copy(jp2, bands / jp2.name)
    [loose] = make_composites([bands], tmp_path / "b", aoi=_aoi(s))
    loose_data = _read(loose.path)[0]
    valid = loose_data[0] > 0
    np.testing.assert_array_equal(loose_data[:, valid].astype(int),
                                  np.moveaxis(s.image[ROWS[0]:ROWS[1], COLS[0]:COLS[1]], -1, 0)
                                  [:, valid].astype(int) + 1000)
    assert loose.path.name == "S2_20220815_T24WWU.tif"


def test_two_products_one_grid_including_another_utm_zone(tmp_path, caplog):
    s = scene()
    first = write_product(s, tmp_path / "in", size=SIZE, cloud=CLOUD)
    # The second: 2022-09-01, its origin 30 m east and 20 m south (same lattice).
    shifted = Affine(10, 0, s.transform.c + 30, 0, -10, s.transform.f - 20)
    second = write_product(s, tmp_path / "in", size=SIZE, transform=shifted,
                           acquired=dt.datetime(2022, 9, 1, 14, 0, tzinfo=dt.timezone.utc))
    # The third: the same ground in UTM zone 25N.
    zone25 = CRS.from_epsg(32625)
    b = transform_bounds(s.crs, zone25, s.transform.c, s.transform.f - 600, s.transform.c + 600,
                         s.transform.f)
    third = write_product(s, tmp_path / "in", size=SIZE, crs=zone25, spacecraft="Sentinel-2A",
                          transform=Affine(10, 0, 10 * round(b[0] / 10), 0, -10, 10 * round(b[3] / 10)),
                          acquired=dt.datetime(2022, 9, 5, 14, 0, tzinfo=dt.timezone.utc))
    with caplog.at_level("WARNING"):
        results = make_composites([first, second, third], tmp_path / "out", aoi=_aoi(s))
    assert "reprojected" in caplog.text and "EPSG:32625" in caplog.text
    profiles = [_read(r.path)[1] for r in results]
    assert {(p["crs"], p["transform"], p["width"], p["height"]) for p in profiles} == \
        {(s.crs, profiles[0]["transform"], COLS[1] - COLS[0], ROWS[1] - ROWS[0])}
    assert [r.path.name for r in results] == ["S2B_20220815_T24WWU.tif", "S2B_20220901_T24WWU.tif",
                                              "S2A_20220905_T24WWU.tif"]
    # The second product on the common grid: pixel (r, c) is its pixel (r + 4 - 2, c + 6 - 3).
    data2 = _read(results[1].path)[0]
    np.testing.assert_array_equal(data2[0, 0:10, 0:10],
                                  np.maximum(s.image[2:12, 3:13, 0].astype(int), 1))


def test_aoi_outside_names_the_product_extent_in_both_crs(tmp_path):
    s = scene()
    product = write_product(s, tmp_path / "in", size=SIZE)
    far = box_text(s.transform.c, s.transform.f, (1000, 1010), (0, 10))
    with pytest.raises(ProductError) as err:
        make_composites([product], tmp_path / "out", aoi=far)
    text = str(err.value)
    assert "outside" in text and "EPSG:32624" in text and "EPSG:4326" in text and "lon" in text
    assert not (tmp_path / "out").exists()


def test_entirely_masked_product_is_skipped(tmp_path):
    s = scene()
    clouded = write_product(s, tmp_path / "a", size=SIZE, cloud=(30, 30, 200))
    with pytest.raises(DataError, match="no composite was written"):
        make_composites([clouded], tmp_path / "out", aoi=_aoi(s))
    clear = write_product(s, tmp_path / "b", size=SIZE, spacecraft="Sentinel-2A")
    results = make_composites([clear, clouded], tmp_path / "out", aoi=_aoi(s))
    assert results[0].path is not None and results[1].path is None
    assert results[1].masked_share == pytest.approx(1.0)
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["S2A_20220815_T24WWU.tif"]


def test_l1c_uses_its_cloud_mask(tmp_path):
    s = scene()
    product = write_product(s, tmp_path / "in", level="L1C", size=SIZE, cloud=(30, 30, 12))
    [result] = make_composites([product], tmp_path / "out")
    data, _, tags, _ = _read(result.path)
    assert data.shape == (4, SIZE, SIZE) and tags["CLOUD_MASK"].startswith("MSK_CLASSI_B00")
    rr, cc = np.mgrid[:SIZE // 6, :SIZE // 6]
    cloud60 = (rr - 5) ** 2 + (cc - 5) ** 2 <= 4
    expected = np.repeat(np.repeat(cloud60, 6, axis=0), 6, axis=1)
    np.testing.assert_array_equal(data[0] == 0, expected)


def test_older_l1c_gml_cloud_mask_and_no_mask_warning(tmp_path, caplog):
    import shapely
    from product_helpers import write_vector
    s = scene()
    old = dt.datetime(2019, 7, 3, 14, 0, tzinfo=dt.timezone.utc)
    product = write_product(s, tmp_path / "in", level="L1C", size=SIZE, baseline="02.07",
                            offset=None, acquired=old)
    with caplog.at_level("WARNING"):
        [plain] = make_composites([product], tmp_path / "plain")
    assert "clouds are not masked" in caplog.text and plain.masked_share == 0
    qi = next(product.glob("GRANULE/*")) / "QI_DATA"
    qi.mkdir()
    x0, y0 = s.transform.c, s.transform.f
    write_vector(qi / "MSK_CLOUDS_B00.gml", [shapely.box(x0, y0 - 200, x0 + 300, y0)],
                 "EPSG:32624", {"maskType": ["OPAQUE"]})
    [masked] = make_composites([product], tmp_path / "gml")
    data, _, tags, _ = _read(masked.path)
    assert tags["CLOUD_MASK"] == "MSK_CLOUDS_B00.gml" and tags["RADIOMETRY"] == "DN as in the product"
    assert (data[:, :20, :30] == 0).all() and (data[:, 20:, :] > 0).all() and (data[:, :, 30:] > 0).all()
    assert masked.masked_share == pytest.approx(20 * 30 / SIZE ** 2)
    np.testing.assert_array_equal(data[0, 20:], s.image[20:SIZE, :SIZE, 0])   # no offset declared


def test_polygon_aoi_in_lonlat_and_same_day_products(tmp_path):
    import shapely
    from product_helpers import write_vector
    s = scene()
    x0, y0 = s.transform.c, s.transform.f
    xs, ys = warp_transform(s.crs, "EPSG:4326", [x0 + 105, x0 + 395, x0 + 250],
                            [y0 - 105, y0 - 105, y0 - 295])
    aoi = write_vector(tmp_path / "fjord.gpkg", [shapely.Polygon(zip(xs, ys))], "EPSG:4326")
    l2a = write_product(s, tmp_path / "in", size=SIZE)
    l1c = write_product(s, tmp_path / "in", level="L1C", size=SIZE)
    results = make_composites([l2a, l1c], tmp_path / "out", aoi=str(aoi))
    assert [r.path.name for r in results] == ["S2B_20220815_T24WWU.tif", "S2B_20220815_T24WWU_L1C.tif"]
    data, profile, _, _ = _read(results[0].path)
    t = profile["transform"]
    assert (t.c - x0) % 10 == 0 and t.c <= x0 + 110 and t.c + 10 * data.shape[2] >= x0 + 390
    np.testing.assert_array_equal(_read(results[1].path)[0], data)   # same scene, same grid


def test_float_band_files_are_refused(tmp_path):
    s = scene()
    bands = tmp_path / "bands"
    bands.mkdir()
    for i, band in enumerate(("B04", "B03", "B02", "B08")):
        with rasterio.open(bands / f"T24WWU_20220815T143209_{band}_10m.tif", "w", driver="GTiff",
                           width=12, height=12, count=1, dtype="float32", crs=s.crs,
                           transform=s.transform) as dst:
            dst.write(np.full((1, 12, 12), 0.25, np.float32))
    with pytest.raises(ProductError, match="float32 values, not the digital numbers"):
        make_composites([bands], tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_a_new_baseline_without_declared_offsets_is_warned(tmp_path, caplog):
    s = scene()
    product = write_product(s, tmp_path / "in", size=SIZE, offset=None)   # baseline 04.00
    with caplog.at_level("WARNING"):
        [result] = make_composites([product], tmp_path / "out")
    assert "declare no radiometric offset" in caplog.text and result.offsets == {}

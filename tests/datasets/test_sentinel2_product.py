"""Synthetic scenes written as Sentinel-2 products: SAFE layout, JP2 bands, real metadata structure."""

from __future__ import annotations

import zipfile

import numpy as np
import rasterio

from seeice.datasets.sentinel2_product import jp2_writable, scl_from_classes, write_product
from seeice.products.safe import open_product

from product_helpers import SIZE, scene


def test_l2a_product_layout_metadata_and_stored_dn(tmp_path):
    s = scene()
    path = write_product(s, tmp_path, size=SIZE, cloud=(20, 20, 8))
    assert path.name == "S2B_MSIL2A_20220815T143209_N0400_R096_T24WWU_20220815T163209.SAFE"
    assert jp2_writable()   # rasterio's wheels carry JP2OpenJPEG: the bands are real JP2
    b04 = next(path.glob("GRANULE/*/IMG_DATA/R10m/T24WWU_20220815T143209_B04_10m.jp2"))
    with rasterio.open(b04) as src:
        assert src.driver == "JP2OpenJPEG" and src.crs == s.crs and src.transform == s.transform
        stored = src.read(1)
    # The stored DN carry the +1000 of baseline 04.00 (offset -1000 declared): scene DN + 1000.
    expected = np.where(s.image[:SIZE, :SIZE, 0] > 0, s.image[:SIZE, :SIZE, 0].astype(int) + 1000, 0)
    np.testing.assert_array_equal(stored, expected)
    product = open_product(path)
    assert (product.level, product.spacecraft, product.baseline, product.tile) == \
        ("L2A", "Sentinel-2B", "04.00", "24WWU")
    assert product.offsets["B04"] == -1000.0 and product.offsets["B08"] == -1000.0
    assert product.acquired.isoformat() == "2022-08-15T14:32:09.024000+00:00"
    with rasterio.open(product.scl) as src:
        scl = src.read(1)
        assert src.res == (20.0, 20.0) and scl.shape == (SIZE // 2, SIZE // 2)
    assert scl[10, 10] == 9 and 11 in scl   # the cloud disc, and snow and ice elsewhere


def test_scl_maps_water_glacier_and_rock():
    classes = np.array([[1, 1, 4, 4], [1, 1, 4, 4], [7, 7, 6, 6], [7, 7, 6, 6]], np.uint8)
    np.testing.assert_array_equal(scl_from_classes(classes), [[6, 11], [5, 11]])


def test_l1c_product_with_cloud_mask_and_zip(tmp_path):
    path = write_product(scene(), tmp_path, level="L1C", size=SIZE, cloud=(30, 30, 12),
                         as_zip=True)
    assert path.suffix == ".zip" and not list(tmp_path.glob("*.SAFE"))
    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
    assert any(n.endswith("/MTD_MSIL1C.xml") for n in names)
    assert any(n.endswith("QI_DATA/MSK_CLASSI_B00.jp2") for n in names)
    product = open_product(path)
    assert product.level == "L1C" and product.cloud_mask.startswith("/vsizip/")
    assert product.offsets["B02"] == -1000.0


def test_pre_2022_product_declares_no_offset(tmp_path):
    import datetime as dt
    path = write_product(scene(), tmp_path, size=SIZE, baseline="02.14", offset=None,
                         acquired=dt.datetime(2020, 8, 15, 14, 32, 9, tzinfo=dt.timezone.utc))
    product = open_product(path)
    assert product.offsets == {} and product.baseline == "02.14"
    with rasterio.open(product.bands["B03"]) as src:
        np.testing.assert_array_equal(src.read(1), scene().image[:SIZE, :SIZE, 1])


def test_command_line(tmp_path, capsys):
    from seeice.datasets.sentinel2_product import main
    assert main([str(tmp_path), "--size", "60", "--cloud", "--zip", "--log-level", "ERROR"]) == 0
    assert [p.suffix for p in tmp_path.iterdir()] == [".zip"]
    assert main([str(tmp_path / "bad"), "--size", "100"]) == 2
    err = capsys.readouterr().err
    assert "multiple of 6" in err and "Traceback" not in err
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())

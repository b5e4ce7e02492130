"""Locating Sentinel-2 products and reading their metadata; bad products refused with the fix."""

from __future__ import annotations

import shutil

import pytest

from seeice.datasets.sentinel2_product import write_product
from seeice.errors import InputFileError, ProductError
from seeice.products.safe import find_products, open_product, parse_metadata

from product_helpers import SIZE, scene

# The structure of a real MTD_MSIL2A.xml of baseline 04.00 (trimmed): namespaced root,
# Product_Info, offsets keyed by band_id, Spectral_Information mapping band_id to the band.
REAL_L2A = b"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-2A_User_Product xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_Level-2A.xsd">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>2023-07-03T14:41:01.024Z</PRODUCT_START_TIME>
      <PRODUCT_URI>S2A_MSIL2A_20230703T144101_N0509_R096_T24WWU_20230703T220000.SAFE</PRODUCT_URI>
      <PROCESSING_BASELINE>05.09</PROCESSING_BASELINE>
      <Datatake datatakeIdentifier="GS2A_20230703T144101_041000_N05.09">
        <SPACECRAFT_NAME>Sentinel-2A</SPACECRAFT_NAME>
      </Datatake>
    </Product_Info>
    <Product_Image_Characteristics>
      <QUANTIFICATION_VALUES_LIST>
        <BOA_QUANTIFICATION_VALUE unit="none">10000</BOA_QUANTIFICATION_VALUE>
      </QUANTIFICATION_VALUES_LIST>
      <BOA_ADD_OFFSET_VALUES_LIST>
        <BOA_ADD_OFFSET band_id="1">-1001</BOA_ADD_OFFSET>
        <BOA_ADD_OFFSET band_id="2">-1002</BOA_ADD_OFFSET>
        <BOA_ADD_OFFSET band_id="3">-1003</BOA_ADD_OFFSET>
        <BOA_ADD_OFFSET band_id="7">-1007</BOA_ADD_OFFSET>
      </BOA_ADD_OFFSET_VALUES_LIST>
      <Spectral_Information_List>
        <Spectral_Information bandId="1" physicalBand="B2"/>
        <Spectral_Information bandId="2" physicalBand="B3"/>
        <Spectral_Information bandId="3" physicalBand="B4"/>
        <Spectral_Information bandId="7" physicalBand="B8"/>
      </Spectral_Information_List>
    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:Level-2A_User_Product>"""


def test_real_metadata_structure_parses_per_band_offsets():
    meta = parse_metadata(REAL_L2A, "MTD_MSIL2A.xml")
    assert meta["level"] == "L2A" and meta["spacecraft"] == "Sentinel-2A"
    assert meta["product_id"] == "S2A_MSIL2A_20230703T144101_N0509_R096_T24WWU_20230703T220000"
    assert meta["baseline"] == "05.09"
    assert meta["acquired"].isoformat() == "2023-07-03T14:41:01.024000+00:00"
    assert meta["offsets"] == {"B02": -1001.0, "B03": -1002.0, "B04": -1003.0, "B08": -1007.0}


def test_l1c_radio_add_offset():
    xml = (b'<n1:Level-1C_User_Product xmlns:n1="x"><Radiometric_Offset_List>'
           b'<RADIO_ADD_OFFSET band_id="3">-1000</RADIO_ADD_OFFSET>'
           b'<RADIO_ADD_OFFSET band_id="7">-990</RADIO_ADD_OFFSET></Radiometric_Offset_List>'
           b'</n1:Level-1C_User_Product>')
    meta = parse_metadata(xml, "MTD_MSIL1C.xml")
    assert meta["level"] == "L1C" and meta["offsets"] == {"B04": -1000.0, "B08": -990.0}


def test_a_folder_of_products_and_a_band_file_folder(tmp_path):
    import datetime as dt
    products = tmp_path / "products"
    write_product(scene(), products, size=SIZE)
    write_product(scene(), products, size=SIZE, as_zip=True, spacecraft="Sentinel-2A",
                  acquired=dt.datetime(2022, 9, 1, 14, 0, tzinfo=dt.timezone.utc))
    found = find_products([products])
    assert [p.source.suffix for p in found] == [".zip", ".SAFE"]   # sorted by name: S2A, S2B
    assert found[0].bands["B08"].startswith("/vsizip/")

    bands = tmp_path / "bands"
    bands.mkdir()
    safe = next(products.glob("*.SAFE"))
    for jp2 in safe.glob("GRANULE/*/IMG_DATA/R10m/*.jp2"):
        shutil.copy(jp2, bands / jp2.name)
    product = open_product(bands)
    assert product.level == "unknown" and not product.has_metadata and product.offsets == {}
    assert product.tile == "24WWU" and str(product.date) == "2022-08-15"


def test_not_a_product(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ProductError, match="not a Sentinel-2 product"):
        open_product(tmp_path / "notes.txt")
    with pytest.raises(ProductError, match="lacks band file"):
        open_product(tmp_path)
    with pytest.raises(InputFileError, match="does not exist"):
        find_products([tmp_path / "missing.SAFE"])


def test_missing_band_names_it(tmp_path):
    safe = write_product(scene(), tmp_path, size=SIZE)
    next(safe.glob("GRANULE/*/IMG_DATA/R10m/*_B08_10m.jp2")).unlink()
    with pytest.raises(ProductError, match=r"lacks band file\(s\) B08 .*whole product"):
        open_product(safe)


def test_corrupt_zip(tmp_path):
    good = write_product(scene(), tmp_path, size=SIZE, as_zip=True)
    bad = tmp_path / "S2B_truncated.zip"
    bad.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ProductError, match="not a readable zip.*Download the product again"):
        open_product(bad)

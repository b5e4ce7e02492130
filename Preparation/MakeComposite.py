"""MakeComposite: 4-band composites (R, G, B, NIR) from Sentinel-2 L1C or L2A products.

Give the products as downloaded: .SAFE folders, .zip files (read in place), a folder of them,
or a folder of single-band files named like *_B04_10m.jp2 or *B04.tif. For each product the
10 m bands B04, B03, B02 and B08 are read over the area of interest only, on the product's
own 10 m grid (not resampled), and written as <out>/S2B_20200815_T24WWU.tif: uint16, tiled
and compressed, nodata 0, with the acquisition time, spacecraft, processing baseline and
product id as tags. Several products come out on one common grid (the first product's CRS;
a product in another UTM zone is reprojected, with a warning), so a time series stacks.

Radiometry: products of processing baseline 04.00 and later (from 25 January 2022) add an
offset to every DN, read from MTD_MSIL2A.xml (BOA_ADD_OFFSET) or MTD_MSIL1C.xml
(RADIO_ADD_OFFSET). By default valid pixels are put back on the earlier scale (DN + offset,
at least 1), so one model serves scenes from before and after 2022; --keep-raw-dn keeps the
DN as stored. Masks: DN 0 is no data; L2A pixels whose scene classification (SCL) is in
--mask-scl become no-data (class 11, snow and ice, never: it is the glacier); L1C uses the
product's cloud mask where it has one, else warns. The masked share of each product is
logged; a product whose area is entirely masked is skipped with a warning.

A lon/lat box starting with a minus sign is given as --aoi=-38.6,66.3,-38.1,66.5 with
--aoi-crs EPSG:4326.
"""
# ==== USER INPUTS ====
Products = ["Data/Products"]     # --product: Sentinel-2 products: .SAFE folders, .zip files, folders of them, or a folder of band files (*_B04_10m.jp2)
AOI = ""                         # --aoi: area of interest: minx,miny,maxx,maxy or a polygon file (GeoPackage, shapefile, GeoJSON); empty: the first product's whole extent
AOICRS = ""                      # --aoi-crs: CRS of an --aoi box, e.g. EPSG:4326 for lon/lat (empty: the product's CRS)
OutFolder = "Data/Composites"    # --out: folder the composites are written to
KeepRawDN = False                # --keep-raw-dn: keep the DN as stored (default: DN + the declared offset of baseline 04.00 and later)
MaskSCL = [0, 1, 3, 8, 9, 10]    # --mask-scl: SCL classes that become no-data in L2A products (11, snow and ice, is never masked)
# ==== END OF USER INPUTS ====

import logging

from seeice.config.runner import run_script

log = logging.getLogger("seeice")


def main(cfg):
    from seeice.config.inputs import save_run_config
    from seeice.products.composite import make_composites, result_record

    results = make_composites(cfg.Products, cfg.OutFolder, aoi=cfg.AOI, aoi_crs=cfg.AOICRS,
                              harmonise=not cfg.KeepRawDN, scl_classes=cfg.MaskSCL)
    save_run_config(cfg.OutFolder, cfg, script="MakeComposite.py",
                    filename="MakeComposite.run.json",
                    extra={"composites": [result_record(r) for r in results]})
    written = [r for r in results if r.path is not None]
    log.info("%d composite(s) written to %s; %d product(s) skipped.", len(written),
             cfg.OutFolder, len(results) - len(written))
    return 0


if __name__ == "__main__":
    run_script(__file__, main)

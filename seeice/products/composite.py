"""4-band composites (R, G, B, NIR) from Sentinel-2 products, on one common 10 m grid.

For each product: B04, B03, B02 and B08 at 10 m, read only over the area of interest, on the
common grid (see :mod:`seeice.products.grid`). A pixel is no-data (0 in every band) where any
band is 0 (no data in Sentinel-2), where the product's own mask flags it (SCL classes, or the
L1C cloud mask: :mod:`seeice.products.masks`), or outside the product.

Radiometry: by default valid pixels are harmonised to the scale of products before
processing baseline 04.00: DN + the offset the metadata declare for the band (usually
-1000), kept at 1 or more so that a valid pixel never becomes no-data; products that declare
no offset keep their DN. ``harmonise=False`` keeps the raw DN.

Output: ``<out>/S2B_20200815_T24WWU.tif`` (spacecraft, date, tile; the date leads after the
spacecraft), a tiled, compressed 4-band uint16 GeoTIFF, nodata 0, band descriptions, and tags
``ACQUISITION_DATETIME`` (ISO 8601, UTC, ``Z``), ``SPACECRAFT``, ``PROCESSING_BASELINE``,
``PRODUCT_ID`` (read back by :func:`seeice.io.scene_info.read_scene_info`), plus
``PROCESSING_LEVEL``, ``RADIOMETRY``, ``CLOUD_MASK``, ``MASKED_SHARE`` and ``NODATA_SHARE``.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from rasterio.enums import Resampling
from rasterio.warp import transform_bounds
from tqdm import tqdm

from seeice import defaults as D
from seeice.errors import DataError, ProductError
from seeice.io.scene_info import TAG_BASELINE, TAG_DATETIME, TAG_PRODUCT_ID, TAG_SPACECRAFT
from seeice.products.aoi import AreaOfInterest, check_overlap, parse_aoi
from seeice.products.geotiff import write_geotiff
from seeice.products.grid import Grid, band_extent, read_on_grid, snap_grid
from seeice.products.masks import DEFAULT_SCL_MASK, check_scl_classes, cloud_mask
from seeice.products.safe import BANDS, Product, baseline_has_offsets, describe, find_products

log = logging.getLogger(__name__)

DESCRIPTIONS = ("B04 red", "B03 green", "B02 blue", "B08 near infrared")


@dataclass
class CompositeResult:
    """What became of one product.

    Attributes
    ----------
    product : Product
    path : pathlib.Path or None
        The composite; None when the product was skipped.
    nodata_share : float
        Share of the grid's pixels without data (outside the product, or 0 in a band).
    masked_share : float
        Share of the grid's pixels with data that the product's mask removed.
    valid_share : float
        Share of the grid's pixels kept.
    offsets : dict
        Offset added to each band (empty: none).
    note : str
        Why it was skipped, or ``""``.
    """

    product: Product
    path: Path | None
    nodata_share: float
    masked_share: float
    valid_share: float
    offsets: dict
    note: str = ""


def result_record(result: CompositeResult) -> dict:
    """Plain-data form of a result, for the run record."""
    return {"product": result.product.name, "source": str(result.product.source),
            "composite": result.path.name if result.path else None,
            "acquired": acquisition_text(result.product),
            "nodata_share": round(float(result.nodata_share), 6),
            "masked_share": round(float(result.masked_share), 6),
            "valid_share": round(float(result.valid_share), 6),
            "offsets_applied": dict(result.offsets), "skipped": result.note or None}


def acquisition_text(product: Product) -> str | None:
    """``2020-08-15T14:32:09.024Z`` (UTC) or None."""
    if product.acquired is None:
        return None
    t = product.acquired
    text = t.strftime("%Y-%m-%dT%H:%M:%S")
    if t.microsecond:
        text += f".{t.microsecond // 1000:03d}"
    return text + "Z"


def composite_name(product: Product) -> str:
    """``S2B_20200815_T24WWU.tif``; parts that are unknown are left out."""
    craft = f"S2{product.spacecraft[-1]}" if product.spacecraft and \
        product.spacecraft[-1].upper() in "ABCD" else "S2"
    if product.date is None:
        log.warning("%s: no acquisition date in its metadata or file names; the composite is "
                    "named after the product.", product.name)
        return f"{craft}_{product.name}.tif" if not product.name.startswith("S2") \
            else f"{product.name}.tif"
    tile = f"_T{product.tile}" if product.tile else ""
    return f"{craft}_{product.date:%Y%m%d}{tile}.tif"


def _offsets_to_apply(product: Product, harmonise: bool) -> dict:
    if not harmonise:
        log.info("%s: raw DN kept (offsets declared: %s).", product.name,
                 _offset_text(product.offsets) or "none")
        return {}
    if product.offsets:
        log.info("%s: harmonised to the scale before baseline 04.00: DN + offset (%s).",
                 product.name, _offset_text(product.offsets))
        return {b: product.offsets[b] for b in BANDS}
    if product.has_metadata and baseline_has_offsets(product):
        log.warning("%s: processing baseline %s, yet its metadata declare no radiometric "
                    "offset: DN kept as they are. Products of baseline 04.00 and later normally "
                    "declare one (usually -1000); check the product's MTD XML.", product.name,
                    product.baseline)
    elif product.has_metadata:
        log.info("%s: its metadata declare no offset (baseline %s): DN kept as they are.",
                 product.name, product.baseline or "unknown")
    else:
        log.warning("%s: no MTD_MSIL2A.xml / MTD_MSIL1C.xml beside the band files, so no "
                    "radiometric offset can be read and the DN are kept as they are. Products "
                    "of processing baseline 04.00 and later (from 25 January 2022) carry an "
                    "offset (usually -1000): put the product's MTD XML in the folder, or give "
                    "the whole .SAFE or zip.", product.name)
    return {}


def _offset_text(offsets: dict) -> str:
    return ", ".join(f"{b} {offsets[b]:+g}" for b in BANDS if b in offsets)


def _grid_for(first: Product, aoi: AreaOfInterest | None) -> Grid:
    crs, transform, bounds = band_extent(first.bands["B04"], first.name)
    area = None
    if aoi is not None:
        area = aoi.bounds_in(crs)
        check_overlap(area, bounds, crs, first.name, aoi)
    grid = snap_grid(crs, transform, bounds, area)
    log.info("Common grid: %s, %d x %d pixels of %g m, x %.0f to %.0f, y %.0f to %.0f.",
             grid.crs.to_string(), grid.height, grid.width, grid.transform.a, *grid.bounds[0::2],
             *grid.bounds[1::2])
    return grid


def check_product(product: Product, grid: Grid, aoi: AreaOfInterest | None,
                  warn: bool = True) -> None:
    """Refuse a product that misses the area; warn (``warn``) when it will be reprojected."""
    crs, _, bounds = band_extent(product.bands["B04"], product.name)
    if crs != grid.crs and warn:
        log.warning("%s is in %s, not the common grid's %s: its bands are reprojected "
                    "(bilinear, its SCL or cloud mask by nearest neighbour).", product.name,
                    crs.to_string(), grid.crs.to_string())
    if aoi is not None:
        check_overlap(aoi.bounds_in(crs), bounds, crs, product.name, aoi)
    else:
        check_overlap(tuple(transform_bounds(grid.crs, crs, *grid.bounds)), bounds, crs,
                      product.name, AreaOfInterest(grid.bounds, grid.crs, "the common grid"))


def composite_array(product: Product, grid: Grid, aoi: AreaOfInterest | None,
                    harmonise: bool = True, scl_classes=DEFAULT_SCL_MASK):
    """The product's 4-band composite on ``grid``.

    Returns
    -------
    data : numpy.ndarray
        (4, H, W) uint16, R G B NIR, 0 where no-data or masked.
    shares : dict
        ``nodata``, ``masked``, ``valid`` shares of the grid's pixels.
    offsets : dict
        Offsets applied.
    mask_source : str
    """
    check_product(product, grid, aoi)
    stack = [read_on_grid(product.bands[b], grid, product.name,
                          resampling=Resampling.bilinear, src_nodata=0)[0] for b in BANDS]
    kinds = {str(a.dtype) for a in stack}
    if not kinds <= {"uint16", "uint8"}:
        raise ProductError(f"{product.name}: band files hold {', '.join(sorted(kinds))} values, "
                           "not the digital numbers (uint16) of Sentinel-2 products. Give the "
                           "product's original band files (reflectance already scaled or "
                           "converted cannot be harmonised).")
    data = np.concatenate(stack).astype(np.uint16)
    nodata = (data == 0).any(axis=0)
    masked, mask_source = cloud_mask(product, grid, scl_classes)
    valid = ~nodata & ~masked
    offsets = _offsets_to_apply(product, harmonise)
    for i, band in enumerate(BANDS):
        if band in offsets:
            shifted = data[i].astype(np.int32) + round(offsets[band])
            data[i] = np.clip(shifted, 1, np.iinfo(np.uint16).max).astype(np.uint16)
    data[:, ~valid] = 0
    n = float(valid.size)
    shares = {"nodata": nodata.sum() / n, "masked": (masked & ~nodata).sum() / n,
              "valid": valid.sum() / n}
    return data, shares, offsets, mask_source


def make_composites(products, out_dir: str | os.PathLike, aoi: str | None = None,
                    aoi_crs: str | None = None, harmonise: bool = D.HARMONISE_DN,
                    scl_classes=DEFAULT_SCL_MASK) -> list[CompositeResult]:
    """Write one composite per product, all on the first product's grid.

    Parameters
    ----------
    products : path or list of paths
        ``.SAFE`` folders, zips, folders of them, or band-file folders.
    out_dir : path-like
        Output folder (created).
    aoi : str, optional
        ``minx,miny,maxx,maxy`` or a polygon file; None: the first product's extent.
    aoi_crs : str, optional
        CRS of a box ``aoi`` (default: the product's).
    harmonise : bool
        Add the declared offsets (True) or keep raw DN.
    scl_classes : sequence of int
        SCL classes masked (L2A).

    Returns
    -------
    list of CompositeResult
        One per product, in order; skipped products have ``path`` None.

    Raises
    ------
    ProductError, InputFileError, ConfigError
        Bad products or inputs (before anything is written).
    DataError
        Every product's area is masked or without data: nothing written.
    """
    scl_classes = check_scl_classes(scl_classes)
    area = parse_aoi(aoi, aoi_crs)
    found = find_products(products)
    for product in found:
        log.info("Product %s", describe(product))
    grid = _grid_for(found[0], area)
    if area is not None and area.crs is None:   # a box without --aoi-crs: the first product's
        area = replace(area, crs=grid.crs)
    for product in found[1:]:   # every product is checked before anything is written
        check_product(product, grid, area, warn=False)
    out_dir = Path(out_dir)
    results, names = [], set()
    for product in tqdm(found, desc="composites", unit="product", disable=None):
        data, shares, offsets, mask_source = composite_array(product, grid, area, harmonise,
                                                             scl_classes)
        log.info("%s: %.1f %% of the area without data, %.1f %% masked (%s), %.1f %% kept.",
                 product.name, 100 * shares["nodata"], 100 * shares["masked"], mask_source,
                 100 * shares["valid"])
        if shares["valid"] == 0:
            note = "the area of interest is entirely masked or without data"
            log.warning("%s skipped: %s.", product.name, note)
            results.append(CompositeResult(product, None, shares["nodata"], shares["masked"],
                                           0.0, offsets, note))
            continue
        name = composite_name(product)
        if name in names:
            stem = Path(name).stem
            name = next(f"{stem}_{product.level}{'' if k == 1 else f'_{k}'}.tif"
                        for k in range(1, len(found) + 2)
                        if f"{stem}_{product.level}{'' if k == 1 else f'_{k}'}.tif" not in names)
            log.warning("%s: another product of the run has the same name; written as %s.",
                        product.name, name)
        names.add(name)
        tags = {TAG_DATETIME: acquisition_text(product), TAG_SPACECRAFT: product.spacecraft,
                TAG_BASELINE: product.baseline, TAG_PRODUCT_ID: product.name,
                "PROCESSING_LEVEL": product.level,
                "RADIOMETRY": (f"harmonised: DN + offset ({_offset_text(offsets)})" if offsets
                               else "DN as in the product"),
                "CLOUD_MASK": mask_source, "MASKED_SHARE": f"{shares['masked']:.6f}",
                "NODATA_SHARE": f"{shares['nodata']:.6f}"}
        path = write_geotiff(out_dir / name, data, grid.crs, grid.transform, nodata=0,
                             tags={k: v for k, v in tags.items() if v is not None},
                             descriptions=DESCRIPTIONS)
        log.info("wrote %s", path)
        results.append(CompositeResult(product, path, shares["nodata"], shares["masked"],
                                       shares["valid"], offsets))
    if not any(r.path for r in results):
        raise DataError("every product's area of interest is masked or without data, so no "
                        "composite was written. Choose other dates, a larger --aoi, or fewer "
                        "masked SCL classes (--mask-scl).")
    return results

"""A synthetic scene written as a Sentinel-2 product: SAFE layout, JP2 bands, MTD XML, masks.

The layout follows the products users download (compact SAFE naming)::

    S2B_MSIL2A_20220815T143209_N0400_R096_T24WWU_20220815T163209.SAFE/
        MTD_MSIL2A.xml
        GRANULE/L2A_T24WWU_A028123_20220815T143209/IMG_DATA/R10m/T24WWU_20220815T143209_B02_10m.jp2
                                                                ... B03, B04, B08
                                                   IMG_DATA/R20m/T24WWU_20220815T143209_SCL_20m.jp2

and for L1C ``MTD_MSIL1C.xml``, ``IMG_DATA/T24WWU_20220815T143209_B04.jp2`` and, from
baseline 04.00, the cloud mask ``QI_DATA/MSK_CLASSI_B00.jp2`` (60 m; band 1 opaque clouds,
band 2 cirrus, band 3 snow). The metadata carry ``PRODUCT_URI``, ``SPACECRAFT_NAME``,
``PRODUCT_START_TIME``, ``PROCESSING_BASELINE`` and, for an ``offset``,
``BOA_ADD_OFFSET_VALUES_LIST`` (L2A) or ``Radiometric_Offset_List`` (L1C) with one entry per
``band_id`` 0..12, in the structure of real products.

Radiometry: the scene's DN are on the scale before baseline 04.00; a product with ``offset``
(usually -1000) stores DN - offset, so DN + offset gives the scene back. DN 0 stays 0 (no
data). The SCL band maps the scene's classes (water 6, glacier and snow 11, rock 5) and adds a
cloud disc (class 9) where asked.

Command line (a product to try MakeComposite on, without a download)::

    python -m seeice.datasets.sentinel2_product OUT_DIR --size 300 --seed 0 --cloud [--zip]

Band files are lossless JPEG 2000 (GDAL's JP2OpenJPEG driver, part of rasterio's wheels);
where that driver cannot write, GeoTIFF band files are written instead, with a warning.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import shutil
import sys
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine

from seeice.datasets.render import GLACIER_CLASSES, OCEAN_CLASSES, SNOW_ON_ROCK
from seeice.config.runner import format_error, setup_logging
from seeice.datasets.synthetic import MIN_SIZE, Scene, make_scene
from seeice.errors import ConfigError, SeeIceError

log = logging.getLogger(__name__)

BAND_ORDER = ("B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10",
              "B11", "B12")
_RESOLUTION = {"B01": 60, "B05": 20, "B06": 20, "B07": 20, "B8A": 20, "B09": 60, "B10": 60,
               "B11": 20, "B12": 20}
#: Composite bands and the scene band holding each: R, G, B, NIR.
SCENE_BAND = {"B04": 0, "B03": 1, "B02": 2, "B08": 3}
SCL_WATER, SCL_NOT_VEGETATED, SCL_SNOW_ICE, SCL_CLOUD_HIGH = 6, 5, 11, 9


def jp2_writable() -> bool:
    """Whether GDAL's JP2OpenJPEG driver is present (it writes lossless JPEG 2000)."""
    with rasterio.Env() as env:
        return "JP2OpenJPEG" in env.drivers()


def scl_from_classes(classes: np.ndarray, cloud: tuple | None = None) -> np.ndarray:
    """The 20 m scene classification of a scene's 10 m classes.

    Parameters
    ----------
    classes : numpy.ndarray
        (H, W) glacier-scheme classes at 10 m; H and W even.
    cloud : (row, col, radius), optional
        A cloud disc (SCL 9) in 20 m pixels.

    Returns
    -------
    numpy.ndarray
        (H // 2, W // 2) uint8.
    """
    coarse = classes[::2, ::2]
    scl = np.full(coarse.shape, SCL_NOT_VEGETATED, np.uint8)
    scl[np.isin(coarse, OCEAN_CLASSES)] = SCL_WATER
    scl[np.isin(coarse, (*GLACIER_CLASSES, SNOW_ON_ROCK))] = SCL_SNOW_ICE
    if cloud is not None:
        row, col, radius = cloud
        rr, cc = np.mgrid[:scl.shape[0], :scl.shape[1]]
        scl[(rr - row) ** 2 + (cc - col) ** 2 <= radius ** 2] = SCL_CLOUD_HIGH
    return scl


def _metadata_xml(level: str, name: str, spacecraft: str, start: dt.datetime, baseline: str,
                  offset: int | None, image_files: list[str], granule: str) -> str:
    time = start.strftime("%Y-%m-%dT%H:%M:%S.") + f"{start.microsecond // 1000:03d}Z"
    files = "\n".join(f"            <IMAGE_FILE>{f}</IMAGE_FILE>" for f in image_files)
    spectral = "\n".join(
        f'        <Spectral_Information bandId="{i}" physicalBand="B{b[1:].lstrip("0")}">'
        f"<RESOLUTION>{_RESOLUTION.get(b, 10)}</RESOLUTION></Spectral_Information>"
        for i, b in enumerate(BAND_ORDER))
    l2a = level == "L2A"
    tag = "BOA_ADD_OFFSET" if l2a else "RADIO_ADD_OFFSET"
    offsets = ""
    if offset is not None:
        entries = "\n".join(f'        <{tag} band_id="{i}">{offset}</{tag}>'
                            for i in range(len(BAND_ORDER)))
        block = "BOA_ADD_OFFSET_VALUES_LIST" if l2a else "Radiometric_Offset_List"
        offsets = f"      <{block}>\n{entries}\n      </{block}>\n"
    quantification = ('      <QUANTIFICATION_VALUES_LIST>\n        <BOA_QUANTIFICATION_VALUE '
                      'unit="none">10000</BOA_QUANTIFICATION_VALUE>\n      '
                      '</QUANTIFICATION_VALUES_LIST>\n') if l2a else \
        '      <QUANTIFICATION_VALUE unit="none">10000</QUANTIFICATION_VALUE>\n'
    root = "Level-2A_User_Product" if l2a else "Level-1C_User_Product"
    xsd = "User_Product_Level-2A.xsd" if l2a else "User_Product_Level-1C.xsd"
    return f"""<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/{xsd}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{time}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{time}</PRODUCT_STOP_TIME>
      <PRODUCT_URI>{name}.SAFE</PRODUCT_URI>
      <PROCESSING_LEVEL>Level-{level[1:]}</PROCESSING_LEVEL>
      <PRODUCT_TYPE>S2MSI{level[1:]}</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
      <Datatake datatakeIdentifier="G{name[:3]}_{start:%Y%m%dT%H%M%S}_028123_N{baseline}">
        <SPACECRAFT_NAME>{spacecraft}</SPACECRAFT_NAME>
        <DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>
        <DATATAKE_SENSING_START>{time}</DATATAKE_SENSING_START>
        <SENSING_ORBIT_NUMBER>96</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Product_Organisation>
        <Granule_List>
          <Granule granuleIdentifier="{granule}" imageFormat="JPEG2000">
{files}
          </Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>
      </Special_Values>
{quantification}{offsets}      <Spectral_Information_List>
{spectral}
      </Spectral_Information_List>
    </Product_Image_Characteristics>
  </n1:General_Info>
</n1:{root}>
"""


def _write_band(path: Path, data: np.ndarray, crs, transform: Affine, jp2: bool) -> None:
    array = data[np.newaxis] if data.ndim == 2 else data
    profile = {"driver": "JP2OpenJPEG" if jp2 else "GTiff", "count": array.shape[0],
               "height": array.shape[1], "width": array.shape[2], "dtype": array.dtype,
               "crs": crs, "transform": transform}
    if jp2:
        profile.update(QUALITY=100, REVERSIBLE="YES")
    path.parent.mkdir(parents=True, exist_ok=True)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(array)
    for side_file in path.parent.glob(path.name + ".aux.xml"):
        side_file.unlink()


def write_product(scene: Scene, out_dir: str | os.PathLike, level: str = "L2A",
                  acquired: dt.datetime = dt.datetime(2022, 8, 15, 14, 32, 9, 24000,
                                                      tzinfo=dt.timezone.utc),
                  spacecraft: str = "Sentinel-2B", baseline: str = "04.00",
                  offset: int | None = -1000, tile: str = "24WWU",
                  cloud: tuple | None = None, size: int | None = None, crs=None,
                  transform: Affine | None = None, as_zip: bool = False) -> Path:
    """Write a scene as a small Sentinel-2 product.

    Parameters
    ----------
    scene : Scene
        From :func:`seeice.datasets.synthetic.make_scene`.
    out_dir : path-like
        Folder to write the ``.SAFE`` folder (or zip) into.
    level : {"L2A", "L1C"}
    acquired : datetime.datetime
        Sensing start (UTC).
    spacecraft, baseline, tile : str
        ``"Sentinel-2B"``, ``"04.00"``, ``"24WWU"``.
    offset : int or None
        The additive DN offset declared for every band (-1000 from baseline 04.00); None
        declares none (products before 04.00).
    cloud : (row, col, radius), optional
        A cloud disc in 10 m pixels: SCL 9 in L2A, opaque cloud in the L1C mask.
    size : int, optional
        Keep the top-left ``size`` x ``size`` pixels (a multiple of 6, so that the 20 m and
        60 m rasters cover it exactly).
    crs, transform : optional
        Place the product elsewhere (default: the scene's).
    as_zip : bool
        Write ``<name>.zip`` (holding ``<name>.SAFE/``) instead of the folder.

    Returns
    -------
    pathlib.Path
        The ``.SAFE`` folder or the zip.
    """
    if level not in ("L2A", "L1C"):
        raise ConfigError(f"level must be L2A or L1C, got {level!r}.")
    image, classes = scene.image, scene.classes
    if size is not None:
        image, classes = image[:size, :size], classes[:size, :size]
    height, width = classes.shape
    if height % 6 or width % 6:
        raise ConfigError(f"a synthetic product needs an edge that is a multiple of 6 pixels "
                          f"(20 m and 60 m rasters), got {height} x {width}. Use a size of "
                          f"{6 * (min(height, width) // 6)}, for example.")
    crs = crs or scene.crs
    transform = transform or scene.transform
    jp2 = jp2_writable()
    if not jp2:
        log.warning("GDAL's JP2OpenJPEG driver is missing: band files are written as GeoTIFF.")
    ext = ".jp2" if jp2 else ".tif"
    stamp = f"{acquired:%Y%m%dT%H%M%S}"
    craft = f"S2{spacecraft[-1]}"
    generated = acquired + dt.timedelta(hours=2)
    name = (f"{craft}_MSI{level}_{stamp}_N{baseline.replace('.', '')}_R096_T{tile}_"
            f"{generated:%Y%m%dT%H%M%S}")
    granule = f"{level}_T{tile}_A028123_{stamp}"
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".partial_product_", dir=out_dir))
    try:
        safe = work / f"{name}.SAFE"
        img = safe / "GRANULE" / granule / "IMG_DATA"
        image_files = []
        for band, index in sorted(SCENE_BAND.items()):
            dn = image[..., index].astype(np.int64)
            raw = np.where(dn > 0, dn - (offset or 0), 0)
            raw = np.clip(raw, 0, np.iinfo(np.uint16).max).astype(np.uint16)
            rel = (f"R10m/T{tile}_{stamp}_{band}_10m" if level == "L2A"
                   else f"T{tile}_{stamp}_{band}")
            _write_band(img / f"{rel}{ext}", raw, crs, transform, jp2)
            image_files.append(f"GRANULE/{granule}/IMG_DATA/{rel}")
        coarse = Affine(transform.a * 2, 0, transform.c, 0, transform.e * 2, transform.f)
        if level == "L2A":
            scl_cloud = None if cloud is None else (cloud[0] / 2, cloud[1] / 2, cloud[2] / 2)
            rel = f"R20m/T{tile}_{stamp}_SCL_20m"
            _write_band(img / f"{rel}{ext}", scl_from_classes(classes, scl_cloud), crs,
                        coarse, jp2)
            image_files.append(f"GRANULE/{granule}/IMG_DATA/{rel}")
        elif float(baseline) >= 4.0:
            mask = np.zeros((3, height // 6, width // 6), np.uint8)
            if cloud is not None:
                rr, cc = np.mgrid[:height // 6, :width // 6]
                mask[0][(rr - cloud[0] / 6) ** 2 + (cc - cloud[1] / 6) ** 2
                        <= (cloud[2] / 6) ** 2] = 1
            _write_band(safe / "GRANULE" / granule / "QI_DATA" / f"MSK_CLASSI_B00{ext}", mask,
                        crs, Affine(transform.a * 6, 0, transform.c, 0, transform.e * 6,
                                    transform.f), jp2)
        (safe / f"MTD_MSI{level}.xml").write_text(
            _metadata_xml(level, name, spacecraft, acquired, baseline, offset, image_files,
                          granule), encoding="utf-8")
        if as_zip:
            target = out_dir / f"{name}.zip"
            with zipfile.ZipFile(work / "product.zip", "w", zipfile.ZIP_STORED) as archive:
                for path in sorted(safe.rglob("*")):
                    if path.is_file():
                        archive.write(path, path.relative_to(work).as_posix())
            os.replace(work / "product.zip", target)
        else:
            target = out_dir / f"{name}.SAFE"
            if target.exists():
                shutil.rmtree(target)
            os.replace(safe, target)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    log.info("wrote synthetic %s product %s", level, target)
    return target


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m seeice.datasets.sentinel2_product OUT_DIR [options]``.

    Returns 0 on success and 2 on a user error (message, no traceback).
    """
    parser = argparse.ArgumentParser(
        prog="python -m seeice.datasets.sentinel2_product",
        description="Write a synthetic glacier scene as a Sentinel-2 L2A or L1C product (SAFE "
                    "folder or zip with JP2 bands, MTD XML with offsets, SCL or cloud mask).")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder")
    parser.add_argument("--size", type=int, default=300,
                        help="edge in 10 m pixels, a multiple of 6 [300]")
    parser.add_argument("--seed", type=int, default=0, help="seed of the scene [0]")
    parser.add_argument("--level", choices=["L2A", "L1C"], default="L2A", help="[L2A]")
    parser.add_argument("--date", default="2022-08-15",
                        help="acquisition date YYYY-MM-DD (14:32:09 UTC) [2022-08-15]")
    parser.add_argument("--baseline", default="04.00", help="processing baseline [04.00]")
    parser.add_argument("--offset", type=int, default=-1000,
                        help="declared DN offset; 0 declares none (before 04.00) [-1000]")
    parser.add_argument("--cloud", action="store_true",
                        help="add a cloud disc (a tenth of the edge across) in the centre")
    parser.add_argument("--zip", action="store_true", help="write the zip as downloaded")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            raise ConfigError(f"--date {args.date!r} is not a date; give YYYY-MM-DD.") from None
        scene = make_scene(args.seed, max(args.size, MIN_SIZE))
        cloud = (args.size / 2, args.size / 2, args.size / 10) if args.cloud else None
        write_product(scene, args.out_dir, level=args.level, baseline=args.baseline,
                      offset=args.offset or None, cloud=cloud, size=args.size, as_zip=args.zip,
                      acquired=dt.datetime(day.year, day.month, day.day, 14, 32, 9,
                                           tzinfo=dt.timezone.utc))
    except SeeIceError as exc:
        log.error("%s", format_error(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

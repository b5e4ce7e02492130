"""Sentinel-2 products as users download them: find the bands and read the metadata.

A product is given as

* a ``.SAFE`` folder (L1C or L2A), or the ``.zip`` file it is downloaded as (read in place
  through GDAL's ``/vsizip/``, never unpacked);
* a folder holding several of those (each one is a product);
* a folder of single-band files whose names carry the band (``*_B04_10m.jp2``,
  ``*B04.tif``, ...), with an optional ``MTD_MSIL1C.xml`` / ``MTD_MSIL2A.xml`` beside them.

From the product metadata (``MTD_MSIL2A.xml`` or ``MTD_MSIL1C.xml``) come the product id
(``PRODUCT_URI``), the spacecraft (``SPACECRAFT_NAME``), the sensing time
(``PRODUCT_START_TIME``), the processing baseline and the radiometric offsets: from baseline
04.00 (25 January 2022) every DN carries an offset, ``BOA_ADD_OFFSET`` (L2A) or
``RADIO_ADD_OFFSET`` (L1C) per band, keyed by ``band_id`` (0 = B1, 1 = B2, ... as in
``Spectral_Information``). Offsets are read, never assumed.

Files used: B02, B03, B04, B08 at 10 m; for L2A the scene classification ``SCL`` at 20 m; for
L1C the cloud mask ``QI_DATA/MSK_CLASSI_B00.jp2`` (baseline 04.00 and later) or the older
``MSK_CLOUDS_B00.gml``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree

from seeice.errors import InputFileError, ProductError
from seeice.io.scene_info import date_from_name, parse_datetime, spacecraft_from_name

log = logging.getLogger(__name__)

#: The composite's bands in order: R, G, B, NIR.
BANDS = ("B04", "B03", "B02", "B08")
#: ``band_id`` of the metadata for each band when the product lists no Spectral_Information.
STANDARD_BAND_IDS = {"B01": 0, "B02": 1, "B03": 2, "B04": 3, "B05": 4, "B06": 5, "B07": 6,
                     "B08": 7, "B8A": 8, "B09": 9, "B10": 10, "B11": 11, "B12": 12}
METADATA_NAMES = ("MTD_MSIL2A.xml", "MTD_MSIL1C.xml")
RASTER_SUFFIXES = (".jp2", ".tif", ".tiff")

_SCL = re.compile(r"SCL(?:_20m)?$", re.IGNORECASE)
_TILE = re.compile(r"(?:^|_)T(\d{2}[A-Z]{3})(?:_|$)")


@dataclass
class Product:
    """One Sentinel-2 product: where its files are and what its metadata say.

    Attributes
    ----------
    source : pathlib.Path
        The ``.SAFE`` folder, ``.zip`` file or band-file folder.
    name : str
        Product id (``PRODUCT_URI`` without ``.SAFE``), else the source's name.
    level : str
        ``"L2A"``, ``"L1C"`` or ``"unknown"`` (band files without metadata).
    bands : dict
        ``{"B04": path, ...}``: GDAL paths of the four 10 m bands (``/vsizip/...`` in zips).
    spacecraft, baseline, tile : str or None
        ``"Sentinel-2B"``, ``"04.00"``, ``"24WWU"``.
    acquired : datetime.datetime or None
        Sensing start (UTC).
    offsets : dict
        ``{"B04": -1000.0, ...}``: the declared additive offset of each band; empty when the
        metadata declare none (before baseline 04.00) or there are no metadata.
    has_metadata : bool
        Whether an MTD XML was read.
    scl : str or None
        GDAL path of the 20 m scene classification (L2A).
    cloud_mask : str or None
        GDAL path of ``MSK_CLASSI_B00.jp2`` (L1C, baseline 04.00 and later).
    cloud_gml : str or None
        GDAL path of an older ``MSK_CLOUDS_B00.gml`` (L1C before baseline 04.00).
    """

    source: Path
    name: str
    level: str
    bands: dict
    spacecraft: str | None = None
    baseline: str | None = None
    tile: str | None = None
    acquired: dt.datetime | None = None
    offsets: dict = field(default_factory=dict)
    has_metadata: bool = False
    scl: str | None = None
    cloud_mask: str | None = None
    cloud_gml: str | None = None

    @property
    def date(self) -> dt.date | None:
        """Acquisition date (UTC)."""
        return self.acquired.date() if self.acquired else None


class _Files:
    """The files of a product folder or zip: relative POSIX names, bytes and GDAL paths."""

    def __init__(self, source: Path):
        self.source = source
        if source.is_dir():
            self.zip = None
            self.names = sorted(p.relative_to(source).as_posix() for p in source.rglob("*")
                                if p.is_file())
        else:
            try:
                self.zip = zipfile.ZipFile(source)
                self.names = sorted(n for n in self.zip.namelist() if not n.endswith("/"))
            except (zipfile.BadZipFile, OSError) as exc:
                raise ProductError(f"{source} is not a readable zip file ({exc}): the download "
                                   "is incomplete or damaged. Download the product again, or "
                                   "give its unpacked .SAFE folder.") from None

    def read(self, name: str) -> bytes:
        if self.zip is None:
            return (self.source / name).read_bytes()
        try:
            return self.zip.read(name)
        except (zipfile.BadZipFile, OSError, EOFError) as exc:
            raise ProductError(f"{name} in {self.source} cannot be read ({exc}): the zip is "
                               "damaged. Download the product again.") from None

    def gdal_path(self, name: str) -> str:
        if self.zip is None:
            return str(self.source / name)
        return f"/vsizip/{self.source.resolve().as_posix()}/{name}"


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _first_text(root: ElementTree.Element, name: str) -> str | None:
    for element in root.iter():
        if _local(element.tag) == name and element.text and element.text.strip():
            return element.text.strip()
    return None


def _band_name(physical: str) -> str:
    """``"B4"`` -> ``"B04"``; ``"B8A"`` stays."""
    match = re.fullmatch(r"B(\d{1,2})(A?)", physical.strip().upper())
    if not match:
        return physical.strip().upper()
    return f"B{int(match.group(1)):02d}" if not match.group(2) else f"B{int(match.group(1))}A"


def parse_metadata(xml: bytes, source: str) -> dict:
    """Read an ``MTD_MSIL2A.xml`` / ``MTD_MSIL1C.xml``.

    Returns
    -------
    dict
        ``level``, ``product_id``, ``spacecraft``, ``acquired`` (datetime or None),
        ``baseline`` and ``offsets`` (``{"B04": -1000.0, ...}``, all bands declared).

    Raises
    ------
    ProductError
        The XML is not well formed, or is not Sentinel-2 product metadata.
    """
    try:
        root = ElementTree.fromstring(xml)
    except ElementTree.ParseError as exc:
        raise ProductError(f"{source} is not valid XML ({exc}); the product is damaged. "
                           "Download it again.") from None
    kind = _local(root.tag)
    if kind not in ("Level-2A_User_Product", "Level-1C_User_Product"):
        raise ProductError(f"{source} is not Sentinel-2 product metadata (its root is {kind}, "
                           "not Level-2A_User_Product or Level-1C_User_Product).")
    band_of_id = {v: k for k, v in STANDARD_BAND_IDS.items()}
    for element in root.iter():
        if _local(element.tag) == "Spectral_Information" and "bandId" in element.attrib:
            band_of_id[int(element.attrib["bandId"])] = _band_name(element.attrib.get(
                "physicalBand", band_of_id.get(int(element.attrib["bandId"]), "?")))
    offset_tag = "BOA_ADD_OFFSET" if kind.startswith("Level-2A") else "RADIO_ADD_OFFSET"
    offsets = {}
    for element in root.iter():
        if _local(element.tag) == offset_tag and "band_id" in element.attrib:
            try:
                offsets[band_of_id[int(element.attrib["band_id"])]] = float(element.text)
            except (KeyError, TypeError, ValueError):
                raise ProductError(f"{source}: {offset_tag} band_id="
                                   f"{element.attrib['band_id']!r} holds {element.text!r}, not "
                                   "a number of a known band; the metadata are damaged.") from None
    product_id = _first_text(root, "PRODUCT_URI")
    if product_id and product_id.upper().endswith(".SAFE"):
        product_id = product_id[:-5]
    start = _first_text(root, "PRODUCT_START_TIME") or _first_text(root, "DATATAKE_SENSING_START")
    return {"level": "L2A" if kind.startswith("Level-2A") else "L1C",
            "product_id": product_id,
            "spacecraft": _first_text(root, "SPACECRAFT_NAME"),
            "acquired": parse_datetime(start) if start else None,
            "baseline": _first_text(root, "PROCESSING_BASELINE"),
            "offsets": offsets}


def _baseline_number(baseline: str | None) -> float | None:
    try:
        return float(baseline) if baseline else None
    except ValueError:
        return None


def _pick(names: list[str], pattern: re.Pattern, what: str, source: Path) -> str | None:
    found = [n for n in names if PurePosixPath(n).suffix.lower() in RASTER_SUFFIXES
             and pattern.search(PurePosixPath(n).stem)]
    if len(found) > 1:
        raise ProductError(f"{source} holds {len(found)} files for {what} ({', '.join(found[:4])}"
                           "); give one product (one tile and date) per .SAFE, zip or folder.")
    return found[0] if found else None


def _band_files(files: _Files, names: list[str], source: Path, context: str) -> dict:
    bands, missing = {}, []
    for band in BANDS:
        pattern = re.compile(rf"{band}(?:_10m)?$", re.IGNORECASE)
        name = _pick(names, pattern, band, source)
        if name is None:
            missing.append(band)
        else:
            bands[band] = files.gdal_path(name)
    if missing:
        raise ProductError(f"{source} lacks band file(s) {', '.join(missing)} at 10 m {context}. "
                           "A composite needs B04, B03, B02 and B08: give the whole product "
                           "(or a folder with one file per band, named like *_B04_10m.jp2).")
    return bands


def _product_from_files(files: _Files, source: Path, prefix: str, meta_name: str | None) -> Product:
    """A product whose files lie under ``prefix`` (``""`` or ``"X.SAFE/"``) of ``files``."""
    names = [n for n in files.names if n.startswith(prefix)]
    meta = parse_metadata(files.read(meta_name), f"{source}:{meta_name}") if meta_name else None
    level = meta["level"] if meta else "unknown"
    band_names = [n for n in names if "/IMG_DATA/" in n]
    if level == "L2A":
        band_names = [n for n in band_names if "/R10m/" in n]
    context = {"L2A": "(IMG_DATA/R10m)", "L1C": "(IMG_DATA)"}.get(level, "")
    if not band_names:   # band files beside their metadata, or without any
        band_names, context = names, "(files named like *_B04_10m.jp2 or *B04.tif)"
    bands = _band_files(files, band_names, source, context)
    scl = _pick(names, _SCL, "SCL", source)
    mask = [n for n in names if PurePosixPath(n).name.upper() == "MSK_CLASSI_B00.JP2"]
    gml = [n for n in names if "MSK_CLOUDS" in PurePosixPath(n).name.upper()
           and "B00" in PurePosixPath(n).name.upper() and n.lower().endswith(".gml")]
    any_band = PurePosixPath(bands["B04"]).stem
    if meta:
        name = meta["product_id"] or (source.name[:-4] if source.suffix.lower() == ".zip"
                                      else source.stem if source.suffix.upper() == ".SAFE"
                                      else source.name)
        acquired, spacecraft = meta["acquired"], meta["spacecraft"] or spacecraft_from_name(name)
        baseline, offsets = meta["baseline"], meta["offsets"]
    else:
        name = source.name
        date = date_from_name(any_band) or date_from_name(source.name)
        acquired = dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc) \
            if date else None
        spacecraft = spacecraft_from_name(source.name) or spacecraft_from_name(any_band)
        baseline, offsets = None, {}
    tile = None
    for text in (name, any_band):
        match = _TILE.search(text)
        if match:
            tile = match.group(1)
            break
    product = Product(source=source, name=name, level=level, bands=bands,
                      spacecraft=spacecraft, baseline=baseline, tile=tile, acquired=acquired,
                      offsets=offsets, has_metadata=meta is not None,
                      scl=files.gdal_path(scl) if scl else None,
                      cloud_mask=files.gdal_path(mask[0]) if mask else None,
                      cloud_gml=files.gdal_path(gml[0]) if gml else None)
    _check_offsets(product)
    return product


def _check_offsets(product: Product) -> None:
    """Offsets declared for some bands but not ours are damaged metadata."""
    if product.offsets:
        missing = [b for b in BANDS if b not in product.offsets]
        if missing:
            raise ProductError(f"{product.name}: the metadata declare radiometric offsets but "
                               f"none for {', '.join(missing)}; the metadata are damaged. "
                               "Download the product again.")


def _metadata_in(names: list[str]) -> list[str]:
    return [n for n in names if PurePosixPath(n).name in METADATA_NAMES]


def open_product(path: str | os.PathLike) -> Product:
    """Open one product: a ``.SAFE`` folder, a ``.zip`` or a folder of band files.

    Raises
    ------
    InputFileError
        The path does not exist.
    ProductError
        It is not a Sentinel-2 product, lacks a band, or is damaged.
    """
    source = Path(path)
    if not source.exists():
        raise InputFileError(f"product {source} does not exist. Give a .SAFE folder, the .zip "
                             "as downloaded, or a folder of them (--product).")
    if source.is_file() and source.suffix.lower() != ".zip":
        raise ProductError(f"{source} is not a Sentinel-2 product: give a .SAFE folder, the "
                           ".zip file as downloaded, or a folder of band files named like "
                           "*_B04_10m.jp2.")
    files = _Files(source)
    metadata = _metadata_in(files.names)
    # The product-level MTD sits at the product's top (not inside GRANULE/).
    top = sorted((m for m in metadata if "GRANULE/" not in m), key=lambda m: m.count("/"))
    if len(top) > 1 and top[0].count("/") == top[1].count("/"):
        raise ProductError(f"{source} holds several products ({', '.join(top[:3])}); give each "
                           "product as its own --product, or their folder.")
    if top:
        prefix = top[0][: -len(PurePosixPath(top[0]).name)]
        return _product_from_files(files, source, prefix, top[0])
    if files.zip is not None:
        raise ProductError(f"{source} is a zip without MTD_MSIL2A.xml or MTD_MSIL1C.xml: it is "
                           "not a Sentinel-2 product. Give the product's zip as downloaded.")
    return _product_from_files(files, source, "", None)


def find_products(paths) -> list[Product]:
    """Every product named by ``paths`` (products, or folders of ``.SAFE``/``.zip`` products).

    A folder that is neither a ``.SAFE`` folder nor holds metadata, ``.SAFE`` folders or zips
    is read as a folder of band files.

    Parameters
    ----------
    paths : str, path or list of them
        The ``--product`` values.

    Returns
    -------
    list of Product
        In the order given; products of one folder sorted by name.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    if not paths:
        raise InputFileError("no product given. Give one or more Sentinel-2 products with "
                             "--product (.SAFE folders, .zip files or a folder of them).")
    products = []
    for path in paths:
        path = Path(path)
        if path.is_dir() and path.suffix.upper() != ".SAFE" \
                and not any((path / m).is_file() for m in METADATA_NAMES):
            inner = sorted(p for p in path.iterdir() if p.suffix.upper() == ".SAFE"
                           or (p.is_file() and p.suffix.lower() == ".zip"))
            if inner:
                products.extend(open_product(p) for p in inner)
                continue
        products.append(open_product(path))
    return products


def describe(product: Product) -> str:
    """One line naming the product, its level, date and baseline, for logs."""
    when = product.acquired.strftime("%Y-%m-%d %H:%M UTC") if product.acquired else "date unknown"
    base = f", baseline {product.baseline}" if product.baseline else ""
    craft = product.spacecraft or "spacecraft unknown"
    return f"{product.name} ({product.level}, {craft}, {when}{base})"


def baseline_has_offsets(product: Product) -> bool:
    """True when the baseline is 04.00 or later (products then declare offsets)."""
    number = _baseline_number(product.baseline)
    return number is not None and number >= 4.0

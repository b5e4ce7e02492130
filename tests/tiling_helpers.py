"""Tiny synthetic training images and class rasters for the phase-one data tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from seeice.io.raster import write_raster

CRS = "EPSG:32624"


def halves_labels(height: int = 40, width: int = 60) -> np.ndarray:
    """Class 1 on the top half, class 2 on the bottom half, shape (H, W) uint8."""
    labels = np.ones((height, width), dtype=np.uint8)
    labels[height // 2:] = 2
    return labels


def write_pair(folder: Path, stem: str, image: np.ndarray, labels: np.ndarray | None,
               georeferenced: bool = True) -> Path:
    """Write ``<stem>.tif`` (and ``SCLS_<stem>.tif`` unless labels is None); return the image."""
    folder.mkdir(parents=True, exist_ok=True)
    kwargs = {"crs": CRS, "transform": Affine(10, 0, 500000, 0, -10, 7700000)} if georeferenced else {}
    path = write_raster(folder / f"{stem}.tif", image, **kwargs)
    if labels is not None:
        write_raster(folder / f"SCLS_{stem}.tif", labels, **kwargs)
    return path


def random_image(height: int, width: int, bands: int = 4, dtype=np.uint16, seed: int = 0,
                 high: int = 16000) -> np.ndarray:
    """Seeded random pixels, shape (H, W, bands)."""
    rng = np.random.default_rng(seed)
    return rng.integers(0, high, size=(height, width, bands)).astype(dtype)


def write_tile_folder(root: Path, tiles_per_class: dict, tile_size: int = 4, bands: int = 3,
                      dtype=np.uint16, seed: int = 0, high: int = 16000) -> dict:
    """Write random tiles to ``root/C<k>/t<i>.tif``; return ``{k: [arrays in name order]}``."""
    rng = np.random.default_rng(seed)
    written = {}
    for k, n in tiles_per_class.items():
        folder = root / f"C{k}"
        folder.mkdir(parents=True, exist_ok=True)
        written[k] = []
        for i in range(n):
            tile = rng.integers(0, high, size=(tile_size, tile_size, bands)).astype(dtype)
            write_raster(folder / f"t{i:03d}.tif", tile, compress=None)
            written[k].append(tile)
    return written


def files_under(folder: Path) -> list[Path]:
    """Every file below ``folder`` (empty list when it does not exist)."""
    return sorted(p for p in Path(folder).rglob("*") if p.is_file()) if Path(folder).exists() else []

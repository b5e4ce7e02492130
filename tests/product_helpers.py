"""Tiny synthetic Sentinel-2 products and vector files for the products tests."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pyogrio.raw
import shapely

from seeice.datasets.synthetic import make_scene

#: Edge of the fixture products in 10 m pixels (a multiple of 6: 20 m and 60 m rasters fit).
SIZE = 60


@functools.lru_cache(maxsize=2)
def scene(seed: int = 0):
    """A synthetic scene (100 px, drawn once per process); products keep its top-left SIZE px."""
    return make_scene(seed, 100)


def box_text(x0: float, y0: float, cols: tuple, rows: tuple) -> str:
    """``minx,miny,maxx,maxy`` of pixel columns c0..c1 and rows r0..r1 of a 10 m grid at (x0, y0)."""
    (c0, c1), (r0, r1) = cols, rows
    return f"{x0 + 10 * c0},{y0 - 10 * r1},{x0 + 10 * c1},{y0 - 10 * r0}"


def write_vector(path: Path, geoms: list, crs: str, fields: dict | None = None) -> Path:
    """Write shapely geometries (and attribute columns) as a GeoPackage or GeoJSON."""
    fields = fields or {}
    kind = geoms[0].geom_type
    pyogrio.raw.write(path, np.array(shapely.to_wkb(geoms), dtype=object),
                      [np.asarray(v, dtype=object if isinstance(v[0], str) else None)
                       for v in fields.values()], list(fields), geometry_type=kind, crs=crs,
                      driver="GPKG" if path.suffix == ".gpkg" else "GeoJSON")
    return path

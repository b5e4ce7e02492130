"""Writing the products stage's GeoTIFFs: tiled, compressed, nodata declared, atomically."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import rasterio

from seeice.io.atomic import atomic_path


def write_geotiff(path: str | os.PathLike, data: np.ndarray, crs, transform, nodata=None,
                  tags: dict | None = None, descriptions=None,
                  colormap: dict | None = None) -> Path:
    """Write a (bands, H, W) or (H, W) array as a tiled, DEFLATE-compressed GeoTIFF.

    Parameters
    ----------
    path : path-like
        Target; written to a temporary file beside it, then renamed.
    data : numpy.ndarray
        Shape (bands, H, W) or (H, W).
    crs, transform
        Georeferencing.
    nodata : number, optional
        Declared no-data value (None: none).
    tags : dict, optional
        Dataset tags (strings).
    descriptions : sequence of str, optional
        One per band.
    colormap : dict, optional
        ``{value: (r, g, b, a)}`` colour table of band 1 (uint8 single band).
    """
    array = data[np.newaxis] if data.ndim == 2 else data
    count, height, width = array.shape
    profile = {"driver": "GTiff", "height": height, "width": width, "count": count,
               "dtype": array.dtype, "crs": crs, "transform": transform, "tiled": True,
               "blockxsize": 256, "blockysize": 256, "compress": "deflate",
               "predictor": 2 if np.issubdtype(array.dtype, np.integer) else 3}
    if nodata is not None:
        profile["nodata"] = nodata
    if colormap is not None:
        profile["photometric"] = "palette"
    path = Path(path)
    with atomic_path(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(array)
            if tags:
                dst.update_tags(**{k: str(v) for k, v in tags.items()})
            for i, text in enumerate(descriptions or (), start=1):
                dst.set_band_description(i, text)
            if colormap is not None:
                dst.write_colormap(1, colormap)
        for side_file in tmp.parent.glob(tmp.name + ".aux.xml"):
            side_file.unlink()
    return path

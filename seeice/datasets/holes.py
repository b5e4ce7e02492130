"""No-data in synthetic scenes: a swath edge and a cloud hole, as Sentinel-2 scenes have them.

:func:`punch_nodata` cuts two kinds of no-data out of a scene of
:mod:`seeice.datasets.synthetic`:

* a swath edge: the corner of the image beyond a straight, slanted line, as at the edge of a
  Sentinel-2 orbit's swath;
* a cloud hole: a roundish patch with a ragged outline, as a masked cloud leaves, placed on
  the calving front so that the front runs into it.

The image is 0 in every band there; :func:`write_holed_scene` writes it with nodata 0 declared
(as composites of Sentinel-2 products are), and the ``SCLS_``/``EDGE_``/``VM_`` companions
unchanged, so that the pipeline must leave the labels and front under no-data out by itself.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
from scipy import ndimage as ndi

from seeice.datasets.synthetic import Scene, write_scene
from seeice.errors import ConfigError
from seeice.io.raster import write_raster


def punch_nodata(scene: Scene, wedge: float = 0.2, hole_radius: float = 0.08, seed: int = 0,
                 ) -> tuple[Scene, np.ndarray]:
    """A copy of a scene with a swath-edge wedge and a cloud hole of no-data.

    Parameters
    ----------
    scene : Scene
        A scene of :func:`seeice.datasets.synthetic.make_scene`.
    wedge : float
        Share of the image edge the wedge cuts off along the top and the right side
        (0 turns it off); the wedge is the top-right corner beyond the line between those
        points.
    hole_radius : float
        Radius of the cloud hole as a share of the image edge (0 turns it off). The hole is
        centred on the front pixel nearest the image centre (the image centre when the scene
        has no front).
    seed : int
        Seed of the hole's ragged outline.

    Returns
    -------
    scene : Scene
        The image is 0 in every band at no-data; classes, front and margins are unchanged.
    nodata : numpy.ndarray
        (H, W) bool, the no-data pixels.
    """
    if not 0.0 <= wedge < 0.5 or not 0.0 <= hole_radius < 0.5:
        raise ConfigError(f"wedge ({wedge!r}) and hole radius ({hole_radius!r}) must lie in "
                          "[0, 0.5) of the image edge.")
    height, width = scene.classes.shape
    rows, cols = np.mgrid[0:height, 0:width]
    nodata = np.zeros((height, width), dtype=bool)
    if wedge > 0:
        # top-right corner beyond the line from (0, (1 - wedge) W) to (wedge H, W)
        nodata |= (rows / (wedge * height) + (width - 1 - cols) / (wedge * width)) < 1.0
    if hole_radius > 0:
        front_rows, front_cols = np.nonzero(scene.front)
        if front_rows.size:
            i = int(np.argmin((front_rows - height / 2) ** 2 + (front_cols - width / 2) ** 2))
            cy, cx = front_rows[i], front_cols[i]
        else:
            cy, cx = height // 2, width // 2
        rng = np.random.default_rng(seed)
        ragged = ndi.gaussian_filter(rng.standard_normal((height, width)), 4.0)
        ragged /= np.abs(ragged).max() or 1.0
        radius = hole_radius * min(height, width)
        distance = np.hypot(rows - cy, cols - cx)
        nodata |= distance < radius * (1.0 + 0.3 * ragged)
    image = scene.image.copy()
    image[nodata] = 0
    info = dict(scene.info, nodata_share=float(nodata.mean()))
    return dataclasses.replace(scene, image=image, info=info), nodata


def write_holed_scene(scene: Scene, out_dir: str | os.PathLike) -> Path:
    """Write a scene (with no-data) like :func:`seeice.datasets.synthetic.write_scene`, the
    image declaring nodata 0.

    Returns
    -------
    pathlib.Path
        The image's path.
    """
    path = write_scene(scene, out_dir)
    write_raster(path, scene.image, crs=scene.crs, transform=scene.transform,
                 compress="deflate", nodata=0)
    return path

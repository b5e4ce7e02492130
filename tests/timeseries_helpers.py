"""A prepared terminus time series for tests: dated images, CSC-like outputs, box and centreline files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio.raw
import shapely

from seeice.classes import GLACIER_SCHEME
from seeice.datasets.timeseries import make_series, write_series
from seeice.fronts.detection import FrontParams, detect_front
from seeice.io import raster as raster_io


def write_vector(path: Path, geometry, crs) -> Path:
    """One geometry in a GeoPackage (or any GDAL vector format by extension)."""
    kind = geometry.geom_type
    driver = "GPKG" if path.suffix == ".gpkg" else "GeoJSON"
    pyogrio.raw.write(str(path), np.array([shapely.to_wkb(geometry)], dtype=object),
                      [np.array(["x"], dtype=object)], ["name"], driver=driver,
                      geometry_type=kind, crs=crs.to_wkt() if crs is not None else None)
    return path


def prepared_series(root: Path, dated_names: bool = True):
    """Images in ``root/images``, per-date CSC outputs in ``root/results/<stem>_patch7``
    (class raster with the front painted, summary.csv), and ``box.gpkg``, ``centreline.gpkg``.

    Returns
    -------
    series : seeice.datasets.timeseries.TimeSeries
    paths : dict
        ``images``, ``results``, ``box``, ``centreline``.
    """
    series = make_series()
    images = write_series(series, root / "images", dated_names=dated_names)
    results = root / "results"
    for item, image in zip(series.dates, images):
        result = detect_front(item.scene.classes, GLACIER_SCHEME, FrontParams(),
                              nodata=item.nodata)
        run = results / f"{image.stem}_patch7"
        run.mkdir(parents=True)
        classes = np.where(item.nodata, 0, result.classes_out).astype(np.uint8)
        reference = raster_io.Raster(classes, crs=item.scene.crs, transform=item.scene.transform)
        raster_io.write_class_raster(run / f"{image.stem}_classified.tif", classes,
                                     GLACIER_SCHEME, reference=reference)
        pd.DataFrame({"Image": [image.stem], "Front_found": [True],
                      "Front_note": [result.note]}).to_csv(run / "summary.csv", index=False)
    crs = series.dates[0].scene.crs
    paths = {"images": root / "images", "results": results,
             "box": write_vector(root / "box.gpkg", series.box, crs),
             "centreline": write_vector(root / "centreline.gpkg", series.centreline, crs)}
    return series, paths

"""Valley-margin check: boundaries of predicted rock against the manual ``VM_`` margins, in metres."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from seeice.defaults import MODE_BIN_M
from seeice.errors import DataError, InputFileError, RasterError
from seeice.io.georef import pixel_size_m
from seeice.io.atomic import write_npy
from seeice.io.raster import Grid, read_image, read_labels
from seeice.results.completeness import complete_runs, keep_complete_images
from seeice.results.describe import run_metadata
from seeice.results.runs import (
    CLASSIFIED_PATTERNS,
    find_runs,
    metadata_columns,
    run_scheme,
    typed_columns,
)
from seeice.results.tables import DISTANCE_COLUMNS, distance_rows

log = logging.getLogger(__name__)

MIN_CONTOUR_VERTICES = 100
DEFAULT_ROCK_CLASSES = (6, 7)
#: Sub-folder of a run that holds the per-image margin distances. Not the run folder itself:
#: the published front scripts pool every ``*.npy`` of a run folder as front distances.
VM_DISTANCES_FOLDER = "valley_margins"
VMDIST_SUFFIX = "_vmdistances.npy"


def margin_distances(classes: np.ndarray, margin: np.ndarray, pixel_size: float,
                     rock_classes: Sequence[int] = DEFAULT_ROCK_CLASSES,
                     min_vertices: int = MIN_CONTOUR_VERTICES) -> np.ndarray:
    """Distance from every valley-margin pixel to the nearest predicted rock boundary.

    The predicted boundary: contours of the rock mask (``classes`` in ``rock_classes``) at
    level 0.5 (``skimage.measure.find_contours``) with more than ``min_vertices`` vertices;
    each vertex (row, col) marks pixel (floor(row), floor(col)).

    Parameters
    ----------
    classes : numpy.ndarray
        Shape (H, W), the classified raster.
    margin : numpy.ndarray
        Shape (H, W), non-zero on the manual valley-margin pixels.
    pixel_size : float
        Metres per pixel.
    rock_classes : sequence of int
        Classes that form the rock mask.
    min_vertices : int
        Shorter contours are ignored.

    Returns
    -------
    numpy.ndarray
        Shape (n_margin_pixels,), metres; empty when there is no margin pixel or no boundary
        contour long enough.
    """
    from scipy.spatial import cKDTree
    from skimage.measure import find_contours

    if classes.shape != margin.shape:
        raise RasterError(f"classified raster is {classes.shape[0]} x {classes.shape[1]} pixels "
                          f"but the valley margin raster is {margin.shape[0]} x {margin.shape[1]}; "
                          "the VM_ raster must be on the image's grid.")
    rock = np.isin(classes, np.asarray(rock_classes))
    boundary = np.zeros(classes.shape, dtype=bool)
    for contour in find_contours(rock.astype(np.float32), 0.5):
        if contour.shape[0] > min_vertices:
            rc = np.floor(contour).astype(np.int64)
            rc[:, 0] = np.clip(rc[:, 0], 0, classes.shape[0] - 1)
            rc[:, 1] = np.clip(rc[:, 1], 0, classes.shape[1] - 1)
            boundary[rc[:, 0], rc[:, 1]] = True
    predicted = np.argwhere(boundary)
    manual = np.argwhere(margin != 0)
    if predicted.size == 0 or manual.size == 0:
        return np.zeros(0, dtype=np.float64)
    distances, _ = cKDTree(predicted.astype(np.float64)).query(manual.astype(np.float64))
    return np.asarray(distances, dtype=np.float64) * float(pixel_size)


def _find_vm(vm_dir: Path, stem: str) -> Path | None:
    for ext in (".tif", ".tiff", ".png", ".TIF", ".TIFF", ".PNG"):
        candidate = vm_dir / f"VM_{stem}{ext}"
        if candidate.is_file():
            return candidate
    return None


def run_margin_distances(run_dir: str | os.PathLike, vm_dir: str | os.PathLike,
                         pixel_size: float | None = None,
                         rock_classes: Sequence[int] | None = None) -> dict[str, np.ndarray]:
    """Valley-margin distances of a run per image: ``{stem: distances (n,)}``.

    Each ``<stem>_classified.tif`` is compared with ``VM_<stem>.tif`` in ``vm_dir`` (see
    :func:`margin_distances`). Images without a VM raster, images without a predicted
    boundary, and images that run.json does not list as complete are skipped with a warning.

    Parameters
    ----------
    pixel_size : float, optional
        Metres per pixel for rasters without georeferencing (PNG); georeferenced rasters use
        their transform.
    rock_classes : sequence of int, optional
        Default: the rock classes of the run's scheme (6 and 7 in the glacier scheme).
    """
    run_dir, vm_dir = Path(run_dir), Path(vm_dir)
    if rock_classes is None:
        rock_classes = run_scheme(run_dir).rock or DEFAULT_ROCK_CLASSES
    out = {}
    paths = keep_complete_images(run_dir, sorted(p for pattern in CLASSIFIED_PATTERNS
                                                 for p in run_dir.glob(pattern)))
    for path in paths:
        stem = path.name[:path.name.rindex("_classified")]
        vm_path = _find_vm(vm_dir, stem)
        if vm_path is None:
            log.warning("run %s: no VM_%s.tif in %s; image skipped.", run_dir.name, stem, vm_dir)
            continue
        raster = read_image(path, bands=1)
        size = pixel_size_m(raster.crs, raster.transform, raster.shape2d, path.name, pixel_size)
        if size is None:
            raise DataError(f"{path} has no georeferencing, so its pixel size is unknown. Give "
                            "the pixel size in metres (--pixel-size).")
        classes = raster.data[..., 0]
        # The margin must lie on the classified image's grid (size, CRS, transform).
        margin = read_labels(vm_path, Grid.of(raster), image_name=path.name)
        d = margin_distances(classes, margin, size, rock_classes)
        if d.size == 0:
            log.warning("run %s, image %s: no predicted rock boundary longer than %d vertices "
                        "(or no margin pixel); image skipped.", run_dir.name, stem,
                        MIN_CONTOUR_VERTICES)
            continue
        out[stem] = d
    return out


def save_margin_distances(run_dir: str | os.PathLike, per_image: dict[str, np.ndarray]
                          ) -> list[Path]:
    """Write each image's margin distances as ``<run>/valley_margins/<stem>_vmdistances.npy``.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    per_image : dict
        ``{stem: distances (n,)}`` in metres, from :func:`run_margin_distances`.

    Returns
    -------
    list of pathlib.Path
        The files written (atomically), sorted by stem.
    """
    folder = Path(run_dir) / VM_DISTANCES_FOLDER
    folder.mkdir(exist_ok=True)
    return [write_npy(folder / f"{stem}{VMDIST_SUFFIX}", np.asarray(d, dtype=np.float64))
            for stem, d in sorted(per_image.items())]


def valley_margin_table(runs_dir: str | os.PathLike, vm_dir: str | os.PathLike,
                        pixel_size: float | None = None,
                        rock_classes: Sequence[int] | None = None,
                        save: bool = True, mode_bin: float = MODE_BIN_M) -> pd.DataFrame:
    """Valley-margin error per run: the four statistics of its pooled margin distances.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder); runs are those holding
        ``<stem>_classified.tif`` rasters.
    vm_dir : path-like
        Folder of the manual ``VM_<stem>.tif`` rasters.
    pixel_size, rock_classes : optional
        See :func:`run_margin_distances`.
    save : bool
        Also write each image's distances (:func:`save_margin_distances`), as the published
        valley-margin check did.
    mode_bin : float
        As in :func:`seeice.results.tables.calving_table`.

    Returns
    -------
    pandas.DataFrame
        As :func:`calving_table`: columns :data:`DISTANCE_COLUMNS`, four rows per run.
    """
    vm_dir = Path(vm_dir)
    if not vm_dir.is_dir():
        raise InputFileError(f"valley margin folder {vm_dir} does not exist. Give the folder of "
                             "the VM_<stem>.tif rasters.")
    rows = []
    runs = complete_runs(find_runs(runs_dir, CLASSIFIED_PATTERNS,
                                   "<stem>_classified.tif rasters"), runs_dir)
    for run in runs:
        per_image = run_margin_distances(run, vm_dir, pixel_size, rock_classes)
        if not per_image:
            continue
        if save:
            save_margin_distances(run, per_image)
        rows += distance_rows(run, metadata_columns(run_metadata(run)),
                               np.concatenate(list(per_image.values())), mode_bin)
    if not rows:
        raise DataError(f"no valley margin could be compared: no classified raster in {runs_dir} "
                        f"has a VM_<stem>.tif in {vm_dir} and a predicted rock boundary.")
    return typed_columns(pd.DataFrame(rows), DISTANCE_COLUMNS)

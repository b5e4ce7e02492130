"""A terminus time series of one glacier: CSC for each date through the sweep engine, then
the terminus position of every date by the box and centreline methods (DESIGN section 8).

:func:`run_time_series` is ``Batch/TerminusTimeSeries.py``:

1. the images of ``Images`` (one glacier, one grid: size, transform and CRS alike; a
   projected CRS in metres) are dated from their tags, else a ``YYYYMMDD`` or ``YYYY-MM-DD``
   in the name (:mod:`seeice.io.scene_info`), else the ``Dates`` CSV (columns Image, Date);
   an image without a date is an error naming it;
2. unless ``Results`` names a folder of existing CSC outputs, every date is one job of a jobs
   CSV (``<Out>/csc/jobs.csv``: a folder of its own per date under ``<Out>/csc/inputs``,
   outputs in ``<Out>/csc/<stem>_patch<k>``), run by :func:`seeice.sweeps.batch.run_sweep`
   here or on Ray; a rerun skips dates already done;
3. each date's class raster (``<stem>_classified.tif``, the front painted in it) gives the
   front line; the image's no-data (0 in every band: masked cloud) and, where an ``EDGE_``
   front lies beside the image, the mean distance error are read;
4. :func:`seeice.fronts.series.terminus_series` measures the positions; the outputs are
   ``terminus_positions.csv``, ``fronts.gpkg`` (one line per date with a front, its row's
   fields), ``terminus_positions.png``, ``fronts_map.png`` and ``run.json``.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from pathlib import Path
from collections.abc import Mapping

import numpy as np
import pandas as pd

from seeice import defaults as D
from seeice.config.inputs import save_run_config
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.fronts.contact import sea_contact
from seeice.fronts.series import DatedFront, terminus_series
from seeice.fronts.terminus import nodata_near_front
from seeice.io import raster as raster_io
from seeice.io.atomic import write_csv
from seeice.io.scene_info import read_scene_info
from seeice.io.vector import front_geometry
from seeice.io.front_schema import (
    centroid_fields,
    check_front_crs,
    label_fields,
    method_text,
    scene_fields,
    warn_without_glacier_id,
)
from seeice.io.vector_layers import read_geometry, reproject_geometry, write_line_features
from seeice.metrics.distances import mean_distance_error
from seeice.metrics.scoring import front_distances_both_ways
from seeice.results.runs import read_run_record, run_scheme
from seeice.results.terminus_figures import fronts_map_figure, positions_figure

log = logging.getLogger(__name__)

#: CSC user inputs passed to every date's job as jobs-CSV columns (header names of CSC.py).
CSC_COLUMNS = ("CNNsamples", "MemoryBudgetMB", "SmallestElement", "GACglacier", "OceanRule",
               "MinSeaContact", "OutDPI", "Seed", "NClasses", "TrainingEpochs", "ImageScale",
               "Precision")
FRONTS_LAYER = "terminus_fronts"


def read_dates_csv(path: str | os.PathLike) -> dict[str, str]:
    """``{image name or stem: ISO date}`` from a CSV with columns Image and Date."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"the dates CSV {path} (--dates) does not exist.")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    if not {"Image", "Date"} <= set(table.columns):
        raise ConfigError(f"the dates CSV {path} has columns {list(table.columns)}; it needs "
                          "Image (file name or stem) and Date (YYYY-MM-DD).")
    return {str(r.Image).strip(): str(r.Date).strip() for r in table.itertuples()}


def date_images(images: list[Path], dates_csv: str | os.PathLike | None = None) -> dict:
    """The date of every image (tags, else name, else the CSV); {path: datetime.date}.

    Raises
    ------
    DataError
        Images without a date (all named), or a CSV date that is not YYYY-MM-DD.
    """
    import datetime as dt

    listed = read_dates_csv(dates_csv) if dates_csv else {}
    dated, undated = {}, []
    for path in images:
        info = read_scene_info(path)
        text = listed.get(path.name, listed.get(path.stem))
        from_csv = None
        if text:
            try:
                from_csv = dt.date.fromisoformat(text)
            except ValueError:
                raise DataError(f"the dates CSV {dates_csv} gives {path.name} the date {text!r}; "
                                "write it as YYYY-MM-DD.") from None
        if info.date is not None:
            if from_csv is not None and from_csv != info.date:
                log.warning("%s: the dates CSV says %s but its %s say %s; the %s are used.",
                            path.name, from_csv, info.date_source, info.date, info.date_source)
            dated[path] = info.date
        elif from_csv is not None:
            dated[path] = from_csv
        else:
            undated.append(path.name)
    if undated:
        raise DataError(f"no date for {', '.join(undated)}: neither an ACQUISITION_DATETIME tag, "
                        "nor a YYYYMMDD or YYYY-MM-DD in the file name, nor a row in the dates "
                        "CSV. Add the date to the name, or list it in a CSV (columns Image, Date) "
                        "given with --dates.")
    return dated


def check_grid(images: list[Path]):
    """The images' common grid (crs, transform, shape); refuse images on another grid.

    Raises
    ------
    RasterError
        An image differs from the first in size, transform or CRS (each named), or the grid
        is not in a projected CRS in metres.
    """
    grids = {}
    for path in images:
        with raster_io.open_raster(path) as src:
            grids[path] = (src.crs, src.transform, (src.height, src.width))
    first = images[0]
    crs, transform, shape = grids[first]
    other = [f"{p.name} ({g[2][0]} x {g[2][1]} px, {g[0]}, origin {g[1].c:.1f}, {g[1].f:.1f}, "
             f"pixel {g[1].a:g} m)" for p, g in grids.items()
             if (g[0] != crs or not g[1].almost_equals(transform) or g[2] != shape)]
    if other:
        raise RasterError(f"the images of a time series must share one grid; {first.name} is "
                          f"{shape[0]} x {shape[1]} px in {crs} (origin {transform.c:.1f}, "
                          f"{transform.f:.1f}, pixel {transform.a:g} m), but "
                          + "; ".join(other) + ". Crop them to one area on one grid "
                          "(MakeComposite with one area of interest does).")
    if crs is None or not crs.is_projected or (crs.linear_units or "").lower() not in (
            "metre", "meter", "m"):
        raise RasterError(f"{first.name} is not in a projected CRS in metres ({crs}); terminus "
                          "positions need metres. Reproject the images to a UTM or polar "
                          "stereographic CRS.")
    return crs, transform, shape


def _link(source: Path, target: Path) -> None:
    if target.exists():
        return
    try:
        os.symlink(os.path.abspath(source), target)
    except OSError:
        shutil.copy2(source, target)


def run_csc_by_date(images: list[Path], config: Mapping, work: Path) -> Path:
    """One CSC job per date through the sweep engine; return the folder of the runs.

    Each image (and its companions) is linked into ``work/inputs/<stem>/``; the jobs CSV
    ``work/jobs.csv`` has one row per image, outputs in ``work/<stem>_patch<k>``.
    """
    from seeice.sweeps.batch import run_sweep

    model = Path(str(config.get("ModelName") or ""))
    if not model.is_file():
        raise InputFileError(f"model {model} (--model) does not exist; give the trained "
                             "phase-one model, or reuse classified dates with --results.")
    rows = []
    for path in images:
        folder = work / "inputs" / path.stem
        folder.mkdir(parents=True, exist_ok=True)
        _link(path, folder / path.name)
        companions = raster_io.find_companions(path)
        for companion in (companions.classes, companions.edge, companions.valley_margin):
            if companion is not None:
                _link(companion, folder / companion.name)
        row = {"Model": model.name, "DataSource": f"inputs/{path.stem}", "OutFolder": path.stem,
               "ExpShortHand": str(config.get("Experiment", D.EXPERIMENT)),
               "Dims": config.get("Ndims", D.BANDS),
               "PatchSize": config.get("Kernel_size", D.PATCH_SIZE),
               "TileSize": config.get("size", D.TILE_SIZE),
               "WholeImage": config.get("WholeImage", 1),
               "Patience": config.get("Patience", D.PATIENCE), "Done": 0}
        row.update({name: "" if config.get(name) is None else config.get(name)
                    for name in CSC_COLUMNS})
        rows.append(row)
    jobs_csv = work / "jobs.csv"
    if jobs_csv.is_file():  # keep what a previous run finished
        done = pd.read_csv(jobs_csv, dtype=str, keep_default_na=False)
        finished = set(done.loc[done["Done"].str.strip() == "1", "OutFolder"]) \
            if {"Done", "OutFolder"} <= set(done.columns) else set()
        for row in rows:
            if row["OutFolder"] in finished:
                row["Done"] = 1
    write_csv(jobs_csv, pd.DataFrame(rows))
    result = run_sweep(jobs_csv, model.parent, engine=str(config.get("Engine") or D.ENGINE),
                       address=config.get("Address") or None,
                       progress=bool(config.get("Progress", True)))
    if result.failed:
        log.warning("CSC failed for %d date(s): %s (see %s, column Error); they have no front.",
                    len(result.failed), "; ".join(result.failed.values()), jobs_csv)
    return work


def find_class_raster(results: Path, stem: str) -> Path | None:
    """The one ``<stem>_classified.tif`` under ``results`` (None when absent).

    Raises
    ------
    DataError
        Several runs hold one for this image.
    """
    found = sorted(results.rglob(f"{stem}_classified.tif"))
    if len(found) > 1:
        raise DataError(f"{len(found)} class rasters of {stem} under {results} ("
                        + ", ".join(str(p.parent) for p in found) + "); give --results the one "
                        "run folder (or a folder of per-date runs) to use.")
    return found[0] if found else None


def _summary_row(run: Path, stem: str) -> dict:
    summary = run / "summary.csv"
    if summary.is_file():
        frame = pd.read_csv(summary, dtype=str, keep_default_na=False)
        match = frame[frame["Image"] == stem] if "Image" in frame else frame.iloc[:0]
        if len(match):
            return match.iloc[0].to_dict()
    return {}


def load_date(image: Path, date, class_path: Path | None, grid) -> tuple[DatedFront, object]:
    """One date's front, no-data and MDE from its image and class raster; and its scheme."""
    crs, transform, shape = grid
    data = raster_io.read_image(image).data
    nodata = ~np.any(data != 0, axis=2)
    if class_path is None:
        log.warning("%s: no class raster (its CSC failed or is missing); no front for %s.",
                    image.name, date)
        empty = np.zeros(shape, np.uint8)
        return DatedFront(date=date, image=image.name, classes=empty, nodata=nodata,
                          note="no class raster"), None
    with raster_io.open_raster(class_path) as src:
        if (src.height, src.width) != shape or not src.transform.almost_equals(transform) \
                or src.crs != crs:
            raise RasterError(f"{class_path} is not on the grid of its image {image.name}; "
                              "reuse the CSC outputs of these very images (--results).")
        classes = src.read(1).astype(np.uint8)
    scheme = run_scheme(class_path.parent)
    front_mask = classes == scheme.front_value
    front = front_geometry(front_mask, transform) if front_mask.sum() >= 2 else None
    row = _summary_row(class_path.parent, image.stem)
    mde = float("nan")
    edge = raster_io.find_companions(image).edge
    if front is not None and edge is not None:
        manual = raster_io.read_labels(edge, shape) > 0
        if manual.any():
            mde = mean_distance_error(*front_distances_both_ways(manual, front_mask,
                                                                 abs(transform.a)))
    note = row.get("Front_note", "") or row.get("Error", "")
    return DatedFront(date=date, image=image.name, classes=classes, nodata=nodata,
                      front=front, front_mask=front_mask if front is not None else None,
                      mde_m=mde, note=note), scheme


def run_time_series(config: Mapping, script: str = "TerminusTimeSeries.py") -> pd.DataFrame:
    """Run the whole time series (module notes); return the positions table.

    Parameters
    ----------
    config : mapping
        The user inputs of ``Batch/TerminusTimeSeries.py`` (header names).
    """
    images_dir = Path(str(config.get("Images") or ""))
    images = raster_io.list_images(images_dir)
    if not images:
        raise DataError(f"no images in {images_dir} (--images).")
    centreline_file, box_file = config.get("Centreline") or "", config.get("Box") or ""
    if not centreline_file and not box_file:
        raise ConfigError("give a centreline (--centreline) or a box (--box), or both: the "
                          "terminus position is measured with them.")
    out = Path(str(config.get("Out") or D.TIME_SERIES_OUTPUT))
    front_crs = check_front_crs(config.get("FrontCRS"))
    warn_without_glacier_id(config.get("GlacierID"))
    grid = check_grid(images)
    crs, transform, _ = grid
    dates = date_images(images, config.get("Dates") or None)
    centreline = (read_geometry(centreline_file, "line", crs, "centreline (--centreline)")
                  if centreline_file else None)
    box = read_geometry(box_file, "polygon", crs, "box (--box)") if box_file else None
    out.mkdir(parents=True, exist_ok=True)
    if config.get("Results"):
        results = Path(str(config["Results"]))
        if not results.is_dir():
            raise InputFileError(f"the results folder {results} (--results) does not exist.")
        missing = [p.name for p in images if find_class_raster(results, p.stem) is None]
        if missing:
            raise DataError(f"no CSC output (<stem>_classified.tif) under {results} for "
                            f"{', '.join(missing)}; run without --results to classify them.")
    else:
        results = run_csc_by_date(images, config, out / "csc")
    dated, schemes = [], []
    for path in images:
        item, scheme = load_date(path, dates[path], find_class_raster(results, path.stem), grid)
        dated.append(item)
        if scheme is not None:
            schemes.append(scheme)
    if not schemes:
        raise DataError("no date could be classified; see the CSC errors in "
                        f"{out / 'csc' / 'jobs.csv'}.")
    table, notes = terminus_series(dated, transform, schemes[0], box=box, centreline=centreline)
    write_csv(out / "terminus_positions.csv", table)
    by_image = {d.image: d for d in dated}
    write_fronts(out, table, by_image, {p.name: p for p in images}, results, config, crs,
                 front_crs or crs, schemes[0])
    positions_figure(table, out / "terminus_positions.png")
    latest = images[[p.name for p in images].index(table["Image"].iloc[-1])]
    fronts_map_figure(raster_io.read_image(latest).data, transform,
                      [by_image[i].front for i in table["Image"]], list(table["Date"]),
                      out / "fronts_map.png", box=box,
                      centreline=_oriented(centreline, notes))
    save_run_config(out, dict(config), script=script,
                    extra={"notes": notes, "images": [p.name for p in images],
                           "results": str(results)})
    log.info("terminus time series of %d date(s) written to %s (%d flagged)%s", len(table),
             out, int(table["Flagged"].sum()), "; " + "; ".join(notes) if notes else "")
    return table


def _method(class_path: Path, config: Mapping) -> str:
    """``CSC k=<k>, <base>`` from the run that made a class raster (else the inputs)."""
    record = read_run_record(class_path.parent) or {}
    run_config = record.get("config") or {}
    k = run_config.get("Kernel_size", config.get("Kernel_size", D.PATCH_SIZE))
    return method_text(int(k), (record.get("model") or {}).get("base"))


def write_fronts(out: Path, table: pd.DataFrame, by_image: dict, paths: dict, results: Path,
                 config: Mapping, crs, front_crs, scheme) -> None:
    """``fronts.gpkg`` and ``fronts.geojson``: one line per date with a front, with the
    positions table's fields and the terminus schema (:mod:`seeice.io.front_schema`)."""
    with_front = table[table["Front_found"].astype(bool)]
    if not len(with_front):
        log.warning("no date has a front: fronts.gpkg and fronts.geojson not written.")
        return
    geometries, records = [], []
    for _, row in with_front.iterrows():
        item = by_image[row["Image"]]
        geometry = reproject_geometry(item.front, crs, front_crs)
        record = {k: (None if isinstance(v, float) and np.isnan(v) else
                      v.item() if isinstance(v, np.generic) else v)
                  for k, v in row.items() if k != "Date"}
        class_path = find_class_raster(results, Path(row["Image"]).stem)
        record.update(label_fields(config.get("GlacierID"), config.get("GlacierName"),
                                   config.get("Author"), _method(class_path, config)))
        # The series' date: tags, name or the dates CSV.
        info = dataclasses.replace(read_scene_info(paths[row["Image"]]), date=row["Date"])
        record.update(scene_fields(info, row["Image"]))
        record.update(centroid_fields(geometry, front_crs))
        contact, _ = sea_contact(item.front_mask, item.classes == scheme.glacier)
        several = row.get("Several_crossings")
        record.update({"Front_touches_nodata": bool(row["Front_touches_nodata"]),
                       "Sea_contact": float(contact),
                       "Several_crossings": None if pd.isna(several) else bool(several),
                       "Cloud_share": (float(row["Box_nodata_share"])
                                       if pd.notna(row.get("Box_nodata_share"))
                                       else nodata_near_front(item.front_mask, item.nodata, 30))})
        geometries.append(geometry)
        records.append(record)
    write_line_features(out / "fronts.gpkg", geometries, records, front_crs, FRONTS_LAYER,
                        geojson_path=out / "fronts.geojson")


def _oriented(centreline, notes):
    """The centreline as measured (turned round when a note says it was reversed)."""
    if centreline is not None and any("drawn from the glacier" in n for n in notes):
        import shapely
        return shapely.LineString(list(centreline.coords)[::-1])
    return centreline

"""A synthetic terminus time series: one fjord on several dates, its front moved by known distances.

Every date is the synthetic fjord of :mod:`seeice.datasets.synthetic` drawn with one seed
(the same walls, front shape, snow line and belts), in its canonical orientation: the glacier
flows along +x (east), the ocean is on the east side. On each date the calving front, and the
melange and iceberg belts with it, are moved along the flow by a whole number of pixels, so
that the terminus position of every date is known exactly: ``shifts_m[i]`` metres from the
first date, positive for an advance. Textures, haze and noise differ between dates.

One date can carry a cloud: a patch of no-data (0 in every band, as a Sentinel-2 composite
masks cloud) over part of the front, from one valley wall to about ``cloud_cover`` of the
fjord's width. Its class raster (``SCLS_``) keeps the truth; :attr:`SeriesDate.nodata` marks
the patch.

The images are named ``<prefix>_<YYYYMMDD>.tif`` and also carry the date as the
``ACQUISITION_DATETIME`` tag (:mod:`seeice.io.scene_info`), with ``SPACECRAFT``; with
``dated_names=False`` the names hold no date (``<prefix>_<index>.tif``) and only the tag dates
them.

The series comes with a box (across the front zone, inside the fjord's walls, its sides
along the flow) and a centreline (along the fjord, ocean end first) in the scenes' CRS.

Command line (images in ``OUT_DIR/images``, ``box.gpkg`` and ``centreline.gpkg`` beside)::

    python -m seeice.datasets.timeseries OUT_DIR --size 300 --seed 0
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from collections.abc import Sequence

import numpy as np
import rasterio
import shapely

from seeice.datasets.noise import touching
from seeice.datasets.render import GLACIER_CLASSES, GLACIER_ICE, OCEAN_CLASSES, ROCK_CLASSES, render
from seeice.datasets.synthetic import (
    EPSG,
    PIXEL_SIZE,
    Scene,
    _check_seed,
    _check_size,
    _classify,
    _draw_layout,
    write_scene,
)
from seeice.errors import ConfigError, SeeIceError

log = logging.getLogger(__name__)

#: Default dates and front shifts (metres from the first date; advances and retreats).
DEFAULT_DATES = ("2020-06-01", "2020-06-17", "2020-07-03", "2020-07-19", "2020-08-04",
                 "2020-08-20")
DEFAULT_SHIFTS_M = (0.0, 120.0, 40.0, -150.0, -90.0, -260.0)
#: The date with a cloud, by default (index into the dates).
DEFAULT_CLOUD_DATE = 4


@dataclass
class SeriesDate:
    """One date of the series: its scene, date, known shift and cloud mask."""

    scene: Scene
    date: dt.date
    shift_m: float
    nodata: np.ndarray


@dataclass
class TimeSeries:
    """A synthetic series: the dates, and a box and centreline in the scenes' CRS.

    Attributes
    ----------
    dates : list of SeriesDate
    box : shapely.Polygon
        Across the front zone, sides along +x, inside the fjord's walls.
    centreline : shapely.LineString
        Along the fjord's middle row, drawn from the ocean (east) to the glacier (west).
    front_columns : numpy.ndarray
        (H,) float, the first date's front column per row (glacier: columns left of it).
    info : dict
        The drawn geometry of the fjord.
    """

    dates: list[SeriesDate]
    box: shapely.Polygon
    centreline: shapely.LineString
    front_columns: np.ndarray
    info: dict = field(default_factory=dict)


def make_series(dates: Sequence[str] = DEFAULT_DATES,
                shifts_m: Sequence[float] = DEFAULT_SHIFTS_M, size: int = 300, seed: int = 0,
                cloud_date: int | None = DEFAULT_CLOUD_DATE, cloud_cover: float = 0.4,
                prefix: str = "S2_fjord") -> TimeSeries:
    """Draw a synthetic terminus time series (module notes).

    Parameters
    ----------
    dates : sequence of str
        ISO dates, one per scene.
    shifts_m : sequence of float
        Front position of each date relative to the first, metres, advance positive; whole
        multiples of the 10 m pixel.
    size : int
        Scene edge in pixels (>= 200 so that every class and the front zone fit).
    seed : int
        Seed of the fjord's geometry; textures use ``seed + 1000 + index``.
    cloud_date : int or None
        Index of the date with a cloud over part of the front; None for none.
    cloud_cover : float
        Share (0..1) of the fjord's width the cloud covers at the front, from its upper wall.
    prefix : str
        File stem prefix.

    Raises
    ------
    ConfigError
        Unequal lengths, shifts that are not whole pixels or too large, a bad date.
    """
    seed, size = _check_seed(seed), _check_size(size)
    if size < 200:
        raise ConfigError(f"a time-series scene needs at least 200 px, got {size}.")
    if len(dates) != len(shifts_m) or not dates:
        raise ConfigError(f"{len(dates)} dates but {len(shifts_m)} shifts; give one shift per date.")
    parsed = [dt.date.fromisoformat(str(d)) for d in dates]
    shift_px = [float(s) / PIXEL_SIZE for s in shifts_m]
    if any(abs(p - round(p)) > 1e-9 for p in shift_px):
        raise ConfigError(f"shifts must be whole multiples of {PIXEL_SIZE:g} m, got {list(shifts_m)}.")
    if max(abs(p) for p in shift_px) > 0.12 * size:
        raise ConfigError(f"shifts must stay within {0.12 * size * PIXEL_SIZE:.0f} m of the first "
                          f"date at {size} px, got {list(shifts_m)}.")
    if cloud_date is not None and not 0 <= cloud_date < len(dates):
        raise ConfigError(f"cloud_date {cloud_date} is not the index of one of the {len(dates)} dates.")

    series, info = [], {}
    front0 = top = bottom = None
    for index, (date, shift) in enumerate(zip(parsed, shift_px)):
        geom_ss, fine_ss, _, _ = np.random.SeedSequence(seed).spawn(4)
        rng, fine = np.random.default_rng(geom_ss), np.random.default_rng(fine_ss)
        rng.integers(4), rng.integers(2)  # the draws of make_scene's orientation
        layout = _draw_layout(rng, fine, size)
        if front0 is None:
            front0, top, bottom, info = (layout.front.copy(), layout.top.copy(),
                                         layout.bottom.copy(), dict(layout.info))
        d = float(round(shift))
        layout.front, layout.melange, layout.bergs = (layout.front + d, layout.melange + d,
                                                      layout.bergs + d)
        classes, wall_height, edge_dist = _classify(layout, rng, fine, size)
        tex = np.random.default_rng(seed + 1000 + index)
        image = render(classes, wall_height, edge_dist, layout, tex, size)
        nodata = np.zeros((size, size), bool)
        if index == cloud_date:
            rows = np.arange(size)
            col = int(np.median(layout.front))
            upper, lower = int(top[col]), int(bottom[col])
            reach = upper + int(cloud_cover * (lower - upper))
            nodata[(rows[:, None] >= upper - 20) & (rows[:, None] < reach)
                   & (np.abs(np.arange(size)[None, :] - col) <= 25)] = True
            image[nodata] = 0
        front = touching(classes == GLACIER_ICE, np.isin(classes, OCEAN_CLASSES))
        margins = touching(np.isin(classes, GLACIER_CLASSES), np.isin(classes, ROCK_CLASSES))
        name = f"{prefix}_{date:%Y%m%d}"
        x0, y0 = 500_000.0, 7_400_000.0
        scene = Scene(image=image, classes=classes, front=front, margins=margins,
                      crs=rasterio.crs.CRS.from_epsg(EPSG),
                      transform=rasterio.transform.Affine(PIXEL_SIZE, 0, x0, 0, -PIXEL_SIZE, y0),
                      stem=name, info={"shift_m": d * PIXEL_SIZE, "date": date.isoformat()})
        series.append(SeriesDate(scene=scene, date=date, shift_m=d * PIXEL_SIZE, nodata=nodata))

    transform = series[0].scene.transform
    lo, hi = float(front0.min() + min(shift_px)), float(front0.max() + max(shift_px))
    c0, c1 = int(max(0, lo - 40)), int(min(size - 1, hi + 40))
    r0 = int(np.max(top[c0:c1 + 1])) + 6
    r1 = int(np.min(bottom[c0:c1 + 1])) - 6
    if r1 - r0 < 20:
        raise ConfigError(f"the fjord of seed {seed} is too narrow at {size} px for a box; use "
                          "another seed or a larger size.")
    corners = [transform @ (c, r) for c, r in ((c0, r0), (c1, r0), (c1, r1), (c0, r1))]
    box = shapely.Polygon(corners)
    middle = (r0 + r1) / 2.0
    centreline = shapely.LineString([transform @ (size - 2.0, middle), transform @ (2.0, middle)])
    info.update({"box_columns": (c0, c1), "box_rows": (r0, r1), "centreline_row": middle})
    return TimeSeries(dates=series, box=box, centreline=centreline, front_columns=front0,
                      info=info)


def write_series(series: TimeSeries, out_dir: str | os.PathLike,
                 dated_names: bool = True) -> list[Path]:
    """Write every date's image and companions, with the date tags; return the image paths.

    With ``dated_names=False`` the files are named ``<prefix>_<index>`` and only the
    ``ACQUISITION_DATETIME`` tag dates them.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, item in enumerate(series.dates):
        scene = item.scene
        if not dated_names:
            scene = Scene(**{**scene.__dict__, "stem": f"{scene.stem.rsplit('_', 1)[0]}_{index}"})
        path = write_scene(scene, out_dir)
        with rasterio.open(path, "r+") as dst:
            dst.update_tags(ACQUISITION_DATETIME=f"{item.date.isoformat()}T14:30:00Z",
                            SPACECRAFT="Sentinel-2A" if index % 2 == 0 else "Sentinel-2B")
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: write the default series, its box and its centreline to OUT_DIR."""
    from seeice.config.runner import format_error, setup_logging
    from seeice.io.vector_layers import write_lines_gpkg, write_polygon_gpkg

    parser = argparse.ArgumentParser(prog="python -m seeice.datasets.timeseries",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="output folder")
    parser.add_argument("--size", type=int, default=300, help="scene edge in pixels (>= 200)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the fjord's geometry")
    args = parser.parse_args(argv)
    setup_logging()
    try:
        series = make_series(size=args.size, seed=args.seed)
        out = Path(args.out_dir)
        paths = write_series(series, out / "images")
        crs = series.dates[0].scene.crs
        import pandas as pd
        write_polygon_gpkg(out / "box.gpkg", series.box, crs, "box")
        write_lines_gpkg(out / "centreline.gpkg", [series.centreline],
                         pd.DataFrame({"name": ["centreline, ocean end first"]}), crs,
                         "centreline")
    except SeeIceError as exc:
        log.error("%s", format_error(exc))
        return 2
    log.info("wrote %d dated scenes to %s, with box.gpkg and centreline.gpkg; front shifts "
             "(m from the first date): %s", len(paths), out / "images",
             ", ".join(f"{d.date}: {d.shift_m:+.0f}" for d in series.dates))
    return 0


if __name__ == "__main__":
    sys.exit(main())

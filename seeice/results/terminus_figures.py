"""Figures of a terminus time series: positions against date, and the fronts over the latest image."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from seeice.results.figures import _save_figure

#: Method columns of the positions table and their labels.
METHODS = (("Box_m", "box method", "tab:blue", "o"),
           ("Centreline_m", "centreline method", "tab:orange", "s"))


def positions_figure(table: pd.DataFrame, path: str | os.PathLike, dpi: int = 150) -> Path:
    """Terminus position (m, advance positive) against date for both methods; flagged dates
    ringed in red.

    Parameters
    ----------
    table : pandas.DataFrame
        The ``terminus_positions.csv`` table (Date, Box_m, Centreline_m, Flagged).
    path : path-like
        Target PNG, written atomically.
    """
    from matplotlib.figure import Figure

    dates = pd.to_datetime(table["Date"])
    fig = Figure(figsize=(7.0, 3.6))
    ax = fig.add_subplot()
    flagged = table["Flagged"].astype(bool).to_numpy()
    for column, label, colour, marker in METHODS:
        values = table[column].to_numpy(dtype=float)
        if np.isnan(values).all():
            continue
        ok = ~np.isnan(values)
        ax.plot(dates[ok], values[ok], marker=marker, color=colour, label=label)
        ax.scatter(dates[ok & flagged], values[ok & flagged], s=160, facecolors="none",
                   edgecolors="red", linewidths=1.5, zorder=3)
    if flagged.any():
        ax.scatter([], [], s=160, facecolors="none", edgecolors="red", label="flagged date")
    ax.axhline(0.0, color="0.6", linewidth=0.8)
    ax.set_ylabel("terminus position (m, advance +)")
    ax.set_xlabel("date")
    ax.legend(loc="best", fontsize="small")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    return _save_figure(fig, path, dpi)


def _stretch(rgb: np.ndarray) -> np.ndarray:
    valid = np.any(rgb != 0, axis=2)
    out = np.zeros(rgb.shape, np.float32)
    if valid.any():
        low, high = np.percentile(rgb[valid], (2, 98))
        out = np.clip((rgb.astype(np.float32) - low) / max(high - low, 1e-6), 0, 1)
    out[~valid] = 0
    return out


def fronts_map_figure(image: np.ndarray, transform, fronts: list, dates: list, path,
                      box=None, centreline=None, dpi: int = 150) -> Path:
    """Every front coloured by date over the latest image, with the box and the centreline.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W, bands) of the latest date; the first three bands are drawn as RGB.
    transform : affine.Affine
        Its transform (axes in CRS metres).
    fronts : list of shapely geometry or None
        One per date (None: no front).
    dates : list of datetime.date
        The dates, same order.
    path : path-like
        Target PNG.
    box, centreline : shapely geometry, optional
    """
    from matplotlib import cm, colormaps, colors
    from matplotlib.figure import Figure

    h, w = image.shape[:2]
    left, top = transform @ (0, 0)
    right, bottom = transform @ (w, h)
    fig = Figure(figsize=(7.0, 6.0))
    ax = fig.add_subplot()
    ax.imshow(_stretch(image[..., :3]), extent=(left, right, bottom, top))
    ordinals = np.array([d.toordinal() for d in dates], float)
    norm = colors.Normalize(ordinals.min(), max(ordinals.max(), ordinals.min() + 1))
    cmap = colormaps["plasma"]
    for front, ordinal in zip(fronts, ordinals):
        if front is None:
            continue
        for part in shapely.get_parts(front):
            x, y = np.asarray(part.coords).T
            ax.plot(x, y, color=cmap(norm(ordinal)), linewidth=1.4)
    if box is not None:
        x, y = np.asarray(box.exterior.coords).T
        ax.plot(x, y, color="cyan", linewidth=1.2, linestyle="--", label="box")
    if centreline is not None:
        x, y = np.asarray(centreline.coords).T
        ax.plot(x, y, color="lime", linewidth=1.2, label="centreline")
        ax.plot(x[:1], y[:1], marker="o", color="lime", linestyle="none", label="ocean end")
    bar = fig.colorbar(cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, shrink=0.8)
    ticks = np.linspace(norm.vmin, norm.vmax, min(5, len(set(ordinals))))
    bar.set_ticks(ticks)
    bar.set_ticklabels([str(pd.Timestamp.fromordinal(round(t)).date()) for t in ticks])
    bar.set_label("front date")
    ax.set_xlim(left, right)
    ax.set_ylim(bottom, top)
    ax.ticklabel_format(useOffset=False, style="plain")
    ax.set_xlabel("x (m)")
    ax.set_ylabel("y (m)")
    if box is not None or centreline is not None:
        ax.legend(loc="lower right", fontsize="small")
    return _save_figure(fig, path, dpi)

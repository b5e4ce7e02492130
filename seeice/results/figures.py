"""Figures over runs: the front-error histogram and the sweep summary."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from seeice.errors import DataError
from seeice.io.atomic import atomic_path
from seeice.metrics.distances import DEFAULT_BIN_M, distance_stats, error_histogram


def _save_figure(fig, path: str | os.PathLike, dpi: int) -> Path:
    path = Path(path)
    fmt = path.suffix.lstrip(".").lower() or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight")
    return path


def error_histogram_figure(distances: np.ndarray, path: str | os.PathLike,
                           title: str | None = None, bin_m: float = DEFAULT_BIN_M,
                           dpi: int = 150, mode_bin: float = DEFAULT_BIN_M) -> Path:
    """Save a histogram of front (or margin) errors with the share under 100 m, atomically.

    Parameters
    ----------
    distances : numpy.ndarray
        Shape (n,), metres.
    path : path-like
        Target image (``.png``; other matplotlib formats follow the extension).
    title : str, optional
        Figure title (the run name).
    mode_bin : float
        Bin of the mode shown (0: exact mode, see :func:`distance_stats`).
    """
    from matplotlib.figure import Figure

    counts, edges, share = error_histogram(distances, bin_m)
    stats = distance_stats(distances, mode_bin)
    fig = Figure(figsize=(7, 4))
    ax = fig.add_subplot()
    ax.bar(edges[:-1], counts, width=bin_m, align="edge", color="#03719c", edgecolor="white",
           linewidth=0.3)
    ax.axvline(100, color="red", linestyle="--", linewidth=1)
    ax.set_xlabel("Error [m]")
    ax.set_ylabel("Pixels")
    ax.set_title(title or "Error histogram")
    ax.text(0.98, 0.95,
            f"{100 * share:.1f} % under 100 m\nmode {stats['mode']:.0f} m, median "
            f"{stats['median']:.1f} m\nmean {stats['mean']:.1f} m, st.dev {stats['std']:.1f} m\n"
            f"n = {np.asarray(distances).size}",
            transform=ax.transAxes, ha="right", va="top", fontsize=9)
    return _save_figure(fig, path, dpi)


def sweep_summary_figure(class_table: pd.DataFrame, calving_table: pd.DataFrame | None,
                         path: str | os.PathLike, dpi: int = 150) -> Path:
    """Summarise a parameter sweep in one figure, one row of panels per glacier.

    Panels: (1) weighted F1 (all classes) by patch size, one colour per tile size, phase 2
    solid and phase 1 dashed; (2) weighted F1 by tile size, phase 1 against phase 2;
    (3) calving-front error (median solid, mean dotted) by patch size, one colour per tile
    size. Values are means over the runs that share the plotted keys (bands, CNN training).

    Parameters
    ----------
    class_table : pandas.DataFrame
        From :func:`classification_table`.
    calving_table : pandas.DataFrame or None
        From :func:`calving_table`; None or empty: the front panels say so.
    path : path-like
        Target image, written atomically.
    """
    from matplotlib.figure import Figure

    if class_table is None or class_table.empty:
        raise DataError("the classification table is empty; nothing to summarise.")
    f1 = class_table[class_table["F1_Class"] == "All"].copy()
    f1["Glacier"] = f1["Glacier"].fillna("unknown glacier")
    glaciers = sorted(f1["Glacier"].unique(), key=str)
    cal = None
    if calving_table is not None and not calving_table.empty:
        cal = calving_table.copy()
        cal["Glacier"] = cal["Glacier"].fillna("unknown glacier")
    tiles = sorted(int(t) for t in f1["Tile_Size"].dropna().unique())
    colours = {t: c for t, c in zip(tiles, ["#1b9e77", "#d95f02", "#7570b3", "#e7298a",
                                            "#66a61e", "#e6ab02", "#a6761d", "#666666"] * 4)}

    fig = Figure(figsize=(13, 3.6 * len(glaciers)))
    axes = fig.subplots(len(glaciers), 3, squeeze=False)
    for row, glacier in enumerate(glaciers):
        ax1, ax2, ax3 = axes[row]
        sub = f1[f1["Glacier"] == glacier]
        by_patch = sub.dropna(subset=["Patch_Size", "Tile_Size"])
        for tile in tiles:
            t = by_patch[by_patch["Tile_Size"] == tile]
            for phase, style in ((2, "-o"), (1, "--s")):
                p = t[t["CSC_Phase"] == phase].groupby("Patch_Size")["F1"].mean()
                if len(p):
                    ax1.plot(p.index.astype(int), p.values, style, color=colours[tile],
                             label=f"tile {tile}, phase {phase}", markersize=4)
        patches = sorted(int(k) for k in by_patch["Patch_Size"].unique())
        if patches:
            ax1.set_xticks(patches)
            ax3.set_xticks(patches)
        ax1.set_title(f"{glacier}: F1 by patch size")
        ax1.set_xlabel("Patch size [px]")
        ax1.set_ylabel("Weighted F1")

        by_tile = sub.dropna(subset=["Tile_Size"])
        for phase, style, colour in ((1, "--s", "#777777"), (2, "-o", "#03719c")):
            p = by_tile[by_tile["CSC_Phase"] == phase].groupby("Tile_Size")["F1"].mean()
            if len(p):
                ax2.plot(p.index.astype(int), p.values, style, color=colour,
                         label=f"phase {phase}", markersize=4)
        tile_ticks = sorted(int(t) for t in by_tile["Tile_Size"].unique())
        if tile_ticks:
            ax2.set_xticks(tile_ticks)
        ax2.set_title(f"{glacier}: F1 by tile size")
        ax2.set_xlabel("Tile size [px]")
        ax2.set_ylabel("Weighted F1")

        ax3.set_title(f"{glacier}: front error by patch size")
        ax3.set_xlabel("Patch size [px]")
        ax3.set_ylabel("Error [m]")
        c = None if cal is None else cal[cal["Glacier"] == glacier].dropna(subset=["Patch_Size"])
        if c is None or c.empty:
            ax3.text(0.5, 0.5, "no calving front results", ha="center", va="center",
                     transform=ax3.transAxes)
        else:
            for tile, group in c.groupby(c["Tile_Size"].fillna(-1)):
                colour = colours.get(int(tile), "#444444")
                label = f"tile {int(tile)}" if tile != -1 else "tile ?"
                for stat, style in (("Median", "-o"), ("Mean", ":^")):
                    p = group[group["Statistic"] == stat].groupby("Patch_Size")["Error_m"].mean()
                    if len(p):
                        ax3.plot(p.index.astype(int), p.values, style, color=colour,
                                 label=f"{label}, {stat.lower()}", markersize=4)
        for ax in (ax1, ax2, ax3):
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
            ax.grid(alpha=0.3)
    fig.tight_layout()
    return _save_figure(fig, path, dpi)

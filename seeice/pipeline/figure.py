"""The four-part figure of one classified image (DESIGN 5, step 9): ``CSC_<exp>_<stem>.png``.

Panels (2 x 2):

1. the RGB bands (the first three) with a 2-98 % percentile stretch per band, computed
   from the raw data (uint16 digital numbers keep their full precision), titled with the
   image name;
2. the validation labels with the manual calving front (dilated 10x10 for display);
3. the phase-one tile classification, titled with its weighted F1;
4. the CSC result, titled with its weighted F1 and the median front error in metres, with
   the front dilated 10x10 for display.

Every class panel uses the scheme's colours on one scale (0 unclassified .. n + 1 front,
nearest-neighbour display), and one legend lists all of them; the calving front is listed
(and the CSC title speaks of it) only for schemes with a front step or where a front is drawn,
so a scheme without ocean and glacier classes (the fluvial one) shows no front. Without
labels the label panel says "no validation labels", and the scores read the same. Landscape
images get a shorter figure (see ``_figure_height``).

No-data of the image (its valid mask, :mod:`seeice.io.validity`) is shown as no-data in every
panel: hatched, not a class colour (0, unclassified, is black), with its own legend entry.

Images larger than :data:`MAX_DISPLAY_PX` on a side are shown at a stride (every second,
third... pixel): the output figure has fewer pixels than that anyway. The front is thickened
before striding, so it stays visible.
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from seeice.classes import ClassScheme
from seeice.errors import RasterError
from seeice.fronts.detection import display_front
from seeice.io.atomic import atomic_path

log = logging.getLogger(__name__)

MAX_DISPLAY_PX = 4000
"""Largest displayed image edge; larger images are shown at a stride."""
STRETCH_PERCENTILES = (2.0, 98.0)
DISPLAY_DILATION = 10
NO_LABELS = "no validation labels"
FIGURE_WIDTH_IN = 12.0
"""Figure width in inches; the height follows the image's aspect (see :func:`_figure_height`)."""
SQUARE_HEIGHT_IN = 12.8
"""Figure height of a square (or taller) image, in inches."""
TOP_MARGIN_IN = 0.512
BOTTOM_MARGIN_IN = 1.152
NODATA_LABEL = "no data"
NODATA_HATCH = "////"
NODATA_EDGE = "0.6"
"""Space above the panels (titles) and below them (legend), in inches."""


def stretch_rgb(image: np.ndarray, percentiles: tuple[float, float] = STRETCH_PERCENTILES,
                valid: np.ndarray | None = None) -> np.ndarray:
    """RGB for display: the first three bands, each stretched between its percentiles.

    Parameters
    ----------
    image : numpy.ndarray
        (H, W, bands) raw data (uint8, uint16 or float), bands >= 1 (a single band is shown
        as grey).
    percentiles : (float, float)
        Lower and upper percentiles of each band mapped to 0 and 1.
    valid : numpy.ndarray, optional
        (H, W) bool valid mask; default: pixels that are not 0 in every band.

    Returns
    -------
    numpy.ndarray
        (H, W, 3) float32 in [0, 1]. Percentiles are taken over the valid pixels (finite
        values), or over all pixels when none is valid.
    """
    image = np.asarray(image)
    if image.ndim == 2:
        image = image[..., np.newaxis]
    if image.ndim != 3:
        raise RasterError(f"an image must be (H, W, bands), got shape {image.shape}.")
    rgb = image[..., :3] if image.shape[2] >= 3 else np.repeat(image[..., :1], 3, axis=2)
    valid = np.any(rgb != 0, axis=2) if valid is None else np.asarray(valid, dtype=bool).copy()
    if np.issubdtype(rgb.dtype, np.floating):
        valid &= np.all(np.isfinite(rgb), axis=2)
        rgb = np.nan_to_num(rgb, nan=0.0, posinf=0.0, neginf=0.0)
    if not valid.any():
        valid = np.ones(valid.shape, dtype=bool)
    out = np.empty(rgb.shape, dtype=np.float32)
    for b in range(3):
        band = rgb[..., b]
        lo, hi = np.percentile(band[valid], percentiles)
        span = float(hi) - float(lo)
        if span <= 0:
            span = 1.0
        out[..., b] = np.clip((band.astype(np.float32) - np.float32(lo)) / np.float32(span), 0, 1)
    return out


def _finite(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value)) \
        and np.isfinite(value)


def _figure_height(shape: tuple[int, int]) -> float:
    """Figure height in inches for an (H, W) image: landscape images get a shorter figure.

    Square and portrait images keep :data:`SQUARE_HEIGHT_IN`; a landscape image shrinks the
    panel rows by its aspect H / W (at least 0.5), so that wide aerial photographs are not
    framed by empty bands. The margins for titles and legend stay the same in inches.
    """
    aspect = min(1.0, max(0.5, shape[0] / max(shape[1], 1)))
    panels = SQUARE_HEIGHT_IN - TOP_MARGIN_IN - BOTTOM_MARGIN_IN
    return TOP_MARGIN_IN + BOTTOM_MARGIN_IN + panels * aspect


def _with_front(classes: np.ndarray, front: np.ndarray | None, scheme: ClassScheme
                ) -> np.ndarray:
    """Classes with the front thickened for display and painted as the front value."""
    out = np.array(classes, dtype=np.uint8, copy=True)
    if front is None:
        front = out == scheme.front_value
    if np.any(front):
        out[display_front(front, DISPLAY_DILATION)] = scheme.front_value
    return out


def csc_figure(path: str | os.PathLike, image: np.ndarray, labels: np.ndarray | None,
               manual_front: np.ndarray | None, cnn_classes: np.ndarray,
               csc_classes: np.ndarray, scheme: ClassScheme, image_name: str,
               cnn_f1: float | None, csc_f1: float | None, front_median_m: float | None,
               dpi: int = 400, valid: np.ndarray | None = None) -> Path:
    """Save the 2 x 2 figure of one image atomically.

    Parameters
    ----------
    path : path-like
        The PNG to write (``CSC_<exp>_<stem>.png``).
    image : numpy.ndarray
        (H, W, bands) raw image (uint8 or uint16); the first three bands are shown as RGB.
    labels : numpy.ndarray or None
        (H, W) validation labels (0 unlabelled), or None.
    manual_front : numpy.ndarray or None
        (H, W) bool manual front, or None.
    cnn_classes : numpy.ndarray
        (H, W) phase-one tile classification.
    csc_classes : numpy.ndarray
        (H, W) final classification with the front painted as ``scheme.front_value``.
    scheme : ClassScheme
        Colours and names.
    image_name : str
        Title of the RGB panel.
    cnn_f1, csc_f1 : float or None
        Weighted F1 of the phase-one and final classifications (None or NaN: not scored).
    front_median_m : float or None
        Median front error in metres (None or NaN: no front error).
    dpi : int
        Resolution of the PNG.
    valid : numpy.ndarray, optional
        (H, W) bool valid mask of the image; no-data is drawn hatched in every panel.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    image = np.asarray(image)
    shape = image.shape[:2]
    arrays = {"cnn_classes": cnn_classes, "csc_classes": csc_classes, "labels": labels,
              "manual_front": manual_front, "valid": valid}
    for name, array in arrays.items():
        if array is not None and np.shape(array) != shape:
            raise RasterError(f"figure: {name} is {np.shape(array)} but the image is {shape}.")

    step = max(1, math.ceil(max(shape) / MAX_DISPLAY_PX))
    view = (slice(None, None, step), slice(None, None, step))
    if step > 1:
        log.debug("figure: showing every %d-th pixel of a %d x %d image", step, *shape)

    # no-data: transparent over the hatched background
    cmap = scheme.colormap().with_extremes(bad=(0.0, 0.0, 0.0, 0.0))
    scale = {"cmap": cmap, "vmin": 0, "vmax": scheme.front_value, "interpolation": "nearest"}
    nodata = None if valid is None or np.all(valid) else ~np.asarray(valid, dtype=bool)[view]

    def masked(array):
        return array if nodata is None else np.ma.masked_array(array, mask=nodata)

    height = _figure_height(shape)
    fig = Figure(figsize=(FIGURE_WIDTH_IN, height))
    FigureCanvasAgg(fig)
    axes = fig.subplots(2, 2)
    for ax in axes.ravel():
        ax.set_xticks([])
        ax.set_yticks([])
        if nodata is not None:
            ax.patch.set_facecolor("white")
            ax.patch.set_hatch(NODATA_HATCH)
            ax.patch.set_edgecolor(NODATA_EDGE)

    ax = axes[0, 0]
    rgb = stretch_rgb(image[view], valid=None if valid is None else np.asarray(valid)[view])
    if nodata is not None:
        rgb = np.dstack([rgb, (~nodata).astype(np.float32)])
    ax.imshow(rgb, interpolation="nearest")
    ax.set_title(image_name)

    ax = axes[0, 1]
    if labels is None:
        ax.text(0.5, 0.5, NO_LABELS, ha="center", va="center", transform=ax.transAxes,
                fontsize=14)
        ax.set_title("Validation labels")
    else:
        shown = _with_front(labels, manual_front if manual_front is not None
                            else np.zeros(shape, bool), scheme)
        ax.imshow(masked(shown[view]), **scale)
        ax.set_title("Validation labels" + (" and manual front" if manual_front is not None
                                            and np.any(manual_front) else ""))

    def score(f1) -> str:
        return f"F1 = {f1:.3f}" if _finite(f1) else NO_LABELS

    ax = axes[1, 0]
    ax.imshow(masked(np.asarray(cnn_classes, dtype=np.uint8)[view]), **scale)
    ax.set_title(f"Phase one (CNN tiles): {score(cnn_f1)}")

    ax = axes[1, 1]
    ax.imshow(masked(_with_front(csc_classes, None, scheme)[view]), **scale)
    csc_has_front = bool(np.any(np.asarray(csc_classes) == scheme.front_value))
    if _finite(front_median_m):
        front_text = f"median front error {front_median_m:.1f} m"
    elif csc_has_front:
        front_text = "no manual front to compare"
    elif scheme.has_front:
        front_text = "no front found"
    else:
        front_text = ""          # a scheme without ocean and glacier has no front step
    ax.set_title(f"CSC: {score(csc_f1)}" + (f", {front_text}" if front_text else ""))

    # The front gets a legend entry only where it can appear: a scheme with a front step,
    # or a front actually drawn.
    show_front = (scheme.has_front or csc_has_front
                  or (manual_front is not None and bool(np.any(manual_front))))
    values = list(range(scheme.n_classes + 1)) + ([scheme.front_value] if show_front else [])
    palette = scheme.palette_rgb() / 255.0
    handles = [Patch(facecolor=palette[v], edgecolor="0.3", label=scheme.label(v))
               for v in values]
    if nodata is not None:
        handles.append(Patch(facecolor="white", hatch=NODATA_HATCH, edgecolor=NODATA_EDGE,
                             label=NODATA_LABEL))
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5),
               frameon=False, fontsize=11)
    fig.subplots_adjust(left=0.02, right=0.98, top=1 - TOP_MARGIN_IN / height,
                        bottom=BOTTOM_MARGIN_IN / height, wspace=0.05, hspace=0.12)

    path = Path(path)
    try:
        with atomic_path(path, suffix=".png") as tmp:
            fig.savefig(tmp, dpi=dpi, format="png")
    finally:
        fig.clear()
    log.info("figure written: %s", path)
    return path

"""Synthetic class rasters with a known calving front, for the front, validation, figure and
vector tests.

The fjord scene (default 400 x 400): rock walls (7, with snow on rock 6) along the top and
bottom, glacier ice (4) from the left edge to a wavy terminus at known columns, melange (3)
then iceberg water (2) and open water (1) to the right, a few snow-on-ice (5) patches and a
rock nunatak (7, 6) on the ice, and a small meltwater pond (1) on the rock at the border.
"""

from __future__ import annotations

import numpy as np

ROCK_TOP = 100       # rows [0, ROCK_TOP) are rock
ROCK_BOTTOM = 300    # rows [ROCK_BOTTOM, H) are rock
FRONT_COL = 250      # mean terminus column
AMPLITUDE = 12       # terminus wave amplitude in pixels
PERIOD = 80          # terminus wave period in rows


def terminus_columns(rows: np.ndarray) -> np.ndarray:
    """First ocean column of each row (glacier occupies columns < this)."""
    return np.rint(FRONT_COL + AMPLITUDE * np.sin(2 * np.pi * rows / PERIOD)).astype(int)


def fjord_scene(size: int = 400, with_ocean: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Class raster (H, W) uint8 and known front (H, W) bool.

    The geometry is in fixed pixels (fjord rows 100..300, terminus near column 250), so
    ``size`` must be at least 400.

    The known front is the glacier's terminus: glacier pixels 4-adjacent to an ocean pixel.
    """
    assert size >= 400, "the fjord geometry needs at least 400 x 400 pixels"
    h = w = size
    rows, cols = np.mgrid[0:h, 0:w]
    classes = np.full((h, w), 7, np.uint8)
    classes[(rows < ROCK_TOP) & (cols % 60 < 20)] = 6
    classes[(rows >= ROCK_BOTTOM) & (cols % 50 < 15)] = 6
    fjord = (rows >= ROCK_TOP) & (rows < ROCK_BOTTOM)
    term = terminus_columns(np.arange(h))[:, None]
    ice = fjord & (cols < term)
    classes[ice] = 4
    if with_ocean:
        sea = fjord & (cols >= term)
        classes[sea] = 1
        classes[sea & (cols < term + 40)] = 3
        classes[sea & (cols >= term + 40) & (cols < term + 70)] = 2
    else:
        classes[fjord & (cols >= term)] = 7
    # snow on ice patches, a nunatak, a misclassified water patch on the ice
    classes[130:150, 40:70] = 5
    classes[250:270, 120:160] = 5
    classes[180:215, 90:120] = 7
    classes[185:195, 95:105] = 6
    classes[200:206, 180:186] = 1
    # a meltwater pond on the rock at the image border (must not count as ocean)
    classes[2:40, 100:130] = 1
    front = np.zeros((h, w), bool)
    if with_ocean:
        ocean = np.isin(classes, (1, 2, 3)) & fjord
        glacier = classes == 4
        near = np.zeros_like(ocean)
        near[:, :-1] |= ocean[:, 1:]
        near[:, 1:] |= ocean[:, :-1]
        near[:-1] |= ocean[1:]
        near[1:] |= ocean[:-1]
        front = glacier & near & (cols > FRONT_COL - 3 * AMPLITUDE)
    return classes, front

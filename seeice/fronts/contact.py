"""How much of the glacier's front meets the sea: the sea-contact measure of front detection.

A front that spans its glacier from wall to wall is about as long as the glacier is wide at
the front; water beside the glacier or at one corner of it touches it over a small part of
that width (:func:`sea_contact`, used by :func:`seeice.fronts.detection.detect_front`).
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from seeice.fronts.morphology import grown_box


def sea_contact(front: np.ndarray, glacier: np.ndarray, reach: int = 60) -> tuple[float, float]:
    """How long the front is against the glacier's width at the front.

    The glacier's width across the flow at the front is the diameter of the largest disc of
    glacier centred within ``reach`` pixels of the front: twice the largest Euclidean
    distance from such a glacier pixel to the nearest non-glacier pixel (outside the image
    counts as non-glacier). Measured near the front, it is the width of the tongue, not of
    an ice field upstream. A front spanning its glacier from wall to wall has at least that
    many pixels (the rasterised line wiggles and is one to two pixels wide), so the ratio
    is about 1 or more; a front that meets the sea through a narrow channel or at one
    corner of a wide glacier scores well under 1. Distances are counted up to ``reach + 2``
    (the front lies on the glacier's edge, so a pixel within ``reach`` of it is hardly
    farther from the edge; the work stays within ``2 * reach + 2`` pixels of the front), so
    a front of more than ``2 * reach + 4`` pixels always scores above 1.

    Parameters
    ----------
    front : numpy.ndarray
        (H, W) bool, the front.
    glacier : numpy.ndarray
        (H, W) bool, the glacier (step b).
    reach : int
        Distance from the front, in pixels, within which the width is measured.

    Returns
    -------
    contact : float
        Front pixels / width (inf when the glacier has no pixel within ``reach``).
    width : float
        The glacier's width at the front, in pixels.
    """
    front = np.asarray(front, dtype=bool)
    glacier = np.asarray(glacier, dtype=bool)
    n_front = int(front.sum())
    if n_front == 0:
        return 0.0, float("nan")
    box = grown_box(front, 2 * int(reach) + 2)
    near = glacier[box] & (ndi.distance_transform_edt(~front[box]) <= reach)
    if not near.any():
        return float("inf"), 0.0
    inside = ndi.distance_transform_edt(np.pad(glacier[box], 1))[1:-1, 1:-1]
    width = 2.0 * min(float(inside[near].max()), reach + 2.0)
    return n_front / width, width

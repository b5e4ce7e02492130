"""Clean-up of a per-pixel classification: the majority (mode) filter of phase two.

DESIGN section 5, step 6: after the patch classifier, every pixel takes the most frequent
class within a disk of radius ``2 * SmallestElement`` pixels (default SmallestElement = 2,
a disk of radius 4). This removes speckle smaller than the disk while keeping larger
regions and their outlines.

Unclassified pixels (0) are the border the patch classifier cannot reach (the ``k // 2``
margin) and the margin cropped off by the tile classifier. They neither vote nor change:
0 pixels are left out of every neighbourhood (the rank filter's ``mask``), and after the
filter every pixel that was 0 is set back to 0, so the unclassified border neither grows
nor shrinks.
"""

from __future__ import annotations

import logging

import numpy as np
from skimage.filters.rank import majority
from skimage.morphology import disk

from seeice.errors import ConfigError, RasterError

log = logging.getLogger(__name__)


def mode_filter(classes: np.ndarray, smallest_element: int = 2) -> np.ndarray:
    """Majority filter of a class raster over a disk of radius ``2 * smallest_element``.

    Parameters
    ----------
    classes : numpy.ndarray
        Shape (H, W), integer classes 0..255 (0 = unclassified).
    smallest_element : int
        SmallestElement of the scripts; the disk radius is twice this, in pixels. 0 turns
        the filter off (a copy of ``classes`` is returned).

    Returns
    -------
    numpy.ndarray
        Shape (H, W), uint8. Pixels that were 0 stay 0; 0 pixels do not vote. Ties between
        classes go to the smallest class number (the rank filter's rule).

    Raises
    ------
    ConfigError
        ``smallest_element`` is negative or not an integer.
    RasterError
        ``classes`` is not 2-D or holds values outside 0..255.
    """
    if isinstance(smallest_element, bool) or not isinstance(smallest_element, (int, np.integer)) \
            or smallest_element < 0:
        raise ConfigError(f"SmallestElement must be a whole number >= 0 (0 turns the mode "
                          f"filter off), got {smallest_element!r}.")
    classes = np.asarray(classes)
    if classes.ndim != 2:
        raise RasterError(f"the mode filter needs a 2-D class raster (H, W), got shape "
                          f"{classes.shape}.")
    if classes.size and (classes.min() < 0 or classes.max() > 255):
        raise RasterError(f"class raster values must lie in 0..255, got "
                          f"{classes.min()}..{classes.max()}.")
    labels = classes.astype(np.uint8, copy=True)
    if smallest_element == 0 or labels.size == 0:
        return labels
    radius = 2 * int(smallest_element)
    classified = labels > 0
    log.debug("mode filter: disk radius %d px over %d x %d pixels", radius, *labels.shape)
    filtered = majority(labels, disk(radius), mask=classified)
    filtered[~classified] = 0
    return filtered.astype(np.uint8, copy=False)

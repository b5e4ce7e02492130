"""Binary morphology and contours for front detection: squares that treat the image edge
sensibly, largest objects, frames measured from the valid data, contours and their
rasterisation.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import find_contours

CROSS = ndi.generate_binary_structure(2, 1)   # 4-connectivity
SQUARE3 = ndi.generate_binary_structure(2, 2)  # 8-connectivity


def dilate(mask: np.ndarray, size: int) -> np.ndarray:
    """Dilation by a size x size square (outside the image counts as background)."""
    if size <= 1:
        return mask.copy()
    return ndi.maximum_filter(mask, size=size, mode="constant", cval=False)


def _erode(mask: np.ndarray, size: int, reflected: bool = False) -> np.ndarray:
    """Erosion by a size x size square (outside counts as foreground).

    ``reflected`` uses the point reflection of the square, which differs for even sizes;
    a closing needs it so that it is extensive.
    """
    if size <= 1:
        return mask.copy()
    origin = -1 if (reflected and size % 2 == 0) else 0
    return ndi.minimum_filter(mask, size=size, mode="constant", cval=True, origin=origin)


def close(mask: np.ndarray, size: int) -> np.ndarray:
    """Closing by a size x size square; never removes a pixel."""
    if size <= 1:
        return mask.copy()
    return _erode(dilate(mask, size), size, reflected=True)


def object_sizes(labels: np.ndarray, n: int) -> np.ndarray:
    """Pixel count of labels 0..n (index 0 is the background)."""
    return np.bincount(labels.ravel(), minlength=n + 1)


def largest_object(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """The largest connected object of a mask (empty mask in, empty mask out)."""
    labels, n = ndi.label(mask, structure=structure)
    if n == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = object_sizes(labels, n)
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


def grown_box(mask: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The bounding box of a mask's pixels grown by ``margin`` pixels, clipped to the image.

    Parameters
    ----------
    mask : numpy.ndarray
        (H, W) bool with at least one True pixel.
    margin : int
        Pixels added on every side.

    Returns
    -------
    (slice, slice)
        Rows and columns of the box.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (slice(max(int(rows[0]) - margin, 0), min(int(rows[-1]) + margin + 1, height)),
            slice(max(int(cols[0]) - margin, 0), min(int(cols[-1]) + margin + 1, width)))


def valid_frame(valid: np.ndarray, width: int) -> np.ndarray:
    """Pixels within ``width`` px (Chebyshev) of the image border or of an invalid pixel.

    Parameters
    ----------
    valid : numpy.ndarray
        (H, W) bool, the valid data.
    width : int
        Frame width in pixels (0: no frame).

    Returns
    -------
    numpy.ndarray
        (H, W) bool, the frame. With every pixel valid this is the ``width``-pixel frame of
        the image.
    """
    if width <= 0:
        return np.zeros(valid.shape, dtype=bool)
    invalid = np.pad(~np.asarray(valid, dtype=bool), width, constant_values=True)
    near = ndi.maximum_filter(invalid, size=2 * width + 1, mode="constant", cval=True)
    return near[width:-width, width:-width]


def longest_contour(mask: np.ndarray, level: float = 0.5) -> np.ndarray | None:
    """The longest iso-contour of a 0/1 mask.

    Parameters
    ----------
    mask : numpy.ndarray
        (H, W) bool or 0/1.
    level : float
        Contour level.

    Returns
    -------
    numpy.ndarray or None
        (n, 2) float (row, col) vertices of the contour of greatest arc length (ties: the
        first found), or None when the mask has no contour.
    """
    contours = find_contours(mask.astype(np.float64), level)
    if not contours:
        return None
    lengths = [float(np.hypot(*np.diff(c, axis=0).T).sum()) for c in contours]
    return contours[int(np.argmax(lengths))]


def rasterise_contour(contour: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Rasterise contour vertices onto the pixels of ``mask`` (the inside), (H, W) bool.

    Each vertex of a contour at level 0.5 of a 0/1 mask lies half-way between an inside and
    an outside pixel; the inside one is taken, so the line is the outermost row of the
    mask's pixels. A vertex with no inside neighbour (not expected) takes the nearer pixel.
    """
    h, w = mask.shape
    lo = np.clip(np.floor(contour).astype(np.intp), 0, [h - 1, w - 1])
    hi = np.clip(np.ceil(contour).astype(np.intp), 0, [h - 1, w - 1])
    near = np.clip(np.rint(contour).astype(np.intp), 0, [h - 1, w - 1])
    lo_in = mask[lo[:, 0], lo[:, 1]]
    hi_in = mask[hi[:, 0], hi[:, 1]]
    pick = np.where(lo_in[:, None], lo, np.where(hi_in[:, None], hi, near))
    line = np.zeros(mask.shape, dtype=bool)
    line[pick[:, 0], pick[:, 1]] = True
    return line


def off_frame_objects(mask: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """The 8-connected objects of ``mask`` that do not touch ``frame``, plus the largest.

    The published ocean rule's frame step (``clear_border`` on 8-connected labels, then the
    largest object added back), (H, W) bool.
    """
    labels, n = ndi.label(mask, structure=SQUARE3)
    if n == 0:
        return mask
    sizes = object_sizes(labels, n)
    sizes[0] = 0
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    keep[np.unique(labels[frame & (labels > 0)])] = False
    keep[int(np.argmax(sizes))] = True
    return keep[labels]

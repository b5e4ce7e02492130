"""Calving-front detection from a class raster (DESIGN section 5, step 7).

The front is the part of the glacier's outline that lies next to the ocean. From a class
raster (H, W) with the roles of a :class:`~seeice.classes.ClassScheme` (which classes form
the ocean, which is glacier ice, which are rock):

a. **Ocean**: pixels of the ocean classes. Ocean objects (4-connected) that touch a
   ``border``-pixel frame of the image are removed, except the largest ocean object; objects
   of ``min_ocean_area`` pixels or fewer are removed; holes are filled.
b. **Glacier**: the largest 4-connected object of the glacier class, holes filled.
c. **Initial level set**: the glacier dilated by a ``dilation`` square, closed by a
   ``closing`` square, holes filled.
d. **Contoured glacier**: a morphological geodesic active contour on ``1 - glacier`` from that
   level set (``gac_iterations`` iterations, ``smoothing``, ``balloon``, ``threshold``), eroded
   ``erosions`` times (3x3 cross).
e. The ocean minus the contoured glacier; a ``frame``-pixel frame of the contoured glacier is
   cleared so that its outline closes inside the image; contours at ``contour_level``; the
   **longest** contour is kept (the published loop kept the last one found); its vertices
   are rasterised onto the glacier-side pixel (each vertex lies half-way between a glacier
   and a non-glacier pixel) and the line closed by a ``line_closing`` square. This is the
   glacier outline, one to two pixels wide.
f. The ocean is dilated by an ``ocean_dilation`` square; the front is the outline AND the
   dilated ocean, i.e. the part of the glacier outline within about 15 pixels of ocean; the
   largest 8-connected object is kept.
g. The front is accepted only when it is non-empty and has fewer pixels than the image
   diagonal is long; otherwise :class:`~seeice.errors.FrontNotFoundError` is raised with the
   reason, and the caller warns and reports no front (the classes stay as they were).
h. Optional (``gac_glacier``, default on): classified pixels inside the contoured glacier
   become the glacier class, except the rock classes, which keep theirs. Unclassified
   pixels (0) stay 0.
i. In the class output the front pixels take the scheme's front value (NClasses + 1); for
   display, :func:`display_front` dilates them by a 10x10 square.

With the published parameters the balloon force of the active contour acts only where the
edge image exceeds ``threshold / |balloon|`` = 1.2, which a 0/1 edge image never does: the
contour evolves by image attachment and curvature smoothing, which round off the closed
glacier outline. The parameters are kept as published.

Squares of even size (30x30, 10x10) are centred half a pixel off; closings use the
reflected square for the erosion so that a closing never removes a pixel. Outside the image
counts as background for dilations and as foreground for erosions, so objects touching the
image edge are not eaten away from it.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import ndimage as ndi
from skimage.measure import find_contours
from skimage.segmentation import morphological_geodesic_active_contour

from seeice.classes import ClassScheme
from seeice.errors import ConfigError, FrontNotFoundError, RasterError

log = logging.getLogger(__name__)

_CROSS = ndi.generate_binary_structure(2, 1)   # 4-connectivity
_SQUARE3 = ndi.generate_binary_structure(2, 2)  # 8-connectivity


@dataclass(frozen=True)
class FrontParams:
    """Parameters of calving-front detection (defaults: the published values).

    Attributes
    ----------
    border : int
        Width in pixels of the image frame; ocean objects touching it are removed, except
        the largest ocean object.
    min_ocean_area : int
        Ocean objects (4-connected) must have more pixels than this (10 000 px = 1 km^2 at
        10 m).
    dilation : int
        Edge of the square that dilates the glacier for the initial level set.
    closing : int
        Edge of the square that then closes it.
    gac_iterations, smoothing, balloon, threshold
        Arguments of :func:`skimage.segmentation.morphological_geodesic_active_contour`
        (``num_iter``, ``smoothing``, ``balloon``, ``threshold``).
    erosions : int
        Erosions (3x3 cross) of the active-contour result.
    frame : int
        Width in pixels of the frame cleared from the contoured glacier before contouring.
    contour_level : float
        Level of :func:`skimage.measure.find_contours`.
    line_closing : int
        Edge of the square that closes the rasterised outline.
    ocean_dilation : int
        Edge of the square that dilates the ocean; the front is the outline within it.
    display_dilation : int
        Edge of the square that thickens the front for display (:func:`display_front`).
    gac_glacier : bool
        Paint the contoured glacier as the glacier class (rock classes excepted).
    """

    border: int = 10
    min_ocean_area: int = 10000
    dilation: int = 5
    closing: int = 30
    gac_iterations: int = 30
    smoothing: int = 1
    balloon: float = -0.5
    threshold: float = 0.6
    erosions: int = 2
    frame: int = 10
    contour_level: float = 0.5
    line_closing: int = 3
    ocean_dilation: int = 30
    display_dilation: int = 10
    gac_glacier: bool = True

    def __post_init__(self):
        sizes = {"border": self.border, "min_ocean_area": self.min_ocean_area,
                 "dilation": self.dilation, "closing": self.closing,
                 "gac_iterations": self.gac_iterations, "smoothing": self.smoothing,
                 "erosions": self.erosions, "frame": self.frame,
                 "line_closing": self.line_closing, "ocean_dilation": self.ocean_dilation,
                 "display_dilation": self.display_dilation}
        bad = {k: v for k, v in sizes.items()
               if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 0}
        if bad:
            raise ConfigError(f"front parameters must be whole numbers >= 0, got {bad}.")
        if not 0.0 < float(self.contour_level) < 1.0:
            raise ConfigError(f"front contour_level must lie between 0 and 1 (the mask is "
                              f"0/1), got {self.contour_level}.")

    def to_dict(self) -> dict:
        """Plain-data form, for ``run.json``."""
        return asdict(self)


@dataclass
class FrontResult:
    """Result of :func:`detect_front`.

    Attributes
    ----------
    front : numpy.ndarray
        (H, W) bool, the calving front (one to a few pixels wide).
    classes_out : numpy.ndarray
        (H, W) uint8, the classes after the glacier refinement (step h, when on) with the
        front painted as the scheme's front value.
    glacier : numpy.ndarray
        (H, W) bool, the contoured glacier (active contour, eroded; no frame cleared).
    ocean : numpy.ndarray
        (H, W) bool, the ocean of step a minus the contoured glacier.
    classes_refined : numpy.ndarray
        (H, W) uint8, the classes after refinement but without the front painted, for
        scoring against labels that have no front class.
    """

    front: np.ndarray
    classes_out: np.ndarray
    glacier: np.ndarray
    ocean: np.ndarray
    classes_refined: np.ndarray

    @property
    def n_pixels(self) -> int:
        """Number of front pixels."""
        return int(self.front.sum())


# ---------------------------------------------------------------- binary morphology helpers

def _dilate(mask: np.ndarray, size: int) -> np.ndarray:
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


def _close(mask: np.ndarray, size: int) -> np.ndarray:
    """Closing by a size x size square; never removes a pixel."""
    if size <= 1:
        return mask.copy()
    return _erode(_dilate(mask, size), size, reflected=True)


def _object_sizes(labels: np.ndarray, n: int) -> np.ndarray:
    """Pixel count of labels 0..n (index 0 is the background)."""
    return np.bincount(labels.ravel(), minlength=n + 1)


def _largest_object(mask: np.ndarray, structure: np.ndarray) -> np.ndarray:
    """The largest connected object of a mask (empty mask in, empty mask out)."""
    labels, n = ndi.label(mask, structure=structure)
    if n == 0:
        return np.zeros_like(mask, dtype=bool)
    sizes = _object_sizes(labels, n)
    sizes[0] = 0
    return labels == int(np.argmax(sizes))


# ------------------------------------------------------------------------------- steps

def ocean_mask(classes: np.ndarray, scheme: ClassScheme, params: FrontParams = FrontParams()
               ) -> np.ndarray:
    """Step a: the ocean, (H, W) bool.

    Pixels of ``scheme.ocean`` classes; 4-connected objects touching the ``params.border``
    frame are removed except the largest object; objects of ``params.min_ocean_area`` pixels
    or fewer are removed; holes filled.
    """
    ocean = np.isin(classes, np.asarray(scheme.ocean, dtype=classes.dtype))
    labels, n = ndi.label(ocean, structure=_CROSS)
    if n == 0:
        return ocean
    sizes = _object_sizes(labels, n)
    sizes[0] = 0
    keep = np.ones(n + 1, dtype=bool)
    keep[0] = False
    b = params.border
    if b > 0:
        frame = np.ones(classes.shape, dtype=bool)
        frame[b:-b or None, b:-b or None] = False
        touching = np.unique(labels[frame & (labels > 0)])
        keep[touching] = False
        keep[int(np.argmax(sizes))] = True
    keep &= sizes > params.min_ocean_area
    return ndi.binary_fill_holes(keep[labels])


def glacier_mask(classes: np.ndarray, scheme: ClassScheme) -> np.ndarray:
    """Step b: the largest 4-connected object of the glacier class, holes filled, (H, W) bool."""
    return ndi.binary_fill_holes(_largest_object(classes == scheme.glacier, _CROSS))


def contour_glacier(glacier: np.ndarray, params: FrontParams = FrontParams()) -> np.ndarray:
    """Steps c and d: the glacier outlined by a geodesic active contour, (H, W) bool."""
    init = ndi.binary_fill_holes(_close(_dilate(glacier, params.dilation), params.closing))
    contoured = np.zeros_like(init)
    if not init.any():
        return contoured
    # The contour moves at most 2 + smoothing pixels per iteration (balloon, image
    # attachment, one per curvature step), so the active contour is run on the bounding box
    # of the initial level set plus that reach: the same result for a fraction of the cost.
    reach = params.gac_iterations * (2 + params.smoothing) + 2
    rows, cols = np.nonzero(init.any(axis=1))[0], np.nonzero(init.any(axis=0))[0]
    box = (slice(max(rows[0] - reach, 0), rows[-1] + reach + 1),
           slice(max(cols[0] - reach, 0), cols[-1] + reach + 1))
    gimage = 1.0 - glacier[box].astype(np.float64)
    level = morphological_geodesic_active_contour(
        gimage, num_iter=params.gac_iterations, init_level_set=init[box].astype(np.int8),
        smoothing=params.smoothing, threshold=params.threshold, balloon=params.balloon)
    contoured[box] = level > 0
    if params.erosions > 0:
        contoured = ndi.binary_erosion(contoured, structure=_CROSS,
                                       iterations=params.erosions, border_value=1)
    return contoured


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


def _check_inputs(classes: np.ndarray, scheme: ClassScheme) -> np.ndarray:
    classes = np.asarray(classes)
    if classes.ndim != 2:
        raise RasterError(f"front detection needs a 2-D class raster (H, W), got shape "
                          f"{classes.shape}.")
    if not scheme.has_front:
        raise ConfigError(f"class scheme {scheme.name!r} defines no ocean classes and/or no "
                          "glacier class, so no calving front can be sought. Check "
                          "scheme.has_front before calling, or give 'ocean' and 'glacier' in "
                          "the scheme YAML.")
    return classes


def detect_front(classes: np.ndarray, scheme: ClassScheme,
                 params: FrontParams = FrontParams()) -> FrontResult:
    """Detect the calving front in a class raster (DESIGN 5.7, steps a-i; module docstring).

    Parameters
    ----------
    classes : numpy.ndarray
        (H, W) integer classes, 0 = unclassified, 1..n (the mode-filtered CSC result).
    scheme : ClassScheme
        Gives the ocean, glacier and rock classes and the front value. It must have a front
        (``scheme.has_front``).
    params : FrontParams
        Detection parameters.

    Returns
    -------
    FrontResult

    Raises
    ------
    ConfigError
        The scheme has no ocean or no glacier class (check ``scheme.has_front`` first).
    RasterError
        ``classes`` is not 2-D.
    FrontNotFoundError
        No acceptable front: no ocean or no glacier object, an empty front, or a front with
        at least as many pixels as the image diagonal is long. The message gives the
        reason; the caller warns and reports no front, keeping its classes unchanged.
    """
    classes = _check_inputs(classes, scheme)
    h, w = classes.shape

    ocean = ocean_mask(classes, scheme, params)
    if not ocean.any():
        raise FrontNotFoundError(
            f"no ocean object of more than {params.min_ocean_area} pixels (classes "
            f"{list(scheme.ocean)}) away from the image border: no calving front.")
    glacier0 = glacier_mask(classes, scheme)
    if not glacier0.any():
        raise FrontNotFoundError(f"no pixel of the glacier class {scheme.glacier} "
                                 f"({scheme.label(scheme.glacier)}): no calving front.")

    glacier = contour_glacier(glacier0, params)
    ocean = ocean & ~glacier

    framed = glacier.copy()
    f = params.frame
    if f > 0:
        framed[:f] = framed[-f:] = False
        framed[:, :f] = framed[:, -f:] = False
    contour = longest_contour(framed, params.contour_level)
    if contour is None:
        raise FrontNotFoundError("the contoured glacier is empty (it may lie entirely within "
                                 f"{f} pixels of the image border): no calving front.")
    outline = _close(rasterise_contour(contour, framed), params.line_closing)

    near_ocean = _dilate(ocean, params.ocean_dilation)
    front = _largest_object(outline & near_ocean, _SQUARE3)

    n_front = int(front.sum())
    diagonal = math.hypot(h, w)
    if n_front == 0:
        raise FrontNotFoundError("the glacier outline does not come within "
                                 f"{params.ocean_dilation // 2} pixels of the ocean: no "
                                 "calving front.")
    if n_front >= diagonal:
        raise FrontNotFoundError(f"the front candidate has {n_front} pixels, not fewer than "
                                 f"the image diagonal ({diagonal:.0f} px): rejected as "
                                 "implausible.")

    refined = classes.astype(np.uint8, copy=True)
    if params.gac_glacier:
        paint = glacier & (refined > 0) & ~np.isin(refined, np.asarray(scheme.rock, np.uint8))
        refined[paint] = scheme.glacier
    classes_out = refined.copy()
    classes_out[front] = scheme.front_value
    log.info("calving front: %d pixels (glacier %d px, ocean %d px)", n_front,
             int(glacier.sum()), int(ocean.sum()))
    return FrontResult(front=front, classes_out=classes_out, glacier=glacier, ocean=ocean,
                       classes_refined=refined)


def display_front(front: np.ndarray, size: int = 10) -> np.ndarray:
    """The front thickened for display: dilated by a size x size square, (H, W) bool."""
    front = np.asarray(front, dtype=bool)
    if size < 0:
        raise ConfigError(f"display dilation must be >= 0, got {size}.")
    return _dilate(front, size) if size > 1 else front.copy()

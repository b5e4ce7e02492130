"""Calving-front detection from a class raster (DESIGN section 5, step 7).

The front is the part of the glacier's outline that lies next to the ocean. From a class
raster (H, W) with the roles of a :class:`~seeice.classes.ClassScheme` (which classes form
the ocean, which is glacier ice, which are rock):

a. **Ocean**: pixels of the ocean classes (open water, iceberg water and melange together).
   With the default rule ``sea``, the ocean is the largest 4-connected ocean object, the sea
   the glacier calves into; a water-labelled patch inland of the glacier is never ocean. The
   published rule (``ocean_rule="published"``) keeps every ocean object that does not touch a
   ``border``-pixel frame, plus the largest. Objects of ``min_ocean_area`` pixels or fewer are
   removed; holes are filled.
b. **Glacier**: the largest 4-connected object of the glacier class, holes filled.
c. **Initial level set**: the glacier dilated by a ``dilation`` square, closed by a
   ``closing`` square, holes filled.
d. **Contoured glacier**: a morphological geodesic active contour on ``1 - glacier`` from that
   level set (``gac_iterations`` iterations, ``smoothing``, ``balloon``, ``threshold``), eroded
   ``erosions`` times (3x3 cross).
e. The ocean minus the contoured glacier; a ``frame``-pixel frame of the contoured glacier is
   cleared so that its outline closes inside the image; contours at ``contour_level``; the
   **longest** contour is kept (the published loop overwrote its size array, so it always
   kept the first contour found); its vertices are rasterised onto the glacier-side pixel
   (each vertex lies half-way between a glacier and a non-glacier pixel) and the line closed
   by a ``line_closing`` square. This is the glacier outline, one to two pixels wide.
f. The ocean is dilated by an ``ocean_dilation`` square; the front is the outline AND the
   dilated ocean, i.e. the part of the glacier outline within about 15 pixels of ocean; the
   largest 8-connected object is kept.
g. A front next to no-data (DESIGN 10.3): the glacier's frame is cleared around no-data
   too, so there the outline runs along the cleared frame, ``frame + 1`` pixels from the
   no-data, and not along the glacier's edge. Front pixels within ``frame + 1`` pixels of
   no-data ("touching" it) are dropped; pieces of the front that no-data separates count as
   one front when step f picks the largest (by front pixels); the result's ``note`` says
   how many pixels were dropped. The front is accepted only when something is left, it has
   fewer pixels than the image diagonal is long, and its sea contact (:func:`sea_contact`:
   front pixels over the glacier's width at the front) is at least ``min_sea_contact``;
   otherwise :class:`~seeice.errors.FrontNotFoundError` is raised with the reason, and the
   caller warns and reports no front (the classes stay as they were).
h. Optional (``gac_glacier``, default on): classified pixels inside the contoured glacier
   become the glacier class, except the rock classes, which keep theirs. Unclassified
   pixels (0) stay 0.
i. In the class output the front pixels take the scheme's front value (NClasses + 1); for
   display, :func:`display_front` dilates them by a 10x10 square.

With the published parameters the balloon force of the active contour acts only where the
edge image exceeds ``threshold / |balloon|`` = 1.2, which a 0/1 edge image never does: the
contour evolves by image attachment and curvature smoothing, which round off the closed
glacier outline. The parameters are kept as published.

Every frame (steps a and e) is measured from the edge of the valid data, not from the raw
image frame: pixels within the frame width of the image border, of an unclassified pixel
(class 0: the k // 2 margin of phase two, the cropped-off margin of phase one) or of
no-data are in the frame. A k // 2 margin therefore changes nothing.

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
from skimage.segmentation import morphological_geodesic_active_contour

from seeice.classes import ClassScheme
from seeice.errors import ConfigError, FrontNotFoundError, RasterError
from seeice.fronts.contact import sea_contact
from seeice.fronts.morphology import (
    CROSS,
    SQUARE3,
    close,
    dilate,
    grown_box,
    largest_object,
    longest_contour,
    off_frame_objects,
    object_sizes,
    rasterise_contour,
    valid_frame,
)

log = logging.getLogger(__name__)


#: Rules for which ocean objects are the ocean (step a).
OCEAN_RULES = ("sea", "published")


@dataclass(frozen=True)
class FrontParams:
    """Parameters of calving-front detection (defaults: the published values, except the
    ocean rule and the sea-contact check, which the published scripts did not have).

    Attributes
    ----------
    border : int
        Width in pixels of the frame of the published ocean rule: ocean objects touching it
        are removed, except the largest ocean object. Measured from the edge of the valid
        data (:func:`valid_frame`).
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
        Width in pixels of the frame cleared from the contoured glacier before contouring,
        measured from the edge of the valid data (:func:`valid_frame`).
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
    ocean_rule : {"sea", "published"}
        ``sea``: the ocean is the largest ocean object. ``published``: every ocean object not
        touching the frame, plus the largest (the published scripts' rule).
    min_sea_contact : float
        Smallest accepted sea contact, the front's pixel count over the glacier's width at
        the front (see :func:`sea_contact`); a front below it is refused as a short contact
        with the sea. 0 turns the check off. A front spanning its glacier scores about 1 or
        more (its pixel line wiggles and is one to two pixels wide): 2.2-3.8 on the
        synthetic fjords. The default 0.5 refuses contacts of under half the glacier's
        width (a narrow water channel, a corner of the glacier) and leaves room for fronts
        partly trimmed at no-data or at the image edge.
    contact_reach : int
        The glacier's width at the front is measured on the glacier pixels within this many
        pixels of the front (60 px = 600 m at 10 m), so that a glacier that widens upstream
        (an outlet of an ice field) is judged by its tongue, not by the ice field.
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
    ocean_rule: str = "sea"
    min_sea_contact: float = 0.5
    contact_reach: int = 60

    def __post_init__(self):
        if self.ocean_rule not in OCEAN_RULES:
            raise ConfigError(f"ocean rule {self.ocean_rule!r} is unknown; use sea (the largest "
                              "ocean object) or published (every object away from the frame).")
        if not 0.0 <= float(self.min_sea_contact) < 10.0:
            raise ConfigError(f"min_sea_contact (MinSeaContact, --min-sea-contact) must lie in "
                              f"[0, 10), got {self.min_sea_contact}; 0.5 is the default, 0 "
                              "turns the check off.")
        sizes = {"border": self.border, "min_ocean_area": self.min_ocean_area,
                 "dilation": self.dilation, "closing": self.closing,
                 "gac_iterations": self.gac_iterations, "smoothing": self.smoothing,
                 "erosions": self.erosions, "frame": self.frame,
                 "line_closing": self.line_closing, "ocean_dilation": self.ocean_dilation,
                 "display_dilation": self.display_dilation,
                 "contact_reach": self.contact_reach}
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
    note : str
        What the user should know about an accepted front ('' when nothing): front pixels
        dropped next to no-data ("front runs into no-data: ...").
    sea_contact : float
        Front pixels over the glacier's width at the front (:func:`sea_contact`).
    """

    front: np.ndarray
    classes_out: np.ndarray
    glacier: np.ndarray
    ocean: np.ndarray
    classes_refined: np.ndarray
    note: str = ""
    sea_contact: float = float("nan")

    @property
    def n_pixels(self) -> int:
        """Number of front pixels."""
        return int(self.front.sum())


def ocean_mask(classes: np.ndarray, scheme: ClassScheme, params: FrontParams = FrontParams(),
               valid: np.ndarray | None = None) -> np.ndarray:
    """Step a: the ocean.

    Pixels of ``scheme.ocean`` classes (open water, iceberg water and melange together), as
    4-connected objects. Rule ``sea`` (``params.ocean_rule``): the largest object, the sea.
    Rule ``published``: every object except those touching the ``params.border`` frame,
    measured from the edge of the valid data; the largest object is kept even so; as in the
    published scripts, this step takes the objects 8-connected. Then (4-connected) objects of
    ``params.min_ocean_area`` pixels or fewer are removed and holes filled.

    Parameters
    ----------
    classes : numpy.ndarray
        (H, W) integer classes, 0 = unclassified.
    scheme : ClassScheme
        Gives the ocean classes.
    params : FrontParams
        ``ocean_rule``, ``border`` and ``min_ocean_area`` are used.
    valid : numpy.ndarray, optional
        (H, W) bool, the valid data (default ``classes != 0``); only the published rule
        uses it.

    Returns
    -------
    numpy.ndarray
        (H, W) bool, the ocean.
    """
    ocean = np.isin(classes, np.asarray(scheme.ocean, dtype=classes.dtype))
    if params.ocean_rule != "sea" and params.border > 0:
        frame = valid_frame(classes != 0 if valid is None else valid, params.border)
        ocean = off_frame_objects(ocean, frame)
    labels, n = ndi.label(ocean, structure=CROSS)
    if n == 0:
        return ocean
    sizes = object_sizes(labels, n)
    sizes[0] = 0
    keep = np.zeros(n + 1, dtype=bool)
    if params.ocean_rule == "sea":
        keep[int(np.argmax(sizes))] = True
    else:
        keep[1:] = True
    keep &= sizes > params.min_ocean_area
    return ndi.binary_fill_holes(keep[labels])


def glacier_mask(classes: np.ndarray, scheme: ClassScheme) -> np.ndarray:
    """Step b: the largest 4-connected object of the glacier class, holes filled, (H, W) bool."""
    return ndi.binary_fill_holes(largest_object(classes == scheme.glacier, CROSS))


def contour_glacier(glacier: np.ndarray, params: FrontParams = FrontParams()) -> np.ndarray:
    """Steps c and d: the glacier outlined by a geodesic active contour, (H, W) bool."""
    init = ndi.binary_fill_holes(close(dilate(glacier, params.dilation), params.closing))
    contoured = np.zeros_like(init)
    if not init.any():
        return contoured
    # The contour moves at most 2 + smoothing pixels per iteration (balloon, image
    # attachment, one per curvature step), so the active contour is run on the bounding box
    # of the initial level set plus that reach: the same result for a fraction of the cost.
    reach = params.gac_iterations * (2 + params.smoothing) + 2
    box = grown_box(init, reach)
    gimage = 1.0 - glacier[box].astype(np.float64)
    level = morphological_geodesic_active_contour(
        gimage, num_iter=params.gac_iterations, init_level_set=init[box].astype(np.int8),
        smoothing=params.smoothing, threshold=params.threshold, balloon=params.balloon)
    contoured[box] = level > 0
    if params.erosions > 0:
        contoured = ndi.binary_erosion(contoured, structure=CROSS,
                                       iterations=params.erosions, border_value=1)
    return contoured


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
                 params: FrontParams = FrontParams(), nodata: np.ndarray | None = None,
                 image_diagonal: float | None = None, sea: np.ndarray | None = None,
                 glacier: np.ndarray | None = None) -> FrontResult:
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
    nodata : numpy.ndarray, optional
        (H, W) bool, True where the image has no data. It is never ocean or glacier, frames
        are measured from it (as from unclassified pixels, class 0: the valid data is
        ``(classes != 0) & ~nodata``), and front pixels touching it, i.e. within
        ``params.frame + 1`` pixels, are dropped with a note (module docstring, step g).
        Unclassified pixels alone (a k // 2 margin) drop nothing.
    image_diagonal : float, optional
        Diagonal (px) of the whole image when ``classes`` is a box of it
        (:mod:`seeice.fronts.region`); default: the diagonal of ``classes``.
    sea, glacier : numpy.ndarray, optional
        (H, W) bool: the ocean of step a and the glacier of step b, already found (the region
        passes those of the whole image, cut to its box); default: found in ``classes``.

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
        No acceptable front: no ocean or no glacier object, an empty front (also when
        nothing is left away from no-data), a front with at least as many pixels as the
        image diagonal is long, or a short contact with the sea (sea contact under
        ``params.min_sea_contact``). The message gives the reason; the caller warns and
        reports no front, keeping its classes unchanged.
    """
    classes = _check_inputs(classes, scheme)
    h, w = classes.shape
    if nodata is not None:
        nodata = np.asarray(nodata, dtype=bool)
        if nodata.shape != classes.shape:
            raise RasterError(f"the no-data mask has shape {nodata.shape} but the classes "
                              f"{classes.shape}; they must share one grid.")
        classes = np.where(nodata, 0, classes).astype(classes.dtype)
    valid = classes != 0

    ocean = ocean_mask(classes, scheme, params, valid) if sea is None else np.asarray(sea, bool)
    if not ocean.any():
        raise FrontNotFoundError(
            f"no ocean object of more than {params.min_ocean_area} pixels (classes "
            f"{list(scheme.ocean)}) away from the image border: no calving front.")
    glacier0 = glacier_mask(classes, scheme) if glacier is None else np.asarray(glacier, bool)
    if not glacier0.any():
        raise FrontNotFoundError(f"no pixel of the glacier class {scheme.glacier} "
                                 f"({scheme.label(scheme.glacier)}): no calving front.")

    glacier = contour_glacier(glacier0, params)
    ocean = ocean & ~glacier

    f = params.frame
    framed = glacier & ~valid_frame(valid, f)
    contour = longest_contour(framed, params.contour_level)
    if contour is None:
        raise FrontNotFoundError("the contoured glacier is empty (it may lie entirely within "
                                 f"{f} pixels of the image border): no calving front.")
    outline = close(rasterise_contour(contour, framed), params.line_closing)

    near_ocean = dilate(ocean, params.ocean_dilation)
    candidate = outline & near_ocean
    notes = []
    if nodata is not None and nodata.any():
        # The frame is cleared around no-data too, so next to it the outline runs along that
        # frame, f + 1 px from the no-data: those pixels are dropped (DESIGN 10.3). The
        # pieces on either side of no-data are one front: objects are labelled with the
        # no-data zone as a bridge and the largest is the one with most front pixels.
        touching = dilate(nodata, 2 * (f + 1) + 1)
        kept = candidate & ~touching
        labels, n = ndi.label(kept | dilate(nodata, 2 * (f + 2) + 1), structure=SQUARE3)
        counts = np.bincount(labels[kept], minlength=n + 1)
        best = labels == int(np.argmax(counts)) if counts.any() else np.ones_like(kept)
        front = kept & best
        dropped = int((candidate & touching & best).sum())
        if dropped:
            notes.append(f"front runs into no-data: {dropped} front pixels within {f + 1} px "
                         "of no-data dropped, the rest kept")
    else:
        front = largest_object(candidate, SQUARE3)

    n_front = int(front.sum())
    diagonal = math.hypot(h, w) if image_diagonal is None else float(image_diagonal)
    if n_front == 0:
        hidden = nodata is not None and bool(
            (dilate(nodata, 2 * (f + params.ocean_dilation) + 1) & glacier0).any())
        raise FrontNotFoundError("the glacier outline does not come within "
                                 f"{params.ocean_dilation // 2} pixels of the ocean"
                                 + (" away from no-data (no-data may hide the front)"
                                    if hidden else "") + ": no calving front.")
    if n_front >= diagonal:
        raise FrontNotFoundError(f"the front candidate has {n_front} pixels, not fewer than "
                                 f"the image diagonal ({diagonal:.0f} px): rejected as "
                                 "implausible.")
    contact, width = sea_contact(front, glacier0, params.contact_reach)
    if contact < params.min_sea_contact:
        raise FrontNotFoundError(
            f"short contact with the sea: the front has {n_front} pixels, {contact:.2f} of the "
            f"glacier's width at the front ({width:.0f} px; at least {params.min_sea_contact:g} "
            "needed), more likely water beside the glacier or a front mostly hidden by no-data "
            "than the calving front. Check the ocean classes near the glacier in the figure; "
            "MinSeaContact (--min-sea-contact) sets the minimum, 0 turns the check off.")

    refined = classes.astype(np.uint8, copy=True)
    if params.gac_glacier:
        paint = glacier & (refined > 0) & ~np.isin(refined, np.asarray(scheme.rock, np.uint8))
        refined[paint] = scheme.glacier
    classes_out = refined.copy()
    classes_out[front] = scheme.front_value
    note = "; ".join(notes)
    log.info("calving front: %d pixels (glacier %d px, ocean %d px, sea contact %.2f of the "
             "glacier's width)%s", n_front, int(glacier.sum()), int(ocean.sum()), contact,
             f"; {note}" if note else "")
    return FrontResult(front=front, classes_out=classes_out, glacier=glacier, ocean=ocean,
                       classes_refined=refined, note=note, sea_contact=contact)


def display_front(front: np.ndarray, size: int = 10) -> np.ndarray:
    """The front thickened for display: dilated by a size x size square, (H, W) bool."""
    front = np.asarray(front, dtype=bool)
    if size < 0:
        raise ConfigError(f"display dilation must be >= 0, got {size}.")
    return dilate(front, size) if size > 1 else front.copy()

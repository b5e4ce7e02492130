"""Calving-front detection on a whole granule: the bounded region where glacier meets sea.

Front detection (:func:`seeice.fronts.detection.detect_front`) evolves an active contour over
the glacier's bounding box. On a whole Sentinel-2 granule (10 980 x 10 980 px) that box can
hold most of 120 million pixels, although the front lies where the glacier meets the sea. On
an image of more than :data:`REGION_MIN_PIXELS` pixels, :func:`detect_front_in_region`
therefore:

1. finds the sea (step a, the largest ocean object) and the glacier (step b) over the whole
   image: labelling and hole filling, linear in the pixels;
2. takes the glacier pixels close enough to the sea to become front: within
   :func:`contact_reach` pixels (the initial level set's dilation and closing, the active
   contour's reach and the ocean dilation of step f added up);
3. grows their bounding box by :func:`region_margin` pixels on every side (the contact reach
   again, the sea-contact measure's reach and the frames), so that a glacier cut by the box
   edge lies too far from the sea to give front pixels there;
4. runs the front detection on that box, with the sea and the glacier of step 1 cut to it
   (so a fjord that leaves the box and comes back is still one sea, and an ice patch larger
   within the box than the glacier's tongue is still not the glacier), and places the
   result back on the image's grid.

What differs from a run over the whole image: the active contour and the glacier refinement
(step h) act within the box only (outside it the classes stay as classified), the result's
``glacier`` and ``ocean`` masks cover the box only, and front pieces that no-data separates
count as one front only where the no-data joins them within the box. The plausibility
check compares the front with the whole image's diagonal. Smaller images always use the
whole image.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from seeice.classes import ClassScheme
from seeice.errors import FrontNotFoundError
from seeice.fronts.detection import (
    FrontParams,
    FrontResult,
    detect_front,
    glacier_mask,
    ocean_mask,
)
from seeice.fronts.morphology import dilate, grown_box

log = logging.getLogger(__name__)

#: Images of more pixels than this (5000 x 5000) get the front step on the bounded region.
REGION_MIN_PIXELS = 25_000_000


def contact_reach(params: FrontParams) -> int:
    """Largest distance (px) from the sea of a glacier pixel that can take part in the front.

    The initial level set grows the glacier by ``dilation`` and ``closing``, the active
    contour moves at most ``gac_iterations * (2 + smoothing)`` pixels, and the front is the
    outline within ``ocean_dilation`` of the ocean.
    """
    return (params.dilation + params.closing + params.gac_iterations * (2 + params.smoothing)
            + 2 + params.ocean_dilation)


def region_margin(params: FrontParams) -> int:
    """Pixels added on every side of the contact zone's bounding box."""
    return (contact_reach(params) + 2 * params.contact_reach + 2 + params.frame
            + params.ocean_dilation)


def front_region(classes: np.ndarray, scheme: ClassScheme, params: FrontParams,
                 nodata: np.ndarray | None = None
                 ) -> tuple[tuple[slice, slice], np.ndarray, np.ndarray] | None:
    """The box of an image where its glacier meets its sea, with the margin.

    Parameters
    ----------
    classes : numpy.ndarray
        (H, W) integer classes, 0 = unclassified.
    scheme : ClassScheme
        Gives the ocean and glacier classes.
    params : FrontParams
        Detection parameters (the reach and the margin follow from them).
    nodata : numpy.ndarray, optional
        (H, W) bool, True where the image has no data.

    Returns
    -------
    box : (slice, slice)
        Rows and columns of the box.
    sea, glacier : numpy.ndarray
        (H, W) bool: the sea (step a) and the glacier (step b) of the whole image.

    None when the image has no sea or no glacier (the front detection over the whole image
    then says which, at no cost).

    Raises
    ------
    FrontNotFoundError
        The glacier comes nowhere near the sea: no pixel of it lies within
        :func:`contact_reach` pixels of the sea.
    """
    if nodata is not None:
        classes = np.where(nodata, 0, classes).astype(classes.dtype)
    sea = ocean_mask(classes, scheme, params, classes != 0)
    if not sea.any():
        return None
    glacier = glacier_mask(classes, scheme)
    if not glacier.any():
        return None
    reach = contact_reach(params)
    contact = glacier & dilate(sea, 2 * reach + 1)
    if not contact.any():
        raise FrontNotFoundError(f"the glacier comes nowhere near the sea (no glacier pixel "
                                 f"within {reach} pixels of it): no calving front.")
    return grown_box(contact, region_margin(params)), sea, glacier


def detect_front_in_region(classes: np.ndarray, scheme: ClassScheme,
                           params: FrontParams = FrontParams(),
                           nodata: np.ndarray | None = None,
                           region_min_pixels: int = REGION_MIN_PIXELS) -> FrontResult:
    """:func:`~seeice.fronts.detection.detect_front`, on the bounded region of a large image.

    Parameters
    ----------
    classes : numpy.ndarray
        (H, W) integer classes, 0 = unclassified (the mode-filtered CSC result).
    scheme : ClassScheme
        Gives the ocean, glacier and rock classes and the front value.
    params : FrontParams
        Detection parameters.
    nodata : numpy.ndarray, optional
        (H, W) bool, True where the image has no data.
    region_min_pixels : int
        Images of more pixels use the bounded region (module docstring); others, and images
        whose region is the whole image, the whole image.

    Returns
    -------
    FrontResult
        On the image's (H, W) grid. With a bounded region, ``glacier`` and ``ocean`` are
        False outside it and the classes outside it are the input classes (no-data 0).

    Raises
    ------
    FrontNotFoundError, ConfigError, RasterError
        As :func:`~seeice.fronts.detection.detect_front`; also when the glacier comes nowhere
        near the sea.
    """
    classes = np.asarray(classes)
    if classes.ndim != 2 or classes.size <= region_min_pixels:
        return detect_front(classes, scheme, params, nodata=nodata)
    if nodata is not None:
        nodata = np.asarray(nodata, dtype=bool)
        if nodata.shape != classes.shape:     # detect_front refuses it, naming both grids
            return detect_front(classes, scheme, params, nodata=nodata)
        # No-data is never a class: zeroed once, for the region, the box and the classes kept.
        classes = np.where(nodata, 0, classes).astype(classes.dtype)
    found = front_region(classes, scheme, params)
    if found is None:
        return detect_front(classes, scheme, params, nodata=nodata)
    box, sea, glacier = found
    rows, cols = box
    if (rows.stop - rows.start, cols.stop - cols.start) == classes.shape:
        return detect_front(classes, scheme, params, nodata=nodata, sea=sea, glacier=glacier)
    log.info("front sought in the region where the glacier meets the sea: rows %d-%d, "
             "columns %d-%d (%.1f %% of the image)", rows.start, rows.stop - 1, cols.start,
             cols.stop - 1,
             100.0 * (rows.stop - rows.start) * (cols.stop - cols.start) / classes.size)
    part = detect_front(classes[box], scheme, params,
                        nodata=None if nodata is None else nodata[box],
                        image_diagonal=math.hypot(*classes.shape), sea=sea[box],
                        glacier=glacier[box])
    del sea, glacier
    base = classes.astype(np.uint8, copy=True)

    def placed(array: np.ndarray, fill: np.ndarray | None = None) -> np.ndarray:
        out = np.zeros(classes.shape, dtype=array.dtype) if fill is None else fill
        out[box] = array
        return out

    refined = placed(part.classes_refined, base)
    return FrontResult(front=placed(part.front), classes_out=placed(part.classes_out,
                                                                    refined.copy()),
                       glacier=placed(part.glacier), ocean=placed(part.ocean),
                       classes_refined=refined, note=part.note, sea_contact=part.sea_contact)

"""Synthetic Sentinel-2 scenes of a marine-terminating glacier, with known classes and front.

Each scene is a fjord at 10 m resolution: a glacier tongue (snow on ice upstream, crevassed
glacier ice downstream) between rock valley walls with snow patches, ending at a wiggly
calving front; in front of it a belt of ice melange, then a belt of iceberg water and open
water as the fjord widens towards the ocean. The scene is written as a 4-band uint16 GeoTIFF
(R, G, B, NIR; DN = top-of-atmosphere reflectance x 10 000, range 0..16384) in EPSG:32624
with 10 m pixels, with the companions the pipeline reads (DESIGN section 3):

* ``SCLS_<stem>.tif``: uint8 classes 1..7 of the glacier scheme, every pixel labelled;
* ``EDGE_<stem>.tif``: the calving front, uint8 0/1: every glacier-ice pixel (class 4) with
  an ocean pixel (class 1, 2 or 3) among its 4 neighbours. This is a one-pixel-wide,
  8-connected line on the glacier side of the glacier/ocean boundary, spanning the fjord
  from one valley wall to the other;
* ``VM_<stem>.tif``: the valley margins, uint8 0/1: every glacier pixel (class 4 or 5) with
  a rock-class pixel (6 or 7) among its 4 neighbours.

The scenes are meant to be hard for single pixels and easy for 70 m (7 x 7 pixel) windows,
as the method assumes: neighbouring classes overlap in per-pixel brightness, and each class
has a tone and texture signature that a small window shows. Open water: smooth, dark, deep
blue, lowest NIR. Iceberg water: silty water with sub-pixel brash (pixel-scale speckle),
dense bergy bits of 1-3 px covering about a fifth of the surface, so nearly every window
holds some, and a few icebergs up to ~10 px. Melange: packed floes covering about two
thirds, with dark gaps. Glacier ice: bare blue ice with crevasse streaks (arcuate near the
front, chevrons near the margins), patches of whiter crust, debris at the margins. Snow on
ice: smooth, bright, hardly textured. Snow on rock: hill-shaded, wind-roughened, dustier
snow with rock outcrops of 1-3 px over about a fifth of it (more NIR and less blue per red
than glacier snow). Rock: dark to mid-grey, hill-shaded, textured, NIR above water. A
single fragment pixel looks like melange, a melange gap like iceberg water, a sunlit snow-on-
rock pixel like snow on ice, a crust pixel like snow; their windows differ in ice cover,
texture and mean colour. Per-scene illumination gain, smooth haze and illumination
variation, the sensor's blur and per-pixel noise are added. The class regions scale with
the image (melange and iceberg water each about a fifth of its length), so a 600-pixel
scene holds about twenty or more pure 50-pixel tiles of every class.

Geometry is drawn from the seed (the seed of a scene is the base seed plus its index): front
position, curvature and wiggle, snow line, melange and iceberg-belt widths, fjord width and
meander, and the orientation (flow direction rotated by a multiple of 90 degrees, optionally
mirrored). Large-scale geometry does not depend on the image size, so one seed gives the same
layout at 600 and 3000 pixels; textures keep their physical (pixel) scale.

Command line::

    python -m seeice.datasets.synthetic OUT_DIR --n-images 2 --size 600 --seed 0
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np
from rasterio.crs import CRS
from rasterio.transform import Affine
from scipy import ndimage as ndi
from scipy.interpolate import CubicSpline
from scipy.special import ndtri
from tqdm import tqdm

from seeice.classes import GLACIER_SCHEME
from seeice.config.runner import format_error, setup_logging
from seeice.errors import ConfigError, SeeIceError
from seeice.io.raster import write_raster

log = logging.getLogger(__name__)

EPSG = 32624
"""WGS 84 / UTM zone 24N, which covers south-east Greenland (Helheim, Kangerlussuaq)."""
PIXEL_SIZE = 10.0
"""Pixel size in metres (Sentinel-2 bands 2, 3, 4 and 8)."""
DN_SCALE = 10000.0
"""Digital number per unit reflectance (Sentinel-2 L1C/L2A quantification value)."""
DN_MAX = 16384
"""Largest digital number written."""
MIN_SIZE = 100
"""Smallest image edge in pixels; every class is present from about 200 pixels up."""
STEM_PREFIX = "S2_synthetic_s"

OPEN_WATER, ICEBERG_WATER, MELANGE, GLACIER_ICE, SNOW_ON_ICE, SNOW_ON_ROCK, ROCK = range(1, 8)
OCEAN_CLASSES = (OPEN_WATER, ICEBERG_WATER, MELANGE)
GLACIER_CLASSES = (GLACIER_ICE, SNOW_ON_ICE)
ROCK_CLASSES = (SNOW_ON_ROCK, ROCK)

# Top-of-atmosphere reflectance (R, G, B, NIR) of each surface before texture and shading.
_WATER = np.array([0.030, 0.055, 0.110, 0.010], np.float32)      # open water: deep, clear, blue
_TURBID = np.array([0.068, 0.084, 0.088, 0.038], np.float32)     # silty water among the ice
_FRAGMENT = np.array([0.64, 0.68, 0.71, 0.50], np.float32)   # floes, bits: whiter than bare ice
_GLACIER = np.array([0.60, 0.68, 0.77, 0.40], np.float32)    # bare blue ice: bluer, low NIR
_CRUST = np.array([0.71, 0.745, 0.78, 0.55], np.float32)     # weathered white ice crust
_SNOW = np.array([0.74, 0.76, 0.78, 0.60], np.float32)       # snow: brighter, high NIR
_DUSTY_SNOW = np.array([0.70, 0.68, 0.62, 0.66], np.float32)  # dusty old snow on the walls
_ROCK = np.array([0.125, 0.115, 0.100, 0.195], np.float32)   # rock: dark, NIR above water
_DEBRIS = np.array([0.22, 0.20, 0.18, 0.26], np.float32)     # moraine debris on the ice
# Darkening of crevasse shadows, lit by blue skylight: least in the blue.
_CREVASSE_DARK = np.array([0.36, 0.33, 0.2, 0.4], np.float32)


@dataclass
class Scene:
    """A synthetic scene and its truth rasters, all on one grid.

    Attributes
    ----------
    image : numpy.ndarray
        Shape (H, W, 4), uint16: R, G, B, NIR digital numbers (reflectance x 10 000).
    classes : numpy.ndarray
        Shape (H, W), uint8: classes 1..7 of the glacier scheme, no 0.
    front : numpy.ndarray
        Shape (H, W), bool: the calving front (glacier-ice pixels 4-adjacent to ocean).
    margins : numpy.ndarray
        Shape (H, W), bool: the valley margins (glacier pixels 4-adjacent to rock classes).
    crs : rasterio.crs.CRS
        EPSG:32624.
    transform : affine.Affine
        10 m pixels, north up, origin in south-east Greenland.
    stem : str
        File stem, ``S2_synthetic_s<seed>``.
    info : dict
        The drawn geometry (seed, orientation, front position, ...), for logs and tests.
    """

    image: np.ndarray
    classes: np.ndarray
    front: np.ndarray
    margins: np.ndarray
    crs: CRS
    transform: Affine
    stem: str
    info: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- noise fields

def _noise1d(rng: np.random.Generator, n: int, n_ctrl: int) -> np.ndarray:
    """Smooth 1-D Gaussian noise of ``n`` samples through ``n_ctrl`` random control points.

    The draw count depends on ``n_ctrl`` only, so the same generator state gives the same
    curve at any ``n``. Roughly unit standard deviation, float64, shape (n,).
    """
    ctrl = rng.standard_normal(n_ctrl + 3)
    pos = np.linspace(1.0, n_ctrl + 1.0, n)
    return CubicSpline(np.arange(n_ctrl + 3), ctrl)(pos)


def _fractal1d(rng: np.random.Generator, n: int, octaves: Sequence[int],
               decay: float = 0.55) -> np.ndarray:
    """Sum of :func:`_noise1d` octaves (control counts ``octaves``), unit-ish std, shape (n,)."""
    out = np.zeros(n)
    amp, total = 1.0, 0.0
    for n_ctrl in octaves:
        out += amp * _noise1d(rng, n, n_ctrl)
        total += amp * amp
        amp *= decay
    return out / np.sqrt(total)


def _bspline_matrix(n_out: int, cell: float, n_ctrl: int) -> np.ndarray:
    """Cubic B-spline weights (n_out, n_ctrl) sampling a control grid every ``cell`` px."""
    pos = (np.arange(n_out) + 0.5) / cell + 1.5          # in control-point units
    base = np.floor(pos).astype(int)
    t = pos - base
    weights = np.stack([(1 - t) ** 3 / 6, (3 * t ** 3 - 6 * t ** 2 + 4) / 6,
                        (-3 * t ** 3 + 3 * t ** 2 + 3 * t + 1) / 6, t ** 3 / 6], axis=1)
    matrix = np.zeros((n_out, n_ctrl), np.float32)
    for k in range(4):
        np.add.at(matrix, (np.arange(n_out), np.clip(base - 1 + k, 0, n_ctrl - 1)), weights[:, k])
    return matrix


def _normalised(out: np.ndarray) -> np.ndarray:
    """Zero mean, unit std (statistics from a regular subsample), float32, in place."""
    sample = out.ravel()[:: max(1, out.size // 250_000)].astype(np.float64)
    out = out.astype(np.float32, copy=False)
    out -= np.float32(sample.mean())
    out *= np.float32(1.0 / max(float(sample.std()), 1e-6))
    return out


def _field(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Smooth 2-D Gaussian noise, zero mean, unit std, correlation length about ``cell`` px.

    Small cells: Gaussian-filtered white noise; larger cells: a coarse random grid with one
    value per ``cell`` pixels, cubic B-spline interpolated (two small matrix products).
    float32, shape ``shape``.
    """
    h, w = shape
    if cell < 8.0:
        return _normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                               cell / 2.0, truncate=3.0))
    ny, nx = int(np.ceil(h / cell)) + 4, int(np.ceil(w / cell)) + 4
    grid = rng.standard_normal((ny, nx), dtype=np.float32)
    return _normalised(_bspline_matrix(h, cell, ny) @ (grid @ _bspline_matrix(w, cell, nx).T))


def _band_pass(noise: np.ndarray, sigma: float) -> np.ndarray:
    """``noise`` minus its Gaussian blur of ``sigma`` px, renormalised (unit std, float32).

    Removing the broad component spreads fragments evenly: the share of a small window
    that a thresholded field covers varies much less than with the raw field.
    """
    return _normalised(noise - ndi.gaussian_filter(noise, sigma, truncate=3.0))


def _cells_field(rng: np.random.Generator, size: int, n_cells: int) -> np.ndarray:
    """Smooth noise with ``n_cells`` control cells across the image (size-independent draws)."""
    grid = rng.standard_normal((n_cells + 4, n_cells + 4), dtype=np.float32)
    matrix = _bspline_matrix(size, size / n_cells, n_cells + 4)
    return _normalised(matrix @ grid @ matrix.T)


def _streaks(noise: np.ndarray, dy: float, dx: float, length: int) -> np.ndarray:
    """Smear ``noise`` along the direction (dy, dx) over ``length`` px (Gaussian weights).

    Gives elongated streaks (crevasses, flow stripes) at any angle by summing shifted copies
    of the field. Unit std, float32, same shape.
    """
    norm = float(np.hypot(dy, dx))
    dy, dx = dy / norm, dx / norm
    out = np.zeros_like(noise)
    half = max(1, length // 2)
    sigma = half / 2.0
    for k in range(-half, half + 1):
        weight = np.float32(np.exp(-0.5 * (k / sigma) ** 2))
        out += weight * np.roll(noise, (int(round(k * dy)), int(round(k * dx))), axis=(0, 1))
    return _normalised(out)


def _smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def _touching(mask: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a pixel of ``other`` among their 4 neighbours, shape (H, W) bool."""
    near = np.zeros_like(other)
    near[1:, :] |= other[:-1, :]
    near[:-1, :] |= other[1:, :]
    near[:, 1:] |= other[:, :-1]
    near[:, :-1] |= other[:, 1:]
    return mask & near


# --------------------------------------------------------------------------- geometry

@dataclass
class _Layout:
    """Boundaries of the canonical scene (flow along +x, rows y), in pixels."""

    top: np.ndarray      # (W,) fjord's upper edge per column: rows < top are valley wall
    bottom: np.ndarray   # (W,) fjord's lower edge per column: rows > bottom are valley wall
    front: np.ndarray    # (H,) calving-front column per row
    snow: np.ndarray     # (H,) snow-line column per row
    melange: np.ndarray  # (H,) outer edge of the melange per row
    bergs: np.ndarray    # (H,) outer edge of the iceberg water per row
    info: dict


def _draw_layout(rng: np.random.Generator, fine: np.random.Generator, size: int) -> _Layout:
    """Draw the large-scale geometry (size-independent) plus pixel-scale roughness."""
    u = (np.arange(size) + 0.5) / size
    # Fjord: meandering centre line, widening towards the ocean (+x).
    centre = 0.5 + rng.uniform(-0.04, 0.04) + 0.035 * _fractal1d(rng, size, (2, 4))
    w_in, w_out = rng.uniform(0.22, 0.27), rng.uniform(0.35, 0.44)
    half = w_in + (w_out - w_in) * _smoothstep(u, 0.25, 1.0)
    rough_top = 0.022 * _fractal1d(rng, size, (6, 12, 24, 48))
    rough_bot = 0.022 * _fractal1d(rng, size, (6, 12, 24, 48))
    jag = max(4, size // 5)
    top = size * (centre - half + rough_top) + 1.0 * _noise1d(fine, size, jag)
    bottom = size * (centre + half + rough_bot) + 1.0 * _noise1d(fine, size, jag)

    # Calving front: position, curvature (positive: bulging seawards), tilt and wiggle.
    f0 = rng.uniform(0.39, 0.46)
    curvature = rng.uniform(-0.04, 0.05)
    tilt = rng.uniform(-0.04, 0.04)
    i0 = int(np.clip(f0 * size, 0, size - 1))
    yc, wf = centre[i0], half[i0]
    s = np.clip((u - yc) / wf, -1.3, 1.3)
    wiggle = 0.016 * _fractal1d(rng, size, (5, 10, 20, 40))
    front = size * (f0 + curvature * (1.0 - s * s) + tilt * s + wiggle) \
        + 1.5 * _noise1d(fine, size, max(4, size // 4))

    # Snow line upstream, at least a fifth of the image behind the front.
    s0 = rng.uniform(0.20, 0.25)
    snow = size * (s0 + 0.03 * (1.0 - s * s) * rng.uniform(-1, 1)
                   + 0.015 * _fractal1d(rng, size, (4, 8, 16)))
    snow = np.minimum(snow, front - 0.18 * size)

    # Melange belt and iceberg water in front of the glacier; open water beyond. Each belt
    # is about a fifth of the image deep, so that it holds many pure 50-pixel tiles.
    mel_w = rng.uniform(0.17, 0.21)
    melange = front + size * mel_w * (1.0 + 0.12 * _fractal1d(rng, size, (4, 8, 16))) \
        + 1.0 * _noise1d(fine, size, max(4, size // 6))
    melange = np.maximum(melange, front + 0.1 * size)
    berg_w = rng.uniform(0.17, 0.21)
    bergs = melange + size * berg_w * (1.0 + 0.12 * _fractal1d(rng, size, (3, 6, 12))) \
        + 1.0 * _noise1d(fine, size, max(4, size // 6))
    bergs = np.minimum(bergs, 0.88 * size + 0.02 * size * _fractal1d(rng, size, (4, 8)))
    bergs = np.maximum(bergs, melange + 0.1 * size)

    info = {"front_position": float(f0), "front_curvature": float(curvature),
            "front_tilt": float(tilt), "fjord_half_width_in": float(w_in),
            "fjord_half_width_out": float(w_out), "snow_line": float(s0),
            "melange_width": float(mel_w), "iceberg_belt_width": float(berg_w)}
    return _Layout(top=top, bottom=bottom, front=front, snow=snow, melange=melange,
                   bergs=bergs, info=info)


def _classify(layout: _Layout, rng: np.random.Generator, fine: np.random.Generator,
              size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Class raster of the canonical scene, plus wall height (px) and distance to the walls.

    Returns
    -------
    classes : (H, W) uint8
    wall_height : (H, W) float32, distance above the fjord edge in the walls (0 in the fjord)
    edge_dist : (H, W) float32, distance below the fjord edge inside the fjord (0 in walls)
    """
    rows = np.arange(size, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(size, dtype=np.float32)[None, :] + 0.5
    above = layout.top[None, :].astype(np.float32) - rows     # > 0 in the upper wall
    below = rows - layout.bottom[None, :].astype(np.float32)  # > 0 in the lower wall
    wall_height = np.maximum(np.maximum(above, below), 0.0)
    fjord = wall_height <= 0.0
    edge_dist = np.where(fjord, np.minimum(-above, -below), 0.0).astype(np.float32)
    del above, below

    front = layout.front[:, None].astype(np.float32)
    classes = np.full((size, size), ROCK, np.uint8)
    glacier = fjord & (cols < front)
    ocean = fjord & ~glacier
    # Snow line: a patchy boundary (2-D perturbation) around the drawn line.
    snowline = layout.snow[:, None].astype(np.float32) + 5.0 * _field(fine, (size, size), 9.0)
    classes[glacier] = GLACIER_ICE
    classes[glacier & (cols < snowline)] = SNOW_ON_ICE
    del snowline
    classes[ocean] = OPEN_WATER
    classes[ocean & (cols < layout.bergs[:, None])] = ICEBERG_WATER
    classes[ocean & (cols < layout.melange[:, None])] = MELANGE
    # Where a rough valley wall cuts a sliver of ocean or glacier ice off the main body at
    # the front's ends, the sliver becomes part of the wall, so the front is one line.
    for group, other in ((OCEAN_CLASSES, (GLACIER_ICE,)), ((GLACIER_ICE,), OCEAN_CLASSES)):
        labels, n = ndi.label(np.isin(classes, group))
        if n > 1:
            sizes = np.bincount(labels.ravel())
            sizes[0] = 0
            other_mask = np.isin(classes, other)
            at_front = np.zeros(n + 1, bool)
            at_front[labels[_touching(np.ones_like(other_mask), other_mask)]] = True
            cut = (sizes < 0.001 * size * size) & (np.arange(n + 1) != sizes.argmax()) & at_front
            cut[0] = False
            classes[cut[labels]] = ROCK
        del labels

    # Snow patches on the valley walls: more snow higher up, a drawn share of the walls.
    walls = ~fjord
    score = _cells_field(rng, size, 5) + 0.35 * _cells_field(rng, size, 12) \
        + 0.12 * _field(fine, (size, size), 6.0) + wall_height * (2.2 / size)
    share = rng.uniform(0.38, 0.48)
    wall_scores = score[walls]
    if wall_scores.size:
        sample = wall_scores[:: max(1, wall_scores.size // 200_000)]
        threshold = np.quantile(sample, 1.0 - share)
        classes[walls & (score > threshold)] = SNOW_ON_ROCK
    layout.info["snow_on_rock_share"] = float(share)
    return classes, wall_height, edge_dist


# --------------------------------------------------------------------------- radiometry

def _ocean_ice(rng: np.random.Generator, classes: np.ndarray,
               size: int) -> tuple[np.ndarray, np.ndarray]:
    """Ice in the ocean: packed fragments in the melange, dense brash and bergy bits plus a
    few larger icebergs in the iceberg water, none in the open water.

    Fragments are the parts of a fine random field above a threshold set by the local ice
    cover: about 55-75 % in the melange (fragments of 2-5 px, as packed floes), about 15-30 %
    in the iceberg water (bits of 1-3 px, so nearly every 70 m window holds some). Larger
    icebergs (5-12 px across) cover a few per cent of the iceberg water.

    Returns the ice cover (H, W) float32 in 0..1 (soft sub-pixel edges) and a brightness
    factor (H, W) float32 (about 0.75..1.15).
    """
    shape = (size, size)
    melange = ndi.gaussian_filter((classes == MELANGE).astype(np.float32), 0.7)
    bergy = ndi.gaussian_filter((classes == ICEBERG_WATER).astype(np.float32), 0.7)
    # Local ice cover: smooth variation within each class's range.
    cover = melange * (0.68 + 0.04 * _field(rng, shape, 25.0)) \
        + bergy * (0.20 + 0.025 * _field(rng, shape, 25.0))
    # Fragment field: coarser (packed floes) in the melange, fine bits in the iceberg water.
    floes = _band_pass(0.6 * _field(rng, shape, 2.2) + 0.5 * _field(rng, shape, 1.2), 3.0)
    bits = _band_pass(_field(rng, shape, 1.3), 2.0)
    frag = melange * floes + (1.0 - melange) * bits
    del floes, bits
    threshold = ndtri(np.clip(1.0 - cover, 1e-4, 1.0 - 1e-4)).astype(np.float32)
    ice = np.clip(2.2 * (frag - threshold) + 0.5, 0.0, 1.0)
    ice *= np.clip(melange + bergy, 0.0, 1.0)
    del frag, threshold, cover, melange

    # A few larger icebergs in the iceberg water.
    centres = (rng.random(shape, dtype=np.float32) < 0.00015) & (classes == ICEBERG_WATER)
    n = int(centres.sum())
    if n:
        cy, cx = np.nonzero(centres)
        rad_map = np.zeros(shape, np.float32)
        rad_map[cy, cx] = (2.0 + 2.5 * rng.random(n) ** 1.5).astype(np.float32)
        dist, (iy, ix) = ndi.distance_transform_edt(~centres, return_indices=True)
        reach = rad_map[iy, ix] * (1.0 + 0.25 * _field(rng, shape, 2.0)) - dist.astype(np.float32)
        del dist, iy, ix, rad_map
        ice = np.maximum(ice, np.clip(reach + 0.5, 0.0, 1.0) * bergy)
        del reach
    del centres, bergy
    bright = np.clip(0.95 + 0.1 * _field(rng, shape, 2.0), 0.75, 1.15)
    return ice.astype(np.float32), bright.astype(np.float32)


def _hillshade(height: np.ndarray, azimuth: float, altitude: float) -> np.ndarray:
    """Lambertian shading of a height field (px units) relative to flat ground, float32."""
    gy, gx = np.gradient(height)
    sy, sx = -np.cos(azimuth), np.sin(azimuth)  # sun direction in image (row, col) terms
    cos_alt, sin_alt = np.cos(altitude), np.sin(altitude)
    shade = (sin_alt - cos_alt * (gx * sx + gy * sy)) / np.sqrt(1.0 + gx * gx + gy * gy)
    shade = np.maximum(shade, 0.0) / sin_alt
    return (0.25 + 0.75 * shade).astype(np.float32)


def _render(classes: np.ndarray, wall_height: np.ndarray, edge_dist: np.ndarray,
            layout: _Layout, rng: np.random.Generator, size: int) -> np.ndarray:
    """Digital numbers of the canonical scene, shape (H, W, 4) uint16 (R, G, B, NIR).

    Each class's reflectance is computed on that class's pixels only (flat index arrays),
    which keeps time and memory proportional to one image; then illumination, haze, the
    sensor's blur and noise are applied band by band.
    """
    shape = (size, size)
    n_pix = size * size
    flat = classes.ravel()
    refl = np.empty((4, n_pix), np.float32)
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    altitude = np.radians(rng.uniform(28.0, 45.0))
    layout.info["sun_azimuth_deg"] = float(np.degrees(azimuth))
    layout.info["sun_altitude_deg"] = float(np.degrees(altitude))
    speck = _field(rng, shape, 1.5).ravel()            # outcrops, gullies, surface grain
    snow_mottle = (0.7 * _field(rng, shape, max(8.0, size / 8))
                   + 0.3 * _field(rng, shape, 4.0)).ravel()
    lith = (0.6 * _field(rng, shape, 3.0) + 0.4 * _field(rng, shape, 20.0)).ravel()

    # ---- Ocean. Open water: smooth, dark, lowest NIR, broad plumes only. Iceberg water:
    # turbid water with sub-pixel brash (pixel-scale speckle), dense bergy bits and a few
    # icebergs. Melange: packed fragments with slushy gaps. Ice casts short shadows.
    idx = np.flatnonzero(flat <= MELANGE)
    ice, berg_bright = _ocean_ice(rng, classes, size)
    sh = (int(round(2 * np.cos(azimuth))), int(round(-2 * np.sin(azimuth))))
    shadow = np.clip(np.roll(ice, sh, axis=(0, 1)) - ice, 0.0, 1.0).ravel()[idx]
    ice, berg_bright = ice.ravel()[idx], berg_bright.ravel()[idx]
    ocean_cls = flat[idx]
    plume = _field(rng, shape, max(8.0, size / 5)).ravel()[idx]
    slush = np.clip(0.5 + 0.5 * _field(rng, shape, 6.0).ravel()[idx], 0.0, 1.0)
    slush *= ocean_cls == MELANGE
    brash = 0.05 * np.clip(rng.standard_normal(idx.size, dtype=np.float32), 0.0, None)
    brash *= ocean_cls == ICEBERG_WATER
    turbid = (ocean_cls != OPEN_WATER).astype(np.float32)
    tex = 1.0 + 0.06 * speck[idx]
    for b in range(4):
        contrast = _FRAGMENT[b] - _WATER[b]
        base = _WATER[b] + (_TURBID[b] - _WATER[b]) * turbid
        water = base * (1.0 + 0.04 * plume) + (0.1 * contrast) * slush + contrast * brash
        water *= 1.0 - 0.45 * shadow
        refl[b, idx] = water * (1.0 - ice) + (_FRAGMENT[b] * berg_bright * tex) * ice
    del ice, berg_bright, shadow, plume, slush, brash, turbid, tex, water, base, ocean_cls

    # ---- Glacier ice: arcuate transverse crevasses near the front, chevrons near the
    # margins (shadows bluer than the ice), flow-parallel foliation, moraine debris.
    idx = np.flatnonzero(flat == GLACIER_ICE)
    rows = np.arange(size, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(size, dtype=np.float32)[None, :] + 0.5
    trans = _normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                            (3.5, 0.6)))
    i_front = int(np.clip(np.median(layout.front), 0, size - 1))
    yc = 0.5 * (layout.top[i_front] + layout.bottom[i_front])
    bow = np.round(0.4 * (np.arange(size) - yc) ** 2 / size).astype(np.int32)
    shift = (np.arange(size, dtype=np.int32)[None, :] + bow[:, None]) % size
    trans = np.take_along_axis(trans, shift, axis=1).ravel()[idx]
    del shift
    chevron = _streaks(rng.standard_normal(shape, dtype=np.float32), 1.0, -0.9, 12)
    upper = (rows < 0.5 * (layout.top + layout.bottom)[None, :]).ravel()[idx]
    chevron = np.where(upper, chevron.ravel()[idx], chevron[::-1].ravel()[idx])
    del upper
    foliation = _normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                                (0.6, 6.0))).ravel()[idx]
    to_front = (layout.front[:, None].astype(np.float32) - cols).ravel()[idx]
    dist_wall = edge_dist.ravel()[idx]
    front_w = 0.55 + 0.45 * (1.0 - _smoothstep(to_front, 0.0, 0.28 * size))
    margin_w = 1.0 - _smoothstep(dist_wall, 0.0, 0.07 * size)
    crev = np.maximum(front_w * np.clip((trans - 1.1) / 0.9, 0.0, 1.0),
                      margin_w * np.clip((chevron - 1.2) / 0.9, 0.0, 1.0))
    del trans, chevron, front_w, margin_w, to_front
    debris = 0.6 * np.exp(-dist_wall / 3.0)
    if rng.random() < 0.7:  # a medial moraine along the flow
        centre = 0.5 * (layout.top + layout.bottom)[0] + rng.uniform(-0.08, 0.08) * size
        line = (centre + 0.02 * size * _fractal1d(rng, size, (3, 6))).astype(np.float32)
        moraine = 0.3 * np.exp(-0.5 * ((rows - line[None, :]) / 2.0) ** 2)
        debris = np.maximum(debris, moraine.ravel()[idx])
        del moraine
    grain = 1.0 + 0.05 * foliation + 0.03 * speck[idx]
    lith_g = 1.0 + 0.2 * lith[idx]
    wet = _field(rng, shape, 12.0).ravel()[idx]    # wetness and grain: mostly in the NIR
    wet_gain = (0.03, 0.02, 0.0, 0.09)
    # Patches of weathered crust, whiter and almost snow-like in colour.
    crust = np.clip(0.3 + 0.25 * _field(rng, shape, 18.0).ravel()[idx]
                    + 0.3 * _field(rng, shape, 1.2).ravel()[idx], 0.0, 1.0)
    for b in range(4):
        dark = _CREVASSE_DARK[b]
        colour = _GLACIER[b] + (_CRUST[b] - _GLACIER[b]) * crust
        ice_r = colour * grain * (1.0 + wet_gain[b] * wet) * (1.0 - dark * crev)
        refl[b, idx] = ice_r * (1.0 - debris) + _DEBRIS[b] * lith_g * debris
    del crev, debris, grain, lith_g, foliation, dist_wall, ice_r, wet, crust, colour

    # ---- Snow on ice: smooth, gently mottled.
    idx = np.flatnonzero(flat == SNOW_ON_ICE)
    mottle = 1.0 + 0.03 * snow_mottle[idx] + 0.004 * speck[idx]
    grain = 0.03 * _field(rng, shape, 30.0).ravel()[idx]   # snow grain size, NIR only
    for b in range(4):
        refl[b, idx] = _SNOW[b] * mottle * (1.0 + grain) if b == 3 else _SNOW[b] * mottle
    del mottle, grain

    # ---- Valley walls: hill-shaded terrain rising away from the fjord.
    relief = (5.0 * _field(rng, shape, 40.0) + 2.5 * _field(rng, shape, 14.0)
              + 1.2 * _field(rng, shape, 5.0) + 0.5 * _field(rng, shape, 2.0))
    relief *= np.minimum(wall_height / 6.0, 1.0)
    relief += 0.25 * wall_height
    shade = _hillshade(relief, azimuth, altitude).ravel()
    del relief
    # Rock: shading and lithology; snow in gullies.
    idx = np.flatnonzero(flat == ROCK)
    shade_r, lith_r, gully = shade[idx], 1.0 + 0.28 * lith[idx], speck[idx] > 2.2
    for b in range(4):
        refl[b, idx] = np.where(gully, 0.6 * _SNOW[b] * shade_r, _ROCK[b] * shade_r * lith_r)
    # Snow on rock: shading, wind-roughened snow with dust in pixel-scale patches (some
    # pixels as clean as glacier snow, dustier on average: less blue, more NIR per red) and
    # rock outcrops of 1-3 px over about a fifth of the area.
    idx = np.flatnonzero(flat == SNOW_ON_ROCK)
    shade_s, lith_s = shade[idx], 1.0 + 0.28 * lith[idx]
    outcrop = np.clip(2.0 * (-0.8 - speck[idx]) + 0.5, 0.0, 1.0)
    rough = 0.97 * (1.0 + 0.02 * snow_mottle[idx]) \
        * (1.0 + 0.1 * _field(rng, shape, 1.6).ravel()[idx])
    dust = np.clip(0.5 + 0.6 * _field(rng, shape, 1.3).ravel()[idx], 0.0, 1.0)
    for b in range(4):
        snow = (_SNOW[b] + (_DUSTY_SNOW[b] - _SNOW[b]) * dust) * shade_s * rough
        refl[b, idx] = snow * (1.0 - outcrop) + _ROCK[b] * shade_s * lith_s * outcrop
    del shade, shade_r, shade_s, lith_r, lith_s, gully, outcrop, rough, snow
    del speck, snow_mottle, lith, idx

    # ---- Scene-wide: illumination gain and smooth variation, haze, sensor blur and noise.
    gain = rng.uniform(0.96, 1.04)
    layout.info["gain"] = float(gain)
    illum = (gain * (1.0 + 0.03 * _field(rng, shape, max(8.0, size / 2)))).astype(np.float32)
    haze = np.clip(_field(rng, shape, max(8.0, size / 3)), 0.0, None) * rng.uniform(0.0, 0.02)
    haze_colour = (0.6, 0.8, 1.0, 0.35)
    image = np.empty((size, size, 4), np.uint16)
    for b in range(4):
        band = refl[b].reshape(shape)
        band *= illum
        band += np.float32(haze_colour[b]) * haze
        band = ndi.gaussian_filter(band, 0.55)   # sensor blur
        noise = rng.standard_normal(shape, dtype=np.float32)
        band += noise * (0.003 + 0.008 * band)   # noise floor plus a signal-dependent part
        band *= DN_SCALE
        np.rint(band, out=band)
        np.clip(band, 0, DN_MAX, out=band)
        image[..., b] = band
    return image


# --------------------------------------------------------------------------- public API

def _check_size(size) -> int:
    if isinstance(size, bool) or not isinstance(size, (int, np.integer)) or size < MIN_SIZE:
        raise ConfigError(f"size must be a whole number of pixels >= {MIN_SIZE}, got {size!r}. "
                          "Use --size 600 (or more; every class is present from about 200).")
    return int(size)


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ConfigError(f"seed must be a whole number >= 0, got {seed!r}. Use --seed 0.")
    return int(seed)


def scene_stem(seed: int) -> str:
    """File stem of the scene drawn with ``seed``: ``S2_synthetic_s<seed>``."""
    return f"{STEM_PREFIX}{seed}"


def make_scene(seed: int, size: int = 600) -> Scene:
    """Draw one synthetic scene.

    Parameters
    ----------
    seed : int
        Seed (>= 0) of every random step; the same seed and size give identical arrays.
    size : int
        Image edge in pixels (>= 100); the scene is ``size`` x ``size`` at 10 m.

    Returns
    -------
    Scene
        Image (size, size, 4) uint16 and classes, front and margins (size, size).

    Raises
    ------
    ConfigError
        ``seed`` or ``size`` out of range.
    """
    seed = _check_seed(seed)
    size = _check_size(size)
    geom_ss, fine_ss, tex_ss = np.random.SeedSequence(seed).spawn(3)
    rng = np.random.default_rng(geom_ss)    # size-independent geometry
    fine = np.random.default_rng(fine_ss)   # pixel-scale roughness of the boundaries
    tex = np.random.default_rng(tex_ss)     # textures and noise

    rot = int(rng.integers(4))
    mirror = bool(rng.integers(2))
    layout = _draw_layout(rng, fine, size)
    classes, wall_height, edge_dist = _classify(layout, rng, fine, size)
    image = _render(classes, wall_height, edge_dist, layout, tex, size)
    del wall_height, edge_dist

    front = _touching(classes == GLACIER_ICE, np.isin(classes, OCEAN_CLASSES))
    margins = _touching(np.isin(classes, GLACIER_CLASSES), np.isin(classes, ROCK_CLASSES))

    def orient(a: np.ndarray) -> np.ndarray:
        a = np.rot90(a, rot, axes=(0, 1))
        return np.ascontiguousarray(a[:, ::-1] if mirror else a)

    # A plausible origin in UTM 24N over south-east Greenland, on the 10 m grid.
    x0 = 10.0 * round(rng.uniform(440_000, 580_000) / 10.0)
    y0 = 10.0 * round(rng.uniform(7_250_000, 7_500_000) / 10.0)
    transform = Affine(PIXEL_SIZE, 0.0, x0, 0.0, -PIXEL_SIZE, y0)
    info = {"seed": seed, "size": size, "rotation_deg": 90 * rot, "mirrored": mirror,
            **layout.info}
    return Scene(image=orient(image), classes=orient(classes), front=orient(front),
                 margins=orient(margins), crs=CRS.from_epsg(EPSG), transform=transform,
                 stem=scene_stem(seed), info=info)


def write_scene(scene: Scene, out_dir: str | os.PathLike) -> Path:
    """Write a scene's image and its ``SCLS_``, ``EDGE_`` and ``VM_`` companions, atomically.

    Files: ``<stem>.tif`` (4-band uint16), ``SCLS_<stem>.tif`` (uint8 classes, with the
    glacier palette as a colour table), ``EDGE_<stem>.tif`` and ``VM_<stem>.tif`` (uint8
    0/1), all with the scene's CRS and transform. Existing files are replaced.

    Returns
    -------
    pathlib.Path
        The image's path.
    """
    out_dir = Path(out_dir)
    palette = GLACIER_SCHEME.palette_rgb()
    colormap = {i: (*map(int, rgb), 255) for i, rgb in enumerate(palette)}
    geo = {"crs": scene.crs, "transform": scene.transform}
    write_raster(out_dir / f"SCLS_{scene.stem}.tif", scene.classes, colormap=colormap, **geo)
    write_raster(out_dir / f"EDGE_{scene.stem}.tif", scene.front.astype(np.uint8), **geo)
    write_raster(out_dir / f"VM_{scene.stem}.tif", scene.margins.astype(np.uint8), **geo)
    image_path = out_dir / f"{scene.stem}.tif"
    # Noisy 16-bit data barely compress; DEFLATE keeps the write fast for 3000 px scenes.
    write_raster(image_path, scene.image, compress="deflate", **geo)
    return image_path


def generate_scenes(out_dir: str | os.PathLike, n_images: int = 2, size: int = 600,
                    seed: int = 0) -> list[Path]:
    """Draw and write ``n_images`` scenes with seeds ``seed``, ``seed + 1``, ...

    Parameters
    ----------
    out_dir : path-like
        Output folder (created when missing). Existing scenes of the same stems are replaced.
    n_images : int
        Number of scenes (>= 1).
    size : int
        Image edge in pixels (>= 100).
    seed : int
        Base seed (>= 0).

    Returns
    -------
    list of pathlib.Path
        The image paths, in seed order.
    """
    if isinstance(n_images, bool) or not isinstance(n_images, (int, np.integer)) or n_images < 1:
        raise ConfigError(f"n_images must be a whole number >= 1, got {n_images!r}. "
                          "Use --n-images 2.")
    seed = _check_seed(seed)
    size = _check_size(size)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ConfigError(f"output folder {out_dir} is a file. Give a folder path.")
    paths = []
    for i in tqdm(range(n_images), desc="synthetic scenes", unit="scene", disable=None):
        scene = make_scene(seed + i, size)
        path = write_scene(scene, out_dir)
        log.info("wrote %s (%d x %d px, flow rotated %d deg%s, front at %.0f %% of the length)",
                 path, size, size, scene.info["rotation_deg"],
                 ", mirrored" if scene.info["mirrored"] else "",
                 100 * scene.info["front_position"])
        paths.append(path)
    return paths


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m seeice.datasets.synthetic OUT_DIR [--n-images N] [--size PX] [--seed S]``.

    Returns 0 on success and 2 on a user error (message, no traceback).
    """
    parser = argparse.ArgumentParser(
        prog="python -m seeice.datasets.synthetic",
        description="Write synthetic Sentinel-2 glacier scenes (4-band uint16 GeoTIFFs, "
                    "EPSG:32624, 10 m) with SCLS_ class, EDGE_ calving-front and VM_ valley-"
                    "margin rasters, for tests, demos and benchmarks.")
    parser.add_argument("out_dir", metavar="OUT_DIR", help="output folder")
    parser.add_argument("--n-images", type=int, default=2, help="number of scenes [2]")
    parser.add_argument("--size", type=int, default=600, help="image edge in pixels [600]")
    parser.add_argument("--seed", type=int, default=0,
                        help="base seed; scene i uses seed + i [0]")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        generate_scenes(args.out_dir, n_images=args.n_images, size=args.size, seed=args.seed)
    except SeeIceError as exc:
        log.error("%s", format_error(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

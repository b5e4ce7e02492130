"""Rendering of a synthetic class map as Sentinel-2 digital numbers: the classes, per-class reflectance,
texture, illumination, blur and noise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage as ndi
from scipy.special import ndtri

from seeice.datasets.noise import (
    band_pass,
    fractal1d,
    hillshade,
    noise_field,
    normalised,
    smoothstep,
    streaks,
)
from seeice.errors import ConfigError

DN_SCALE = 10000.0
DN_MAX = 16384
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

_SURFACES = {"WATER": _WATER, "TURBID": _TURBID, "FRAGMENT": _FRAGMENT, "GLACIER": _GLACIER,
             "CRUST": _CRUST, "SNOW": _SNOW, "DUSTY_SNOW": _DUSTY_SNOW, "ROCK": _ROCK,
             "DEBRIS": _DEBRIS, "CREVASSE_DARK": _CREVASSE_DARK}


def palette(variety: float = 0.0, rng: np.random.Generator | None = None) -> dict[str, np.ndarray]:
    """Surface reflectances (R, G, B, NIR), each scaled per band by ``1 +/- 0.12 * variety``.

    Parameters
    ----------
    variety : float
        0 (the default style: the constants above, unchanged) to 1 (widest variation).
    rng : numpy.random.Generator
        Source of the scaling factors; needed when ``variety`` > 0.

    Returns
    -------
    dict
        Surface name -> float32 array of shape (4,).
    """
    if not 0.0 <= variety <= 1.0:
        raise ConfigError(f"texture variety must lie in [0, 1], got {variety!r}.")
    if not variety:
        return dict(_SURFACES)
    return {name: (colour * (1.0 + 0.12 * variety * rng.uniform(-1.0, 1.0, 4))).astype(np.float32)
            for name, colour in _SURFACES.items()}


@dataclass
class Layout:
    """Boundaries of the canonical scene (flow along +x, rows y), in pixels."""

    top: np.ndarray      # (W,) fjord's upper edge per column: rows < top are valley wall
    bottom: np.ndarray   # (W,) fjord's lower edge per column: rows > bottom are valley wall
    front: np.ndarray    # (H,) calving-front column per row
    snow: np.ndarray     # (H,) snow-line column per row
    melange: np.ndarray  # (H,) outer edge of the melange per row
    bergs: np.ndarray    # (H,) outer edge of the iceberg water per row
    info: dict


def _ocean_ice(rng: np.random.Generator, classes: np.ndarray, size: int,
               cover_shift: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
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
    cover = melange * (0.68 + cover_shift + 0.04 * noise_field(rng, shape, 25.0)) \
        + bergy * (0.20 + 0.4 * cover_shift + 0.025 * noise_field(rng, shape, 25.0))
    # Fragment field: coarser (packed floes) in the melange, fine bits in the iceberg water.
    floes = band_pass(0.6 * noise_field(rng, shape, 2.2) + 0.5 * noise_field(rng, shape, 1.2), 3.0)
    bits = band_pass(noise_field(rng, shape, 1.3), 2.0)
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
        reach = rad_map[iy, ix] * (1.0 + 0.25 * noise_field(rng, shape, 2.0)) - dist.astype(np.float32)
        del dist, iy, ix, rad_map
        ice = np.maximum(ice, np.clip(reach + 0.5, 0.0, 1.0) * bergy)
        del reach
    del centres, bergy
    bright = np.clip(0.95 + 0.1 * noise_field(rng, shape, 2.0), 0.75, 1.15)
    return ice.astype(np.float32), bright.astype(np.float32)


def render(classes: np.ndarray, wall_height: np.ndarray, edge_dist: np.ndarray,
           layout: Layout, rng: np.random.Generator, size: int, variety: float = 0.0,
           variety_rng: np.random.Generator | None = None) -> np.ndarray:
    """Digital numbers of the canonical scene, shape (H, W, 4) uint16 (R, G, B, NIR).

    Each class's reflectance is computed on that class's pixels only (flat index arrays),
    which keeps time and memory proportional to one image; then illumination, haze, the
    sensor's blur and noise are applied band by band.

    ``variety`` (0..1) makes scenes differ from one another beyond their geometry: every
    surface colour is scaled per band by a factor in ``1 +/- 0.12 * variety``, the ice cover
    of the melange and iceberg water and the scene gain vary more widely. The extra draws come
    from ``variety_rng``, so ``variety = 0`` gives exactly the scenes of the default style.
    """
    pal = palette(variety, variety_rng)
    cover_shift = 0.0 if not variety else float(variety_rng.uniform(-0.12, 0.08)) * variety
    layout.info["texture_variety"] = float(variety)
    shape = (size, size)
    n_pix = size * size
    flat = classes.ravel()
    refl = np.empty((4, n_pix), np.float32)
    azimuth = rng.uniform(0.0, 2.0 * np.pi)
    altitude = np.radians(rng.uniform(28.0, 45.0))
    layout.info["sun_azimuth_deg"] = float(np.degrees(azimuth))
    layout.info["sun_altitude_deg"] = float(np.degrees(altitude))
    speck = noise_field(rng, shape, 1.5).ravel()            # outcrops, gullies, surface grain
    snow_mottle = (0.7 * noise_field(rng, shape, max(8.0, size / 8))
                   + 0.3 * noise_field(rng, shape, 4.0)).ravel()
    lith = (0.6 * noise_field(rng, shape, 3.0) + 0.4 * noise_field(rng, shape, 20.0)).ravel()

    # ---- Ocean. Open water: smooth, dark, lowest NIR, broad plumes only. Iceberg water:
    # turbid water with sub-pixel brash (pixel-scale speckle), dense bergy bits and a few
    # icebergs. Melange: packed fragments with slushy gaps. Ice casts short shadows.
    idx = np.flatnonzero(flat <= MELANGE)
    ice, berg_bright = _ocean_ice(rng, classes, size, cover_shift)
    sh = (int(round(2 * np.cos(azimuth))), int(round(-2 * np.sin(azimuth))))
    shadow = np.clip(np.roll(ice, sh, axis=(0, 1)) - ice, 0.0, 1.0).ravel()[idx]
    ice, berg_bright = ice.ravel()[idx], berg_bright.ravel()[idx]
    ocean_cls = flat[idx]
    plume = noise_field(rng, shape, max(8.0, size / 5)).ravel()[idx]
    slush = np.clip(0.5 + 0.5 * noise_field(rng, shape, 6.0).ravel()[idx], 0.0, 1.0)
    slush *= ocean_cls == MELANGE
    brash = 0.05 * np.clip(rng.standard_normal(idx.size, dtype=np.float32), 0.0, None)
    brash *= ocean_cls == ICEBERG_WATER
    turbid = (ocean_cls != OPEN_WATER).astype(np.float32)
    tex = 1.0 + 0.06 * speck[idx]
    for b in range(4):
        contrast = pal["FRAGMENT"][b] - pal["WATER"][b]
        base = pal["WATER"][b] + (pal["TURBID"][b] - pal["WATER"][b]) * turbid
        water = base * (1.0 + 0.04 * plume) + (0.1 * contrast) * slush + contrast * brash
        water *= 1.0 - 0.45 * shadow
        refl[b, idx] = water * (1.0 - ice) + (pal["FRAGMENT"][b] * berg_bright * tex) * ice
    del ice, berg_bright, shadow, plume, slush, brash, turbid, tex, water, base, ocean_cls

    # ---- Glacier ice: arcuate transverse crevasses near the front, chevrons near the
    # margins (shadows bluer than the ice), flow-parallel foliation, moraine debris.
    idx = np.flatnonzero(flat == GLACIER_ICE)
    rows = np.arange(size, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(size, dtype=np.float32)[None, :] + 0.5
    trans = normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                            (3.5, 0.6)))
    i_front = int(np.clip(np.median(layout.front), 0, size - 1))
    yc = 0.5 * (layout.top[i_front] + layout.bottom[i_front])
    bow = np.round(0.4 * (np.arange(size) - yc) ** 2 / size).astype(np.int32)
    shift = (np.arange(size, dtype=np.int32)[None, :] + bow[:, None]) % size
    trans = np.take_along_axis(trans, shift, axis=1).ravel()[idx]
    del shift
    chevron = streaks(rng.standard_normal(shape, dtype=np.float32), 1.0, -0.9, 12)
    upper = (rows < 0.5 * (layout.top + layout.bottom)[None, :]).ravel()[idx]
    chevron = np.where(upper, chevron.ravel()[idx], chevron[::-1].ravel()[idx])
    del upper
    foliation = normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                                (0.6, 6.0))).ravel()[idx]
    to_front = (layout.front[:, None].astype(np.float32) - cols).ravel()[idx]
    dist_wall = edge_dist.ravel()[idx]
    front_w = 0.55 + 0.45 * (1.0 - smoothstep(to_front, 0.0, 0.28 * size))
    margin_w = 1.0 - smoothstep(dist_wall, 0.0, 0.07 * size)
    crev = np.maximum(front_w * np.clip((trans - 1.1) / 0.9, 0.0, 1.0),
                      margin_w * np.clip((chevron - 1.2) / 0.9, 0.0, 1.0))
    del trans, chevron, front_w, margin_w, to_front
    debris = 0.6 * np.exp(-dist_wall / 3.0)
    if rng.random() < 0.7:  # a medial moraine along the flow
        centre = 0.5 * (layout.top + layout.bottom)[0] + rng.uniform(-0.08, 0.08) * size
        line = (centre + 0.02 * size * fractal1d(rng, size, (3, 6))).astype(np.float32)
        moraine = 0.3 * np.exp(-0.5 * ((rows - line[None, :]) / 2.0) ** 2)
        debris = np.maximum(debris, moraine.ravel()[idx])
        del moraine
    grain = 1.0 + 0.05 * foliation + 0.03 * speck[idx]
    lith_g = 1.0 + 0.2 * lith[idx]
    wet = noise_field(rng, shape, 12.0).ravel()[idx]    # wetness and grain: mostly in the NIR
    wet_gain = (0.03, 0.02, 0.0, 0.09)
    # Patches of weathered crust, whiter and almost snow-like in colour.
    crust = np.clip(0.3 + 0.25 * noise_field(rng, shape, 18.0).ravel()[idx]
                    + 0.3 * noise_field(rng, shape, 1.2).ravel()[idx], 0.0, 1.0)
    for b in range(4):
        dark = pal["CREVASSE_DARK"][b]
        colour = pal["GLACIER"][b] + (pal["CRUST"][b] - pal["GLACIER"][b]) * crust
        ice_r = colour * grain * (1.0 + wet_gain[b] * wet) * (1.0 - dark * crev)
        refl[b, idx] = ice_r * (1.0 - debris) + pal["DEBRIS"][b] * lith_g * debris
    del crev, debris, grain, lith_g, foliation, dist_wall, ice_r, wet, crust, colour

    # ---- Snow on ice: smooth, gently mottled.
    idx = np.flatnonzero(flat == SNOW_ON_ICE)
    mottle = 1.0 + 0.03 * snow_mottle[idx] + 0.004 * speck[idx]
    grain = 0.03 * noise_field(rng, shape, 30.0).ravel()[idx]   # snow grain size, NIR only
    for b in range(4):
        refl[b, idx] = pal["SNOW"][b] * mottle * (1.0 + grain) if b == 3 else pal["SNOW"][b] * mottle
    del mottle, grain

    # ---- Valley walls: hill-shaded terrain rising away from the fjord.
    relief = (5.0 * noise_field(rng, shape, 40.0) + 2.5 * noise_field(rng, shape, 14.0)
              + 1.2 * noise_field(rng, shape, 5.0) + 0.5 * noise_field(rng, shape, 2.0))
    relief *= np.minimum(wall_height / 6.0, 1.0)
    relief += 0.25 * wall_height
    shade = hillshade(relief, azimuth, altitude).ravel()
    del relief
    # Rock: shading and lithology; snow in gullies.
    idx = np.flatnonzero(flat == ROCK)
    shade_r, lith_r, gully = shade[idx], 1.0 + 0.28 * lith[idx], speck[idx] > 2.2
    for b in range(4):
        refl[b, idx] = np.where(gully, 0.6 * pal["SNOW"][b] * shade_r, pal["ROCK"][b] * shade_r * lith_r)
    # Snow on rock: shading, wind-roughened snow with dust in pixel-scale patches (some
    # pixels as clean as glacier snow, dustier on average: less blue, more NIR per red) and
    # rock outcrops of 1-3 px over about a fifth of the area.
    idx = np.flatnonzero(flat == SNOW_ON_ROCK)
    shade_s, lith_s = shade[idx], 1.0 + 0.28 * lith[idx]
    outcrop = np.clip(2.0 * (-0.8 - speck[idx]) + 0.5, 0.0, 1.0)
    rough = 0.97 * (1.0 + 0.02 * snow_mottle[idx]) \
        * (1.0 + 0.1 * noise_field(rng, shape, 1.6).ravel()[idx])
    dust = np.clip(0.5 + 0.6 * noise_field(rng, shape, 1.3).ravel()[idx], 0.0, 1.0)
    for b in range(4):
        snow = (pal["SNOW"][b] + (pal["DUSTY_SNOW"][b] - pal["SNOW"][b]) * dust) * shade_s * rough
        refl[b, idx] = snow * (1.0 - outcrop) + pal["ROCK"][b] * shade_s * lith_s * outcrop
    del shade, shade_r, shade_s, lith_r, lith_s, gully, outcrop, rough, snow
    del speck, snow_mottle, lith, idx

    # ---- Scene-wide: illumination gain and smooth variation, haze, sensor blur and noise.
    spread = 0.04 + 0.08 * variety
    gain = rng.uniform(1.0 - spread, 1.0 + spread)
    layout.info["gain"] = float(gain)
    illum = (gain * (1.0 + 0.03 * noise_field(rng, shape, max(8.0, size / 2)))).astype(np.float32)
    haze = np.clip(noise_field(rng, shape, max(8.0, size / 3)), 0.0, None) * rng.uniform(0.0, 0.02)
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

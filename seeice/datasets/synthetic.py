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
from tqdm import tqdm

from seeice.classes import GLACIER_SCHEME
from seeice.config.runner import format_error, setup_logging
from seeice.datasets.noise import (
    cells_field,
    fractal1d,
    noise1d,
    noise_field,
    smoothstep,
    touching,
)
from seeice.datasets.render import (
    GLACIER_CLASSES,
    GLACIER_ICE,
    ICEBERG_WATER,
    MELANGE,
    OCEAN_CLASSES,
    OPEN_WATER,
    ROCK,
    ROCK_CLASSES,
    SNOW_ON_ICE,
    SNOW_ON_ROCK,
    Layout,
    render,
)
from seeice.errors import ConfigError, SeeIceError
from seeice.io.raster import write_raster

log = logging.getLogger(__name__)


EPSG = 32624


"""WGS 84 / UTM zone 24N, which covers south-east Greenland (Helheim, Kangerlussuaq)."""


PIXEL_SIZE = 10.0


"""Pixel size in metres (Sentinel-2 bands 2, 3, 4 and 8)."""


"""Digital number per unit reflectance (Sentinel-2 L1C/L2A quantification value)."""


"""Largest digital number written."""


MIN_SIZE = 100


"""Smallest image edge in pixels; every class is present from about 200 pixels up."""


STEM_PREFIX = "S2_synthetic_s"


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


def _draw_layout(rng: np.random.Generator, fine: np.random.Generator, size: int,
                 melange_width: float | None = None) -> Layout:
    """Draw the large-scale geometry (size-independent) plus pixel-scale roughness.

    ``melange_width`` (a fraction of the image length) replaces the drawn melange-belt depth;
    every other draw stays the same, so the rest of the geometry does not change with it.
    """
    u = (np.arange(size) + 0.5) / size
    # Fjord: meandering centre line, widening towards the ocean (+x).
    centre = 0.5 + rng.uniform(-0.04, 0.04) + 0.035 * fractal1d(rng, size, (2, 4))
    w_in, w_out = rng.uniform(0.22, 0.27), rng.uniform(0.35, 0.44)
    half = w_in + (w_out - w_in) * smoothstep(u, 0.25, 1.0)
    rough_top = 0.022 * fractal1d(rng, size, (6, 12, 24, 48))
    rough_bot = 0.022 * fractal1d(rng, size, (6, 12, 24, 48))
    jag = max(4, size // 5)
    top = size * (centre - half + rough_top) + 1.0 * noise1d(fine, size, jag)
    bottom = size * (centre + half + rough_bot) + 1.0 * noise1d(fine, size, jag)

    # Calving front: position, curvature (positive: bulging seawards), tilt and wiggle.
    f0 = rng.uniform(0.39, 0.46)
    curvature = rng.uniform(-0.04, 0.05)
    tilt = rng.uniform(-0.04, 0.04)
    i0 = int(np.clip(f0 * size, 0, size - 1))
    yc, wf = centre[i0], half[i0]
    s = np.clip((u - yc) / wf, -1.3, 1.3)
    wiggle = 0.016 * fractal1d(rng, size, (5, 10, 20, 40))
    front = size * (f0 + curvature * (1.0 - s * s) + tilt * s + wiggle) \
        + 1.5 * noise1d(fine, size, max(4, size // 4))

    # Snow line upstream, at least a fifth of the image behind the front.
    s0 = rng.uniform(0.20, 0.25)
    snow = size * (s0 + 0.03 * (1.0 - s * s) * rng.uniform(-1, 1)
                   + 0.015 * fractal1d(rng, size, (4, 8, 16)))
    snow = np.minimum(snow, front - 0.18 * size)

    # Melange belt and iceberg water in front of the glacier; open water beyond. Each belt
    # is about a fifth of the image deep, so that it holds many pure 50-pixel tiles.
    mel_w = rng.uniform(0.17, 0.21)
    if melange_width is not None:
        mel_w = melange_width
    melange = front + size * mel_w * (1.0 + 0.12 * fractal1d(rng, size, (4, 8, 16))) \
        + 1.0 * noise1d(fine, size, max(4, size // 6))
    melange = np.maximum(melange, front + min(0.1, 0.5 * mel_w) * size)
    berg_w = rng.uniform(0.17, 0.21)
    bergs = melange + size * berg_w * (1.0 + 0.12 * fractal1d(rng, size, (3, 6, 12))) \
        + 1.0 * noise1d(fine, size, max(4, size // 6))
    bergs = np.minimum(bergs, 0.88 * size + 0.02 * size * fractal1d(rng, size, (4, 8)))
    bergs = np.maximum(bergs, melange + 0.1 * size)

    info = {"front_position": float(f0), "front_curvature": float(curvature),
            "front_tilt": float(tilt), "fjord_half_width_in": float(w_in),
            "fjord_half_width_out": float(w_out), "snow_line": float(s0),
            "melange_width": float(mel_w), "iceberg_belt_width": float(berg_w)}
    return Layout(top=top, bottom=bottom, front=front, snow=snow, melange=melange,
                   bergs=bergs, info=info)


def _classify(layout: Layout, rng: np.random.Generator, fine: np.random.Generator,
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
    snowline = layout.snow[:, None].astype(np.float32) + 5.0 * noise_field(fine, (size, size), 9.0)
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
            at_front[labels[touching(np.ones_like(other_mask), other_mask)]] = True
            cut = (sizes < 0.001 * size * size) & (np.arange(n + 1) != sizes.argmax()) & at_front
            cut[0] = False
            classes[cut[labels]] = ROCK
        del labels

    # Snow patches on the valley walls: more snow higher up, a drawn share of the walls.
    walls = ~fjord
    score = cells_field(rng, size, 5) + 0.35 * cells_field(rng, size, 12) \
        + 0.12 * noise_field(fine, (size, size), 6.0) + wall_height * (2.2 / size)
    share = rng.uniform(0.38, 0.48)
    wall_scores = score[walls]
    if wall_scores.size:
        sample = wall_scores[:: max(1, wall_scores.size // 200_000)]
        threshold = np.quantile(sample, 1.0 - share)
        classes[walls & (score > threshold)] = SNOW_ON_ROCK
    layout.info["snow_on_rock_share"] = float(share)
    return classes, wall_height, edge_dist


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


def make_scene(seed: int, size: int = 600, melange_width: float | None = None,
               texture_variety: float = 0.0) -> Scene:
    """Draw one synthetic scene.

    Parameters
    ----------
    seed : int
        Seed (>= 0) of every random step; the same seed, size and options give identical
        arrays.
    size : int
        Image edge in pixels (>= 100); the scene is ``size`` x ``size`` at 10 m.
    melange_width : float, optional
        Depth of the melange belt as a fraction of the image length (0 < w <= 0.3). None draws
        it from 0.17-0.21 (a wide belt, many pure tiles). About 0.03 gives the thin, rare
        melange of many real fjords (2-3 % of the scene).
    texture_variety : float
        0 (default) to 1: how far the scene's surface colours, ice cover and illumination
        depart from the default style (see :func:`seeice.datasets.render.render`). Scenes for
        testing a model on "other" fjords use a variety above 0 and seeds training never saw.

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
    if melange_width is not None and not 0.0 < float(melange_width) <= 0.3:
        raise ConfigError(f"melange width must lie in (0, 0.3] of the image length, got "
                          f"{melange_width!r}. Use about 0.03 for a thin belt, or leave it empty.")
    if not 0.0 <= float(texture_variety) <= 1.0:
        raise ConfigError(f"texture variety must lie in [0, 1], got {texture_variety!r}.")
    # Children 0-2 are those of the default style; child 3 feeds only the variety.
    geom_ss, fine_ss, tex_ss, variety_ss = np.random.SeedSequence(seed).spawn(4)
    rng = np.random.default_rng(geom_ss)    # size-independent geometry
    fine = np.random.default_rng(fine_ss)   # pixel-scale roughness of the boundaries
    tex = np.random.default_rng(tex_ss)     # textures and noise

    rot = int(rng.integers(4))
    mirror = bool(rng.integers(2))
    layout = _draw_layout(rng, fine, size, melange_width)
    classes, wall_height, edge_dist = _classify(layout, rng, fine, size)
    image = render(classes, wall_height, edge_dist, layout, tex, size,
                   variety=float(texture_variety), variety_rng=np.random.default_rng(variety_ss))
    del wall_height, edge_dist

    front = touching(classes == GLACIER_ICE, np.isin(classes, OCEAN_CLASSES))
    margins = touching(np.isin(classes, GLACIER_CLASSES), np.isin(classes, ROCK_CLASSES))

    def orient(a: np.ndarray) -> np.ndarray:
        a = np.rot90(a, rot, axes=(0, 1))
        return np.ascontiguousarray(a[:, ::-1] if mirror else a)

    # A plausible origin in UTM 24N over south-east Greenland, on the 10 m grid.
    x0 = 10.0 * round(rng.uniform(440_000, 580_000) / 10.0)
    y0 = 10.0 * round(rng.uniform(7_250_000, 7_500_000) / 10.0)
    transform = Affine(PIXEL_SIZE, 0.0, x0, 0.0, -PIXEL_SIZE, y0)
    info = {"seed": seed, "size": size, "rotation_deg": 90 * rot, "mirrored": mirror,
            **layout.info,
            "melange_share": float(np.count_nonzero(classes == MELANGE)) / classes.size}
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
                    seed: int = 0, melange_width: float | None = None,
                    texture_variety: float = 0.0) -> list[Path]:
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
    melange_width, texture_variety
        Scene style, as in :func:`make_scene`.

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
        scene = make_scene(seed + i, size, melange_width=melange_width,
                           texture_variety=texture_variety)
        path = write_scene(scene, out_dir)
        log.info("wrote %s (%d x %d px, flow rotated %d deg%s, front at %.0f %% of the length, "
                 "melange %.1f %% of the scene)", path, size, size, scene.info["rotation_deg"],
                 ", mirrored" if scene.info["mirrored"] else "",
                 100 * scene.info["front_position"], 100 * scene.info["melange_share"])
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
    parser.add_argument("--melange-width", type=float, default=None,
                        help="melange belt depth as a fraction of the image length, e.g. 0.03 "
                             "for a thin rare belt [drawn from 0.17-0.21]")
    parser.add_argument("--texture-variety", type=float, default=0.0,
                        help="0-1: how far colours, ice cover and illumination depart from the "
                             "default style [0]")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="logging level")
    args = parser.parse_args(argv)
    setup_logging(args.log_level)
    try:
        generate_scenes(args.out_dir, n_images=args.n_images, size=args.size, seed=args.seed,
                        melange_width=args.melange_width, texture_variety=args.texture_variety)
    except SeeIceError as exc:
        log.error("%s", format_error(exc))
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

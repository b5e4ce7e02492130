"""Augmentation of training tiles: the tile's symmetries, with integer noise clipped to the valid range.

Two sets of copies (DESIGN 4 and 9):

* ``rotations`` (the published augmentation): the tile and its 90, 180 and 270 degree
  rotations;
* ``dihedral`` (default): all eight symmetries of the square, the four rotations of the tile
  and the four rotations of its mirror image, so that a rare class gets twice the examples.

Every copy but the tile itself carries integer noise drawn uniformly from [-10, 10) per pixel
and band, clipped to the pixel type's range (no wrap-around). The noise is in digital numbers
of the tiles' own scale: 8-bit and Sentinel-2 DN tiles as they are. Floating-point tiles
(reflectance 0-1, or x 10 000) need their scale (``value_scale``, the value of reflectance
1): their noise is [-10, 10) DN of the Sentinel-2 scale, i.e. x ``value_scale`` / 10 000, so
that reflectance 0-1 does not get noise ten times its range. The pipeline converts float
images to DN when it reads them (:func:`seeice.io.images.read_scene`), so its tiles are integer.

Radiometric augmentation (``radiometric = r > 0``, off by default) mimics the differences of
illumination and atmosphere between dates and scenes: each copy but the first is multiplied
by a gain drawn from [1 - r, 1 + r] and shifted by an offset drawn from [-r, r] x 5 % of the
full scale (10 000 DN, reflectance 1, for 16-bit imagery; 255 for 8-bit), one gain and one
offset per copy for all its bands; no-data pixels (0 in every band) stay 0.
"""

from __future__ import annotations

import numpy as np

from seeice.errors import ConfigError

NOISE_LOW = -10
NOISE_HIGH = 10          # exclusive
ROTATIONS = (0, 90, 180, 270)
#: Augmentation sets: name -> the copies, each (rotation in degrees, mirrored).
AUGMENTATIONS = {
    "rotations": tuple((r, False) for r in ROTATIONS),
    "dihedral": tuple((r, m) for m in (False, True) for r in ROTATIONS),
}


def check_augmentation(name: str) -> tuple[tuple[int, bool], ...]:
    """The copies of augmentation set ``name``, or a :class:`ConfigError` naming the sets."""
    if name not in AUGMENTATIONS:
        raise ConfigError(f"augmentation {name!r} is unknown; use one of "
                          f"{', '.join(AUGMENTATIONS)} (rotations is the published one).")
    return AUGMENTATIONS[name]


#: DN of reflectance 1 on the Sentinel-2 scale, the unit of the noise.
DN_FULL_SCALE = 10000.0
#: Offset range of radiometric augmentation, as a share of the full scale per unit of ``r``.
OFFSET_SHARE = 0.05


def full_scale(dtype) -> float:
    """Digital number of reflectance 1: 255 for 8-bit, 10 000 for deeper (Sentinel-2) imagery."""
    return 255.0 if np.dtype(dtype) == np.uint8 else 10000.0


def augment_tiles(tiles: np.ndarray, rng: np.random.Generator, noise_low: int = NOISE_LOW,
                  noise_high: int = NOISE_HIGH, augmentation: str = "rotations",
                  radiometric: float = 0.0, value_scale: float | None = None) -> np.ndarray:
    """The tile and its symmetric copies, every copy but the first with clipped integer noise.

    Parameters
    ----------
    tiles : numpy.ndarray
        Shape (n, t, t, bands).
    rng : numpy.random.Generator
        Source of the noise (seeded by the caller).
    noise_low, noise_high : int
        Noise is drawn uniformly from ``[noise_low, noise_high)`` per pixel and band.
    augmentation : {"rotations", "dihedral"}
        The set of copies (:data:`AUGMENTATIONS`).
    radiometric : float
        ``r`` in [0, 0.5]: gain in [1 - r, 1 + r] and offset in [-r, r] x 5 % of the full
        scale per copy (copies 1..); 0 turns it off.
    value_scale : float, optional
        Floating-point tiles only (required for them): the value of reflectance 1 (1 or
        10 000). Noise and radiometric offsets are scaled by ``value_scale / 10 000``.

    Returns
    -------
    numpy.ndarray
        Shape (n, c, t, t, bands), same dtype, c = 4 (rotations) or 8 (dihedral): copy i is
        ``AUGMENTATIONS[augmentation][i] = (degrees, mirrored)``, the tile (mirrored left to
        right first when ``mirrored``) rotated by ``degrees`` counter-clockwise
        (``numpy.rot90``); copies 1.. carry noise. Integer tiles are clipped to the dtype's
        range (no wrap-around).
    """
    copies = check_augmentation(augmentation)
    if not 0.0 <= float(radiometric) <= 0.5:
        raise ConfigError(f"radiometric augmentation must lie in [0, 0.5], got {radiometric!r}; "
                          "0.1 varies gain by 10 % and offset by 0.5 % of the full scale.")
    if tiles.ndim != 4 or tiles.shape[1] != tiles.shape[2]:
        raise ValueError(f"tiles must have shape (n, t, t, bands), got {tiles.shape}")
    floating = not np.issubdtype(tiles.dtype, np.integer)
    if floating and value_scale is None:
        raise ConfigError(f"tiles of {tiles.dtype} pixels need their scale for the noise "
                          "(value_scale: 1 for reflectance 0-1, 10000 for reflectance x 10 000); "
                          "integer noise of +/-10 would swamp reflectance 0-1.")
    dn_unit = float(value_scale) / DN_FULL_SCALE if floating else 1.0
    mirrored = tiles[:, :, ::-1]
    out = np.stack([np.rot90(mirrored if mirror else tiles, degrees // 90, axes=(1, 2))
                    for degrees, mirror in copies], axis=1)
    noise = rng.integers(noise_low, noise_high,
                         size=(tiles.shape[0], len(copies) - 1) + tiles.shape[1:], dtype=np.int16)
    if radiometric:
        shape = (tiles.shape[0], len(copies) - 1, 1, 1, 1)
        gain = rng.uniform(1.0 - radiometric, 1.0 + radiometric, size=shape)
        offset = rng.uniform(-radiometric, radiometric, size=shape) * OFFSET_SHARE \
            * (float(value_scale) if floating else full_scale(tiles.dtype))
        nodata = np.all(out[:, 1:] == 0, axis=-1, keepdims=True)
        shifted = np.where(nodata, 0.0, out[:, 1:] * gain + offset)
        noisy = shifted + noise * dn_unit
    else:
        noisy = out[:, 1:].astype(np.float64 if floating else np.int64) + (
            noise * dn_unit if floating else noise)
    if np.issubdtype(tiles.dtype, np.integer):
        info = np.iinfo(tiles.dtype)
        out[:, 1:] = np.clip(np.rint(noisy), info.min, info.max).astype(tiles.dtype)
    else:
        out[:, 1:] = noisy.astype(tiles.dtype)
    return out

"""Augmentation of training tiles: the tile and its rotations, with integer noise clipped to the valid range."""

from __future__ import annotations

import numpy as np

NOISE_LOW = -10
NOISE_HIGH = 10          # exclusive
ROTATIONS = (0, 90, 180, 270)


def augment_tiles(tiles: np.ndarray, rng: np.random.Generator, noise_low: int = NOISE_LOW,
                  noise_high: int = NOISE_HIGH) -> np.ndarray:
    """The tile and its 90/180/270 degree rotations, the rotations with clipped integer noise.

    Parameters
    ----------
    tiles : numpy.ndarray
        Shape (n, t, t, bands).
    rng : numpy.random.Generator
        Source of the noise (seeded by the caller).
    noise_low, noise_high : int
        Noise is drawn uniformly from ``[noise_low, noise_high)`` per pixel and band.

    Returns
    -------
    numpy.ndarray
        Shape (n, 4, t, t, bands), same dtype: index i along axis 1 is the tile rotated by
        ``ROTATIONS[i]`` degrees counter-clockwise (``numpy.rot90(tile, i)``); copies 1-3
        carry noise. Integer tiles are clipped to the dtype's range (no wrap-around).
    """
    if tiles.ndim != 4 or tiles.shape[1] != tiles.shape[2]:
        raise ValueError(f"tiles must have shape (n, t, t, bands), got {tiles.shape}")
    out = np.stack([np.rot90(tiles, k, axes=(1, 2)) for k in range(4)], axis=1)
    noise = rng.integers(noise_low, noise_high, size=(tiles.shape[0], 3) + tiles.shape[1:],
                         dtype=np.int16)
    if np.issubdtype(tiles.dtype, np.integer):
        info = np.iinfo(tiles.dtype)
        work = np.int32 if tiles.dtype.itemsize <= 2 else np.int64
        noisy = out[:, 1:].astype(work) + noise
        np.clip(noisy, info.min, info.max, out=noisy)
        out[:, 1:] = noisy.astype(tiles.dtype)
    else:
        out[:, 1:] = out[:, 1:] + noise.astype(tiles.dtype)
    return out

"""Seeded noise fields for synthetic scenes: smooth 1-D and 2-D noise, band-pass textures, streaks, hill shading."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage as ndi
from scipy.interpolate import CubicSpline


def noise1d(rng: np.random.Generator, n: int, n_ctrl: int) -> np.ndarray:
    """Smooth 1-D Gaussian noise of ``n`` samples through ``n_ctrl`` random control points.

    The draw count depends on ``n_ctrl`` only, so the same generator state gives the same
    curve at any ``n``. Roughly unit standard deviation, float64, shape (n,).
    """
    ctrl = rng.standard_normal(n_ctrl + 3)
    pos = np.linspace(1.0, n_ctrl + 1.0, n)
    return CubicSpline(np.arange(n_ctrl + 3), ctrl)(pos)


def fractal1d(rng: np.random.Generator, n: int, octaves: Sequence[int],
               decay: float = 0.55) -> np.ndarray:
    """Sum of :func:`noise1d` octaves (control counts ``octaves``), unit-ish std, shape (n,)."""
    out = np.zeros(n)
    amp, total = 1.0, 0.0
    for n_ctrl in octaves:
        out += amp * noise1d(rng, n, n_ctrl)
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


def normalised(out: np.ndarray) -> np.ndarray:
    """Zero mean, unit std (statistics from a regular subsample), float32, in place."""
    sample = out.ravel()[:: max(1, out.size // 250_000)].astype(np.float64)
    out = out.astype(np.float32, copy=False)
    out -= np.float32(sample.mean())
    out *= np.float32(1.0 / max(float(sample.std()), 1e-6))
    return out


def noise_field(rng: np.random.Generator, shape: tuple[int, int], cell: float) -> np.ndarray:
    """Smooth 2-D Gaussian noise, zero mean, unit std, correlation length about ``cell`` px.

    Small cells: Gaussian-filtered white noise; larger cells: a coarse random grid with one
    value per ``cell`` pixels, cubic B-spline interpolated (two small matrix products).
    float32, shape ``shape``.
    """
    h, w = shape
    if cell < 8.0:
        return normalised(ndi.gaussian_filter(rng.standard_normal(shape, dtype=np.float32),
                                               cell / 2.0, truncate=3.0))
    ny, nx = int(np.ceil(h / cell)) + 4, int(np.ceil(w / cell)) + 4
    grid = rng.standard_normal((ny, nx), dtype=np.float32)
    return normalised(_bspline_matrix(h, cell, ny) @ (grid @ _bspline_matrix(w, cell, nx).T))


def band_pass(noise: np.ndarray, sigma: float) -> np.ndarray:
    """``noise`` minus its Gaussian blur of ``sigma`` px, renormalised (unit std, float32).

    Removing the broad component spreads fragments evenly: the share of a small window
    that a thresholded field covers varies much less than with the raw field.
    """
    return normalised(noise - ndi.gaussian_filter(noise, sigma, truncate=3.0))


def cells_field(rng: np.random.Generator, size: int, n_cells: int) -> np.ndarray:
    """Smooth noise with ``n_cells`` control cells across the image (size-independent draws)."""
    grid = rng.standard_normal((n_cells + 4, n_cells + 4), dtype=np.float32)
    matrix = _bspline_matrix(size, size / n_cells, n_cells + 4)
    return normalised(matrix @ grid @ matrix.T)


def streaks(noise: np.ndarray, dy: float, dx: float, length: int) -> np.ndarray:
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
    return normalised(out)


def smoothstep(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    t = np.clip((x - lo) / (hi - lo), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def touching(mask: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Pixels of ``mask`` with a pixel of ``other`` among their 4 neighbours, shape (H, W) bool."""
    near = np.zeros_like(other)
    near[1:, :] |= other[:-1, :]
    near[:-1, :] |= other[1:, :]
    near[:, 1:] |= other[:, :-1]
    near[:, :-1] |= other[:, 1:]
    return mask & near


def hillshade(height: np.ndarray, azimuth: float, altitude: float) -> np.ndarray:
    """Lambertian shading of a height field (px units) relative to flat ground, float32."""
    gy, gx = np.gradient(height)
    sy, sx = -np.cos(azimuth), np.sin(azimuth)  # sun direction in image (row, col) terms
    cos_alt, sin_alt = np.cos(altitude), np.sin(altitude)
    shade = (sin_alt - cos_alt * (gx * sx + gy * sy)) / np.sqrt(1.0 + gx * gx + gy * gy)
    shade = np.maximum(shade, 0.0) / sin_alt
    return (0.25 + 0.75 * shade).astype(np.float32)

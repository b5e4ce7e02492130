"""Helpers for the phase-two tests: smooth synthetic images and random patch models.

A freshly built patch model predicts almost one class everywhere, which would make a
comparison of class rasters weak. :func:`random_patch_model` therefore sets the
BatchNormalization statistics to values measured on the image (as training would), with
random scale and offset, and widens the output layer, so that the class raster is varied.
"""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def smooth_image(height: int, width: int, bands: int, seed: int, sigma: float = 3.0) -> np.ndarray:
    """A smooth random (height, width, bands) float32 image scaled to 0..1 per band."""
    rng = np.random.default_rng(seed)
    x = ndimage.gaussian_filter(rng.random((height, width, bands)), sigma=(sigma, sigma, 0))
    x = (x - x.min(axis=(0, 1))) / np.ptp(x, axis=(0, 1))
    return x.astype(np.float32)


def all_windows(image: np.ndarray, k: int) -> np.ndarray:
    """Every k x k window of ``image`` as an (n, k, k, bands) array, row-major."""
    w = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1)).transpose(0, 1, 3, 4, 2)
    return np.ascontiguousarray(w.reshape(-1, k, k, image.shape[2]))


def random_patch_model(k: int, bands: int, n_classes: int, image: np.ndarray, seed: int = 0, spread: float = 3.0):
    """A phase-two model with random weights, non-trivial BatchNorm statistics and varied output."""
    import keras

    from seeice.phase2.patch_models import build_patch_model

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_patch_model(k, bands, n_classes)
    pre_bn = keras.Model(model.input, model.get_layer("dense1").output)
    windows = all_windows(image, k)
    sample = windows[rng.choice(len(windows), size=min(2000, len(windows)), replace=False)]
    act = np.asarray(pre_bn(sample, training=False))
    units = act.shape[1]
    bn = model.get_layer("batchnorm")
    bn.moving_mean.assign(act.mean(axis=0))
    bn.moving_variance.assign(act.var(axis=0) + rng.uniform(0.0, 0.1, units).astype(np.float32) * act.var() + 1e-4)
    bn.gamma.assign(rng.uniform(0.5, 2.0, units).astype(np.float32))
    bn.beta.assign(rng.normal(0.0, 0.5, units).astype(np.float32))
    # Output layer: standardised random projection of the last hidden features, so the
    # logits vary from pixel to pixel by about ``spread`` and every class can win.
    last_hidden = keras.Model(model.input, model.get_layer("dense3").output)
    feats = np.asarray(last_hidden(sample, training=False)).astype(np.float64)
    mean, std = feats.mean(axis=0), feats.std(axis=0) + 1e-3
    kernel = rng.normal(0.0, 1.0, (feats.shape[1], n_classes + 1)) * spread / (std[:, None] * np.sqrt(feats.shape[1]))
    out = model.get_layer("output")
    out.kernel.assign(kernel.astype(np.float32))
    out.bias.assign((-(mean @ kernel)).astype(np.float32))
    return model

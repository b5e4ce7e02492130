"""Class balance of phase-one training: loss weights by inverse class frequency, or class-balanced batches.

The published scripts trained on the tiles as they came (``none``): with 44 melange tiles
against 3000 rock, the network can ignore melange at almost no cost to its loss. ``weights``
weights each tile's loss by the inverse frequency of its class in the training split (mean
weight 1 over the tiles); ``batches`` draws every epoch's tiles class by class, equally often
(with replacement within a class), so each batch holds every class about equally.
"""

from __future__ import annotations

import numpy as np

from seeice.checks import one_of

CLASS_BALANCES = ("weights", "batches", "none")


def check_class_balance(name: str) -> str:
    """``name`` if it is a known class balance, else a :class:`ConfigError` naming them."""
    return one_of(name, CLASS_BALANCES, "class balance", "none is the published behaviour.")


def inverse_frequency_weights(labels: np.ndarray, n_outputs: int) -> np.ndarray:
    """Loss weight of each class: ``n / (K * n_k)`` for the K classes present, 0 for the others.

    Parameters
    ----------
    labels : numpy.ndarray
        Class numbers of the training tiles, shape (n,).
    n_outputs : int
        Length of the result (n_classes + 1; column 0 unused).

    Returns
    -------
    numpy.ndarray
        Shape (n_outputs,), float32; the mean of ``weights[labels]`` is 1.
    """
    counts = np.bincount(np.asarray(labels, dtype=np.int64), minlength=n_outputs)[:n_outputs]
    present = counts > 0
    weights = np.zeros(n_outputs, dtype=np.float64)
    weights[present] = counts.sum() / (present.sum() * counts[present])
    return weights.astype(np.float32)


def balanced_order(indices: np.ndarray, labels: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One epoch of tile indices with every class drawn equally often, in random order.

    Parameters
    ----------
    indices : numpy.ndarray
        Tiles to draw from, shape (n,).
    labels : numpy.ndarray
        Class of every tile of the tensor (indexed by ``indices``).
    rng : numpy.random.Generator

    Returns
    -------
    numpy.ndarray
        Shape (n,): ``n // K`` draws per class (with replacement within the class; the
        remainder spread over random classes), shuffled.
    """
    indices = np.asarray(indices, dtype=np.int64)
    classes = labels[indices]
    present = np.unique(classes)
    per_class = np.full(present.size, indices.size // present.size)
    per_class[rng.choice(present.size, size=indices.size % present.size, replace=False)] += 1
    drawn = [rng.choice(indices[classes == k], size=m, replace=True)
             for k, m in zip(present, per_class)]
    return rng.permutation(np.concatenate(drawn))

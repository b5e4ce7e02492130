"""Training batches of the phase-two classifier, gathered from the image batch by batch.

The samples are window centres (:class:`seeice.phase2.sampling.SampleIndices`); each batch's
k x k windows are gathered from the normalised image when Keras asks for it, so memory holds
the image, the indices and one batch, never all windows (12.6 GB at k = 15 and the default
500 000 samples per class on a 3000 x 3000 x 4 scene).
"""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import numpy as np


class WindowBatches(keras.utils.PyDataset):
    """A Keras dataset of (windows, one-hot labels) batches built on demand.

    Parameters
    ----------
    gather : callable
        ``gather(positions)`` returns the windows of the samples at ``positions`` (shape (m,),
        integer positions into the sample set), shape (m, k, k, bands), float32.
    positions : numpy.ndarray
        Shape (n,): the sample positions this dataset serves (e.g. the training split).
    labels : numpy.ndarray
        Shape (N,): the labels of the whole sample set (indexed by position).
    n_columns : int
        Width of the one-hot labels (``n_classes + 1``).
    batch_size : int
        Samples per batch (the last batch may be smaller).
    shuffle_seed : int, optional
        When given, the order of ``positions`` is shuffled before every epoch by a generator
        seeded with it (a new order each epoch, the same sequence of orders for the same
        seed); when None, batches keep the given order.
    """

    def __init__(self, gather: Callable[[np.ndarray], np.ndarray], positions: np.ndarray,
                 labels: np.ndarray, n_columns: int, batch_size: int,
                 shuffle_seed: int | None = None):
        super().__init__()
        self._gather = gather
        self._positions = np.asarray(positions, dtype=np.int64)
        self._labels = np.asarray(labels)
        self._n_columns = int(n_columns)
        self.batch_size = int(batch_size)
        self._rng = None if shuffle_seed is None else np.random.default_rng(shuffle_seed)
        self._order = self._positions
        self._shuffle()

    def _shuffle(self) -> None:
        if self._rng is not None:
            self._order = self._positions[self._rng.permutation(self._positions.size)]

    def __len__(self) -> int:
        return math.ceil(self._positions.size / self.batch_size)

    def batch_positions(self, index: int) -> np.ndarray:
        """Sample positions of batch ``index`` in the current epoch's order."""
        return self._order[index * self.batch_size:(index + 1) * self.batch_size]

    def __getitem__(self, index: int):
        if not 0 <= index < len(self):
            raise IndexError(f"batch {index} out of range 0..{len(self) - 1}")
        positions = self.batch_positions(index)
        windows = self._gather(positions)
        one_hot = np.zeros((positions.size, self._n_columns), np.float32)
        one_hot[np.arange(positions.size), self._labels[positions]] = 1.0
        return windows, one_hot

    def on_epoch_end(self) -> None:
        self._shuffle()

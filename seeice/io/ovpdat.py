"""The scored pixels of one image, ``OvPdat_<stem>_<exp>.npz``: writing and reading both layouts.

Two layouts exist:

* the published one (the published CSC scripts, ``np.savez_compressed(name, DAT)``): a single
  array ``arr_0``, shape (n, 3), int32, whose columns are the truth, CNN (phase one) and CSC
  (phase two) labels of the scored pixels;
* ours: three arrays ``truth``, ``cnn`` and ``csc``, shape (n,) each, uint8.

:func:`write_ovpdat` writes both in one file, so that the published results scripts (which read
``arr_0``) read our runs too; :func:`read_ovpdat` reads either.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from seeice.errors import DataError
from seeice.io.atomic import write_npz

#: Name of the single array in the published layout.
PUBLISHED_KEY = "arr_0"
#: Names of our three arrays.
NAMED_KEYS = ("truth", "cnn", "csc")


def write_ovpdat(path: str | os.PathLike, truth: np.ndarray, cnn: np.ndarray,
                 csc: np.ndarray) -> Path:
    """Write the scored pixels of one image atomically, in both layouts.

    Parameters
    ----------
    path : path-like
        ``OvPdat_<stem>_<exp>.npz``.
    truth, cnn, csc : numpy.ndarray
        Shape (n,) each: labels, phase-one classes and final classes of the scored pixels,
        values 0..255.

    Returns
    -------
    pathlib.Path
        ``path``; it holds ``truth``, ``cnn``, ``csc`` (uint8, (n,)) and ``arr_0`` (int32,
        (n, 3)).
    """
    arrays = [np.asarray(a).ravel() for a in (truth, cnn, csc)]
    if len({a.size for a in arrays}) != 1:
        raise DataError(f"truth, cnn and csc must have one length, got {[a.size for a in arrays]}.")
    stacked = np.stack(arrays, axis=1).astype(np.int32)
    return write_npz(path, **{PUBLISHED_KEY: stacked},
                     **{k: a.astype(np.uint8) for k, a in zip(NAMED_KEYS, arrays)})


def _labels(values: np.ndarray, source: str) -> np.ndarray:
    """Integer labels 0..255 as uint8, or a DataError naming ``source``."""
    values = np.asarray(values)
    if values.size == 0:
        return values.astype(np.uint8)
    if not (np.issubdtype(values.dtype, np.integer) or np.issubdtype(values.dtype, np.floating)):
        raise DataError(f"{source} holds {values.dtype} values; class labels are integers.")
    if np.issubdtype(values.dtype, np.floating) and (
            not np.all(np.isfinite(values)) or np.any(values != np.round(values))):
        raise DataError(f"{source} holds non-integer values; class labels are integers.")
    if values.min() < 0 or values.max() > 255:
        raise DataError(f"{source} holds labels outside 0..255 ({values.min()}..{values.max()}); "
                        "it is not a file of class labels.")
    return values.astype(np.uint8)


def read_ovpdat(path: str | os.PathLike) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Read one ``OvPdat`` file of either layout: (truth, cnn, csc), each shape (n,), uint8.

    Our named arrays are read when present, else the published ``arr_0`` (n, 3).

    Raises
    ------
    DataError
        The file is not an npz, or holds neither layout, or arrays of different lengths or
        values that are not class labels.
    """
    path = Path(path)
    fix = "Delete it and re-run the CSC for this image."
    try:
        with np.load(path, allow_pickle=False) as data:
            files = set(data.files)
            if set(NAMED_KEYS) <= files:
                arrays = tuple(np.asarray(data[k]).ravel() for k in NAMED_KEYS)
            elif PUBLISHED_KEY in files:
                stacked = np.asarray(data[PUBLISHED_KEY])
                if stacked.ndim != 2 or stacked.shape[1] != 3:
                    raise DataError(f"{path.name}: arr_0 has shape {stacked.shape}; a published "
                                    "OvPdat file holds (n, 3) columns truth, CNN, CSC. " + fix)
                arrays = tuple(stacked[:, i] for i in range(3))
            else:
                raise DataError(f"{path.name} holds {sorted(files)}: neither 'truth', 'cnn' and "
                                "'csc' (ours) nor 'arr_0' (published). " + fix)
    except (OSError, ValueError, EOFError) as exc:
        raise DataError(f"{path} cannot be read as an npz file ({exc}). " + fix) from None
    if len({a.size for a in arrays}) != 1:
        raise DataError(f"{path.name}: truth, cnn and csc have different lengths "
                        f"{[a.size for a in arrays]}. " + fix)
    return tuple(_labels(a, f"{path.name} ({k})") for a, k in zip(arrays, NAMED_KEYS))

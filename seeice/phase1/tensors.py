"""Compiled training tensors: tiles of C1..CN into one memory-mapped array and a label vector.

Files, for a tensor named ``NAME`` in mode ``MODE`` (DESIGN section 4):

* ``NAME_T_MODE.npy``: tiles, shape (n, t, t, bands), dtype of the mode;
* ``NAME_L_MODE.npy``: labels, shape (n,), uint8, class numbers 1..N;
* ``NAME_G_MODE.npy``: source-window groups, shape (n,), int32: all augmented copies of one
  window share an id, distinct windows (of any image) have distinct ids (DESIGN 10.4); absent
  where the source windows are unknown (tiles named otherwise), and training then splits at
  random;
* ``NAME_MODE.json``: metadata that training stores with the model: mode, the input scale
  (raw pixel values are divided by it to give the values the network sees), tile size,
  bands, class count, tiles per class, the tiles' pixel type and the run configuration.

Modes and what they store, for raw pixel values I:

===============  =================  ================================  ==================
mode             dtype              value                             input scale
===============  =================  ================================  ==================
``float16``      float16            I / norm_factor                   norm_factor
``uint8``        uint8              255 * I / 16384 (8-bit: I)        16384/255 (8-bit: 1)
``uint8float16`` float16            (255 * I / 16384) / 255 (8-bit:   16384 (8-bit: 255)
                                    I / 255)
``int16``        int16              I                                 1
===============  =================  ================================  ==================

``norm_factor`` defaults to 255 for 8-bit tiles and 8192 otherwise (DESIGN section 3).
Values outside a mode's range saturate (``uint8``: above 16384; ``int16``: above 32767)
with a warning.

The arrays are written into memory-mapped ``.npy`` files under temporary names and renamed
when complete, so a tensor may be larger than memory and a failed run leaves no partial
file. :class:`TensorWriter` is shared by :func:`compile_tensor` (tiles read from files) and
by the tensor mode of :func:`seeice.phase1.preparation.prepare_tiles` (tiles straight from the images),
so both give identical tensors for the same tiles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seeice.errors import ConfigError
from seeice.normalise import SENTINEL2_DN_RANGE, default_norm_factor, normalise

MODES = ("float16", "uint8", "uint8float16", "int16")
TENSOR_DTYPES = {"float16": np.float16, "uint8": np.uint8, "uint8float16": np.float16,
                 "int16": np.int16}
UINT8_INPUT_RANGE = SENTINEL2_DN_RANGE  # raw value mapped to 255 in the uint8 modes
LABEL_DTYPE = np.uint8


@dataclass
class TensorFiles:
    """The files of one compiled tensor and what they hold.

    Attributes
    ----------
    tensor, labels, metadata : pathlib.Path
        ``NAME_T_MODE.npy``, ``NAME_L_MODE.npy``, ``NAME_MODE.json``.
    mode : str
    n_tiles : int
    class_counts : dict
        ``{k: n}`` for classes 1..N (zeros included).
    input_scale : float
        Raw pixel values / input_scale = the tensor values the network sees.
    groups : pathlib.Path or None
        ``NAME_G_MODE.npy``, int32 (n,): the source window of each tile (all augmented
        copies of one window share an id), or None where the source windows are unknown.
    """

    tensor: Path
    labels: Path
    metadata: Path
    mode: str
    n_tiles: int = 0
    class_counts: dict = field(default_factory=dict)
    input_scale: float = 1.0
    groups: Path | None = None


def group_path(out_dir: str | os.PathLike, name: str, mode: str) -> Path:
    """``NAME_G_MODE.npy`` in ``out_dir``: the source-window group of each tile (DESIGN 10.4)."""
    return Path(out_dir) / f"{name}_G_{mode}.npy"


def check_mode(mode: str) -> str:
    """Return ``mode`` if it is a known tensor mode, else raise :class:`ConfigError`."""
    if mode not in MODES:
        raise ConfigError(f"tensor mode {mode!r} is unknown; valid modes are "
                          f"{', '.join(MODES)}.")
    return mode


def tensor_paths(out_dir: str | os.PathLike, name: str, mode: str) -> tuple[Path, Path, Path]:
    """``(NAME_T_MODE.npy, NAME_L_MODE.npy, NAME_MODE.json)`` in ``out_dir``."""
    out_dir = Path(out_dir)
    return (out_dir / f"{name}_T_{mode}.npy", out_dir / f"{name}_L_{mode}.npy",
            out_dir / f"{name}_{mode}.json")


def resolve_norm_factor(norm_factor: float | None, source_dtype) -> float:
    """The float16 normalisation factor: as given, or 255 (8-bit) / 8192 (deeper) when None."""
    if norm_factor is None:
        return float(default_norm_factor(source_dtype))
    if isinstance(norm_factor, bool) or not isinstance(norm_factor, (int, float, np.number)) \
            or not norm_factor > 0:
        raise ConfigError(f"normalisation factor must be a positive number, got {norm_factor!r} "
                          "(8192 for Sentinel-2 uint16, 255 for 8-bit imagery).")
    return float(norm_factor)


def _is_eight_bit(source_dtype) -> bool:
    return np.dtype(source_dtype) == np.uint8


def input_scale(mode: str, source_dtype, norm_factor: float | None = None) -> float:
    """The number raw pixels are divided by to give the values the network sees.

    float16: norm_factor; uint8float16: 16384 (8-bit: 255); int16: 1; uint8: 16384 / 255
    (8-bit: 1).
    """
    check_mode(mode)
    eight_bit = _is_eight_bit(source_dtype)
    if mode == "float16":
        return resolve_norm_factor(norm_factor, source_dtype)
    if mode == "uint8float16":
        return 255.0 if eight_bit else UINT8_INPUT_RANGE
    if mode == "uint8":
        return 1.0 if eight_bit else UINT8_INPUT_RANGE / 255.0
    return 1.0


def convert_tiles(tiles: np.ndarray, mode: str, norm_factor: float | None = None) -> np.ndarray:
    """Convert raw tiles to the values and dtype of a tensor mode.

    Parameters
    ----------
    tiles : numpy.ndarray
        Raw pixel values, any shape (typically (n, t, t, bands)).
    mode : {"float16", "uint8", "uint8float16", "int16"}
    norm_factor : float, optional
        float16 divisor; default 255 for uint8 tiles, 8192 otherwise.

    Returns
    -------
    numpy.ndarray
        Same shape, dtype ``TENSOR_DTYPES[mode]``.
    """
    check_mode(mode)
    tiles = np.asarray(tiles)
    if mode == "float16":
        return normalise(tiles, resolve_norm_factor(norm_factor, tiles.dtype), np.float16)
    if mode == "int16":
        info = np.iinfo(np.int16)
        if tiles.dtype == np.int16:
            return tiles.copy()
        source = np.rint(tiles) if np.issubdtype(tiles.dtype, np.floating) else tiles
        return np.clip(source, info.min, info.max).astype(np.int16)
    if _is_eight_bit(tiles.dtype):
        as_uint8 = tiles.copy()
    else:
        scaled = np.rint(tiles.astype(np.float64) * (255.0 / UINT8_INPUT_RANGE))
        as_uint8 = np.clip(scaled, 0, 255).astype(np.uint8)
    if mode == "uint8":
        return as_uint8
    return (as_uint8.astype(np.float32) / np.float32(255.0)).astype(np.float16)


def saturated(tiles: np.ndarray, mode: str) -> int:
    """Number of raw values outside the range the mode represents."""
    if mode == "int16" and tiles.dtype != np.int16:
        info = np.iinfo(np.int16)
        return int(np.count_nonzero((tiles > info.max) | (tiles < info.min)))
    if mode in ("uint8", "uint8float16") and not _is_eight_bit(tiles.dtype):
        return int(np.count_nonzero((tiles > UINT8_INPUT_RANGE) | (tiles < 0)))
    return 0

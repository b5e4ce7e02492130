"""Atomic file writes: write to a temporary file beside the target, then rename.

A crash or an exception during the write leaves the previous file (or no file), never a
half-written one. ``os.replace`` is atomic on POSIX and Windows when source and target are
on the same file system, which holds because the temporary file sits in the target folder.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterator

import numpy as np


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path to write to; move it onto ``target`` when the block succeeds.

    Parameters
    ----------
    target : path-like
        Final file path. Its folder is created when missing.
    suffix : str, optional
        Suffix of the temporary file (defaults to the target's), for writers that infer the
        format from the extension (GDAL drivers, ``np.save``).

    Yields
    ------
    pathlib.Path
        The temporary path. On an exception inside the block the temporary file is removed
        and the target is left untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    suffix = target.suffix if suffix is None else suffix
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=f".partial{suffix}",
                                    dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    # mkstemp creates the file readable by its owner only; give it the usual permissions.
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)
    try:
        yield tmp
        os.replace(tmp, target)
    except BaseException:
        # Some writers (GDAL) create side files such as .aux.xml; remove them too.
        for leftover in tmp.parent.glob(tmp.name + "*"):
            leftover.unlink(missing_ok=True)
        raise


def write_text(target: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``target`` atomically (UTF-8)."""
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_json(target: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented JSON atomically; numpy scalars and paths become plain values."""
    return write_text(target, json.dumps(data, indent=2, default=_json_default) + "\n")


def write_csv(target: str | os.PathLike, frame, **to_csv_kwargs) -> Path:
    """Write a pandas DataFrame to CSV atomically (index off unless asked)."""
    to_csv_kwargs.setdefault("index", False)
    with atomic_path(target) as tmp:
        frame.to_csv(tmp, **to_csv_kwargs)
    return Path(target)


def write_npy(target: str | os.PathLike, array: np.ndarray) -> Path:
    """Save one array as ``.npy`` atomically."""
    with atomic_path(target, suffix=".npy") as tmp:
        np.save(tmp, array)
    return Path(target)


def write_npz(target: str | os.PathLike, **arrays: np.ndarray) -> Path:
    """Save named arrays as a compressed ``.npz`` atomically."""
    with atomic_path(target, suffix=".npz") as tmp:
        np.savez_compressed(tmp, **arrays)
    return Path(target)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")

"""Tile folders on disk: ``Train/C<k>/`` and ``Valid/C<k>/`` class folders, tile names, listing and counting."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from seeice.errors import DataError, InputFileError

log = logging.getLogger(__name__)


TRAIN_DIR = "Train"
VALID_DIR = "Valid"
TILE_EXTENSIONS = (".tif", ".tiff")
_CLASS_DIR = re.compile(r"^C(\d+)$")


_TILE_NAME = re.compile(r"^(?P<stem>.+)_(?P<row>\d{5,})_(?P<col>\d{5,})_(?P<mirror>m?)"
                        r"(?P<rotation>\d{3})\.tiff?$")


def tile_name(stem: str, row: int, col: int, rotation: int, mirrored: bool = False) -> str:
    """File name of a tile: ``<stem>_<row>_<col>_<rot>.tif`` (``_m<rot>`` for a mirrored copy).

    Zero-padded so that names sort; ``row`` and ``col`` are the window's top-left pixel in the
    source image, so all copies of one window share ``<stem>_<row>_<col>``.
    """
    mirror = "m" if mirrored else ""
    return f"{stem}_{int(row):05d}_{int(col):05d}_{mirror}{int(rotation):03d}.tif"


def source_window(name: str) -> tuple[str, int, int] | None:
    """``(stem, row, col)`` of the source window of a tile file name, None if not one of ours."""
    match = _TILE_NAME.match(name)
    if match is None:
        return None
    return match["stem"], int(match["row"]), int(match["col"])


def find_class_folders(folder: str | os.PathLike) -> tuple[Path, dict[int, Path]]:
    """Locate the ``C<k>`` class folders of a tile set.

    ``folder`` may hold the ``C<k>`` folders itself, or be the output folder of tile
    preparation holding them under ``Train/`` (then ``Train/`` is used, never ``Valid/``).

    Returns
    -------
    root : pathlib.Path
        The folder holding the ``C<k>`` folders.
    classes : dict
        ``{k: path}`` sorted by class number.

    Raises
    ------
    InputFileError
        ``folder`` does not exist.
    DataError
        Neither ``folder`` nor ``folder/Train`` holds ``C<k>`` folders.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise InputFileError(f"tile folder {folder} does not exist. Give the folder that tile "
                             "preparation wrote (or its Train/ subfolder).")
    for root in (folder, folder / TRAIN_DIR):
        if not root.is_dir():
            continue
        found = {}
        for child in root.iterdir():
            match = _CLASS_DIR.match(child.name)
            if match and child.is_dir():
                found[int(match.group(1))] = child
        if found:
            if root != folder:
                log.info("Using the class folders in %s.", root)
            return root, dict(sorted(found.items()))
    raise DataError(f"no class folders (C1, C2, ...) in {folder} or {folder / TRAIN_DIR}. Give "
                    "the output folder of tile preparation, or the folder holding C<k>.")


def list_tiles(class_dir: str | os.PathLike) -> list[Path]:
    """Tile files (``.tif``/``.tiff``, not hidden) of one class folder, sorted by name."""
    class_dir = Path(class_dir)
    if not class_dir.is_dir():
        return []
    return sorted((p for p in class_dir.iterdir()
                   if p.is_file() and p.suffix.lower() in TILE_EXTENSIONS
                   and not p.name.startswith(".")), key=lambda p: p.name)


def count_tiles(folder: str | os.PathLike) -> dict[int, int]:
    """``{k: number of tiles in C<k>}`` for a folder of class folders (or its Train/)."""
    _, classes = find_class_folders(folder)
    return {k: len(list_tiles(path)) for k, path in classes.items()}

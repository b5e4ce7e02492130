"""Thinning of a tile set: at most N tiles per class, the excess removed at random (seeded).

Tile preparation yields very unequal classes (open water and glacier ice cover far more
of a scene than melange or snow on rock). Thinning deletes a random excess from every class
folder holding more than N tiles (default 5000) so that each keeps exactly N; classes with
N or fewer are left alone (DESIGN section 4). The choice of survivors depends only on the
seed, the class number and the sorted file names, so the same seed gives the same survivors.
The per-class counts before and after are logged, and weak classes named
(:func:`seeice.phase1.class_counts.report_class_counts`), in a dry run too.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seeice.checks import positive_int
from seeice.config.inputs import save_run_config
from seeice.defaults import SEED, TILES_PER_CLASS
from seeice.io.tiles import find_class_folders, list_tiles
from seeice.phase1.class_counts import report_class_counts

log = logging.getLogger(__name__)

PER_CLASS = TILES_PER_CLASS


@dataclass
class ThinningResult:
    """Tiles per class before and after thinning.

    Attributes
    ----------
    folder : pathlib.Path
        The folder holding the ``C<k>`` folders that were thinned.
    before, after : dict
        ``{k: number of tiles}``; ``after`` is what remains (or would remain, in a dry run).
    dry_run : bool
        True when nothing was deleted.
    """

    folder: Path
    before: dict = field(default_factory=dict)
    after: dict = field(default_factory=dict)
    dry_run: bool = False

    @property
    def removed(self) -> int:
        """Tiles removed (or that would be removed)."""
        return sum(self.before.values()) - sum(self.after.values())


def select_excess(n_tiles: int, per_class: int, seed: int, class_number: int) -> np.ndarray:
    """Indices (sorted) of the tiles to remove from a class of ``n_tiles`` to keep ``per_class``.

    The generator is seeded with ``(seed, class_number)``, so each class's choice is
    independent of the others.
    """
    excess = n_tiles - per_class
    if excess <= 0:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng([int(seed), int(class_number)])
    return np.sort(rng.choice(n_tiles, size=excess, replace=False))


def thin_tiles(folder: str | os.PathLike, per_class: int = PER_CLASS, seed: int = SEED,
               dry_run: bool = False, run_config: dict | None = None,
               script: str | None = None) -> ThinningResult:
    """Delete a seeded random excess of tiles so that every class keeps at most ``per_class``.

    Parameters
    ----------
    folder : path-like
        A folder holding ``C<k>`` class folders, or the output folder of tile preparation
        (then its ``Train/`` is thinned; ``Valid/`` is never touched).
    per_class : int
        Tiles each class keeps (5000). Classes with fewer are left as they are.
    seed : int
        Seed of the random choice.
    dry_run : bool
        Only report what would be removed.
    run_config, script : optional
        Recorded in ``thinning_run.json`` in the thinned folder (not in a dry run).

    Returns
    -------
    ThinningResult

    Raises
    ------
    InputFileError
        The folder does not exist.
    DataError
        It holds no ``C<k>`` folders (nor does its ``Train/``).
    ConfigError
        ``per_class`` is not a positive whole number.
    """
    positive_int(per_class, "tiles per class")
    root, class_dirs = find_class_folders(folder)
    result = ThinningResult(root, dry_run=dry_run)
    doomed: list[Path] = []
    for k, class_dir in class_dirs.items():
        tiles = list_tiles(class_dir)
        remove = select_excess(len(tiles), per_class, seed, k)
        doomed.extend(tiles[i] for i in remove)
        result.before[k] = len(tiles)
        result.after[k] = len(tiles) - len(remove)
    summary = ", ".join(f"C{k}: {result.before[k]} -> {result.after[k]}" for k in result.before)
    report_class_counts(result.before, "tiles before thinning")
    if dry_run:
        log.info("Dry run, nothing deleted. Thinning %s to %d per class would give: %s "
                 "(%d tiles removed).", root, per_class, summary, result.removed)
        report_class_counts(result.after, "tiles after thinning (dry run, none deleted)")
        return result
    for path in tqdm(doomed, desc="Thinning", unit="tile", disable=None):
        path.unlink()
    log.info("Thinned %s to at most %d tiles per class: %s (%d tiles removed).", root,
             per_class, summary, result.removed)
    report_class_counts(result.after, "tiles after thinning")
    if run_config is None:
        run_config = {"folder": str(folder), "per_class": per_class, "seed": seed,
                      "dry_run": dry_run}
    save_run_config(root, run_config, script=script or "seeice.phase1.thinning.thin_tiles",
                    extra={"before": {f"C{k}": n for k, n in result.before.items()},
                           "after": {f"C{k}": n for k, n in result.after.items()}},
                    filename="thinning_run.json")
    return result

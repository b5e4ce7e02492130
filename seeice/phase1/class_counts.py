"""Per-class tile counts at every phase-one stage, and the warning that names weak classes (DESIGN 9).

A class with fewer than :data:`MIN_TILES` tiles, or under :data:`MIN_SHARE_OF_LARGEST` of the
largest class, is too rare for the tile CNN to learn reliably: it is named in a warning with
the fixes (label more of it, the denser stride for rare classes, merging classes).
"""

from __future__ import annotations

import logging
from typing import Mapping, Sequence

log = logging.getLogger(__name__)

#: Fewer tiles than this makes a class weak.
MIN_TILES = 200
#: A class under this share of the largest class's tiles is weak.
MIN_SHARE_OF_LARGEST = 0.1


def weak_classes(counts: Mapping[int, int], min_tiles: int = MIN_TILES,
                 min_share: float = MIN_SHARE_OF_LARGEST) -> list[int]:
    """Classes whose tile count is under ``min_tiles`` or under ``min_share`` of the largest.

    Parameters
    ----------
    counts : mapping
        Class number -> tile count. Classes with 0 tiles count as weak.

    Returns
    -------
    list of int
        The weak class numbers, ascending.
    """
    if not counts:
        return []
    largest = max(counts.values())
    return sorted(c for c, n in counts.items() if n < min_tiles or n < min_share * largest)


def _name(cls: int, class_names: Sequence[str] | None) -> str:
    if class_names is not None and 1 <= cls <= len(class_names):
        return f"{cls} ({class_names[cls - 1]})"
    return str(cls)


def report_class_counts(counts: Mapping[int, int], stage: str,
                        class_names: Sequence[str] | None = None) -> list[int]:
    """Log the per-class tile counts of a stage; warn by name about weak classes.

    Parameters
    ----------
    counts : mapping
        Class number -> tile count (classes expected but absent should be given with 0).
    stage : str
        What was counted, for the log (``"tiles written"``, ``"tensor"``).
    class_names : sequence of str, optional
        Names of classes 1..N.

    Returns
    -------
    list of int
        The weak classes (see :func:`weak_classes`).
    """
    table = ", ".join(f"{_name(c, class_names)}: {n}" for c, n in sorted(counts.items()))
    log.info("%s per class: %s", stage, table)
    weak = weak_classes(counts)
    if weak:
        largest = max(counts.values())
        listed = "; ".join(f"{_name(c, class_names)} has {counts[c]}" for c in weak)
        log.warning("%s: weak classes (fewer than %d tiles or under %.0f %% of the largest, %d): "
                    "%s. The CNN will learn them poorly. Label more of them, keep the denser "
                    "stride for rare classes on, or merge them with a neighbouring class.",
                    stage, MIN_TILES, 100 * MIN_SHARE_OF_LARGEST, largest, listed)
    return weak

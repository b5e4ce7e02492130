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
#: After training, a class whose validation recall is below this is named as weak.
WEAK_RECALL = 0.6


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
                        class_names: Sequence[str] | None = None, warn: bool = True) -> list[int]:
    """Log the per-class tile counts of a stage; warn by name about weak classes.

    Parameters
    ----------
    counts : mapping
        Class number -> tile count (classes expected but absent should be given with 0).
    stage : str
        What was counted, for the log (``"tiles written"``, ``"tensor"``).
    class_names : sequence of str, optional
        Names of classes 1..N.
    warn : bool
        Warn about weak classes (False for counts that do not train, such as a validation
        split: they are logged only).

    Returns
    -------
    list of int
        The weak classes (see :func:`weak_classes`).
    """
    table = ", ".join(f"{_name(c, class_names)}: {n}" for c, n in sorted(counts.items()))
    log.info("%s per class: %s", stage, table)
    weak = weak_classes(counts)
    if weak and warn:
        largest = max(counts.values())
        listed = "; ".join(f"{_name(c, class_names)} has {counts[c]}" for c in weak)
        log.warning("%s: weak classes (fewer than %d tiles or under %.0f %% of the largest, %d): "
                    "%s. The CNN will learn them poorly. Label more of them, keep the denser "
                    "stride for rare classes on, or merge them with a neighbouring class.",
                    stage, MIN_TILES, 100 * MIN_SHARE_OF_LARGEST, largest, listed)
    return weak



def report_weak_classes(recall: Mapping[int, float], trained: set, class_names: Sequence[str],
                        model_name: str) -> list[int]:
    """Warn by name about classes a trained model will mislabel; return them.

    Parameters
    ----------
    recall : mapping
        Class number -> validation recall, for the classes with validation tiles.
    trained : set of int
        Classes with training tiles.
    class_names : sequence of str
        Names of classes 1..N.
    model_name : str
        For the messages.

    Returns
    -------
    list of int
        Classes with recall under :data:`WEAK_RECALL`, or without training tiles, ascending.
    """
    n = len(class_names)
    weak = sorted(k for k, r in recall.items() if r < WEAK_RECALL)
    unmeasured = sorted(k for k in range(1, n + 1) if k not in recall and k in trained)
    untrained = sorted(k for k in range(1, n + 1) if k not in trained)
    if weak:
        log.warning("%s: weak classes, validation recall under %.1f: %s. Expect them to be "
                    "mislabelled in phase one (and so in the CSC). Label more of them, keep the "
                    "denser stride for rare classes and class balancing on, or merge them with "
                    "a neighbouring class.", model_name, WEAK_RECALL,
                    ", ".join(f"{_name(k, class_names)} {recall[k]:.2f}" for k in weak))
    if unmeasured:
        log.warning("%s: no validation tiles of %s; their recall is unknown.", model_name,
                    ", ".join(_name(k, class_names) for k in unmeasured))
    if untrained:
        log.warning("%s: no training tiles of %s; the model cannot recognise them.", model_name,
                    ", ".join(_name(k, class_names) for k in untrained))
    return sorted(set(weak) | set(untrained))

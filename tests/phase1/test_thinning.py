"""Thinning: exactly N tiles per class, seeded survivors, dry run, folder layouts, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seeice.errors import ConfigError, DataError, InputFileError
from seeice.phase1.thinning import select_excess, thin_tiles


def _make(root: Path, per_class: dict) -> None:
    """Empty tile files root/C<k>/t<i>.tif (thinning only looks at names)."""
    for k, n in per_class.items():
        folder = root / f"C{k}"
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(n):
            (folder / f"t{i:03d}.tif").write_bytes(b"")


def _names(root: Path, k: int) -> set[str]:
    return {p.name for p in (root / f"C{k}").iterdir()}


def test_thinning_keeps_exactly_n_per_class(tmp_path):
    _make(tmp_path, {1: 12, 2: 3, 3: 5, 4: 0})
    (tmp_path / "C1" / "notes.txt").write_text("not a tile")
    result = thin_tiles(tmp_path, per_class=5, seed=0)
    assert result.before == {1: 12, 2: 3, 3: 5, 4: 0}
    assert result.after == {1: 5, 2: 3, 3: 5, 4: 0}
    assert result.removed == 7
    assert len(_names(tmp_path, 1)) == 5 + 1                   # other files untouched
    assert len(_names(tmp_path, 2)) == 3 and len(_names(tmp_path, 3)) == 5
    run = json.loads((tmp_path / "thinning_run.json").read_text())
    assert run["after"] == {"C1": 5, "C2": 3, "C3": 5, "C4": 0}


def test_same_seed_same_survivors(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for root in (a, b, c):
        _make(root, {1: 30, 2: 20})
    thin_tiles(a, per_class=10, seed=4)
    thin_tiles(b, per_class=10, seed=4)
    thin_tiles(c, per_class=10, seed=5)
    for k in (1, 2):
        assert _names(a, k) == _names(b, k)
        assert len(_names(a, k)) == 10
    assert _names(a, 1) != _names(c, 1)


def test_class_choice_independent_of_other_classes(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    _make(a, {1: 30, 2: 20})
    _make(b, {2: 20})
    thin_tiles(a, per_class=10, seed=1)
    thin_tiles(b, per_class=10, seed=1)
    assert _names(a, 2) == _names(b, 2)
    assert len(select_excess(20, 10, 1, 2)) == 10 and len(select_excess(5, 10, 1, 2)) == 0


def test_dry_run_deletes_nothing(tmp_path):
    _make(tmp_path, {1: 9, 2: 2})
    result = thin_tiles(tmp_path, per_class=4, dry_run=True)
    assert result.dry_run and result.after == {1: 4, 2: 2}
    assert len(_names(tmp_path, 1)) == 9
    assert not (tmp_path / "thinning_run.json").exists()


def test_output_folder_of_tile_preparation_thins_train_only(tmp_path):
    _make(tmp_path / "Train", {1: 8})
    _make(tmp_path / "Valid", {1: 8})
    result = thin_tiles(tmp_path, per_class=3)
    assert result.folder == tmp_path / "Train"
    assert len(_names(tmp_path / "Train", 1)) == 3
    assert len(_names(tmp_path / "Valid", 1)) == 8


def test_thinning_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        thin_tiles(tmp_path / "missing")
    with pytest.raises(DataError, match="no class folders"):
        thin_tiles(tmp_path)
    _make(tmp_path, {1: 3})
    with pytest.raises(ConfigError, match="positive whole number"):
        thin_tiles(tmp_path, per_class=0)
    assert len(_names(tmp_path, 1)) == 3

"""Removing the joint-training images from joint runs (seeice.results.cleanup)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seeice.errors import DataError, InputFileError
from seeice.results.cleanup import clear_joint

from results_helpers import joint_runs, per_image


@pytest.fixture
def joint_setup(tmp_path):
    """The runs of :func:`results_helpers.joint_runs` under ``tmp_path``."""
    return joint_runs(tmp_path)


def test_clear_joint_removes_exactly_the_joint_images_in_joint_runs(joint_setup):
    runs, joint, with_json, by_name, single = joint_setup
    margins = {}
    for run in (with_json, by_name):
        (run / "valley_margins").mkdir()
        for stem in ("img1", "img10"):
            margins[run, stem] = run / "valley_margins" / f"{stem}_vmdistances.npy"
            np.save(margins[run, stem], np.array([20.0]))
    expected = (per_image(with_json, "img1", "Jk7") | per_image(with_json, "img2", "Jk7")
                | per_image(by_name, "img1", "Jak_k3") | per_image(by_name, "img2", "Jak_k3")
                | {margins[with_json, "img1"], margins[by_name, "img1"]})
    before = {p for p in runs.rglob("*") if p.is_file()}

    # The published run (no run.json) counts as joint only when named.
    listed = clear_joint(runs, joint, dry_run=True, joint_runs=[by_name.name])
    assert set(listed) == expected
    assert {p for p in runs.rglob("*") if p.is_file()} == before  # dry run removes nothing

    removed = clear_joint(runs, joint, joint_runs=[by_name.name])
    assert set(removed) == expected
    after = {p for p in runs.rglob("*") if p.is_file()}
    assert after == before - expected
    for run, exp in ((with_json, "Jk7"), (by_name, "Jak_k3")):
        assert per_image(run, "img10", exp) <= after and per_image(run, "img3", exp) <= after
        assert margins[run, "img10"] in after
        assert pd.read_csv(run / "summary.csv")["Image"].tolist() == ["img10", "img3"]
    assert pd.read_csv(single / "summary.csv")["Image"].tolist() == ["img1", "img10", "img2",
                                                                    "img3"]


def test_clear_joint_needs_images(tmp_path, joint_setup):
    runs = joint_setup[0]
    (tmp_path / "empty").mkdir()
    with pytest.raises(DataError, match="holds no images"):
        clear_joint(runs, tmp_path / "empty")
    with pytest.raises(InputFileError):
        clear_joint(runs, tmp_path / "absent")

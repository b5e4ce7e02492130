"""Sweep-summary and error-histogram figures (seeice.results.figures)."""

from __future__ import annotations

import numpy as np

from seeice.results.figures import error_histogram_figure, sweep_summary_figure
from seeice.results.tables import calving_table, classification_table

from results_helpers import FRONT_A, FRONT_B, is_png, known_run


def test_figures_are_written_atomically(tmp_path):
    for name, patch, tile in (("Hel_50_NIR_patch3", 3, 50), ("Hel_50_NIR_patch7", 7, 50),
                              ("Jak_75_NIR_patch7", 7, 75)):
        run = known_run(tmp_path / "runs", name, exp=f"Xk{patch}")
        np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A) * patch)
    classes = classification_table(tmp_path / "runs", subsample=None)
    fronts = calving_table(tmp_path / "runs")
    out = sweep_summary_figure(classes, fronts, tmp_path / "fig" / "summary.png")
    assert is_png(out)
    assert is_png(sweep_summary_figure(classes, None, tmp_path / "nofront.png"))
    assert is_png(error_histogram_figure(np.array(FRONT_A + FRONT_B), tmp_path / "h.png"))
    assert sorted(p.name for p in tmp_path.iterdir() if p.is_file()) == ["h.png", "nofront.png"]

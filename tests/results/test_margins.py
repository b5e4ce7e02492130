"""Valley-margin distances from rock boundaries (seeice.results.margins), known shifts."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from seeice.classes import GLACIER_SCHEME
from seeice.results.margins import margin_distances, valley_margin_table

from results_helpers import helheim_config, known_run, rock_rasters, write_geotiff, write_run_json


def test_margin_distances_known_shift():
    classes, margin = rock_rasters(vm_col=11)
    d = margin_distances(classes, margin, pixel_size=10.0)
    assert d.shape == (150,) and np.allclose(d, 20.0)
    classes, margin = rock_rasters(vm_col=5)
    assert np.allclose(margin_distances(classes, margin, 10.0), 40.0)
    # Without the 100-vertex filter the blob would count: its left edge (column 11.5) is
    # rasterised onto the margin column itself.
    classes, margin = rock_rasters(vm_col=11)
    assert margin_distances(classes, margin, 10.0, min_vertices=0).min() == 0.0


def test_valley_margin_table_from_geotiffs(tmp_path, caplog):
    runs, vm_dir = tmp_path / "runs", tmp_path / "vm"
    run = known_run(runs, config=helheim_config())
    vm_dir.mkdir()
    classes, margin = rock_rasters(rock_class=7, vm_col=11)  # 150 px at 20 m
    write_geotiff(run / "imgA_classified.tif", classes)
    write_geotiff(vm_dir / "VM_imgA.tif", margin)
    classes, margin = rock_rasters(rock_class=6, vm_col=5)  # 150 px at 40 m
    write_geotiff(run / "imgB_classified.tif", classes)
    write_geotiff(vm_dir / "VM_imgB.tif", margin)
    write_geotiff(run / "imgC_classified.tif", classes)  # no VM raster: skipped with a warning

    with caplog.at_level(logging.WARNING, logger="seeice"):
        table = valley_margin_table(runs, vm_dir)
    assert "VM_imgC" in caplog.text
    # Pooled: 150 x 20 m and 150 x 40 m -> mode 20 (tie, the smaller), median 30, mean 30,
    # st.dev 10.
    assert dict(zip(table["Statistic"], table["Error_m"])) == pytest.approx(
        {"Mode": 20.0, "Median": 30.0, "Mean": 30.0, "St.Dev": 10.0})
    assert (table["Count"] == 300).all() and (table["Glacier"] == "Helheim").all()

    # The scheme's rock roles choose the rock classes: with rock = [7] only, image B has none.
    write_run_json(run, helheim_config(), scheme=dict(GLACIER_SCHEME.to_dict(), rock=[7]))
    table = valley_margin_table(runs, vm_dir)
    assert dict(zip(table["Statistic"], table["Error_m"]))["Mean"] == pytest.approx(20.0)
    assert (table["Count"] == 150).all()

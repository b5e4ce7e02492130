"""Run folders as the published scripts wrote them, read by every results script of Batch/.

A published run folder (``<OutFolder>_patch<k>/``, no run.json, no summary.csv) holds per
image: ``OvPdat_<stem>_<exp>.npz`` with one int32 array ``arr_0`` (n, 3) of truth, CNN and CSC
labels; ``CNN_<stem>_<exp>.csv`` and ``CSC_<stem>_<exp>.csv`` reports (columns Class,
Precision, Recall, F1_score, Support; classes by number); ``<stem>_cfdistances.npy``;
``<stem>_classified.tif`` (a plain GDAL GeoTIFF, no colour table); the figure
``CSC_<exp>_<stem>.png``. The scripts are called in-process through their entry functions.
"""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from seeice.config.runner import run_script

from repo_paths import REPO
from results_helpers import (CNN, CNN_GLACIER, CNN_WEIGHTED, CSC, CSC_WEIGHTED, FRONT_A, FRONT_B,
                             FRONT_STATS, TRUTH, ZERO_ROWS, is_png, rock_rasters, write_geotiff)

HEL = "Hel_VGG16_50_RGBNIR_fp16_patch7"
JAK = "Jak_VGG16_joint_75_RGB_patch3"

PUBLISHED_REPORT = """Class,Precision,Recall,F1_score,Support
1,1.000,0.500,0.667,2.0
4,0.750,1.000,0.857,3.0
7,1.000,1.000,1.000,1.0
Accuracy,NaN,NaN,0.833,6.0
Macro_avg,0.917,0.833,0.841,6.0
Weighted_avg,0.875,0.833,0.817,6.0
"""


def published_run(root: Path, name: str, exp: str, stems: tuple[str, str]) -> Path:
    """The known example (results_helpers) split over two images, in the published formats."""
    run = root / name
    run.mkdir(parents=True)
    rows = (list(zip(TRUTH[:3], CNN[:3], CSC[:3])) + ZERO_ROWS[:2],
            ZERO_ROWS[2:] + list(zip(TRUTH[3:], CNN[3:], CSC[3:])))
    for stem, part, front in zip(stems, rows, (FRONT_A, FRONT_B)):
        # np.savez_compressed(DATname, DAT): one positional int32 array
        np.savez_compressed(run / f"OvPdat_{stem}_{exp}.npz", np.array(part, dtype=np.int32))
        for prefix in ("CNN", "CSC"):
            (run / f"{prefix}_{stem}_{exp}.csv").write_text(PUBLISHED_REPORT, encoding="utf-8")
        np.save(run / f"{stem}_cfdistances", np.array(front))   # np.save adds .npy
        (run / f"CSC_{exp}_{stem}.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    classes, _ = rock_rasters()
    write_geotiff(run / f"{stems[0]}_classified.tif", classes)
    return run


@pytest.fixture
def published(tmp_path):
    runs, vm_dir, joint = tmp_path / "FullData", tmp_path / "VMrasters", tmp_path / "JointTrain"
    hel = published_run(runs, HEL, "HelS2k7", ("S2_hel_a", "S2_hel_b"))
    jak = published_run(runs, JAK, "Jak_k3", ("S2_jak_1", "S2_jak_3"))
    vm_dir.mkdir()
    _, margin = rock_rasters()
    write_geotiff(vm_dir / "VM_S2_hel_a.tif", margin)
    joint.mkdir()
    for name in ("S2_jak_1.tif", "SCLS_S2_jak_1.tif"):
        (joint / name).write_bytes(b"x")
    return runs, vm_dir, joint, hel, jak


def call(script: str, *args) -> int:
    """Run ``Batch/<script>`` in-process through its entry function; its exit status."""
    path = REPO / "Batch" / script
    main = runpy.run_path(str(path), run_name="published_runs_test")["main"]
    with pytest.raises(SystemExit) as exit_info:
        run_script(path, main, [str(a) for a in args])
    return exit_info.value.code


def test_build_data_frame_reads_published_runs(published, tmp_path, capsys):
    runs, vm_dir, _, hel, jak = published
    out = tmp_path / "tables" / "FinalDataFrame.csv"
    assert call("BuildDataFrame.py", runs, "--out", out, "--subsample", 0) == 0
    assert "2 run folder(s) without run.json read as published" in capsys.readouterr().err
    table = pd.read_csv(out)
    assert len(table) == 8
    for name, meta in ((HEL, (7, 50, "NIR_RGB", "Single", "Helheim", "Seen")),
                       (JAK, (3, 75, "RGB", "Joint", "Jakobshavn", "Unseen"))):
        rows = table[table["Run"] == name].set_index(["CSC_Phase", "F1_Class"])
        assert rows.loc[(1, "All"), "F1"] == pytest.approx(CNN_WEIGHTED)
        assert rows.loc[(1, "Glacier"), "F1"] == pytest.approx(CNN_GLACIER)
        assert rows.loc[(2, "All"), "F1"] == pytest.approx(CSC_WEIGHTED)
        assert rows.loc[(2, "Glacier"), "F1"] == pytest.approx(4 / 5)
        assert (rows["N_Pixels"] == 6).all()
        first = rows.iloc[0]
        assert (first.Patch_Size, first.Tile_Size, first.Bands, first.CNN_Training,
                first.Glacier, first.Validation) == meta

    front = tmp_path / "front.csv"
    assert call("BuildDataFrame.py", runs, "--out", front, "--calving", "--mode-bin", 0) == 0
    front = pd.read_csv(front)
    for name in (HEL, JAK):
        stats = front[front["Run"] == name].set_index("Statistic")["Error_m"].to_dict()
        assert stats == pytest.approx(FRONT_STATS)

    vm = tmp_path / "vm.csv"
    assert call("BuildDataFrame.py", runs, "--out", vm, "--valley-margin", vm_dir) == 0
    vm = pd.read_csv(vm)
    assert vm["Run"].unique().tolist() == [HEL]
    assert vm["Error_m"].tolist() == pytest.approx([20.0, 20.0, 20.0, 0.0])
    assert np.all(np.load(hel / "valley_margins" / "S2_hel_a_vmdistances.npy") == 20.0)
    # the published front readers pool every *.npy of a run folder: still only front distances
    assert sorted(p.name for p in hel.glob("*.npy")) == ["S2_hel_a_cfdistances.npy",
                                                          "S2_hel_b_cfdistances.npy"]
    assert not (hel / "run.json").exists() and not (jak / "run.json").exists()


def test_folder_f1_error_histogram_and_sweep_summary_read_published_runs(published, tmp_path,
                                                                          capsys):
    runs, _, _, hel, _ = published
    assert call("FolderF1.py", hel, "--subsample", 0) == 0
    report = pd.read_csv(hel / "folder_f1.csv")
    weighted = report[report["Class"] == "Weighted_avg"].set_index("CSC_Phase")["F1_score"]
    assert weighted.to_dict() == pytest.approx({1: CNN_WEIGHTED, 2: CSC_WEIGHTED}, abs=5e-4)
    assert report[report["CSC_Phase"] == 1]["Class"].tolist()[:3] == \
        ["open water", "glacier ice", "rock"]

    capsys.readouterr()
    assert call("ErrorHistogram.py", hel, "--mode-bin", 0) == 0
    assert is_png(hel / "error_histogram.png")
    assert "100.0 % of errors under 100 m" in capsys.readouterr().err
    assert not list(hel.glob("error_histogram_*.png"))   # no error over 1000 m

    assert call("SweepSummary.py", runs, "--out", tmp_path / "sweep.png") == 0
    assert is_png(tmp_path / "sweep.png")


def test_clear_joint_acts_on_a_published_run_named_as_joint(published):
    runs, _, joint, hel, jak = published
    before = {p for p in runs.rglob("*") if p.is_file()}
    assert call("ClearJoint.py", runs, "--joint-images", joint, "--joint-runs", JAK) == 0
    gone = before - {p for p in runs.rglob("*") if p.is_file()}
    assert gone == {jak / n for n in ("OvPdat_S2_jak_1_Jak_k3.npz", "CNN_S2_jak_1_Jak_k3.csv",
                                      "CSC_S2_jak_1_Jak_k3.csv", "CSC_Jak_k3_S2_jak_1.png",
                                      "S2_jak_1_cfdistances.npy", "S2_jak_1_classified.tif")}

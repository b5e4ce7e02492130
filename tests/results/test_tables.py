"""Classification and calving-front tables over folders of hand-made CSC runs (seeice.results.tables)."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from seeice.classes import GLACIER_SCHEME
from seeice.errors import DataError, InputFileError
from seeice.metrics.distances import STATISTICS
from seeice.results.tables import (CALVING_COLUMNS, CLASSIFICATION_COLUMNS, DISTANCE_COLUMNS,
                                   calving_table, classification_table,
                                   pool_labels)

from results_helpers import (CNN, CNN_GLACIER, CNN_WEIGHTED, CSC, CSC_GLACIER, CSC_WEIGHTED, FRONT_A, FRONT_B,
                             FRONT_STATS, TRUTH, helheim_config, known_run, write_ovpdat)


def test_classification_table_known_f1_and_metadata(tmp_path):
    known_run(tmp_path, config=helheim_config(), training={"joint": True})
    table = classification_table(tmp_path, subsample=None)

    assert list(table.columns) == list(CLASSIFICATION_COLUMNS)
    assert len(table) == 4
    by_key = {(int(r.CSC_Phase), r.F1_Class): r.F1 for r in table.itertuples()}
    assert by_key[(1, "All")] == pytest.approx(CNN_WEIGHTED)
    assert by_key[(1, "Glacier")] == pytest.approx(CNN_GLACIER)
    assert by_key[(2, "All")] == pytest.approx(CSC_WEIGHTED)
    assert by_key[(2, "Glacier")] == pytest.approx(CSC_GLACIER)
    row = table.iloc[0]
    assert (row.Patch_Size, row.Tile_Size, row.Bands, row.CNN_Training, row.Glacier,
            row.Validation, row.Run) == (7, 50, "NIR_RGB", "Joint", "Helheim", "Seen",
                                         "Sweep_patch7")
    assert (table["N_Pixels"] == len(TRUTH)).all()  # the four zero rows are gone


def test_pool_labels_drops_every_zero_label(tmp_path):
    run = known_run(tmp_path)
    truth, cnn, csc = pool_labels(run, subsample=None)
    assert sorted(zip(truth, cnn, csc)) == sorted(zip(TRUTH, CNN, CSC))
    assert truth.dtype == np.uint8 and truth.min() > 0 and cnn.min() > 0 and csc.min() > 0


def test_glacier_f1_uses_the_schemes_glacier_class(tmp_path):
    scheme = dict(GLACIER_SCHEME.to_dict(), glacier=1)
    known_run(tmp_path, config=helheim_config(), scheme=scheme)
    table = classification_table(tmp_path, subsample=0)
    glacier = table[table["F1_Class"] == "Glacier"].set_index("CSC_Phase")["F1"]
    # Class 1: CNN P=1, R=1/2 -> 2/3; CSC P=1/2, R=1 -> 2/3.
    assert glacier[1] == pytest.approx(2 / 3)
    assert glacier[2] == pytest.approx(2 / 3)


def test_subsample_is_seeded_and_caps_the_count(tmp_path):
    rng = np.random.default_rng(5)
    run = tmp_path / "Hel_50_RGB_patch3"
    run.mkdir()
    labels = rng.integers(0, 8, size=(3, 2000))
    write_ovpdat(run, "img", "Xk3", *labels)
    n_nonzero = int(np.all(labels != 0, axis=0).sum())

    a = pool_labels(run, subsample=100, seed=1)
    b = pool_labels(run, subsample=100, seed=1)
    c = pool_labels(run, subsample=100, seed=2)
    assert len(a[0]) == 100
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert not all(np.array_equal(x, y) for x, y in zip(a, c))
    assert len(pool_labels(run, subsample=None)[0]) == n_nonzero
    assert len(pool_labels(run, subsample=10 * n_nonzero)[0]) == n_nonzero

    table = classification_table(tmp_path, subsample=100, seed=1)
    assert (table["N_Pixels"] == 100).all()
    again = classification_table(tmp_path, subsample=100, seed=1)
    pd.testing.assert_frame_equal(table, again)


def test_four_rows_per_run_over_several_runs(tmp_path):
    known_run(tmp_path, "Hel_VGG16_50_RGBNIR_patch7", exp="Hk7")
    known_run(tmp_path, "Jak_VGG16_joint_75_RGB_patch3", exp="Jk3")
    (tmp_path / "notes").mkdir()  # a folder without results is not a run
    table = classification_table(tmp_path, subsample=None)
    assert table.groupby("Run").size().to_dict() == {"Hel_VGG16_50_RGBNIR_patch7": 4,
                                                     "Jak_VGG16_joint_75_RGB_patch3": 4}
    jak = table[table["Run"].str.startswith("Jak")].iloc[0]
    assert (jak.Patch_Size, jak.Tile_Size, jak.Bands, jak.CNN_Training, jak.Glacier,
            jak.Validation) == (3, 75, "RGB", "Joint", "Jakobshavn", "Unseen")


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(InputFileError, match="does not exist"):
        classification_table(tmp_path / "missing")
    with pytest.raises(DataError, match="no CSC runs"):
        classification_table(tmp_path)
    run = known_run(tmp_path)
    (run / "run.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DataError, match="not valid JSON"):
        classification_table(tmp_path)
    (run / "run.json").unlink()
    np.savez(run / "OvPdat_imgC_HelS2k7.npz", truth=np.ones(3, np.uint8))
    with pytest.raises(DataError, match="neither 'truth', 'cnn' and 'csc'"):
        classification_table(tmp_path)
    np.savez(run / "OvPdat_imgC_HelS2k7.npz", np.ones((3, 2), np.int32))
    with pytest.raises(DataError, match=r"arr_0 has shape \(3, 2\)"):
        classification_table(tmp_path)


def test_a_single_run_folder_can_be_given(tmp_path):
    run = known_run(tmp_path, "Hel_50_NIR_patch7")
    table = classification_table(run, subsample=None)
    assert len(table) == 4 and set(table["Run"]) == {"Hel_50_NIR_patch7"}


def test_calving_table_pools_a_runs_front_distances(tmp_path):
    run = known_run(tmp_path, config=helheim_config(), training={"joint": False})
    np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A))
    np.save(run / "imgB_cfdistances.npy", np.array(FRONT_B))
    table = calving_table(tmp_path)
    assert list(table.columns) == list(CALVING_COLUMNS)
    assert list(table.columns[:len(DISTANCE_COLUMNS)]) == list(DISTANCE_COLUMNS)
    # Without the predicted-to-manual distances there is no MDE, and no guess.
    assert table["Front_MDE_m"].isna().all()
    assert list(table["Statistic"]) == list(STATISTICS)
    assert dict(zip(table["Statistic"], table["Error_m"])) == pytest.approx(FRONT_STATS)
    assert (table["Count"] == 6).all()
    row = table.iloc[0]
    assert (row.Run, row.Patch_Size, row.Tile_Size, row.Bands, row.CNN_Training, row.Glacier,
            row.Validation) == ("Sweep_patch7", 7, 50, "NIR_RGB", "Single", "Helheim", "Seen")


def test_error_over_1000m_is_warned(tmp_path, caplog):
    good = tmp_path / "Hel_50_RGB_patch3"
    bad = tmp_path / "Jak_50_RGB_patch3"
    for run in (good, bad):
        run.mkdir()
        np.save(run / "img1_cfdistances.npy", np.array([5.0, 1000.0]))
    np.save(bad / "img2_cfdistances.npy", np.array([5.0, 1500.0]))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        table = calving_table(tmp_path)
    warnings = [r.getMessage() for r in caplog.records if "catastrophic" in r.getMessage()]
    assert len(warnings) == 1
    assert "Jak_50_RGB_patch3" in warnings[0] and "img2" in warnings[0] and "1500" in warnings[0]
    assert len(table) == 8


def test_calving_table_adds_the_pooled_mean_distance_error(tmp_path):
    run = known_run(tmp_path, config=helheim_config(), training={"joint": False})
    np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A))          # 0, 14, 10
    np.save(run / "imgA_cfdistances_predicted.npy", np.array([20.0]))
    np.save(run / "imgB_cfdistances.npy", np.array(FRONT_B))          # 22, 34, 10
    np.save(run / "imgB_cfdistances_predicted.npy", np.array([30.0, 0.0]))
    pd.DataFrame({"Image": ["imgA", "imgB", "imgC", "imgD", "imgE"],
                  "Front_found": [True, True, False, False, False],
                  "Manual_front": [True, True, True, False, True],
                  "Error": ["", "", "", "", "too small"]}).to_csv(run / "summary.csv",
                                                                  index=False)
    table = calving_table(tmp_path)
    # One-directional statistics unchanged; the MDE pools both directions of both images:
    # (0 + 14 + 10 + 20 + 22 + 34 + 10 + 30 + 0) / 9 = 140 / 9.
    assert dict(zip(table["Statistic"], table["Error_m"])) == pytest.approx(FRONT_STATS)
    assert table["Front_MDE_m"].tolist() == pytest.approx([140 / 9] * 4)
    assert (table["MDE_Count"] == 9).all()
    # imgC had a manual front and no predicted one; imgD no manual front; imgE failed.
    assert (table["Images_no_front"] == 1).all()

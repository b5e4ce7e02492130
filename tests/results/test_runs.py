"""Run metadata from run.json, with fallbacks to the folder name (seeice.results.runs)."""

from __future__ import annotations

import json
import logging

import pytest

from seeice.results.runs import run_metadata

from results_helpers import helheim_config, write_ovpdat, write_run_json


@pytest.mark.parametrize("name, expected", [
    ("Hel_patch7_50_NIR_joint_patch7", (7, 50, "NIR_RGB", "Joint", "Helheim", "Seen")),
    ("Jak_VGG16_joint_50_RGBNIR_fp16_patch7", (7, 50, "NIR_RGB", "Joint", "Jakobshavn", "Unseen")),
    ("Sto_VGG16_100_RGB_patch15", (15, 100, "RGB", "Single", "Store", "Unseen")),
    ("Sto_S2_20200701_75_RGB_k5", (5, 75, "RGB", "Single", "Store", "Unseen")),
    ("Hel_unseen_75_RGB_patch1", (1, 75, "RGB", "Single", "Helheim", "Unseen")),
])
def test_folder_name_fallback(tmp_path, name, expected):
    run = tmp_path / name
    run.mkdir()
    meta = run_metadata(run)
    keys = ("patch_size", "tile_size", "bands", "cnn_training", "glacier", "validation")
    assert tuple(meta[k] for k in keys) == expected


def test_unknown_fields_are_reported(tmp_path, caplog):
    run = tmp_path / "results_patch3"
    run.mkdir()
    with caplog.at_level(logging.WARNING, logger="seeice"):
        meta = run_metadata(run)
    assert meta["glacier"] is None and meta["validation"] == "Unknown" and meta["patch_size"] == 3
    assert "glacier" in caplog.text and "validation" in caplog.text


def test_run_json_fallbacks_glacier_from_predict_path_and_bands_from_model(tmp_path, caplog):
    run = tmp_path / "sweepA_patch5"
    run.mkdir()
    config = {"PredictPath": "Data/Kangerlussuaq", "Kernel_size": 5, "Ndims": 3,
              "Experiment": "K"}
    write_run_json(run, config, training={"fine_tuned_from": "Models/base.keras"})
    record = json.loads((run / "run.json").read_text())
    record["model"]["bands"] = 3
    record["model"]["tile_size"] = 100
    (run / "run.json").write_text(json.dumps(record))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        meta = run_metadata(run)
    assert meta == {"patch_size": 5, "tile_size": 100, "bands": "RGB", "cnn_training": "Joint",
                    "glacier": "Kangerlussuaq", "validation": "Unknown"}
    assert "validation" in caplog.text


def test_validation_derived_from_training_images(tmp_path):
    run = tmp_path / "Hel_run_patch7"
    run.mkdir()
    write_ovpdat(run, "S2_2019_hel", "HelS2k7", [1], [1], [1])
    config = helheim_config()
    del config["Validation"]
    write_run_json(run, config, training={"images": ["S2_2019_hel.tif"]})
    assert run_metadata(run)["validation"] == "Seen"
    write_run_json(run, config, training={"images": ["S2_2017_hel.tif"]})
    assert run_metadata(run)["validation"] == "Unseen"
    write_run_json(run, dict(config, Validation="unseen"), training={"images": ["S2_2019_hel"]})
    assert run_metadata(run)["validation"] == "Unseen"  # the config key wins


def test_unknown_validation_advice_names_a_fix_that_exists(tmp_path, caplog):
    """CSC.py has no Validation input: the advice is a seen/unseen word in the folder name."""
    from seeice.config.inputs import parse_header
    from repo_paths import REPO

    csc_inputs = {s.name for s in parse_header(
        (REPO / "CSC_Application" / "CSC.py").read_text(encoding="utf-8"))[1]}
    run = tmp_path / "sweepA_patch5"
    run.mkdir()
    write_run_json(run, {"PredictPath": "Data/Kangerlussuaq", "Kernel_size": 5, "Ndims": 4})
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert run_metadata(run)["validation"] == "Unknown"
    advice = caplog.text
    if "Validation" not in csc_inputs:
        assert "Validation =" not in advice and "CSC inputs" not in advice
    assert "'unseen'" in advice and "sweepA_unseen_patch5" in advice
    # Following the advice resolves it: the renamed folder is read as Unseen, without a warning.
    renamed = run.rename(tmp_path / "sweepA_unseen_patch5")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert run_metadata(renamed)["validation"] == "Unseen"
    assert "unknown" not in caplog.text

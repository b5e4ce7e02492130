"""Run metadata from run.json, with fallbacks to the folder name (seeice.results.runs)."""

from __future__ import annotations

import json
import logging

import pytest

from seeice.results.describe import run_metadata

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


@pytest.mark.parametrize("name, glacier, validation", [
    ("Storstrommen_VGG16_50_RGB_patch7", None, "Unknown"),   # not Store: Sto is a whole token
    ("Helheimfjord_50_patch7", None, "Unknown"),
    ("Helheim_VGG16_50_patch7", "Helheim", "Seen"),
    ("sweep-jak-2020_50_patch7", "Jakobshavn", "Unseen"),
])
def test_glacier_is_read_from_whole_tokens_only(tmp_path, name, glacier, validation):
    run = tmp_path / name
    run.mkdir()
    meta = run_metadata(run)
    assert (meta["glacier"], meta["validation"]) == (glacier, validation)


@pytest.mark.parametrize("name, bands, training", [
    ("Lunirfjord_50_patch7", "RGB", "Single"),        # "nir" inside a word is no band token
    ("Jak_disjointed_50_patch7", "RGB", "Single"),    # nor is "joint" inside a word
    ("Jak_joint_50_NIR_patch7", "NIR_RGB", "Joint"),
    ("Jak_50_rgbnir_patch7", "NIR_RGB", "Single"),
])
def test_bands_and_training_tokens_are_whole_tokens(tmp_path, name, bands, training):
    run = tmp_path / name
    run.mkdir()
    meta = run_metadata(run)
    assert (meta["bands"], meta["cnn_training"]) == (bands, training)


def test_runs_of_ours_get_the_paper_rule_from_their_folder_name_not_predict_path(tmp_path, caplog):
    # A CSC run without Validation: the paper's rule applies to the folder's glacier token.
    hel = tmp_path / "Hel_sweep_patch7"
    hel.mkdir()
    config = helheim_config(PredictPath="/mnt/storage/images")
    del config["Validation"], config["Glacier"]
    write_run_json(hel, config)
    with caplog.at_level(logging.INFO, logger="seeice"):
        meta = run_metadata(hel)
    assert (meta["glacier"], meta["validation"]) == ("Helheim", "Seen")
    assert "validation Seen (the paper's rule for Helheim" in caplog.text
    assert "glacier Helheim (folder name token 'Hel')" in caplog.text
    # PredictPath is never searched for tokens: /mnt/storage is not Store, /home/helen not Helheim
    for predict in ("/mnt/storage/images", "/home/helen/scenes"):
        run = tmp_path / f"sweep_{len(predict)}_patch7"
        run.mkdir()
        write_run_json(run, dict(config, PredictPath=predict))
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="seeice"):
            meta = run_metadata(run)
        assert meta["glacier"] == predict.rsplit("/", 1)[1]
        assert meta["validation"] == "Unknown"
        assert "--validation seen|unseen" in caplog.text and "Validation" in caplog.text


def test_the_validation_input_wins_over_the_paper_rule(tmp_path):
    run = tmp_path / "Hel_sweep_patch7"
    run.mkdir()
    write_run_json(run, helheim_config(Validation="unseen"))
    assert run_metadata(run)["validation"] == "Unseen"
    # a Glacier input that contradicts the folder token: the rule does not apply
    write_run_json(run, {k: v for k, v in helheim_config(Glacier="Petermann").items()
                         if k != "Validation"})
    meta = run_metadata(run)
    assert (meta["glacier"], meta["validation"]) == ("Petermann", "Unknown")

"""Runs complete or marked: run.json records the run's status and its finished images, and every
results reader reads only complete runs and images (DESIGN 10.2). ClearJoint decides from
run.json, never from folder names.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from results_helpers import (
    FRONT_A,
    FRONT_B,
    TRUTH,
    full_run,
    helheim_config,
    joint_runs,
    known_run,
    per_image,
    write_run_json,
)

from seeice.errors import ConfigError, DataError, InputFileError
from seeice.results.cleanup import clear_joint
from seeice.results.completeness import require_complete_run
from seeice.results.tables import calving_table, classification_table, pool_labels


def set_fields(run: Path, **fields) -> None:
    record = json.loads((run / "run.json").read_text(encoding="utf-8"))
    record.update(fields)
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


# --------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------

def test_an_unfinished_run_is_skipped_by_name(tmp_path, caplog):
    known_run(tmp_path, "Hel_done_patch7", config=helheim_config())
    running = known_run(tmp_path, "Hel_killed_patch7", config=helheim_config())
    set_fields(running, status="running")
    with caplog.at_level(logging.INFO, logger="seeice"):
        table = classification_table(tmp_path, subsample=None)
    assert set(table["Run"]) == {"Hel_done_patch7"}
    skipped = [w for w in warnings_of(caplog) if "Hel_killed_patch7" in w]
    assert len(skipped) == 1 and "status 'running'" in skipped[0] and "Rerun" in skipped[0]


def test_a_run_json_without_status_is_not_taken_as_complete(tmp_path, caplog):
    run = known_run(tmp_path, config=helheim_config())
    record = json.loads((run / "run.json").read_text())
    del record["status"]
    (run / "run.json").write_text(json.dumps(record))
    with pytest.raises(DataError, match="no complete CSC run") as caught:
        classification_table(tmp_path)
    assert "no status recorded" in str(caught.value)
    assert '"status": "complete"' in str(caught.value)


def test_a_published_folder_without_run_json_is_read_and_logged_once(tmp_path, caplog):
    known_run(tmp_path, "Hel_VGG16_50_RGBNIR_patch7", exp="Hk7")
    known_run(tmp_path, "Jak_VGG16_50_RGB_patch3", exp="Jk3")
    with caplog.at_level(logging.INFO, logger="seeice"):
        table = classification_table(tmp_path, subsample=None)
    assert table.groupby("Run").size().to_dict() == {"Hel_VGG16_50_RGBNIR_patch7": 4,
                                                     "Jak_VGG16_50_RGB_patch3": 4}
    assert (table["N_Pixels"] == len(TRUTH)).all()
    said = [r.getMessage() for r in caplog.records if "published" in r.getMessage()]
    assert len(said) == 1
    assert "Hel_VGG16_50_RGBNIR_patch7" in said[0] and "Jak_VGG16_50_RGB_patch3" in said[0]


def test_only_the_complete_images_of_a_run_are_pooled(tmp_path, caplog):
    run = known_run(tmp_path, config=helheim_config(),
                    extra={"images": ["imgA.tif", "imgB.tif"], "images_complete": ["imgA.tif"]})
    np.save(run / "imgA_cfdistances.npy", np.array(FRONT_A))
    np.save(run / "imgB_cfdistances.npy", np.array(FRONT_B))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        truth, _, _ = pool_labels(run, subsample=None)
        fronts = calving_table(tmp_path)
    assert truth.size == 3  # imgA holds three scored pixels, imgB (half-written) is left out
    assert (fronts["Count"] == len(FRONT_A)).all()
    named = [w for w in warnings_of(caplog) if "imgB" in w]
    assert named and all("not listed as complete" in w for w in named)


def test_a_file_left_from_an_earlier_run_is_not_read(tmp_path, caplog):
    run = known_run(tmp_path, config=helheim_config(),
                    extra={"images": ["imgA.tif", "imgB.tif"],
                           "images_complete": ["imgA.tif", "imgB.tif"]})
    np.savez(run / "OvPdat_old_HelS2k7.npz", truth=np.ones(50, np.uint8),
             cnn=np.ones(50, np.uint8), csc=np.ones(50, np.uint8))
    with caplog.at_level(logging.WARNING, logger="seeice"):
        truth, _, _ = pool_labels(run, subsample=None)
    assert truth.size == len(TRUTH)
    assert any("OvPdat_old_HelS2k7.npz" in w for w in warnings_of(caplog))


def test_error_histogram_refuses_an_unfinished_run(tmp_path):
    run = known_run(tmp_path, config=helheim_config())
    set_fields(run, status="interrupted")
    with pytest.raises(DataError, match="unfinished") as caught:
        require_complete_run(run)
    assert "Rerun it" in str(caught.value)
    set_fields(run, status="complete")
    assert require_complete_run(run)["status"] == "complete"


# --------------------------------------------------------------------------------------------
# run.json written by run_csc
# --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from csc_helpers import tiny_tile_model

    return tiny_tile_model(tmp_path_factory.mktemp("model"), name="tiny")


def stand_in_csc(monkeypatch, interrupt_at: str | None = None, seen: list | None = None):
    """Replace the per-image CSC by a stand-in writing two outputs per image."""
    from seeice.pipeline import image_csc

    def classify(image_path, model, metadata, scheme, settings, timer=None):
        out = settings.out_dir
        if seen is not None:
            seen.append(json.loads((out / "run.json").read_text()))
        stem = image_path.stem
        np.savez(out / f"OvPdat_{stem}_{settings.experiment_name}.npz",
                 truth=np.ones(4, np.uint8), cnn=np.ones(4, np.uint8), csc=np.ones(4, np.uint8))
        if image_path.name == interrupt_at:
            raise KeyboardInterrupt  # Ctrl-C with one of the image's outputs written
        np.save(out / f"{stem}_cfdistances.npy", np.array([10.0]))
        return {"Image": stem, "CNN_F1": 1.0, "CSC_F1": 1.0, "Front_found": True, "Error": ""}

    monkeypatch.setattr(image_csc, "classify_image", classify)


def csc_config(tiny_model, tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.tif", "b.tif", "c.tif"):
        (images / name).write_bytes(b"not read by the stand-in")
    return {"ModelName": str(tiny_model), "PredictPath": str(images),
            "ScorePath": str(tmp_path / "runs" / "Run"), "Experiment": "T", "Ndims": 4,
            "Kernel_size": 1, "size": 32, "Progress": False}


def test_run_json_is_running_first_and_complete_last(tiny_model, tmp_path, monkeypatch):
    from seeice.pipeline.csc import run_csc

    seen = []
    stand_in_csc(monkeypatch, seen=seen)
    run = run_csc(csc_config(tiny_model, tmp_path))
    assert [r["status"] for r in seen] == ["running"] * 3
    assert [r["images_complete"] for r in seen] == [[], ["a.tif"], ["a.tif", "b.tif"]]
    record = json.loads((run.out_dir / "run.json").read_text())
    assert record["status"] == "complete" and record["images_complete"] == ["a.tif", "b.tif",
                                                                           "c.tif"]
    assert "job" not in record  # a run of CSC.py belongs to no sweep job
    assert (classification_table(run.out_dir.parent)["N_Pixels"] == 12).all()


def test_ctrl_c_marks_the_run_and_names_the_image_in_progress(tiny_model, tmp_path, monkeypatch,
                                                             caplog):
    from seeice.pipeline.csc import run_csc

    stand_in_csc(monkeypatch, interrupt_at="b.tif")
    config = csc_config(tiny_model, tmp_path)
    with caplog.at_level(logging.ERROR, logger="seeice"), pytest.raises(KeyboardInterrupt):
        run_csc(config)
    out = Path(f"{config['ScorePath']}_patch1")
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "interrupted" and record["interrupted_image"] == "b.tif"
    assert record["images_complete"] == ["a.tif"]
    message = caplog.text
    assert "Interrupted during b.tif" in message and "may be partly written" in message
    assert "was not written" not in message
    # The half-written image's file is there, and the results readers skip the whole run.
    assert (out / "OvPdat_b_Tk1.npz").is_file()
    with pytest.raises(DataError, match="no complete CSC run"):
        classification_table(out.parent)


def test_the_general_interrupt_message_does_not_claim_nothing_was_written(tmp_path, capsys):
    from seeice.config.runner import run_script

    script = tmp_path / "Stop.py"
    script.write_text('"""Stops."""\n# ==== USER INPUTS ====\nX = 1  # --x: a value\n'
                      "# ==== END OF USER INPUTS ====\n", encoding="utf-8")

    def main(cfg):
        raise KeyboardInterrupt

    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with pytest.raises(SystemExit) as stop:
            run_script(script, main, argv=[])
    finally:  # run_script replaces the root logger's handlers; give pytest's back
        root.handlers[:] = handlers
        root.setLevel(level)
    assert stop.value.code == 130
    stderr = capsys.readouterr().err  # run_script sets up its own logging to stderr
    assert "was not written" not in stderr and "may have left part of its outputs" in stderr


# --------------------------------------------------------------------------------------------
# ClearJoint
# --------------------------------------------------------------------------------------------

def test_clear_joint_reads_run_json_not_the_folder_name(tmp_path):
    runs, joint = tmp_path / "runs", tmp_path / "joint_images"
    joint.mkdir()
    (joint / "img1.tif").write_bytes(b"x")
    single = full_run(runs, "Jointbreen_patch1", "Jk1", ["img1", "img2"],
                      config={"Experiment": "J", "Kernel_size": 1, "size": 50},
                      training={"tensor": "Jointbreen_T_float16.npy", "max_epochs": 10})
    before = {p: p.read_bytes() for p in single.iterdir()}
    assert clear_joint(runs, joint) == []
    assert {p: p.read_bytes() for p in single.iterdir()} == before


def test_clear_joint_acts_on_a_published_folder_only_when_named(tmp_path, caplog):
    runs, joint, with_json, by_name, single = joint_runs(tmp_path)
    with caplog.at_level(logging.INFO, logger="seeice"):
        removed = set(clear_joint(runs, joint))
    assert removed == per_image(with_json, "img1", "Jk7") | per_image(with_json, "img2", "Jk7")
    assert per_image(by_name, "img1", "Jak_k3") <= {p for p in by_name.iterdir()}
    assert "only when --joint-runs names it" in caplog.text
    removed = set(clear_joint(runs, joint, joint_runs=[by_name.name]))
    assert removed == per_image(by_name, "img1", "Jak_k3") | per_image(by_name, "img2", "Jak_k3")
    assert len(list(single.iterdir())) == 4 * 6 + 1  # untouched


def test_clear_joint_refuses_a_named_run_that_run_json_calls_single(tmp_path):
    runs, joint, _, _, single = joint_runs(tmp_path)
    write_run_json(single, {"Experiment": "Jak_", "Kernel_size": 3}, training={"joint": False})
    before = {p for p in runs.rglob("*") if p.is_file()}
    with pytest.raises(ConfigError) as caught:
        clear_joint(runs, joint, joint_runs=[single.name, "Nowhere_patch3"])
    message = str(caught.value)
    assert "nothing was removed" in message
    assert f"remove {single.name} from --joint-runs" in message
    assert "Nowhere_patch3, not a run folder" in message
    assert {p for p in runs.rglob("*") if p.is_file()} == before


def test_clear_joint_skips_an_unfinished_run(tmp_path, caplog):
    runs, joint, with_json, _, _ = joint_runs(tmp_path)
    set_fields(with_json, status="running")
    with caplog.at_level(logging.WARNING, logger="seeice"):
        assert clear_joint(runs, joint) == []
    assert "sweep_patch7" in caplog.text and "unfinished" in caplog.text
    assert pd.read_csv(with_json / "summary.csv")["Image"].tolist() == ["img1", "img10", "img2",
                                                                       "img3"]


def test_a_missing_run_folder_is_refused_not_read_as_a_published_run(tmp_path):
    with pytest.raises(InputFileError, match="does not exist. Give one CSC run folder"):
        require_complete_run(tmp_path / "Sto_patch7")

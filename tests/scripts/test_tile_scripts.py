"""Phase-one data scripts: TilePreparation -> ThinTiles -> CompileTensor end to end."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np

from tiling_helpers import halves_labels, random_image, write_pair
from repo_paths import REPO

SCRIPTS = REPO / "Phase_1_CNN"


def _run(script: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPTS / script), *args], capture_output=True,
                          text=True, timeout=300)


def test_scripts_end_to_end(tmp_path):
    images = tmp_path / "images"
    labels = halves_labels(40, 60)
    labels[:, 30:] = 3
    write_pair(images, "S2_scene", random_image(40, 60, bands=4), labels)
    tiles = tmp_path / "tiles"
    proc = _run("TilePreparation.py", "--images", str(images), "--out", str(tiles),
                "--tile-size", "10", "--stride", "5", "--valid-fraction", "0.2")
    assert proc.returncode == 0, proc.stderr
    run = json.loads((tiles / "run.json").read_text())
    assert run["script"] == "TilePreparation.py" and run["config"]["TileSize"] == 10
    # Classes 1 and 2: 3 window rows x 5 columns; class 3 (right half): 7 x 5. A fifth of
    # each class's source tiles goes to Valid/; every tile is written in 8 copies (dihedral).
    assert run["tiles_per_class"]["Train"] == {"C1": 96, "C2": 96, "C3": 224}
    assert run["tiles_per_class"]["Valid"] == {"C1": 24, "C2": 24, "C3": 56}

    proc = _run("ThinTiles.py", "--folder", str(tiles), "--per-class", "20", "--dry-run")
    assert proc.returncode == 0 and "Dry run" in proc.stderr
    assert len(list((tiles / "Train" / "C1").glob("*.tif"))) == 96
    proc = _run("ThinTiles.py", "--folder", str(tiles), "--per-class", "20")
    assert proc.returncode == 0, proc.stderr
    assert [len(list((tiles / "Train" / f"C{k}").glob("*.tif"))) for k in (1, 2, 3)] == [20] * 3

    proc = _run("CompileTensor.py", "--folder", str(tiles), "--name", "demo", "--tile-size",
                "10", "--bands", "4", "--classes", "3", "--mode", "uint8float16")
    assert proc.returncode == 0, proc.stderr
    x = np.load(tiles / "demo_T_uint8float16.npy")
    y = np.load(tiles / "demo_L_uint8float16.npy")
    assert x.shape == (60, 10, 10, 4) and x.dtype == np.float16
    assert np.bincount(y).tolist() == [0, 20, 20, 20]
    meta = json.loads((tiles / "demo_uint8float16.json").read_text())
    assert meta["input_scale"] == 16384.0 and meta["script"] == "CompileTensor.py"

    # A user error: a one-paragraph message and exit status 2, no traceback.
    proc = _run("CompileTensor.py", "--folder", str(tiles), "--name", "bad", "--bands", "3",
                "--tile-size", "10", "--classes", "3")
    assert proc.returncode == 2
    assert "RasterError" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tiles / "bad_T_float16.npy").exists()

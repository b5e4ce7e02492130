"""Bad inputs of phase one (TilePreparation, CompileTensor, ThinTiles, TrainCNN,
FineTuneCNN): each refused with exit 2 and a message naming the problem and the fix, before
any tile, tensor or model is written.
"""

from __future__ import annotations

import numpy as np
import pytest
from rasterio.crs import CRS

from bad_input_helpers import rewrite_companion, run_entry, snapshot
from tiling_helpers import halves_labels, random_image, write_pair, write_tile_folder

TILES = "Phase_1_CNN/TilePreparation.py"
COMPILE = "Phase_1_CNN/CompileTensor.py"
THIN = "Phase_1_CNN/ThinTiles.py"
TRAIN = "Phase_1_CNN/TrainCNN.py"
FINE = "Phase_1_CNN/FineTuneCNN.py"


def _pairs(folder, n=2):
    for i in range(n):
        write_pair(folder, f"img{i}", random_image(40, 60, seed=i), halves_labels())
    return folder


def _with_labels(folder, labels):
    write_pair(folder, "img0", random_image(40, 60), halves_labels())
    write_pair(folder, "img1", random_image(40, 60, seed=1), labels)
    return folder


def _values(*values):
    labels = halves_labels()
    for i, value in enumerate(values):
        labels[i] = value
    return labels


def _spoil(kind):
    def make(folder):
        _pairs(folder)
        path = folder / "SCLS_img1.tif"
        if kind == "shift":
            rewrite_companion(path, shift_px=40)
        elif kind == "crs":
            rewrite_companion(path, crs=CRS.from_epsg(32633))
        elif kind == "size":
            rewrite_companion(path, size=(40, 50))
        elif kind == "truncate":
            rewrite_companion(path, truncate=True)
        return folder
    return make


def _same_stem(folder):
    _pairs(folder)
    write_pair(folder, "img0", random_image(40, 60, dtype=np.uint8, high=255), None,
               georeferenced=False)
    (folder / "img0.tif").rename(folder / "img0.png")
    write_pair(folder, "img0", random_image(40, 60, seed=0), halves_labels())
    return folder


def _no_labels(folder):
    write_pair(folder, "img0", random_image(40, 60), None)
    return folder


#: case -> (make the image folder, extra arguments, error kind, phrases)
TILE_CASES = {
    "images-missing": (None, [], "InputFileError", ["images does not exist", "Check the path",
                                                    "--images"]),
    "no-class-rasters": (_no_labels, [], "InputFileError",
                         ["has an SCLS_<image stem> class raster", "Put each image's class raster next to it"]),
    "class-raster-shifted": (_spoil("shift"), [], "RasterError",
                             ["SCLS_img1.tif is not on the grid of img1.tif", "transform differs",
                              "--resize-companions"]),
    "class-raster-other-crs": (_spoil("crs"), [], "RasterError",
                               ["CRS differs", "EPSG:32633", "EPSG:32624"]),
    "class-raster-other-size": (_spoil("size"), [], "RasterError",
                                ["size differs", "40 x 50 px", "40 x 60 px"]),
    "class-raster-truncated": (_spoil("truncate"), [], "RasterError",
                               ["SCLS_img1.tif", "cannot be read", "check that it is not truncated"]),
    "tile-larger-than-image": (_pairs, ["--tile-size", "50"], "ConfigError",
                               ["tile size 50 is larger than", "Use --tile-size 40 or less"]),
    "fill-value-255-as-class": (lambda f: _with_labels(f, _values(*[255] * 10)),
                                ["--tensor", "T", "--classes", "7"], "ConfigError",
                                ["hold class 255 but 7 classes were given",
                                 "no-data or fill value", "do not raise --classes",
                                 "nodata value"]),
    "fill-value-255-without-a-class-count": (lambda f: _with_labels(f, _values(*[255] * 10)),
                                             [], "ConfigError",
                                             ["hold class 255 beside classes 1, 2",
                                              "no-data or fill value", "nodata value"]),
    "classes-8-9-above-the-count": (lambda f: _with_labels(f, _values(*[8] * 10 + [9] * 10)),
                                    ["--tensor", "T", "--classes", "7"], "ConfigError",
                                    ["Use --classes 9 if the scheme has 9 classes"]),
    "stride-zero": (_pairs, ["--stride", "0"], "ConfigError",
                    ["stride must be a positive whole number, got 0"]),
    "valid-fraction-above-one": (_pairs, ["--valid-fraction", "1.5"], "ConfigError",
                                 ["validation fraction must lie in [0, 1), got 1.5",
                                  "Use 0 for no validation tiles"]),
    "two-images-one-stem": (_same_stem, [], "DataError",
                            ["several images with the stem 'img0'", "Keep one image per stem"]),
    "tensor-name-with-folder": (_pairs, ["--tensor", "a/b"], "ConfigError",
                                ["tensor name 'a/b' must be a plain file name"]),
}


@pytest.mark.parametrize("case", sorted(TILE_CASES))
def test_tile_preparation_refuses_before_writing(case, tmp_path):
    make, extra, kind, phrases = TILE_CASES[case]
    images = tmp_path / "images"
    if make is not None:
        make(images)
    before = snapshot(images)
    run_entry(TILES, "--images", images, "--out", tmp_path / "tiles", "--tile-size", "10",
              "--stride", "10", *extra).refused(kind, *phrases)
    assert not (tmp_path / "tiles").exists()
    assert snapshot(images) == before


def test_tile_preparation_resize_companions_cuts_tiles_with_a_warning(tmp_path):
    images = _spoil("shift")(tmp_path / "images")
    outcome = run_entry(TILES, "--images", images, "--out", tmp_path / "tiles", "--tile-size",
                        "10", "--stride", "10", "--resize-companions")
    assert outcome.code == 0 and "Traceback" not in outcome.output
    assert "SCLS_img1.tif is not on the grid of img1.tif" in outcome.text
    assert "--resize-companions: matched by position" in outcome.text
    assert list((tmp_path / "tiles" / "Train").rglob("img1_*.tif"))


def _tile_root(tmp_path, classes):
    write_tile_folder(tmp_path / "tiles", {k: 2 for k in classes}, tile_size=4, bands=3)
    return tmp_path / "tiles"


def _garbage_npy(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    return path


#: case -> (script, make arguments from tmp_path, error kind, phrases)
OTHER_CASES = {
    "compile-fill-value-folder": (
        COMPILE, lambda t: ["--folder", _tile_root(t, (1, 2, 255)), "--tile-size", "4",
                            "--bands", "3"],
        "ConfigError", ["class 255 (C255)", "no-data or fill value", "do not raise --classes",
                        "prepare the tiles again"]),
    "compile-folder-missing": (COMPILE, lambda t: ["--folder", t / "nowhere"], "InputFileError",
                               ["nowhere does not exist", "Give the folder that tile preparation wrote"]),
    "compile-no-tiles": (COMPILE, lambda t: ["--folder", _empty_classes(t), "--classes", "2"],
                         "DataError", ["hold no tiles", "Run tile preparation first"]),
    "compile-subsample-zero": (COMPILE, lambda t: ["--folder", _tile_root(t, (1, 2)),
                                                   "--subsample", "0"],
                               "ConfigError", ["subsample must lie in (0, 1]", "1 keeps every tile"]),
    "thin-folder-missing": (THIN, lambda t: ["--folder", t / "nowhere"], "InputFileError",
                            ["nowhere does not exist", "Give the folder that tile preparation wrote"]),
    "train-tensor-missing": (TRAIN, lambda t: ["--tensor", t / "absent_T_float16.npy",
                                               "--labels", t / "absent_L_float16.npy",
                                               "--out", t / "models"],
                             "InputFileError", ["absent_T_float16.npy not found",
                                                "compile tensors with CompileTensor"]),
    "train-tensor-random-bytes": (TRAIN, lambda t: ["--tensor", _garbage_npy(t / "x_T_float16.npy"),
                                                    "--labels", _garbage_npy(t / "x_L_float16.npy"),
                                                    "--out", t / "models"],
                                  "DataError", ["x_T_float16.npy is not a readable .npy array",
                                                "compile it again with CompileTensor"]),
    "fine-tune-model-random-bytes": (FINE, lambda t: ["--model", _garbage_npy(t / "m.keras"),
                                                      "--out", t / "models"],
                                     "ModelError", ["m.keras is not a Keras model file",
                                                    "damaged or truncated"]),
}


def _empty_classes(tmp_path):
    for k in (1, 2):
        (tmp_path / "empty" / f"C{k}").mkdir(parents=True)
    return tmp_path / "empty"


@pytest.mark.parametrize("case", sorted(OTHER_CASES))
def test_tensor_thinning_and_training_inputs_are_refused_before_writing(case, tmp_path):
    script, make, kind, phrases = OTHER_CASES[case]
    args = make(tmp_path)
    before = snapshot(tmp_path)
    run_entry(script, *args).refused(kind, *phrases)
    assert snapshot(tmp_path) == before
    assert not (tmp_path / "models").exists()

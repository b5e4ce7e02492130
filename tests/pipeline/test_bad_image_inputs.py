"""Bad images for CSC.py and TilePreparation.py: geographic CRS, a contradicting PixelSize, float
pixels without a scale, the wrong pixel type or bands for the model. Each is refused with the
problem and its fix, exit status 2 (whole run) or 1 (that image failed, the others done), no
traceback, and nothing left that looks like a finished result."""

import importlib.util
import json
import logging

import numpy as np
import pandas as pd
import pytest
from csc_helpers import tiny_tile_model
from rasterio.crs import CRS
from rasterio.transform import Affine
from repo_paths import REPO

from seeice.config.runner import run_script
from seeice.errors import DataError, ModelError
from seeice.io.images import probe_image
from seeice.io.model_inputs import check_pixel_kind, check_value_range, model_pixel_kind
from seeice.io.model_metadata import ModelMetadata
from seeice.io.raster import read_image, write_raster
from seeice.io.tiles import source_window

UTM = {"crs": CRS.from_epsg(32624), "transform": Affine(10, 0, 500000, 0, -10, 7400000)}
LONLAT = {"crs": CRS.from_epsg(4326), "transform": Affine(0.0002, 0, -38.2, 0, -0.0001, 66.4)}
SIZE = 64


def _pixels(bands=4, dtype=np.uint16, low=800, high=6000, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(low, high, (SIZE, SIZE, bands)).astype(dtype)


def _labels():
    labels = np.full((SIZE, SIZE), 4, np.uint8)
    labels[:, SIZE // 2:] = 1
    return labels


def _script(relative, argv, capsys):
    """Run a script's entry in-process; return (exit status, stderr)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        with pytest.raises(SystemExit) as stop:
            run_script(path, module.main, argv=[str(a) for a in argv])
    finally:  # run_script replaces the root logger's handlers; give pytest's back
        root.handlers[:] = handlers
        root.setLevel(level)
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return stop.value.code, " ".join(err.split())      # messages are wrapped at 100 columns


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    """A 4-band tile model trained (as its metadata say) on 16-bit DN / 8192."""
    return tiny_tile_model(tmp_path_factory.mktemp("model"), tile_size=32)


def _csc(model, folder, out, *extra):
    return ["--model", model, "--predict", folder, "--out", out, "--tile-size", 32,
            "--patch-size", 1, "--samples", 200, "--patience", 1, "--dpi", 30, *extra]


def _refused_before_any_output(out):
    assert not out.parent.exists() or not list(out.parent.glob(f"{out.name}_patch*"))


def test_csc_refuses_a_geographic_image_naming_the_utm_zone(model, tmp_path, capsys):
    write_raster(tmp_path / "in" / "lonlat.tif", _pixels(), **LONLAT)
    code, err = _script("CSC_Application/CSC.py", _csc(model, tmp_path / "in", tmp_path / "o" / "r"),
                        capsys)
    assert code == 2
    assert "lonlat.tif is in a geographic coordinate system" in err
    assert "EPSG:32624" in err and "MakeComposite" in err
    _refused_before_any_output(tmp_path / "o" / "r")


def test_csc_refuses_a_pixel_size_that_contradicts_the_georeferencing(model, tmp_path, capsys):
    write_raster(tmp_path / "in" / "utm.tif", _pixels(), **UTM)
    code, err = _script("CSC_Application/CSC.py",
                        _csc(model, tmp_path / "in", tmp_path / "o" / "r", "--pixel-size", 30),
                        capsys)
    assert code == 2
    assert "PixelSize (--pixel-size) is 30 m" in err and "pixels of 10 m" in err
    assert "leave it empty" in err
    _refused_before_any_output(tmp_path / "o" / "r")


@pytest.mark.parametrize("value, message", [
    ("ten", "PixelSize (--pixel-size) must be a number such as 10.0"),   # its type
    ("-3", "PixelSize (--pixel-size) must be a positive number")])
def test_csc_pixel_size_must_be_a_positive_number(model, tmp_path, capsys, value, message):
    write_raster(tmp_path / "in" / "utm.tif", _pixels(), **UTM)
    code, err = _script("CSC_Application/CSC.py",
                        _csc(model, tmp_path / "in", tmp_path / "o" / "r", "--pixel-size", value),
                        capsys)
    assert code == 2 and message in " ".join(err.split())


def test_csc_refuses_float_reflectance_without_a_scale(model, tmp_path, capsys):
    write_raster(tmp_path / "in" / "refl.tif", _pixels(dtype=np.float32) / 10000, **UTM)
    code, err = _script("CSC_Application/CSC.py", _csc(model, tmp_path / "in", tmp_path / "o" / "r"),
                        capsys)
    assert code == 2
    assert "refl.tif holds floating-point pixels" in err
    assert "--image-scale 1" in err and "--image-scale 10000" in err
    _refused_before_any_output(tmp_path / "o" / "r")


def test_csc_refuses_an_8_bit_image_for_a_16_bit_model(model, tmp_path, capsys):
    write_raster(tmp_path / "in" / "photo.tif", _pixels(dtype=np.uint8, low=1, high=250), **UTM)
    code, err = _script("CSC_Application/CSC.py", _csc(model, tmp_path / "in", tmp_path / "o" / "r"),
                        capsys)
    assert code == 2
    assert "photo.tif is 8-bit" in err and "trained on 16-bit Sentinel-2 DN" in err
    assert "train a model on 8-bit tiles" in err
    _refused_before_any_output(tmp_path / "o" / "r")


def test_csc_fails_only_the_images_that_do_not_fit_the_model(model, tmp_path, capsys):
    folder = tmp_path / "in"
    write_raster(folder / "a_threeband.tif", _pixels(bands=3), **UTM)
    write_raster(folder / "b_eightbit_in_16.tif", _pixels(low=1, high=200), **UTM)
    write_raster(folder / "c_wrongscale.tif", _pixels(dtype=np.float32) / 10000, **UTM)
    code, err = _script("CSC_Application/CSC.py",
                        _csc(model, folder, tmp_path / "o" / "r", "--image-scale", 10000), capsys)
    assert code == 1 and "3 failed" in err
    out = tmp_path / "o" / "r_patch1"
    errors = dict(pd.read_csv(out / "summary.csv")[["Image", "Error"]].values)
    # one advice naming the image's bands and the model's; never "--bands 3" then "--bands 4"
    assert "has 3 band(s) (band 1 (R), band 2 (G), band 3 (B)) but the model" in errors["a_threeband"]
    assert "band 4 (NIR)" in errors["a_threeband"] and "Use --bands 3" not in errors["a_threeband"]
    assert "never exceed" in errors["b_eightbit_in_16"] and "gdal_translate -ot Byte" in errors["b_eightbit_in_16"]
    assert "use --image-scale 1" in errors["c_wrongscale"]
    assert not list(out.glob("*_classified.*")) and not list(out.glob("CSC_*.png"))
    record = json.loads((out / "run.json").read_text())
    assert not record.get("images_complete")


def test_tile_preparation_refuses_geographic_and_unscaled_float_images(tmp_path, capsys):
    geo = tmp_path / "geo"
    write_raster(geo / "lonlat.tif", _pixels(), **LONLAT)
    write_raster(geo / "SCLS_lonlat.tif", _labels(), **LONLAT)
    code, err = _script("Phase_1_CNN/TilePreparation.py",
                        ["--images", geo, "--out", tmp_path / "tiles", "--tile-size", 16], capsys)
    assert code == 2 and "geographic" in err and "gdalwarp -t_srs EPSG:32624" in err
    assert not (tmp_path / "tiles").exists()
    flt = tmp_path / "flt"
    write_raster(flt / "refl.tif", _pixels(dtype=np.float32) / 10000, **UTM)
    write_raster(flt / "SCLS_refl.tif", _labels(), **UTM)
    code, err = _script("Phase_1_CNN/TilePreparation.py",
                        ["--images", flt, "--out", tmp_path / "tiles", "--tile-size", 16], capsys)
    assert code == 2 and "--image-scale 1 for reflectance 0-1" in err
    assert not (tmp_path / "tiles").exists()


def test_tile_preparation_float_reflectance_with_a_scale_gives_dn_tiles(tmp_path, capsys):
    flt = tmp_path / "flt"
    reflectance = np.full((SIZE, SIZE, 4), 0.25, np.float32)
    write_raster(flt / "refl.tif", reflectance, **UTM)
    write_raster(flt / "SCLS_refl.tif", _labels(), **UTM)
    code, _ = _script("Phase_1_CNN/TilePreparation.py",
                      ["--images", flt, "--out", tmp_path / "tiles", "--tile-size", 16,
                       "--stride", 16, "--image-scale", 1, "--rare-tiles", 0], capsys)
    assert code == 0
    tiles = sorted((tmp_path / "tiles" / "Train").rglob("*.tif"))
    assert tiles
    data = np.stack([read_image(t).data for t in tiles])
    assert data.dtype == np.uint16
    # DN of reflectance 0.25 with the noise of DESIGN 4 in DN: [-10, 10)
    assert data.min() >= 2490 and data.max() <= 2510 and data.std() > 1


@pytest.mark.parametrize("tiling", [["--stride", 4, "--rare-tiles", 0],
                                    ["--stride", 16, "--rare-tiles", 500, "--rare-stride", 4]],
                         ids=["common-stride", "rare-class-stride"])
def test_tile_preparation_never_cuts_a_tile_touching_no_data(tmp_path, capsys, tiling):
    folder = tmp_path / "nd"
    image = _pixels()
    image[20:30, 5:12] = 0                     # a cloud hole
    image[40, 50, 2] = 0                       # 0 in one band: no-data in Sentinel-2 data
    write_raster(folder / "s2.tif", image, nodata=0, **UTM)
    write_raster(folder / "SCLS_s2.tif", _labels(), **UTM)
    code, _ = _script("Phase_1_CNN/TilePreparation.py",
                      ["--images", folder, "--out", tmp_path / "tiles", "--tile-size", 16,
                       *tiling, "--augment", "rotations"], capsys)
    assert code == 0
    names = [source_window(t.name) for t in (tmp_path / "tiles" / "Train").rglob("*.tif")]
    corners = {(row, col) for _, row, col in names}
    assert corners
    for row, col in corners:
        window = image[row:row + 16, col:col + 16]
        assert np.all(window != 0), (row, col)
    # windows over the hole and the one-band zero were dropped, the others kept
    assert (16, 0) not in corners and (28, 40) not in corners and (0, 0) in corners
    if "--rare-stride" in tiling:                  # the rare-class pass added windows too
        assert any(row % 16 or col % 16 for row, col in corners)


def _metadata(norm, source=None):
    return ModelMetadata(base="custom", tile_size=8, bands=4, n_classes=7, norm_factor=norm,
                         training={"source_dtype": source} if source else {})


def test_the_pixel_type_a_model_was_trained_on():
    assert model_pixel_kind(_metadata(8192.0)) == "16-bit"
    assert model_pixel_kind(_metadata(255.0)) == "8-bit"
    assert model_pixel_kind(_metadata(16384 / 255)) == "16-bit"
    assert model_pixel_kind(_metadata(1.0)) is None
    assert model_pixel_kind(_metadata(1.0, "uint8")) == "8-bit"
    assert model_pixel_kind(_metadata(1.0, "uint16")) == "16-bit"


def test_images_against_the_model(tmp_path, caplog):
    eight = probe_image(write_raster(tmp_path / "e.tif", _pixels(dtype=np.uint8, low=1, high=9), **UTM))
    sixteen = probe_image(write_raster(tmp_path / "s.tif", _pixels(), **UTM))
    check_pixel_kind(eight, _metadata(255.0), "m8.keras")
    check_pixel_kind(sixteen, _metadata(8192.0), "m16.keras")
    with pytest.raises(ModelError, match="s.tif is 16-bit .* trained on 8-bit"):
        check_pixel_kind(sixteen, _metadata(255.0), "m8.keras")
    with pytest.raises(ModelError, match="e.tif is 8-bit .* trained on 16-bit"):
        check_pixel_kind(eight, _metadata(8192.0), "m16.keras")
    reflectance = probe_image(write_raster(tmp_path / "f.tif", np.full((8, 8, 4), 0.3, np.float32),
                                           **UTM))
    check_pixel_kind(reflectance, _metadata(8192.0), "m16.keras")     # converted to DN
    legacy = _metadata(8192.0)
    legacy.inferred = True                   # no metadata: the factor is assumed, so a warning
    with caplog.at_level(logging.WARNING):
        check_pixel_kind(eight, legacy, "old.h5")
    assert "e.tif is 8-bit" in caplog.text and "old.h5 has no metadata" in caplog.text
    with pytest.raises(ModelError, match="f.tif is floating point reflectance .* trained on 8-bit"):
        check_pixel_kind(reflectance, _metadata(255.0), "m8.keras")
    valid = np.ones((SIZE, SIZE), bool)
    check_value_range(_pixels(), valid, sixteen, _metadata(8192.0), "m16.keras")
    with pytest.raises(DataError, match="never exceed 199"):
        check_value_range(_pixels(low=1, high=200), valid, sixteen, _metadata(8192.0), "m16.keras")

"""Tensor compilation: modes, scaling, memory-mapped writing, order, subsampling, errors."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest

from seeice.errors import ConfigError, DataError, RasterError
from seeice.io.raster import write_raster
from seeice.phase1.compilation import TensorWriter, compile_tensor, load_tensor
from seeice.phase1.tensors import convert_tiles, input_scale, tensor_paths

from tiling_helpers import files_under, write_tile_folder


def _stacked(written: dict, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    tiles = [t for k in range(1, n_classes + 1) for t in written.get(k, [])]
    labels = [k for k in range(1, n_classes + 1) for _ in written.get(k, [])]
    return np.stack(tiles), np.array(labels, dtype=np.uint8)


@pytest.fixture
def uint16_tiles(tmp_path):
    written = write_tile_folder(tmp_path / "tiles", {1: 3, 2: 0, 3: 4}, tile_size=4, bands=3,
                                high=40000)
    return tmp_path / "tiles", written


def test_memory_mapped_path_equals_in_memory_stack(uint16_tiles, tmp_path):
    folder, written = uint16_tiles
    result = compile_tensor(folder, "demo", out_dir=tmp_path / "out", tile_size=4, bands=3,
                            n_classes=3, mode="int16")
    raw, labels = _stacked(written, 3)
    x, y, meta = load_tensor(tmp_path / "out", "demo", "int16")
    assert isinstance(x, np.memmap)
    np.testing.assert_array_equal(x, np.clip(raw, 0, 32767).astype(np.int16))
    np.testing.assert_array_equal(y, labels)
    assert y.dtype == np.uint8 and x.shape == (7, 4, 4, 3)
    assert result.class_counts == {1: 3, 2: 0, 3: 4}
    assert meta["class_counts"] == {"1": 3, "2": 0, "3": 4}
    assert meta["tile_size"] == 4 and meta["bands"] == 3 and meta["n_classes"] == 3
    assert meta["source_dtype"] == "uint16" and meta["config"]["mode"] == "int16"
    assert not [p for p in files_under(tmp_path / "out") if ".partial" in p.name]


@pytest.mark.parametrize("mode, dtype, scale", [
    ("float16", np.float16, 8192.0),
    ("uint8", np.uint8, 16384 / 255),
    ("uint8float16", np.float16, 16384.0),
    ("int16", np.int16, 1.0),
])
def test_modes_on_16_bit_tiles(uint16_tiles, tmp_path, mode, dtype, scale):
    folder, written = uint16_tiles
    compile_tensor(folder, "m", out_dir=tmp_path, tile_size=4, bands=3, n_classes=3, mode=mode)
    raw, _ = _stacked(written, 3)
    x, _, meta = load_tensor(tmp_path, "m", mode)
    assert x.dtype == dtype
    assert meta["mode"] == mode and meta["input_scale"] == pytest.approx(scale)
    as_uint8 = np.clip(np.rint(255.0 * raw / 16384.0), 0, 255)
    expected = {"float16": (raw / 8192.0).astype(np.float16),
                "uint8": as_uint8.astype(np.uint8),
                "uint8float16": (as_uint8 / 255.0).astype(np.float16),
                "int16": np.clip(raw, 0, 32767).astype(np.int16)}[mode]
    np.testing.assert_allclose(x.astype(np.float64), expected.astype(np.float64), rtol=1e-3)
    # The scale tells what the network sees: raw / scale (values saturate beyond the range).
    inside = raw <= 16384
    np.testing.assert_allclose(x.astype(np.float64)[inside], (raw / scale)[inside],
                               rtol=2e-3, atol={"uint8": 0.5}.get(mode, 2e-3))


@pytest.mark.parametrize("mode, dtype, scale", [
    ("float16", np.float16, 255.0),
    ("uint8", np.uint8, 1.0),
    ("uint8float16", np.float16, 255.0),
    ("int16", np.int16, 1.0),
])
def test_modes_on_8_bit_tiles(tmp_path, mode, dtype, scale):
    written = write_tile_folder(tmp_path / "tiles", {1: 2, 2: 2}, tile_size=5, bands=3,
                                dtype=np.uint8, high=256)
    compile_tensor(tmp_path / "tiles", "e", tile_size=5, bands=3, n_classes=2, mode=mode)
    raw, labels = _stacked(written, 2)
    x, y, meta = load_tensor(tmp_path / "tiles", "e", mode)
    assert x.dtype == dtype and meta["input_scale"] == scale
    assert meta["source_dtype"] == "uint8"
    np.testing.assert_allclose(x.astype(np.float64), raw / scale, rtol=1e-3)
    np.testing.assert_array_equal(y, labels)


def test_explicit_norm_factor_and_convert_tiles():
    raw = np.array([[0, 8192, 16384, 40000]], dtype=np.uint16)
    np.testing.assert_array_equal(convert_tiles(raw, "float16", 16384.0),
                                  np.array([[0, 0.5, 1.0, 40000 / 16384]], np.float16))
    np.testing.assert_array_equal(convert_tiles(raw, "uint8"), [[0, 128, 255, 255]])
    np.testing.assert_array_equal(convert_tiles(raw, "int16"), [[0, 8192, 16384, 32767]])
    assert input_scale("float16", np.uint16, 10000) == 10000.0
    assert input_scale("float16", np.uint16) == 8192.0
    with pytest.raises(ConfigError, match="valid modes"):
        convert_tiles(raw, "float32")


def test_saturation_is_reported(tmp_path, caplog):
    write_tile_folder(tmp_path, {1: 1}, tile_size=3, bands=1, high=65535, seed=2)
    with caplog.at_level(logging.WARNING, logger="seeice.phase1.tensors"):
        compile_tensor(tmp_path, "s", tile_size=3, bands=1, n_classes=1, mode="int16")
    assert any("saturated" in r.message for r in caplog.records)


def test_order_is_class_then_file_name(tmp_path):
    tiles = {name: np.full((2, 2, 1), value, np.uint8)
             for name, value in (("b.tif", 1), ("a.tif", 2), ("a_1.tif", 3))}
    for name, tile in tiles.items():
        write_raster(tmp_path / "C2" / name, tile)
    write_raster(tmp_path / "C1" / "z.tif", np.full((2, 2, 1), 9, np.uint8))
    compile_tensor(tmp_path, "o", tile_size=2, bands=1, n_classes=2, mode="int16")
    x, y, _ = load_tensor(tmp_path, "o", "int16")
    assert x[:, 0, 0, 0].tolist() == [9, 2, 3, 1]
    assert y.tolist() == [1, 2, 2, 2]


def test_subsample_is_seeded_per_class(tmp_path):
    write_tile_folder(tmp_path, {1: 20, 2: 10, 3: 1}, tile_size=2, bands=1, dtype=np.uint8,
                      high=256)
    a = compile_tensor(tmp_path, "a", tile_size=2, bands=1, n_classes=3, mode="int16",
                       subsample=0.5, seed=3)
    compile_tensor(tmp_path, "b", tile_size=2, bands=1, n_classes=3, mode="int16",
                   subsample=0.5, seed=3)
    compile_tensor(tmp_path, "c", tile_size=2, bands=1, n_classes=3, mode="int16",
                   subsample=0.5, seed=4)
    assert a.class_counts == {1: 10, 2: 5, 3: 1}
    xa, xb, xc = (load_tensor(tmp_path, n, "int16")[0] for n in "abc")
    np.testing.assert_array_equal(xa, xb)
    assert not np.array_equal(xa, xc)


def test_writer_put_and_abort(tmp_path):
    tiles = np.arange(2 * 3 * 3 * 2, dtype=np.uint16).reshape(2, 3, 3, 2)
    with TensorWriter(tmp_path, "w", 2, tile_size=3, bands=2, source_dtype=np.uint16,
                      mode="int16", n_classes=2) as writer:
        writer.put([1, 0], tiles, [2, 1])
    x, y, meta = load_tensor(tmp_path, "w", "int16")
    np.testing.assert_array_equal(x, tiles[::-1])
    assert y.tolist() == [1, 2] and meta["n_tiles"] == 2
    writer = TensorWriter(tmp_path, "v", 2, tile_size=3, bands=2, source_dtype=np.uint16,
                          n_classes=2)
    with pytest.raises(DataError, match="labels must lie in 1..2"):
        writer.put([0, 1], tiles, [1, 3])
    writer.abort()
    with pytest.raises(RuntimeError, match="never written"):
        with TensorWriter(tmp_path, "u", 3, tile_size=3, bands=2, source_dtype=np.uint16,
                          n_classes=2) as writer:
            writer.append(tiles, [1, 1])
    names = {p.name for p in tmp_path.iterdir()}
    assert names == {"w_T_int16.npy", "w_L_int16.npy", "w_int16.json"}


def _assert_no_tensor(folder, name="t", mode="float16"):
    assert not any(p.exists() for p in tensor_paths(folder, name, mode))
    assert not [p for p in files_under(folder) if p.name.startswith(".")]


def test_empty_class_folders_are_an_error(tmp_path):
    for k in (1, 2):
        (tmp_path / "Train" / f"C{k}").mkdir(parents=True)
    with pytest.raises(DataError, match="hold no tiles"):
        compile_tensor(tmp_path, "t", n_classes=2)
    with pytest.raises(DataError, match="no class folders"):
        compile_tensor(tmp_path / "Train" / "C1", "t")
    _assert_no_tensor(tmp_path)


def test_tile_of_wrong_size_is_an_error_naming_the_file(tmp_path):
    write_tile_folder(tmp_path, {1: 3, 2: 3}, tile_size=4, bands=3)
    write_raster(tmp_path / "C2" / "zz_odd.tif", np.zeros((5, 4, 3), np.uint16))
    with pytest.raises(RasterError, match=r"zz_odd\.tif is 5 x 4 pixels but the tile size is 4"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=2)
    _assert_no_tensor(tmp_path)


def test_band_count_that_does_not_match_is_an_error(tmp_path):
    write_tile_folder(tmp_path, {1: 2}, tile_size=4, bands=3)
    with pytest.raises(RasterError, match=r"t000\.tif has 3 band.* but 4 were asked .* --bands 3"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=4, n_classes=1)
    write_raster(tmp_path / "C1" / "t999.tif", np.zeros((4, 4, 4), np.uint16))
    with pytest.raises(RasterError, match=r"t999\.tif has 4 band"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=1)
    _assert_no_tensor(tmp_path)


def test_other_compile_errors(tmp_path):
    write_tile_folder(tmp_path, {1: 2, 9: 1}, tile_size=4, bands=3)
    with pytest.raises(ConfigError, match=r"class 9 \(C9\).* --classes 9"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=7)
    with pytest.raises(ConfigError, match="valid modes"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=9, mode="float32")
    with pytest.raises(ConfigError, match="subsample"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=9, subsample=0)
    write_raster(tmp_path / "C1" / "t500.tif", np.zeros((4, 4, 3), np.uint8))
    with pytest.raises(RasterError, match=r"t500\.tif holds uint8 pixels"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=9)
    _assert_no_tensor(tmp_path)
    assert json.dumps(input_scale("uint8", np.uint16))


def test_a_fill_value_class_folder_is_not_advised_as_a_class_count(tmp_path):
    write_tile_folder(tmp_path, {1: 2, 2: 2, 255: 2}, tile_size=4, bands=3)
    with pytest.raises(ConfigError) as info:
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=7)
    message = str(info.value)
    assert "--classes 255" not in message and "no-data or fill value" in message
    assert "C255" in message and "nodata" in message
    _assert_no_tensor(tmp_path)


def test_classes_just_above_the_count_are_advised_as_a_class_count(tmp_path):
    write_tile_folder(tmp_path, {1: 2, 2: 2, 3: 2}, tile_size=4, bands=3)
    with pytest.raises(ConfigError, match="Use --classes 3 if the scheme has 3 classes"):
        compile_tensor(tmp_path, "t", tile_size=4, bands=3, n_classes=2)

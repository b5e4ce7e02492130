"""Tests of seeice.figure: the four-part CSC figure."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from front_helpers import fjord_scene
from seeice.classes import GLACIER_SCHEME
from seeice.errors import RasterError
from seeice.figure import csc_figure, stretch_rgb

S = GLACIER_SCHEME


@pytest.fixture(scope="module")
def scene():
    classes, front = fjord_scene()
    rng = np.random.default_rng(0)
    # a dim uint16 image: DN 900..1400, which an 8-bit conversion (255 * I / 16384) squashes
    image = (900 + 60 * classes[..., None].astype(np.int32) + rng.integers(0, 40, (400, 400, 4))).astype(np.uint16)
    return image, classes, front


def _figure(tmp_path, scene, with_labels: bool):
    image, classes, front = scene
    csc = classes.copy()
    csc[front] = S.front_value
    cnn = classes.copy()
    cnn[:, :5] = 0
    path = tmp_path / f"CSC_exp_img{int(with_labels)}.png"
    out = csc_figure(path, image, classes if with_labels else None,
                     front if with_labels else None, cnn, csc, S, "img",
                     cnn_f1=0.9 if with_labels else None,
                     csc_f1=0.95 if with_labels else float("nan"),
                     front_median_m=12.0 if with_labels else None, dpi=50)
    return path, out


@pytest.mark.parametrize("with_labels", [True, False])
def test_figure_is_written(tmp_path, scene, with_labels):
    path, out = _figure(tmp_path, scene, with_labels)
    assert out == path and path.is_file()
    assert path.stat().st_size > 20_000
    picture = imread(path)
    assert picture.shape[0] > 500 and picture.shape[1] > 500
    # the atomic write leaves nothing else behind
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_front_red_is_drawn(tmp_path, scene):
    path, _ = _figure(tmp_path, scene, True)
    rgb = imread(path)[..., :3]
    red = (rgb[..., 0] > 0.9) & (rgb[..., 1] < 0.1) & (rgb[..., 2] < 0.1)
    assert red.sum() > 200      # front in two panels plus the legend patch


def test_stretch_uses_the_raw_data():
    rng = np.random.default_rng(1)
    raw = rng.integers(1000, 1200, (64, 64, 4)).astype(np.uint16)
    raw[:4, :4] = 0                                   # nodata corner ignored
    rgb = stretch_rgb(raw)
    assert rgb.shape == (64, 64, 3) and rgb.dtype == np.float32
    assert rgb.min() == 0.0 and rgb.max() == 1.0
    # 200 raw levels survive; an 8-bit conversion first would leave about 3
    assert len(np.unique(rgb[10:, 10:, 0])) > 150
    lo, hi = np.percentile(raw[4:, :, 1], [2, 98])
    inside = (raw[..., 1] > lo) & (raw[..., 1] < hi)
    np.testing.assert_allclose(rgb[..., 1][inside], (raw[..., 1][inside] - lo) / (hi - lo),
                               rtol=1e-5)


def test_shape_mismatch(tmp_path, scene):
    image, classes, front = scene
    with pytest.raises(RasterError, match="cnn_classes"):
        csc_figure(tmp_path / "x.png", image, None, None, classes[:10], classes, S, "x",
                   None, None, None, dpi=30)
    assert not any(tmp_path.iterdir())

"""Tests of seeice.pipeline.figure: the four-part CSC figure."""

from __future__ import annotations

import numpy as np
import pytest
from matplotlib.image import imread

from front_helpers import fjord_scene
from seeice.classes import GLACIER_SCHEME
from seeice.errors import RasterError
from seeice.pipeline.figure import csc_figure, stretch_rgb

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


def _legend_labels(monkeypatch, call):
    """Run ``call`` and return the labels of the legend it drew, and the axes titles."""
    from matplotlib.figure import Figure

    drawn = {}
    real_legend, real_savefig = Figure.legend, Figure.savefig

    def legend(self, *args, **kwargs):
        drawn["labels"] = [h.get_label() for h in kwargs["handles"]]
        return real_legend(self, *args, **kwargs)

    def savefig(self, *args, **kwargs):
        drawn["titles"] = [ax.get_title() for ax in self.axes]
        drawn["size"] = tuple(self.get_size_inches())
        return real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "legend", legend)
    monkeypatch.setattr(Figure, "savefig", savefig)
    call()
    return drawn


def test_scheme_without_front_has_no_front_in_legend_or_title(tmp_path, monkeypatch):
    """Fluvial scheme (no ocean / glacier): no 'calving front' legend entry, no front text."""
    from seeice.classes import load_scheme

    fluvial = load_scheme("fluvial")
    rng = np.random.default_rng(2)
    image = rng.integers(0, 256, (60, 90, 3)).astype(np.uint8)   # landscape, like aerial photos
    classes = rng.integers(1, 4, (60, 90)).astype(np.uint8)
    drawn = _legend_labels(monkeypatch, lambda: csc_figure(
        tmp_path / "f.png", image, classes, None, classes, classes, fluvial, "river",
        cnn_f1=0.5, csc_f1=0.6, front_median_m=None, dpi=30))
    assert drawn["labels"] == ["unclassified", *fluvial.names]
    assert "calving front" not in drawn["labels"]
    assert drawn["titles"][3] == "CSC: F1 = 0.600"
    assert not any("front" in t for t in drawn["titles"])
    # a landscape image gets a figure shorter than the square one (12 x 12.8 in)
    width, height = drawn["size"]
    assert width == 12.0 and 8.0 < height < 12.0


def test_glacier_scheme_keeps_the_front_in_legend_and_title(tmp_path, scene, monkeypatch):
    image, classes, _ = scene
    drawn = _legend_labels(monkeypatch, lambda: csc_figure(
        tmp_path / "g.png", image, classes, None, classes, classes, S, "img",
        cnn_f1=0.9, csc_f1=0.9, front_median_m=None, dpi=30))
    assert drawn["labels"] == ["unclassified", *S.names, "calving front"]
    assert drawn["titles"][3] == "CSC: F1 = 0.900, no front found"
    assert drawn["size"] == (12.0, 12.8)        # square image: the figure size is unchanged

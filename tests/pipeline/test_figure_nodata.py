"""No-data in the 4-part figure: shown as no-data (hatched, its own legend entry), never as a
class colour, and left out of the RGB stretch."""

import numpy as np
from matplotlib.figure import Figure

from seeice.classes import GLACIER_SCHEME
from seeice.pipeline.figure import NODATA_LABEL, csc_figure, stretch_rgb


def test_stretch_ignores_no_data_and_nan():
    image = np.full((10, 10, 3), 1000.0, np.float32)
    image[:, 5:] = 3000.0
    image[0, 0] = np.nan
    image[9, 9] = 60000.0                  # a no-data fill value, masked
    valid = np.ones((10, 10), bool)
    valid[0, 0] = valid[9, 9] = False
    rgb = stretch_rgb(image, valid=valid)
    assert np.isfinite(rgb).all()
    assert rgb[5, 1, 0] == 0.0 and rgb[5, 8, 0] == 1.0   # the valid range spans 0..1


def test_no_data_is_drawn_as_no_data(tmp_path, monkeypatch):
    classes = np.full((40, 40), 4, np.uint8)
    classes[:, 20:] = 1
    image = np.full((40, 40, 4), 2000, np.uint16)
    valid = np.ones((40, 40), bool)
    valid[:10, :10] = False
    drawn = {}
    real_savefig = Figure.savefig

    def savefig(self, *args, **kwargs):
        drawn["labels"] = [t.get_text() for t in self.legends[0].get_texts()]
        drawn["images"] = [ax.get_images()[0].get_array() for ax in self.axes
                           if ax.get_images()]
        drawn["hatch"] = [ax.patch.get_hatch() for ax in self.axes]
        return real_savefig(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", savefig)
    csc_figure(tmp_path / "f.png", image, classes, None, classes, classes, GLACIER_SCHEME, "img",
               cnn_f1=0.9, csc_f1=0.9, front_median_m=None, dpi=30, valid=valid)
    assert drawn["labels"][-1] == NODATA_LABEL
    assert all(drawn["hatch"])
    rgba, *class_panels = drawn["images"]
    assert (rgba[:10, :10, 3] == 0).all() and (rgba[10:, 10:, 3] == 1).all()
    for panel in class_panels:
        assert panel.mask[:10, :10].all() and not panel.mask[10:, 10:].any()
    assert (tmp_path / "f.png").is_file()

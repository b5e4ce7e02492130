"""Scene style options of the synthetic generator: thin rare melange and texture variety."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.datasets.render import MELANGE
from seeice.datasets.synthetic import make_scene
from seeice.errors import ConfigError


def test_thin_melange_is_rare_and_the_rest_of_the_geometry_stays():
    wide = make_scene(11, 300)
    thin = make_scene(11, 300, melange_width=0.03)
    share = np.count_nonzero(thin.classes == MELANGE) / thin.classes.size
    assert 0.005 < share < 0.03 and share == pytest.approx(thin.info["melange_share"])
    assert wide.info["melange_share"] > 0.08
    # the glacier and the front do not depend on the melange width
    assert np.array_equal(wide.front, thin.front)
    assert np.array_equal(wide.classes >= 4, thin.classes >= 4)


def test_texture_variety_changes_the_image_not_the_classes():
    plain = make_scene(12, 200)
    same = make_scene(12, 200, texture_variety=0.0)
    varied = make_scene(12, 200, texture_variety=1.0)
    assert np.array_equal(plain.image, same.image)
    assert np.array_equal(plain.classes, varied.classes)
    diff = np.abs(plain.image.astype(np.int32) - varied.image.astype(np.int32))
    assert diff.mean() > 50        # DN: colours moved visibly
    assert varied.info["texture_variety"] == 1.0


@pytest.mark.parametrize("kwargs", [{"melange_width": 0.0}, {"melange_width": 0.5},
                                    {"texture_variety": -0.1}, {"texture_variety": 1.5}])
def test_style_out_of_range_is_refused(kwargs):
    with pytest.raises(ConfigError, match="melange width|texture variety"):
        make_scene(1, 120, **kwargs)

"""Companion rasters: declared no-data is never a class or a front; classes outside the scheme are refused."""

from __future__ import annotations

import numpy as np
import pytest
import rasterio
from rasterio.transform import Affine

from seeice.errors import RasterError
from seeice.io.raster import check_class_values, read_labels


def _write(path, data, nodata):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype=data.dtype, nodata=nodata, crs="EPSG:32624",
                       transform=Affine(10, 0, 500000, 0, -10, 7400000)) as dst:
        dst.write(data, 1)


def test_declared_no_data_of_an_edge_raster_is_not_front(tmp_path):
    edge = np.full((40, 40), 255, np.uint8)       # outside the digitised area: nodata 255
    edge[10:30, 5:35] = 0                          # digitised, no front
    edge[20, 5:35] = 1                             # the front: 30 pixels
    _write(tmp_path / "EDGE_s.tif", edge, nodata=255)
    front = read_labels(tmp_path / "EDGE_s.tif") > 0
    assert front.sum() == 30


def test_declared_no_data_of_a_class_raster_is_unlabelled(tmp_path):
    classes = np.full((20, 20), 4, np.uint8)
    classes[:5] = 255
    _write(tmp_path / "SCLS_s.tif", classes, nodata=255)
    labels = read_labels(tmp_path / "SCLS_s.tif")
    assert np.unique(labels).tolist() == [0, 4] and (labels == 0).sum() == 100
    check_class_values(labels, 7, "SCLS_s.tif")    # passes: 0 and 4 only


def test_classes_outside_the_scheme_are_refused_by_value():
    labels = np.array([[0, 1, 7], [9, 12, 9]], np.uint8)
    with pytest.raises(RasterError, match=r"class values 9, 12, outside 1\.\.7"):
        check_class_values(labels, 7, "SCLS_s.tif")

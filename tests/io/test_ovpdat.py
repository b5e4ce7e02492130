"""Scored-pixel files in both layouts: ours (truth, cnn, csc) and the published arr_0 (n, 3)."""

from __future__ import annotations

import numpy as np
import pytest

from seeice.errors import DataError
from seeice.io.ovpdat import read_ovpdat, write_ovpdat


def test_our_files_hold_the_published_array_too(tmp_path):
    path = write_ovpdat(tmp_path / "OvPdat_a_Xk7.npz", [1, 4, 7], [1, 1, 7], [4, 4, 0])
    with np.load(path) as data:
        # What the published results scripts read: np.load(f)['arr_0'], columns truth, CNN, CSC.
        published = data["arr_0"]
        assert published.dtype == np.int32
        assert published.tolist() == [[1, 1, 4], [4, 1, 4], [7, 7, 0]]
        assert data["truth"].dtype == np.uint8
    truth, cnn, csc = read_ovpdat(path)
    assert (truth.tolist(), cnn.tolist(), csc.tolist()) == ([1, 4, 7], [1, 1, 7], [4, 4, 0])


def test_a_published_file_is_read(tmp_path):
    path = tmp_path / "OvPdat_S2_hel_Helk7.npz"
    # as the published CSC script saved it: one positional int32 array
    np.savez_compressed(path, np.array([[4, 4, 4], [3, 4, 1]], dtype=np.int32))
    truth, cnn, csc = read_ovpdat(path)
    assert truth.dtype == np.uint8
    assert (truth.tolist(), cnn.tolist(), csc.tolist()) == ([4, 3], [4, 4], [4, 1])


@pytest.mark.parametrize("arrays, message", [
    ({"arr_0": np.ones((4, 2), np.int32)}, r"arr_0 has shape \(4, 2\)"),
    ({"arr_0": np.full((2, 3), 1.5)}, "non-integer"),
    ({"arr_0": np.full((2, 3), 300, np.int32)}, "outside 0..255"),
    ({"other": np.ones(3)}, "neither"),
])
def test_bad_files_are_refused_by_name(tmp_path, arrays, message):
    path = tmp_path / "OvPdat_bad_Xk7.npz"
    np.savez(path, **arrays)
    with pytest.raises(DataError, match=message):
        read_ovpdat(path)

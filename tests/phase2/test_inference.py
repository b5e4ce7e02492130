"""Phase-two inference: the convolutional pass equals per-window prediction, in every mode."""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from inference_helpers import all_windows, random_patch_model, smooth_image  # noqa: E402

from seeice.errors import ModelError, RasterError  # noqa: E402
from seeice.phase2.inference import block_rows, predict_image, predict_per_window  # noqa: E402
from seeice.phase2.twin import twin_for  # noqa: E402
from seeice.phase2.patch_models import SUPPORTED_PATCH_SIZES  # noqa: E402

H, W, BANDS, N_CLASSES = 40, 37, 4, 7


@pytest.fixture(scope="module")
def image():
    return smooth_image(H, W, BANDS, seed=11)


@pytest.fixture(scope="module")
def models(image):
    return {k: random_patch_model(k, BANDS, N_CLASSES, image, seed=100 + k) for k in SUPPORTED_PATCH_SIZES}


def direct_classes(model, image, k):
    """Class of every window by calling the patch model on all windows, placed at the centres."""
    probs = np.asarray(model(all_windows(image, k), training=False))
    out = np.zeros(image.shape[:2], np.uint8)
    half = k // 2
    out[half : image.shape[0] - half, half : image.shape[1] - half] = probs.argmax(axis=1).reshape(
        image.shape[0] - k + 1, image.shape[1] - k + 1
    )
    return out, probs


@pytest.mark.parametrize("k", SUPPORTED_PATCH_SIZES)
def test_convolutional_pass_equals_per_window(models, image, k):
    model = models[k]
    expected, probs = direct_classes(model, image, k)
    per_window = predict_per_window(model, image, k, batch_size=500)  # several batches, a short last one
    whole = predict_image(model, image, k, whole_image=True, progress=False)
    half = k // 2
    interior = whole[half : H - half, half : W - half]
    assert np.unique(interior).size >= 3, "test model too uniform to make the comparison meaningful"
    assert whole.dtype == np.uint8 and whole.shape == (H, W)
    np.testing.assert_array_equal(per_window, expected)
    np.testing.assert_array_equal(whole, expected)
    # Border: k//2 rows and columns stay 0 (class 0 is never predicted inside: column 0 unused).
    border = np.ones((H, W), bool)
    border[half : H - half, half : W - half] = False
    assert not whole[border].any()
    # The softmax outputs of the pass agree with the model's per-window outputs.
    _, twin = twin_for(model)
    twin_probs = twin(tf.constant(image[None])).numpy().reshape(probs.shape)
    np.testing.assert_allclose(twin_probs, probs, rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("k", [3, 15])
@pytest.mark.parametrize("budget_mb", [1e-6, 0.05, 0.4])
def test_row_blocks_equal_whole_image(models, image, k, budget_mb):
    model = models[k]
    rows = block_rows(model, W, budget_mb)
    n_blocks = -(-(H - k + 1) // rows)
    if budget_mb == 1e-6:
        assert rows == 1
    assert n_blocks >= 2, "budget should force several blocks"
    whole = predict_image(model, image, k, whole_image=True, progress=False)
    blocks = predict_image(model, image, k, whole_image=False, memory_budget_mb=budget_mb, progress=False)
    np.testing.assert_array_equal(blocks, whole)


def test_block_rows_grow_with_budget_and_shrink_with_width(models):
    m = models[15]
    assert block_rows(m, 1000, 64) < block_rows(m, 1000, 256)
    assert block_rows(m, 3000, 256) < block_rows(m, 1000, 256)
    assert block_rows(m, 1000, 1e-6) == 1


def test_twin_follows_weight_changes(image):
    k = 3
    model = random_patch_model(k, BANDS, N_CLASSES, image, seed=5)
    first = predict_image(model, image, k, progress=False)
    out = model.get_layer("output")
    bias = np.zeros(N_CLASSES + 1, np.float32)
    bias[6] = 1e3  # class 6 wins everywhere
    out.bias.assign(bias)
    second = predict_image(model, image, k, progress=False)
    assert not np.array_equal(first, second)
    assert set(np.unique(second[1:-1, 1:-1])) == {6}
    np.testing.assert_array_equal(second, predict_per_window(model, image, k))


def test_image_smaller_than_window_gives_zeros(models):
    small = smooth_image(10, 12, BANDS, seed=1)
    out = predict_image(models[15], small, 15, progress=False)
    assert out.shape == (10, 12) and not out.any()
    assert not predict_per_window(models[15], small, 15).any()


def test_wrong_bands_and_patch_size_are_reported(models, image):
    with pytest.raises(RasterError, match="bands"):
        predict_image(models[3], image[:, :, :3], 3, progress=False)
    with pytest.raises(ModelError, match="patch size"):
        predict_image(models[3], image, 5, progress=False)


def test_unconvertible_model_is_reported(image):
    inputs = keras.Input((3, 3, BANDS))
    x = keras.layers.Conv2D(8, 3, padding="same")(inputs)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(N_CLASSES + 1, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    with pytest.raises(ModelError, match="valid-padding"):
        predict_image(model, image, 3, progress=False)


@pytest.mark.parametrize("whole_image", [True, False])
def test_the_raw_image_normalised_block_by_block_gives_the_same_classes(models, whole_image):
    """A NormalisedImage (raw DN, each row block normalised as it is read) classifies every
    pixel as its float copy does, in both modes."""
    from seeice.normalise import NormalisedImage, normalise

    raw = np.rint(smooth_image(H, W, BANDS, seed=12) * 2000 + 3000).astype(np.uint16)
    model = models[7]
    lazy = predict_image(model, NormalisedImage(raw, 8192.0), 7, whole_image=whole_image,
                         memory_budget_mb=0.05, progress=False)
    whole = predict_image(model, normalise(raw, 8192.0), 7, whole_image=whole_image,
                          memory_budget_mb=0.05, progress=False)
    assert np.unique(lazy[3:-3, 3:-3]).size >= 2
    np.testing.assert_array_equal(lazy, whole)

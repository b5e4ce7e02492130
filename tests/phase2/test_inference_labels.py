"""Phase-two classes read from the logits equal the argmax of the softmax, near-ties included.

:func:`seeice.phase2.inference.predict_image` skips the softmax for pixels whose largest logit is a
clear winner and sends the others through the model's softmax layer. These tests build a
tiny model whose logits are exact ties, ties only after the softmax's rounding (where the
argmax of the logits and of the softmax differ), clear winners and NaN logits, and check that
the classes are those of ``numpy.argmax`` of the model's own softmax output in every case.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")
tf = pytest.importorskip("tensorflow")

from seeice.phase2.inference import predict_image, predict_per_window  # noqa: E402
from seeice.phase2.twin import LOGIT_MARGIN, twin_for  # noqa: E402

N_OUT = 8
LOW = np.float32(0.1)
NEXT = np.nextafter(LOW, np.float32(1.0))  # one ulp above: exp(LOW - NEXT) rounds to 1


def tie_model():
    """Input (1, 1, 2) -> Flatten -> Dense(2) -> Dense(8, softmax).

    Hidden units copy the two bands (linear, so that NaN reaches the logits). Logits: column 1 = LOW + 5 * band0, column 2 = NEXT,
    column 3 = LOW + 5 * band1, the rest -3. With both bands 0, columns 1 and 2 differ by
    one ulp, a difference the softmax rounds away.
    """
    inputs = keras.Input((1, 1, 2))
    x = keras.layers.Flatten()(inputs)
    x = keras.layers.Dense(2, name="hidden")(x)
    out = keras.layers.Dense(N_OUT, activation="softmax", name="output")(x)
    model = keras.Model(inputs, out)
    model.get_layer("hidden").set_weights([np.eye(2, dtype=np.float32), np.zeros(2, np.float32)])
    kernel = np.zeros((2, N_OUT), np.float32)
    kernel[0, 1] = 5.0
    kernel[1, 3] = 5.0
    bias = np.full(N_OUT, -3.0, np.float32)
    bias[1], bias[2], bias[3] = LOW, NEXT, LOW
    model.get_layer("output").set_weights([kernel, bias])
    return model


def softmax_classes(model, image):
    probs = np.asarray(model(image.reshape(-1, 1, 1, image.shape[2]), training=False))
    return probs.argmax(axis=1).reshape(image.shape[:2]), probs


def test_near_ties_take_the_softmax_argmax():
    model = tie_model()
    image = np.zeros((6, 5, 2), np.float32)
    image[0, :, 0] = 1.0  # column 1 wins clearly
    image[1, :, 1] = 1.0  # column 3 wins clearly
    image[2, :, 0] = 0.5 * LOGIT_MARGIN / 5  # column 1 ahead of 2 by less than the margin
    image[3, 1:, 0] = 2.0 * LOGIT_MARGIN / 5  # column 1 ahead by more than the margin
    image[4, :, 1] = (NEXT - LOW) / 5  # columns 2 and 3 tie exactly after the softmax
    # rows 5 and the rest of row 3: both bands 0, columns 1 and 2 one ulp apart
    expected, probs = softmax_classes(model, image)
    flat = probs.reshape(6, 5, N_OUT)
    # The case the margin guards: the logits' argmax would be 2, the softmax's is 1.
    assert flat[5, 0, 1] == flat[5, 0, 2] and expected[5, 0] == 1
    assert expected[0, 0] == 1 and expected[1, 0] == 3
    got = predict_image(model, image, 1, progress=False)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(predict_per_window(model, image, 1), expected)
    rows = predict_image(model, image, 1, whole_image=False, memory_budget_mb=1e-6, progress=False)
    np.testing.assert_array_equal(rows, expected)


def test_nan_pixels_follow_numpy_argmax():
    model = tie_model()
    image = np.zeros((3, 4, 2), np.float32)
    image[0, :, 0] = 1.0
    image[1, 2, 0] = np.nan
    expected, probs = softmax_classes(model, image)
    assert np.isnan(probs.reshape(3, 4, N_OUT)[1, 2]).all() and expected[1, 2] == 0
    # The softmax twin (the pass before the argmax) gives NaN there too.
    _, twin = twin_for(model)
    twin_probs = twin(tf.constant(image[None])).numpy()
    assert np.isnan(twin_probs[1, 2]).all()
    np.testing.assert_array_equal(twin_probs.argmax(axis=-1), expected)
    np.testing.assert_array_equal(predict_image(model, image, 1, progress=False), expected)
    np.testing.assert_array_equal(predict_per_window(model, image, 1), expected)


def test_argmax_helper_matches_numpy_on_ties_and_nan():
    from seeice.phase2.twin import _argmax_like_numpy

    rng = np.random.default_rng(0)
    values = rng.integers(0, 3, (500, N_OUT)).astype(np.float32)  # many ties
    values[rng.random(values.shape) < 0.05] = np.nan  # some rows with NaN in any column
    got = _argmax_like_numpy(tf.constant(values)).numpy()
    np.testing.assert_array_equal(got, np.argmax(values, axis=1))

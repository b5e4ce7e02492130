"""The fully convolutional twin of a patch model: its plan, the class function and the softmax twin.

Built from the model's own layers and weights, cached per model object; see
:mod:`seeice.phase2.inference` for how it is used and why it gives the per-window classes.
"""

from __future__ import annotations

import contextlib
import logging
import weakref

import numpy as np

from seeice.errors import ModelError

# Working memory per activation value: the float32 value, plus room for the layout copies
# (reorders) and the scratch of the convolution primitives. Conservative: with blocks
# estimated at 64 MB, the measured rise of peak RSS was 35-55 MB for every k
# (benchmarks/bench_inference.py).
BYTES_PER_VALUE = 4 * 2

_TWINS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


class _TwinPlan:
    """The patch model decomposed into the steps of its convolutional twin.

    Attributes
    ----------
    k : int
        Window size (model input edge).
    bands : int
        Input bands.
    convs : list of keras.layers.Conv2D
        Convolutions before the Flatten, in order.
    head_size : int
        Spatial edge ``s`` of the feature map entering the Flatten.
    head_channels : int
        Channels ``C`` of that feature map.
    first_dense : keras.layers.Dense
        The Dense layer right after the Flatten.
    tail : list of keras layers
        The layers after ``first_dense`` (applied per pixel).
    channels : list of int
        Channel count of every activation, input first (for the memory estimate).
    """

    def __init__(self, model):
        import keras
        from keras import layers as L

        shape = tuple(model.input_shape)
        if len(shape) != 4 or shape[1] is None or shape[1] != shape[2]:
            raise ModelError(
                f"model input shape {shape} is not a square (k, k, bands) window. "
                "Use a phase-two patch model (seeice.phase2.patch_models.build_patch_model)."
            )
        self.k = int(shape[1])
        self.bands = int(shape[3])
        self.convs = []
        self.first_dense = None
        self.tail = []
        self.channels = [self.bands]
        h = w = self.k
        c = self.bands
        flattened = False
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if not flattened:
                if isinstance(layer, L.Conv2D) and type(layer).__name__ == "Conv2D":
                    self._check_conv(layer)
                    kh, kw = layer.kernel_size
                    h, w, c = h - kh + 1, w - kw + 1, int(layer.filters)
                    self.convs.append(layer)
                    self.channels.append(c)
                elif isinstance(layer, L.Flatten):
                    flattened = True
                    if h != w:
                        raise ModelError(f"feature map before Flatten is {h} x {w}, not square; cannot convert.")
                    self.head_size, self.head_channels = h, c
                elif isinstance(layer, L.Dropout):
                    continue
                else:
                    raise ModelError(self._unsupported(layer))
            elif self.first_dense is None:
                if isinstance(layer, L.Dense):
                    self.first_dense = layer
                    self.channels.append(int(layer.units))
                elif isinstance(layer, L.Dropout):
                    continue
                else:
                    raise ModelError(self._unsupported(layer))
            else:
                if isinstance(layer, L.Dense):
                    self.channels.append(int(layer.units))
                elif not isinstance(layer, (L.BatchNormalization, L.Dropout, L.Activation)):
                    raise ModelError(self._unsupported(layer))
                self.tail.append(layer)
        # Rows each activation has beyond the output rows: k - 1 at the input, minus 2 per 3 x 3 conv.
        extra = [self.k - 1]
        for conv in self.convs:
            extra.append(extra[-1] - (int(conv.kernel_size[0]) - 1))
        self._extra = extra + [0] * (len(self.channels) - len(extra))
        if not flattened or self.first_dense is None:
            raise ModelError(
                "model has no Flatten followed by a Dense layer; it is not a phase-two patch model. "
                "Use seeice.phase2.patch_models.build_patch_model, or predict_per_window."
            )
        self.n_outputs = self.channels[-1]

    @staticmethod
    def _unsupported(layer) -> str:
        return (
            f"layer {layer.name!r} ({type(layer).__name__}) cannot be converted to a convolution. "
            "Phase-two models are Conv2D layers, Flatten, then Dense/BatchNormalization layers; "
            "use predict_per_window for other models."
        )

    @staticmethod
    def _check_conv(layer):
        ok = (
            layer.padding == "valid"
            and tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last"
            and getattr(layer, "groups", 1) == 1
        )
        if not ok:
            raise ModelError(
                f"Conv2D layer {layer.name!r} is not a valid-padding, stride-1, channels-last convolution; "
                "cannot convert. Use predict_per_window."
            )

    def output_shape(self, height: int, width: int) -> tuple[int, int]:
        """Output rows and columns of the pass over a (height, width) input."""
        return max(height - self.k + 1, 0), max(width - self.k + 1, 0)

    def working_bytes(self, rows: int, width: int) -> int:
        """Estimated working memory of the pass producing ``rows`` output rows ``width`` wide.

        Activation ``i`` of the pass has ``rows + extra_i`` rows (the convolutions see the
        ``k - 1`` rows of overlap, shrinking by their kernel) and ``channels[i]`` channels;
        while a layer runs, its input and output are both alive. The estimate is the
        largest such pair, at :data:`BYTES_PER_VALUE` bytes per value, plus the float32
        input block and the softmax output.
        """
        pairs = zip(self._extra[:-1], self.channels[:-1], self._extra[1:], self.channels[1:])
        peak = max((rows + ea) * ca + (rows + eb) * cb for ea, ca, eb, cb in pairs)
        fixed = (rows + self.k - 1) * self.bands * 4 + rows * self.n_outputs * 4
        return int(peak * width * BYTES_PER_VALUE + fixed * width)

    def rows_within(self, budget_bytes: float, width: int) -> int:
        """The most output rows (at least 1) whose :meth:`working_bytes` fit in ``budget_bytes``."""
        one = self.working_bytes(1, width)
        per_row = self.working_bytes(2, width) - one
        return max(1, 1 + int((budget_bytes - one) // per_row))


def _plan(model) -> _TwinPlan:
    return _TwinPlan(model)


def _head_fn(plan: _TwinPlan, upto: int):
    """Graph builder of the twin up to (not including) ``plan.tail[upto:]``.

    Returns a function ``x -> (feats, out_h, out_w)`` for use inside a ``tf.function``:
    ``x`` is a (1, h, w, bands) block, ``feats`` the (pixels, channels) matrix entering
    ``plan.tail[upto]`` (one row per output pixel, row-major), ``out_h, out_w`` the output grid.
    """
    import tensorflow as tf

    s, C = plan.head_size, plan.head_channels
    dense = plan.first_dense
    units = int(dense.units)

    def head(x):
        for conv in plan.convs:
            x = conv(x)  # the layer itself: same op, bias and activation as per window
        out_h, out_w = tf.shape(x)[1] - s + 1, tf.shape(x)[2] - s + 1
        if s == 1:
            feats = tf.reshape(x, [-1, C])
            feats = dense(feats)
        else:
            # The layer's compute dtype, as the Dense layer casts (mixed precision policies).
            dtype = tf.as_dtype(dense.compute_dtype)
            x = tf.cast(x, dtype)
            kernel = tf.cast(tf.reshape(tf.convert_to_tensor(dense.kernel), [s, s, C, units]), dtype)
            y = tf.nn.convolution(x, kernel, strides=1, padding="VALID")
            feats = tf.reshape(y, [-1, units])
            if dense.use_bias:
                feats = tf.add(feats, tf.cast(tf.convert_to_tensor(dense.bias), dtype))
            if dense.activation is not None:
                feats = dense.activation(feats)
        for layer in plan.tail[:upto]:
            feats = layer(feats, training=False)
        return feats, out_h, out_w

    return head


def _build_twin(model, plan: _TwinPlan):
    """The convolutional twin of ``model``: (1, h, w, bands) image -> (h-k+1, w-k+1, n+1) softmax."""
    import tensorflow as tf

    head = _head_fn(plan, len(plan.tail))

    @tf.function(
        input_signature=[tf.TensorSpec([1, None, None, plan.bands], tf.float32)],
        reduce_retracing=True,
        jit_compile=False,
    )
    def twin(x):
        feats, out_h, out_w = head(x)
        return tf.reshape(feats, [out_h, out_w, plan.n_outputs])

    return twin


#: Logit margin above which the class of a pixel is read from the logits without the softmax.
#: If the largest logit exceeds every other by at least this much, the softmax (computed as
#: ``exp(z - max z)`` normalised; the shifted runner-up is then <= -margin in floating point,
#: so its exponential is below ``1 - 0.99 * margin``, many ulps under ``exp(0) = 1``) has the
#: same single largest column: the argmax of the softmax and of the logits agree. Pixels with a
#: smaller margin (ties, near-ties, non-finite logits: a fraction of a percent) are given the
#: argmax of the model's own softmax layer, so the classes are those of the softmax exactly.
LOGIT_MARGIN = 1e-3


def _softmax_dense(layer) -> bool:
    """True if ``layer`` is a plain float32 Keras Dense layer with a softmax activation."""
    import keras

    return (
        type(layer) is keras.layers.Dense
        and layer.activation is keras.activations.softmax
        and layer.compute_dtype == "float32"
        and not getattr(layer, "lora_enabled", False)
        and getattr(layer, "quantization_mode", None) is None
    )


def _build_labels(model, plan: _TwinPlan):
    """The twin's classes: (1, h, w, bands) image -> (h-k+1, w-k+1) uint8 argmax of the softmax.

    The same pass as :func:`_build_twin`, with the argmax taken inside the graph (no softmax
    matrix leaves it). When the last layer is a softmax Dense layer, its softmax is skipped
    for every pixel whose logits have a clear winner (see :data:`LOGIT_MARGIN`); the
    logits are computed with the layer's own operations (``matmul`` then ``add`` of the
    bias, as ``keras.layers.Dense.call``), and the remaining pixels go through the layer
    itself. Ties and NaN are resolved as ``numpy.argmax`` does: the first largest column, or
    the first NaN.
    """
    import keras
    import tensorflow as tf

    last = plan.tail[-1] if plan.tail else None
    fast = last is not None and _softmax_dense(last) and plan.n_outputs >= 2
    head = _head_fn(plan, len(plan.tail) - 1 if fast else len(plan.tail))
    margin = tf.constant(LOGIT_MARGIN, tf.float32)

    @tf.function(
        input_signature=[tf.TensorSpec([1, None, None, plan.bands], tf.float32)],
        reduce_retracing=True,
        jit_compile=False,
    )
    def labels(x):
        feats, out_h, out_w = head(x)
        if not fast:
            idx = _argmax_like_numpy(feats)
        else:
            feats = tf.cast(feats, tf.float32)  # the float32 output layer casts its input so
            logits = keras.ops.matmul(feats, last.kernel)
            if last.bias is not None:
                logits = keras.ops.add(logits, last.bias)
            cols = tf.unstack(logits, num=plan.n_outputs, axis=1)
            best, second = cols[0], tf.fill(tf.shape(cols[0]), tf.constant(-np.inf, tf.float32))
            idx = tf.zeros(tf.shape(cols[0]), tf.int32)
            for j, col in enumerate(cols[1:], start=1):
                better = col > best
                second = tf.where(better, best, tf.maximum(second, col))
                best = tf.where(better, col, best)
                idx = tf.where(better, tf.constant(j, tf.int32), idx)
            clear = tf.logical_and(best - second >= margin, tf.math.is_finite(tf.add_n(cols)))
            unclear = tf.where(tf.logical_not(clear))  # (m, 1) row indices
            probs = last(tf.gather_nd(feats, unclear), training=False)  # the model's own softmax
            idx = tf.tensor_scatter_nd_update(idx, unclear, _argmax_like_numpy(probs))
        return tf.reshape(tf.cast(idx, tf.uint8), [out_h, out_w])

    return labels


def _argmax_like_numpy(values):
    """Row argmax of a (rows, columns) tensor as ``numpy.argmax``: first largest, or first NaN."""
    import tensorflow as tf

    nan = tf.math.is_nan(values)
    first_nan = tf.argmax(tf.cast(nan, tf.int32), axis=-1, output_type=tf.int32)
    largest = tf.argmax(values, axis=-1, output_type=tf.int32)
    return tf.where(tf.reduce_any(nan, axis=-1), first_nan, largest)


@contextlib.contextmanager
def quiet_tracing():
    """Silence TensorFlow's "frequent retracing" warning while tracing a new model's function.

    Each model gets its own function, traced once (phase two trains one model per image);
    TensorFlow counts those traces together and warns about "retracing" that is none.
    """
    import tensorflow as tf

    tf_logger = tf.get_logger()
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        tf_logger.setLevel(level)


def plan_for(model) -> _TwinPlan:
    """Cached :class:`_TwinPlan` of ``model`` (nothing traced)."""
    entry = _TWINS.get(model)
    if entry is None:
        entry = {"plan": _plan(model)}
        _TWINS[model] = entry
    return entry["plan"]


def _cached(model, name: str, build):
    """(plan, the ``name`` function of ``model``), built by ``build(model, plan)`` and traced once."""
    plan = plan_for(model)
    entry = _TWINS[model]
    if name not in entry:
        fn = build(model, plan)
        with quiet_tracing():
            fn.get_concrete_function()
        entry[name] = fn
    return plan, entry[name]


def twin_for(model):
    """Cached (plan, twin) of ``model``; the twin (softmax output) is traced once, here."""
    return _cached(model, "twin", _build_twin)


def labels_for(model):
    """Cached (plan, labels) of ``model``; the class function is traced once, here."""
    return _cached(model, "labels", _build_labels)

"""The phase-one tile CNN: a convolutional base without its top and a small dense head.

The base (VGG16 by default; DenseNet121 or ResNet50) starts from random weights (no ImageNet
transfer: the inputs have 3 or 4 bands of reflectance, not RGB photographs) and takes tiles of
shape (tile, tile, bands). The head ends in ``n_classes + 1`` softmax units: column 0 is unused
(class 0 means unclassified), so that the arg-max is the class number. The output layer is kept
in float32 under mixed precision so that the softmax does not overflow in float16.

VGG16 head (Marochov et al. 2021)::

    Flatten -> Dense 512 relu, L2 1e-3 -> Dropout 0.5 -> Dense 256 relu, L2 1e-3
            -> Dense n+1 softmax

A fourth base, ``compact``, is a small VGG-style stack (three blocks of two 3x3 ReLU
convolutions with 32, 64 and 128 filters, each block followed by 2x2 max pooling) under the
VGG16 head. It costs about a quarter of VGG16's arithmetic on 50 px tiles and trains in
minutes on a laptop CPU: the built-in demo uses it. For published work use VGG16.

DenseNet121 / ResNet50 head::

    Flatten -> Dense 64 relu, L2 1e-3 -> BatchNormalization -> Dense 32 relu, L2 1e-3
            -> Dense 16 relu, L2 1e-3 -> Dense n+1 softmax

Optimiser: Adam (beta1 0.9, beta2 0.999, amsgrad), learning rate 1e-4 for VGG16 and 1e-5 for
DenseNet121 / ResNet50; categorical cross-entropy; accuracy.
"""

from __future__ import annotations

import logging
import warnings

from seeice.checks import positive_number
from seeice.errors import ConfigError, ModelError
from seeice.io.model_store import BASES, MODEL_NAME_PREFIX, base_of

log = logging.getLogger(__name__)


MIN_TILE_SIZE = {"vgg16": 32, "densenet121": 32, "resnet50": 32, "compact": 8}
"""Smallest tile edge (pixels) each Keras base accepts."""

DEFAULT_LEARNING_RATE = {"vgg16": 1e-4, "densenet121": 1e-5, "resnet50": 1e-5, "compact": 1e-3}
"""Adam learning rate of each base (Marochov et al. 2021; 1e-3 for the small compact base)."""

COMPACT_FILTERS = (32, 64, 128)
"""Filters of the three convolution blocks of the compact base."""

L2_FACTOR = 1e-3
DROPOUT_RATE = 0.5


def check_base(base: str) -> str:
    """Return the canonical (lower-case) base name, or raise ConfigError listing the choices."""
    name = str(base).strip().lower()
    if name not in BASES:
        raise ConfigError(f"unknown CNN base {base!r}; valid bases are {', '.join(BASES)}.")
    return name


def default_learning_rate(base: str) -> float:
    """Adam learning rate for ``base``: 1e-4 for VGG16, 1e-5 for DenseNet121 and ResNet50."""
    return DEFAULT_LEARNING_RATE[check_base(base)]


def _compact_base(input_shape: tuple[int, int, int]):
    import keras
    from keras import layers

    stack = [keras.Input(shape=input_shape)]
    for block, filters in enumerate(COMPACT_FILTERS, start=1):
        stack += [layers.Conv2D(filters, 3, padding="same", activation="relu",
                                name=f"block{block}_conv1"),
                  layers.Conv2D(filters, 3, padding="same", activation="relu",
                                name=f"block{block}_conv2"),
                  layers.MaxPooling2D(2, name=f"block{block}_pool")]
    return keras.Sequential(stack, name="compact")


def _conv_base(base: str, input_shape: tuple[int, int, int]):
    from keras import applications

    if base == "compact":
        return _compact_base(input_shape)
    constructor = {"vgg16": applications.VGG16,
                   "densenet121": applications.DenseNet121,
                   "resnet50": applications.ResNet50}[base]
    with warnings.catch_warnings():
        # Keras warns that the bases "usually expect 1 or 3 input channels": with random
        # initial weights any band count is fine.
        warnings.filterwarnings("ignore", message=".*input channels.*")
        return constructor(include_top=False, weights=None, input_shape=input_shape)


def build_tile_model(base: str = "vgg16", tile_size: int = 50, bands: int = 4,
                     n_classes: int = 7):
    """Build the (uncompiled) tile classifier.

    Parameters
    ----------
    base : {"vgg16", "densenet121", "resnet50", "compact"}
        Convolutional base, without its top, random initial weights (``compact``: the small
        VGG-style base described in the module docstring).
    tile_size : int
        Tile edge in pixels; at least 32 for every base.
    bands : int
        Bands per tile (3: RGB, 4: RGB + NIR).
    n_classes : int
        Number of surface classes; the output has ``n_classes + 1`` softmax units (column 0
        unused).

    Returns
    -------
    keras.Sequential
        Input (None, tile_size, tile_size, bands), output (None, n_classes + 1). Its layers are
        the base (a nested model named after the base) followed by the head layers. The last
        layer computes in float32 whatever the global precision policy.

    Raises
    ------
    ConfigError
        Unknown base, or a band or class count below 1 or 2.
    ModelError
        ``tile_size`` is below the base's minimum (32 pixels).
    """
    import keras
    from keras import layers, regularizers

    base = check_base(base)
    for value, label, minimum in ((bands, "bands", 1), (n_classes, "n_classes", 2),
                                  (tile_size, "tile_size", 1)):
        if isinstance(value, bool) or int(value) != value or value < minimum:
            raise ConfigError(f"{label} must be an integer >= {minimum}, got {value!r}.")
    tile_size, bands, n_classes = int(tile_size), int(bands), int(n_classes)
    minimum = MIN_TILE_SIZE[base]
    if tile_size < minimum:
        raise ModelError(f"the {base} base needs tiles of at least {minimum}x{minimum} pixels, "
                         f"got {tile_size}x{tile_size}. Prepare tiles of {minimum} pixels or "
                         "more (--tile-size).")

    def l2():
        return regularizers.L2(L2_FACTOR)

    if base in ("vgg16", "compact"):
        head = [
            layers.Flatten(name="head_flatten"),
            layers.Dense(512, activation="relu", kernel_regularizer=l2(), name="head_dense_512"),
            layers.Dropout(DROPOUT_RATE, name="head_dropout"),
            layers.Dense(256, activation="relu", kernel_regularizer=l2(), name="head_dense_256"),
        ]
    else:
        head = [
            layers.Flatten(name="head_flatten"),
            layers.Dense(64, activation="relu", kernel_regularizer=l2(), name="head_dense_64"),
            layers.BatchNormalization(name="head_batchnorm"),
            layers.Dense(32, activation="relu", kernel_regularizer=l2(), name="head_dense_32"),
            layers.Dense(16, activation="relu", kernel_regularizer=l2(), name="head_dense_16"),
        ]
    output = layers.Dense(n_classes + 1, activation="softmax", kernel_initializer="random_normal",
                          dtype="float32", name="class_probabilities")
    model = keras.Sequential(
        [keras.Input(shape=(tile_size, tile_size, bands), name="tiles"),
         _conv_base(base, (tile_size, tile_size, bands)), *head, output],
        name=f"{MODEL_NAME_PREFIX}{base}")
    log.debug("built %s tile model: input %s, %d outputs, %d parameters", base,
              model.input_shape, n_classes + 1, model.count_params())
    return model


def compile_tile_model(model, learning_rate: float | None = None):
    """Compile a tile model: Adam (amsgrad), categorical cross-entropy, accuracy.

    Parameters
    ----------
    model : keras.Model
        A model from :func:`build_tile_model` or a loaded one.
    learning_rate : float, optional
        Adam learning rate; by default that of the model's base (1e-4 for VGG16, 1e-5 for
        DenseNet121 and ResNet50; 1e-4 when the base cannot be told).

    Returns
    -------
    keras.Model
        The same model, compiled. Under ``mixed_float16`` Keras wraps the optimiser in a loss
        scale optimiser.
    """
    import keras

    if learning_rate is None:
        base = base_of(model)
        learning_rate = DEFAULT_LEARNING_RATE.get(base, DEFAULT_LEARNING_RATE["vgg16"])
    positive_number(learning_rate, "learning rate")
    optimiser = keras.optimizers.Adam(learning_rate=float(learning_rate), beta_1=0.9,
                                      beta_2=0.999, amsgrad=True)
    model.compile(optimizer=optimiser, loss="categorical_crossentropy", metrics=["accuracy"])
    return model


def model_policy(model) -> str:
    """Name of the dtype policy a (loaded) Keras model computes in.

    Read from its first weighted layer other than a nested model and the (float32) output
    layer: a loaded model's own ``dtype_policy`` is the global one, not the one it was saved
    with.
    """
    import keras

    for layer in model.layers[:-1]:
        if layer.weights and not isinstance(layer, keras.Model):
            return str(layer.dtype_policy.name)
    return str(model.dtype_policy.name)


def rebuild_under_policy(model, base: str, tile_size: int, bands: int, n_classes: int):
    """The same tile model, built again under Keras's global policy now in force, same weights.

    A loaded model keeps the precision it was saved with; to continue training it in another
    precision its architecture is built again (:func:`build_tile_model`) and its weights copied.

    Parameters
    ----------
    model : keras.Model
        A tile model built by :func:`build_tile_model` with these arguments.
    base, tile_size, bands, n_classes
        Its architecture (from its metadata).

    Returns
    -------
    keras.Model
        Uncompiled, with ``model``'s weights.

    Raises
    ------
    ModelError
        The architecture is unknown (legacy models) or its weights do not fit the rebuilt one.
    """
    if base not in BASES:
        raise ModelError(f"the model's base is {base!r}, so it cannot be rebuilt in another "
                         "precision.")
    rebuilt = build_tile_model(base, tile_size, bands, n_classes)
    try:
        rebuilt.set_weights(model.get_weights())
    except ValueError as exc:
        raise ModelError(f"the model's weights do not fit a rebuilt {base} tile model ({exc}).") \
            from None
    return rebuilt

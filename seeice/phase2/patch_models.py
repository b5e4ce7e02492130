"""Phase-two patch classifiers: one small network per patch size k.

The phase-two classifier of CNN-supervised classification (Marochov, Stokes & Carbonneau
2021; Carbonneau et al. 2020) sees a k x k window of the image and predicts the class of
the window's centre pixel. The architecture depends on k:

======  =========================  =================================================
k       convolutions               head (after Flatten)
======  =========================  =================================================
1       none (MLP on the pixel)    Dense 64, BN, Dense 32, Dense 16, softmax
3       1                          Dense 64, BN, Dense 32, Dense 16, softmax
5       2                          Dense 512, BN, Dense 64, Dense 32, softmax
7       3                          Dense 512, BN, Dense 64, Dense 32, softmax
15      6                          Dense 512, BN, Dense 64, Dense 32, softmax
======  =========================  =================================================

Convolutions: 32 filters, 3 x 3, valid padding, no activation (each shrinks the window by
2 pixels, so 1/2/3/6 convolutions reduce k = 3/5/7/15 to 1/1/1/3). Hidden Dense layers:
ReLU, ``random_normal`` kernel initialiser (Keras 2's ``"normal"``), L2 1e-3 kernel
regularisation. BatchNormalization (Keras defaults: momentum 0.99, epsilon 1e-3) follows
the first Dense. The output Dense has ``n_classes + 1`` softmax columns (column 0, the
unclassified value, is never a training label) and a ``random_normal`` initialiser.

Every model, k = 1 included, takes input of shape ``(k, k, bands)`` and starts its head
with a ``Flatten``. For k = 1 this costs nothing and keeps the samples, the per-window
prediction and the convolutional whole-image inference of :mod:`seeice.phase2.inference` the same
for every k (the MLP's first Dense is a 1 x 1 convolution over the image).

Layer names are fixed (``conv1``.. ``convN``, ``flatten``, ``dense1``.. ``dense3``,
``batchnorm``, ``output``) so that models can be inspected and converted by name.
"""

from __future__ import annotations

from seeice.errors import ConfigError

#: Patch sizes with a defined phase-two architecture.
SUPPORTED_PATCH_SIZES = (1, 3, 5, 7, 15)

#: Number of 3 x 3 valid convolutions for each patch size.
CONV_LAYERS = {1: 0, 3: 1, 5: 2, 7: 3, 15: 6}

#: Units of the hidden Dense layers for each patch size (BatchNorm follows the first).
DENSE_UNITS = {1: (64, 32, 16), 3: (64, 32, 16), 5: (512, 64, 32), 7: (512, 64, 32), 15: (512, 64, 32)}

CONV_FILTERS = 32
CONV_KERNEL = 3
L2_FACTOR = 1e-3
KERNEL_INITIALIZER = "random_normal"


def check_patch_size(k) -> int:
    """Return ``k`` as an int if it is a supported patch size, else raise ConfigError.

    Parameters
    ----------
    k : int
        Patch size (window edge in pixels).

    Returns
    -------
    int

    Raises
    ------
    ConfigError
        If ``k`` is not one of :data:`SUPPORTED_PATCH_SIZES`.
    """
    valid = ", ".join(str(s) for s in SUPPORTED_PATCH_SIZES)
    try:
        k_int = int(k)
    except (TypeError, ValueError):
        raise ConfigError(f"patch size must be an integer, got {k!r}. Use one of {valid}.") from None
    if k_int != k or k_int not in SUPPORTED_PATCH_SIZES:
        raise ConfigError(
            f"patch size {k!r} has no phase-two architecture. Use one of {valid} (PatchSize / --patch-size)."
        )
    return k_int


def head_spatial_size(k: int) -> int:
    """Spatial edge of the feature map entering the Flatten (k minus 2 per convolution)."""
    k = check_patch_size(k)
    return k - (CONV_KERNEL - 1) * CONV_LAYERS[k]


def build_patch_model(k: int, bands: int, n_classes: int):
    """Build (uncompiled) the phase-two patch classifier for patch size ``k``.

    Parameters
    ----------
    k : int
        Patch size, one of :data:`SUPPORTED_PATCH_SIZES`.
    bands : int
        Number of image bands (3 for RGB, 4 for RGB + NIR).
    n_classes : int
        Number of classes; the model outputs ``n_classes + 1`` softmax columns.

    Returns
    -------
    keras.Model
        Input ``(None, k, k, bands)`` float32, output ``(None, n_classes + 1)`` softmax.

    Raises
    ------
    ConfigError
        For an unsupported ``k`` (the message lists 1, 3, 5, 7, 15), or ``bands`` /
        ``n_classes`` below 1.
    """
    k = check_patch_size(k)
    if int(bands) < 1:
        raise ConfigError(f"bands must be at least 1, got {bands!r}. Use 3 (RGB) or 4 (RGB + NIR).")
    if int(n_classes) < 1:
        raise ConfigError(f"n_classes must be at least 1, got {n_classes!r}. Check the class scheme.")
    import keras
    from keras import layers, regularizers

    inputs = keras.Input(shape=(k, k, int(bands)), name="patch")
    x = inputs
    for i in range(CONV_LAYERS[k]):
        x = layers.Conv2D(CONV_FILTERS, CONV_KERNEL, padding="valid", activation=None, name=f"conv{i + 1}")(x)
    x = layers.Flatten(name="flatten")(x)
    for i, units in enumerate(DENSE_UNITS[k]):
        x = layers.Dense(
            units,
            activation="relu",
            kernel_initializer=KERNEL_INITIALIZER,
            kernel_regularizer=regularizers.L2(L2_FACTOR),
            name=f"dense{i + 1}",
        )(x)
        if i == 0:
            x = layers.BatchNormalization(name="batchnorm")(x)
    outputs = layers.Dense(
        int(n_classes) + 1, activation="softmax", kernel_initializer=KERNEL_INITIALIZER, name="output"
    )(x)
    return keras.Model(inputs, outputs, name=f"patch{k}")

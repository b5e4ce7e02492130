"""Training of the phase-two patch classifier on one image's samples.

Adam (learning rate 1e-3, AMSGrad) on categorical cross-entropy of one-hot labels with
``n_classes + 1`` columns; a seeded 80/20 train/validation split; early stopping on the
validation accuracy (patience from the job, min delta 0.005, best weights restored); at most
300 epochs; batch size ``int(500000 / k**2)`` (Marochov, Stokes & Carbonneau 2021).

The published batch size assumes the default 500 000 samples per class. With fewer samples
(a small image, or a smaller ``CNNsamples``) it would leave one or two weight updates per
epoch and early stopping would end training before it learns; the batch is then reduced so
that every epoch makes at least ``MIN_STEPS_PER_EPOCH`` updates.

The samples are split as indices and each batch's windows are gathered when Keras asks for
it (:class:`seeice.phase2.window_batches.WindowBatches`): memory holds one batch of windows,
not all of them. The batch order is a seeded shuffle of the training positions, drawn anew
every epoch; it differs from the order of the earlier in-memory training (Keras's own
shuffle), so the same seed draws the same samples and the same split but a model trained now
differs slightly from one trained before.
"""

from __future__ import annotations

import logging

import numpy as np

from seeice.defaults import TRAINING_EPOCHS
from seeice.errors import ConfigError, DataError
from seeice.normalise import pixel_source
from seeice.phase2.patch_models import build_patch_model, check_patch_size
from seeice.phase2.sampling import SampleIndices, gather_windows

logger = logging.getLogger(__name__)

VALIDATION_SHARE = 0.2
LEARNING_RATE = 1e-3
MAX_EPOCHS = TRAINING_EPOCHS
MIN_DELTA = 0.005
BATCH_PIXELS = 500_000
MIN_STEPS_PER_EPOCH = 100


def default_batch_size(k: int) -> int:
    """The published batch size for patch size ``k``: ``int(500000 / k**2)``."""
    return int(BATCH_PIXELS / (int(k) ** 2))


def _split(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded 80/20 split of ``n`` sample positions: (train, validation), each sorted."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = max(1, int(round(VALIDATION_SHARE * n)))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def train_patch_model(
    X: np.ndarray,
    y: np.ndarray,
    k: int,
    n_classes: int,
    patience: int = 10,
    seed: int = 0,
    max_epochs: int = MAX_EPOCHS,
    min_delta: float = MIN_DELTA,
    batch_size: int | None = None,
    verbose="auto",
    model=None,
):
    """Build and train the phase-two classifier of patch size ``k`` on windows in memory.

    Parameters
    ----------
    X : numpy.ndarray
        Windows, shape (n, k, k, bands), float (see :func:`seeice.phase2.sampling.sample_windows`).
    y : numpy.ndarray
        Labels, shape (n,), integers in 1..n_classes.
    k, n_classes, patience, seed, max_epochs, min_delta, batch_size, verbose, model
        As in :func:`train_patch_model_on_image`.

    Returns
    -------
    model : keras.Model
    history : keras.callbacks.History

    Raises
    ------
    ConfigError
        Bad ``k``, ``patience``, ``max_epochs`` or ``batch_size``.
    DataError
        ``X`` and ``y`` do not fit the model, labels are out of range, or there are fewer
        than 2 samples.

    Notes
    -----
    Given the windows that :func:`train_patch_model_on_image` gathers from the image for the
    same samples, both train the same model batch for batch (same split, same batches).
    """
    k = check_patch_size(k)
    X = np.asarray(X)
    y = np.asarray(y).ravel()
    if X.ndim != 4 or X.shape[1:3] != (k, k) or X.shape[0] != y.shape[0]:
        raise DataError(
            f"samples of shape {X.shape} with {y.shape[0]} labels do not fit patch size {k}. "
            f"Give windows of shape (n, {k}, {k}, bands) and n labels (see sample_windows)."
        )

    def gather(positions):
        return X[positions].astype(np.float32, copy=False)

    return _train(gather, y, X.shape[3], k, n_classes, patience, seed, max_epochs, min_delta,
                  batch_size, verbose, model)


def train_patch_model_on_image(
    image: np.ndarray,
    samples: SampleIndices,
    n_classes: int,
    patience: int = 10,
    seed: int = 0,
    max_epochs: int = MAX_EPOCHS,
    min_delta: float = MIN_DELTA,
    batch_size: int | None = None,
    verbose="auto",
    model=None,
):
    """Build and train the phase-two classifier on windows gathered from the image per batch.

    Memory holds the image, the sample indices and one batch of windows; the windows of all
    samples are never built.

    Parameters
    ----------
    image : numpy.ndarray or seeice.normalise.NormalisedImage
        Normalised image, shape (H, W, bands), float32 (a :class:`NormalisedImage` is
        normalised window by window).
    samples : SampleIndices
        Window centres and labels (:func:`seeice.phase2.sampling.sample_indices`); its ``k``
        is the patch size, one of 1, 3, 5, 7, 15.
    n_classes : int
        Number of classes (the model has ``n_classes + 1`` output columns).
    patience : int
        Early-stopping patience in epochs (10 suits the convolutional models, 50 the MLP).
    seed : int
        Seeds the train/validation split, the weight initialisation and the batch order.
    max_epochs : int
        Upper bound on the epochs (300, TrainingEpochs).
    min_delta : float
        Smallest rise of validation accuracy that counts as an improvement (0.005).
    batch_size : int, optional
        Defaults to ``int(500000 / k**2)``, reduced where needed so that an epoch makes at
        least ``MIN_STEPS_PER_EPOCH`` updates.
    verbose : "auto", 0, 1 or 2
        Keras progress output.
    model : keras.Model, optional
        A compiled patch model to train further (the published scripts carried one model from
        image to image, optimiser state included); None builds a fresh one.

    Returns
    -------
    model : keras.Model
        The trained model, best validation-accuracy weights restored.
    history : keras.callbacks.History
        Per-epoch ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy``.

    Raises
    ------
    ConfigError
        Bad ``k``, ``patience``, ``max_epochs`` or ``batch_size``.
    DataError
        Samples outside the image, labels out of range, or fewer than 2 samples.
    """
    k = check_patch_size(samples.k)
    image = pixel_source(image)
    half = k // 2
    if image.ndim != 3:
        raise DataError(f"image of shape {image.shape} is not (H, W, bands).")
    if len(samples) and (samples.rows.min() < half or samples.cols.min() < half
                         or samples.rows.max() >= image.shape[0] - half
                         or samples.cols.max() >= image.shape[1] - half):
        raise DataError(f"some sample windows of {k} x {k} px do not fit inside the "
                        f"{image.shape[0]} x {image.shape[1]} image. Draw the samples from "
                        "this image's class raster (sample_indices).")
    rows, cols = samples.rows, samples.cols

    def gather(positions):
        return gather_windows(image, rows[positions], cols[positions], k)

    return _train(gather, samples.labels, image.shape[2], k, n_classes, patience, seed,
                  max_epochs, min_delta, batch_size, verbose, model)


def _train(gather, y, bands, k, n_classes, patience, seed, max_epochs, min_delta, batch_size,
           verbose, model=None):
    """Split, batch and fit (see :func:`train_patch_model_on_image`)."""
    if int(patience) < 0:
        raise ConfigError(f"patience must be 0 or more epochs, got {patience!r}.")
    if int(max_epochs) < 1:
        raise ConfigError(f"max_epochs must be at least 1, got {max_epochs!r}.")
    y = np.asarray(y).ravel()
    if y.size < 2:
        raise DataError(f"only {y.size} training sample(s); at least 2 are needed. Check the phase-one raster.")
    if y.min() < 1 or y.max() > n_classes:
        raise DataError(
            f"labels range {int(y.min())}..{int(y.max())} but classes are 1..{n_classes}. "
            "Check NClasses against the class raster."
        )

    import keras

    from seeice.phase2.window_batches import WindowBatches

    keras.utils.set_random_seed(int(seed))
    train_idx, val_idx = _split(y.size, seed)
    if batch_size is None:
        batch_size = min(default_batch_size(k), -(-train_idx.size // MIN_STEPS_PER_EPOCH))
    if int(batch_size) < 1:
        raise ConfigError(f"batch_size must be at least 1, got {batch_size!r}.")
    batch_size = max(1, min(int(batch_size), train_idx.size))
    train_batches = WindowBatches(gather, train_idx, y, n_classes + 1, batch_size,
                                  shuffle_seed=int(seed))
    val_batches = WindowBatches(gather, val_idx, y, n_classes + 1, batch_size)

    if model is None:
        model = build_patch_model(k, bands, n_classes)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE, amsgrad=True),
            loss="categorical_crossentropy",
            metrics=["accuracy"],
        )
    elif tuple(model.input_shape[1:]) != (k, k, bands):
        raise DataError(f"the carried patch model takes inputs {model.input_shape[1:]} but these "
                        f"samples are {(k, k, bands)}; every image of the run needs the same bands.")
    stop = keras.callbacks.EarlyStopping(
        monitor="val_accuracy",
        patience=int(patience),
        min_delta=float(min_delta),
        mode="max",
        restore_best_weights=True,
    )
    logger.info(
        "training patch%d model on %d samples (%d validation), batch %d, up to %d epochs",
        k, train_idx.size, val_idx.size, batch_size, max_epochs,
    )
    history = model.fit(
        train_batches,
        validation_data=val_batches,
        epochs=int(max_epochs),
        callbacks=[stop],
        verbose=verbose,
    )
    best = max(history.history.get("val_accuracy", [float("nan")]))
    logger.info("patch%d model: %d epochs, best validation accuracy %.4f", k, len(history.epoch), best)
    return model, history

"""Phase-two inference: the class of every pixel whose k x k window fits in the image.

The trained patch model (:mod:`seeice.phase2.patch_models`) classifies one k x k window at a time.
Applying it window by window (:func:`predict_per_window`, the published method) repeats the
convolutions of every overlapping window and, done in one go, materialises all windows
(over 100 GB for a 15 x 15 window over a 3000 x 3000 x 4 image).

:func:`predict_image` gives the same classes from one convolutional pass over the image, a
"fully convolutional twin" of the patch model that uses the model's own weights:

- its Conv2D layers run as they are (valid padding) over the whole image;
- the first Dense after the Flatten becomes a Conv2D whose kernel is the Dense kernel
  reshaped from ``(s*s*C, units)`` to ``(s, s, C, units)`` (``s`` x ``s`` x ``C`` is the
  feature map entering the Flatten; Keras flattens channels-last in row-major order, so
  flat index ``(i*s + j)*C + c`` is kernel tap ``(i, j)``, input channel ``c``);
- every later layer (Dense, BatchNormalization in inference mode, Dropout, Activation) sees
  one feature vector per pixel, exactly as it sees one vector per window in the patch model,
  and is applied as the model's own layer to the ``(pixels, channels)`` matrix (a Dense
  layer on such a matrix is a 1 x 1 convolution);
- the class is the argmax of the softmax over the ``n_classes + 1`` columns, as in the
  per-window prediction, taken inside the pass. The softmax itself is evaluated only where
  it can matter: a pixel whose largest logit beats every other by :data:`seeice.phase2.twin.LOGIT_MARGIN` has
  the same single largest softmax column, so its class is read from the logits; the others
  (near-ties, a fraction of a percent) go through the model's softmax layer. The classes
  are those of the softmax exactly, ties included (first largest column, as ``numpy.argmax``).

Output pixel ``(r, c)`` of the pass is the window whose top-left corner is ``(r, c)``; its
class is written at the window centre ``(r + k//2, c + k//2)``. The ``k//2`` border stays 0.

The pass runs over row blocks: block ``[r0, r1)`` of output rows reads input rows
``[r0, r1 + k - 1)`` (consecutive blocks overlap by ``k - 1`` input rows), so every output
pixel is computed exactly once from exactly its window; the block height changes nothing in
the result. Two modes give identical rasters: ``whole_image=True`` is one logical pass over
the whole image, run in blocks of the size that computes fastest (:data:`FAST_BLOCK_MB`;
one giant call is slower, see there); ``whole_image=False`` streams blocks whose estimated
working memory stays within ``memory_budget_mb``.

The twin is a ``tf.function`` over the model's own variables (it follows later weight
changes) with one trace per model, cached per model object. Two are built on demand: the
class function used by :func:`predict_image`, and the softmax twin (``twin_for``, for checks).
"""

from __future__ import annotations

import logging
import math

import numpy as np

from seeice.defaults import MEMORY_BUDGET_MB
from seeice.errors import ConfigError, ModelError, RasterError
from seeice.normalise import NormalisedImage
from seeice.phase2.twin import labels_for, plan_for, quiet_tracing

log = logging.getLogger(__name__)


#: Windows per batch of the per-window baseline (the published value).
PER_WINDOW_BATCH = 25_000
#: Default working-memory budget of the row-block mode, in MB.
DEFAULT_MEMORY_BUDGET_MB = MEMORY_BUDGET_MB
#: Working memory (MB, as estimated by the plan) of the blocks that compute fastest. One call
#: over a whole large image is slower, not faster: its activations (512 channels per pixel
#: for k >= 5) no longer fit the caches and their fresh allocations cost page faults. On a
#: 1000 x 1000 image with k = 15, blocks of 32-128 MB ran 2-4x faster than 1-8 GB ones.
FAST_BLOCK_MB = 64


def _check_inputs(model, image, k: int):
    """The image as a 3-D pixel source, checked against the model (no copy is made)."""
    if not isinstance(image, NormalisedImage):
        image = np.asarray(image)
        if image.ndim == 2:
            image = image[:, :, None]
    if image.ndim != 3:
        raise RasterError(f"image must be (H, W, bands), got shape {image.shape}.")
    shape = tuple(model.input_shape)
    if len(shape) != 4 or shape[1] != k or shape[2] != k:
        raise ModelError(
            f"model expects windows of shape {shape[1:]} but patch size {k} was given. "
            "Use the patch size the model was trained with."
        )
    if shape[3] != image.shape[2]:
        raise RasterError(
            f"image has {image.shape[2]} bands but the model was trained on {shape[3]}. "
            "Use the same bands (Ndims) as for training."
        )
    return image


def block_rows(model, width: int, memory_budget_mb: float) -> int:
    """Output rows per block that keep the twin's working memory within a budget.

    Parameters
    ----------
    model : keras.Model
        Phase-two patch model.
    width : int
        Image width in pixels.
    memory_budget_mb : float
        Working-memory budget in MB (activations of one block, not the image itself).

    Returns
    -------
    int
        At least 1.
    """
    plan = plan_for(model)
    return plan.rows_within(float(memory_budget_mb) * 2**20, int(width))


def predict_image(
    model,
    image: np.ndarray,
    k: int,
    whole_image: bool = True,
    memory_budget_mb: float = DEFAULT_MEMORY_BUDGET_MB,
    progress: bool = True,
) -> np.ndarray:
    """Classify every pixel whose k x k window fits, by one convolutional pass.

    Parameters
    ----------
    model : keras.Model
        Trained phase-two patch model (input ``(k, k, bands)``, softmax output).
    image : numpy.ndarray or seeice.normalise.NormalisedImage
        Normalised image, shape (H, W, bands); each row block is read (and, for a
        :class:`NormalisedImage`, normalised) as it is classified.
    k : int
        Patch size of the model.
    whole_image : bool
        True (``WholeImage = 1``): the whole image is one logical pass, run in blocks of the
        size that computes fastest (:data:`FAST_BLOCK_MB`), whatever the memory budget.
        False (``WholeImage = 0``): row blocks whose working memory stays within
        ``memory_budget_mb`` (and never above the fast size). Both give identical rasters.
    memory_budget_mb : float
        Working-memory budget of the row-block mode, in MB (activations of one block; the
        image and the output raster come on top).
    progress : bool
        Show a tqdm progress bar over row blocks.

    Returns
    -------
    numpy.ndarray
        Classes, shape (H, W), uint8; the ``k//2`` border is 0.

    Raises
    ------
    ModelError
        The model's window is not ``k`` or the model cannot be converted.
    RasterError
        The image's band count differs from the model's.
    """
    image = _check_inputs(model, image, k)
    height, width = image.shape[:2]
    out = np.zeros((height, width), dtype=np.uint8)
    half = k // 2
    out_h, out_w = max(height - k + 1, 0), max(width - k + 1, 0)
    if out_h == 0 or out_w == 0:
        log.warning("image of %d x %d is smaller than the %d x %d window; nothing classified", height, width, k, k)
        return out
    plan = plan_for(model)
    if plan.n_outputs > 256:
        raise ModelError(f"model has {plan.n_outputs} output classes; at most 256 fit a uint8 raster.")
    if not whole_image and not memory_budget_mb > 0:
        raise ConfigError(f"memory_budget_mb must be positive, got {memory_budget_mb!r}.")
    budget = FAST_BLOCK_MB if whole_image else min(float(memory_budget_mb), FAST_BLOCK_MB)
    rows = min(plan.rows_within(budget * 2**20, width), out_h)
    n_blocks = math.ceil(out_h / rows)
    log.debug("patch %d: %d output rows in %d block(s) of %d", k, out_h, n_blocks, rows)

    import tensorflow as tf
    from tqdm.auto import tqdm

    _, labels = labels_for(model)
    with tqdm(total=out_h, unit="row", desc=f"patch{k} inference", disable=not progress or n_blocks < 2) as bar:
        for r0 in range(0, out_h, rows):
            r1 = min(r0 + rows, out_h)
            rows_in = np.ascontiguousarray(image[r0 : r1 + k - 1], dtype=np.float32)
            block = tf.constant(rows_in[None])
            out[r0 + half : r1 + half, half : half + out_w] = labels(block).numpy()  # argmax of the softmax
            bar.update(r1 - r0)
    return out


def predict_per_window(model, image: np.ndarray, k: int, batch_size: int = PER_WINDOW_BATCH, progress: bool = False) -> np.ndarray:
    """Classify every pixel whose k x k window fits, one window at a time (the baseline).

    Every window is taken from a ``numpy.lib.stride_tricks.sliding_window_view`` of the
    image (no copy), ``batch_size`` windows are gathered at a time and predicted with the
    patch model; the class is the argmax of the softmax output.

    Parameters
    ----------
    model : keras.Model
        Phase-two patch model.
    image : numpy.ndarray
        Normalised image, shape (H, W, bands).
    k : int
        Patch size of the model.
    batch_size : int
        Windows per batch (25 000).
    progress : bool
        Show a tqdm progress bar over batches.

    Returns
    -------
    numpy.ndarray
        Classes, shape (H, W), uint8; the ``k//2`` border is 0.
    """
    image = np.ascontiguousarray(_check_inputs(model, image, k), dtype=np.float32)
    height, width, bands = image.shape
    out = np.zeros((height, width), dtype=np.uint8)
    half = k // 2
    out_h, out_w = max(height - k + 1, 0), max(width - k + 1, 0)
    if out_h == 0 or out_w == 0:
        return out
    # (out_h, out_w, k, k, bands) view of every window, no copy.
    windows = np.lib.stride_tricks.sliding_window_view(image, (k, k), axis=(0, 1)).transpose(0, 1, 3, 4, 2)
    n = out_h * out_w
    labels = np.empty(n, dtype=np.uint8)
    batch = np.empty((min(int(batch_size), n), k, k, bands), dtype=np.float32)
    from tqdm.auto import tqdm

    for start in tqdm(range(0, n, int(batch_size)), desc=f"patch{k} per window", disable=not progress):
        stop = min(start + int(batch_size), n)
        _gather_windows(windows, start, stop, batch)
        # Always the full buffer (a short last batch would retrace the predict function);
        # rows past stop - start are stale and ignored.
        if start == 0:
            with quiet_tracing():
                probs = np.asarray(model.predict_on_batch(batch))
        else:
            probs = np.asarray(model.predict_on_batch(batch))
        labels[start:stop] = np.argmax(probs[: stop - start], axis=1)
    out[half : half + out_h, half : half + out_w] = labels.reshape(out_h, out_w)
    return out


def _gather_windows(windows: np.ndarray, start: int, stop: int, dest: np.ndarray) -> None:
    """Copy windows ``start:stop`` (row-major window index) of a (oh, ow, k, k, bands) view into ``dest``."""
    out_w = windows.shape[1]
    r0, c0 = divmod(start, out_w)
    r1, c1 = divmod(stop, out_w)
    if r0 == r1:
        dest[: stop - start] = windows[r0, c0:c1]
        return
    i = out_w - c0
    dest[:i] = windows[r0, c0:]
    for r in range(r0 + 1, r1):  # whole rows of windows (a few per batch)
        dest[i : i + out_w] = windows[r]
        i += out_w
    if c1:
        dest[i : i + c1] = windows[r1, :c1]

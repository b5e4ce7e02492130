"""Images against the model that will classify them: pixel type, value range and bands.

A model learns the values it was trained on: raw pixels divided by its normalisation factor
(DESIGN 3, recorded in its metadata). An 8-bit image given to a model trained on 16-bit
Sentinel-2 DN (÷ 8192) reaches it 32 times too dark and is classified as one dark class
without a word, so the pixel type of every image is checked against the model's before
anything runs, and the value range of 16-bit images once they are read.

Band counts: one piece of advice that names the image's bands and the model's, never
"use --bands 3" for the image followed by "use --bands 4" for the model.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from seeice.errors import DataError, ModelError, RasterError
from seeice.io.images import (
    EIGHT_BIT,
    FLOAT,
    KIND_TEXT,
    SIXTEEN_BIT,
    ImageHeader,
    band_names,
)

log = logging.getLogger(__name__)

#: Normalisation factors that mean "trained on 8-bit imagery" and "on 16-bit DN" when the
#: metadata do not record the source pixel type (uint8-mode tensors of 16-bit tiles: 16384/255).
EIGHT_BIT_FACTORS = (255.0,)
SIXTEEN_BIT_FACTORS = (8192.0, 16384.0, 10000.0, 16384.0 / 255.0)
#: A 16-bit image whose valid pixels never exceed this is 8-bit data stored as 16 bits.
EIGHT_BIT_CEILING = 255
#: Rows per step of the value check (bounded memory on whole granules).
VALUE_CHECK_ROWS = 1024


def model_pixel_kind(metadata) -> str | None:
    """The pixel type a model was trained on: ``"8-bit"``, ``"16-bit"`` or None (unknown).

    From the tiles' pixel type recorded at training (``training["source_dtype"]``), else from
    the normalisation factor (255: 8-bit; 8192, 16384, 10000, 16384/255: 16-bit); a factor of
    1 (raw-value tensors) or another value gives None.
    """
    training = getattr(metadata, "training", None) or {}
    source = training.get("source_dtype")
    if source:
        try:
            dtype = np.dtype(source)
        except TypeError:
            dtype = None
        if dtype is not None:
            return EIGHT_BIT if dtype == np.uint8 else SIXTEEN_BIT
    factor = float(metadata.norm_factor)
    if any(math.isclose(factor, f, rel_tol=1e-6) for f in EIGHT_BIT_FACTORS):
        return EIGHT_BIT
    if any(math.isclose(factor, f, rel_tol=1e-6) for f in SIXTEEN_BIT_FACTORS):
        return SIXTEEN_BIT
    return None


def check_pixel_kind(header: ImageHeader, metadata, model_name: str) -> None:
    """Refuse an image whose pixel type is not the one the model was trained on.

    Float images count as 16-bit (they are converted to DN with their ``ImageScale``).

    Raises
    ------
    ModelError
        8-bit image for a 16-bit model or the reverse.
    """
    expected = model_pixel_kind(metadata)
    if expected is None:
        log.info("the metadata of %s do not tell the pixel type it was trained on "
                 "(normalisation factor %g); %s is not checked against it.", model_name,
                 metadata.norm_factor, header.path.name)
        return
    kind = SIXTEEN_BIT if header.kind == FLOAT else header.kind
    if kind == expected:
        return
    what = KIND_TEXT[header.kind] + (" reflectance (converted to DN)" if header.kind == FLOAT else "")
    if expected == SIXTEEN_BIT:
        fix = ("Classify Sentinel-2 composites in DN (uint16; Preparation/MakeComposite.py makes "
               "them) with this model, or train a model on 8-bit tiles for 8-bit images.")
    else:
        fix = ("Classify 8-bit images with this model, or use a model trained on 16-bit "
               "Sentinel-2 tiles for this image. Converting 16-bit data to 8-bit by hand "
               "rarely matches the model's training images.")
    if getattr(metadata, "inferred", False):
        # A model without metadata: its factor is an assumption, not a record. Say it loudly.
        log.warning("%s is %s but the model %s has no metadata and is assumed to take %s "
                    "(pixels / %g); if it was trained on images like this one, save it with "
                    "metadata recording its normalisation, else its classes will be wrong.",
                    header.path.name, what, model_name, KIND_TEXT[expected], metadata.norm_factor)
        return
    raise ModelError(f"{header.path.name} is {what} but the model {model_name} was trained on "
                     f"{KIND_TEXT[expected]} (pixels / {metadata.norm_factor:g}): its values "
                     f"would reach the model on the wrong scale and be misclassified without a "
                     f"word. {fix}")


def check_bands(header: ImageHeader, bands: int, model_bands: int, model_name: str) -> None:
    """Refuse an image with fewer bands than the model needs, with one consistent advice.

    Extra bands are logged (by :func:`seeice.io.images.read_scene`) when dropped.

    Raises
    ------
    RasterError
        ``header.count < bands``.
    """
    if header.count >= bands:
        return
    have = band_names(range(1, header.count + 1), header.descriptions)
    need = band_names(range(1, model_bands + 1))
    raise RasterError(
        f"{header.path.name} has {header.count} band(s) ({have}) but the model {model_name} "
        f"was trained on {model_bands} ({need}). Give this image the model's {model_bands} "
        f"bands (a {model_bands}-band composite; Preparation/MakeComposite.py writes R, G, B, "
        f"NIR), or classify it with a model trained on {header.count} band(s) (TrainCNN.py "
        f"--bands {header.count}, then CSC.py --bands {header.count} with that model).")


def check_value_range(data: np.ndarray, valid: np.ndarray, header: ImageHeader, metadata,
                      model_name: str) -> None:
    """Refuse 8-bit data stored as 16 bits for a 16-bit model (valid pixels all <= 255).

    Raises
    ------
    DataError
        The model expects 16-bit DN and no valid pixel of an integer image exceeds 255.
    """
    if model_pixel_kind(metadata) != SIXTEEN_BIT or header.kind != SIXTEEN_BIT:
        return
    # Row block by row block: a granule's valid pixels would be a 0.96 GB copy.
    brightest = max((int(data[r0:r0 + VALUE_CHECK_ROWS][valid[r0:r0 + VALUE_CHECK_ROWS]]
                         .max(initial=0)) for r0 in range(0, data.shape[0], VALUE_CHECK_ROWS)),
                    default=0)
    if valid.any() and brightest <= EIGHT_BIT_CEILING:
        raise DataError(
            f"{header.path.name} is stored as {header.dtype} but its pixels never exceed "
            f"{brightest}: 8-bit data (0-255) in a 16-bit file, not Sentinel-2 DN "
            f"(reflectance x 10 000: snow and ice reach thousands). The model {model_name} "
            f"(pixels / {metadata.norm_factor:g}) would see them about 30 times too dark. "
            "Give the composite in DN, or save 8-bit data as 8-bit (gdal_translate -ot Byte) "
            "and classify it with a model trained on 8-bit images.")

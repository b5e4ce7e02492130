"""Saving and loading tile CNNs together with their metadata.

A model ``<dir>/<name>.keras`` (Keras native format) has a sidecar ``<dir>/<name>.meta.json``::

    {
      "format": "seeice-model/1",
      "base": "vgg16",
      "tile_size": 50,
      "bands": 4,
      "n_classes": 7,
      "class_names": ["open water", ...],
      "scheme": {...},            # ClassScheme.to_dict()
      "norm_factor": 8192.0,      # raw pixels are divided by this before the network
      "precision": "mixed_float16",
      "created": "2025-01-01T12:00:00+00:00",
      "weak_classes": [3],        # validation recall under 0.6 (null: not measured)
      "validation_recall": {"1": 0.98, "3": 0.41, ...},   # per class (null: not measured)
      "training": {...}           # free: data, epochs, accuracy, parent model, ...
    }

Sidecars written before ``weak_classes`` and ``validation_recall`` existed load with both None.

Legacy ``.h5`` models (and ``.keras`` files without a sidecar) load too: their tile size, band
count and class count are read from the network's input and output shapes, the rest takes the
defaults (glacier scheme for 7 classes, normalisation factor 8192) with a warning.

Reading the sidecar does not import TensorFlow, so scripts can check a model's metadata
quickly before the heavy imports.
"""

from __future__ import annotations

import json
import logging
import os
import warnings
import zipfile
from pathlib import Path

from seeice.errors import ConfigError, InputFileError, ModelError
from seeice.io.atomic import atomic_path, write_json
from seeice.io.model_metadata import ModelMetadata
from seeice.normalise import SENTINEL2_NORM_FACTOR
from seeice.timestamps import utc_now

log = logging.getLogger(__name__)


"""Value of the ``format`` key of the sidecar."""


MODEL_SUFFIX = ".keras"
LEGACY_SUFFIXES = (".h5", ".hdf5")
META_SUFFIX = ".meta.json"
UNKNOWN_BASE = "unknown"
BASES = ("vgg16", "densenet121", "resnet50", "compact")


"""Convolutional bases of tile models (built by :func:`seeice.phase1.models.build_tile_model`)."""


#: Name prefix of tile models built here; the base follows it.
MODEL_NAME_PREFIX = "seeice_tile_"


def sidecar_path(model_path: str | os.PathLike) -> Path:
    """``<dir>/<name>.meta.json`` for a model ``<dir>/<name>.keras`` (or ``.h5``)."""
    path = Path(model_path)
    stem = path.name
    if path.suffix.lower() in (MODEL_SUFFIX, *LEGACY_SUFFIXES):
        stem = path.stem
    return path.with_name(stem + META_SUFFIX)


def resolve_model_path(model_path: str | os.PathLike) -> Path:
    """The model file meant by ``model_path``.

    A path without a model extension is tried as ``<path>.keras`` then ``<path>.h5``.

    Raises
    ------
    InputFileError
        No such file.
    ModelError
        The path is a folder.
    """
    path = Path(model_path)
    if path.is_file():
        return path
    if path.is_dir():
        raise ModelError(f"{path} is a folder, not a model file. Give a .keras model (or a "
                         "legacy .h5 model); TensorFlow SavedModel folders are not supported.")
    tried = [path]
    if path.suffix.lower() not in (MODEL_SUFFIX, *LEGACY_SUFFIXES):
        for suffix in (MODEL_SUFFIX, ".h5"):
            candidate = path.with_name(path.name + suffix)
            if candidate.is_file():
                return candidate
            tried.append(candidate)
    names = " or ".join(str(p) for p in tried)
    raise InputFileError(f"model {names} not found. Check the model path (--model); models are "
                         "saved by TrainCNN as <name>.keras.")


def check_model_name(name) -> str:
    """A model name as a plain file name without the ``.keras`` suffix, or a :class:`ConfigError`."""
    name = str(name)
    if name.endswith(MODEL_SUFFIX):
        name = name[: -len(MODEL_SUFFIX)]
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise ConfigError(f"model name {name!r} is not a plain file name; give a name such as "
                          "'VGG16_50_RGBNIR' (the folder goes in --out).")
    return name


def save_model(model, out_dir: str | os.PathLike, name: str, metadata: ModelMetadata) -> Path:
    """Save ``model`` as ``<out_dir>/<name>.keras`` and its metadata beside it, atomically.

    Parameters
    ----------
    model : keras.Model
        The trained model; its input must be (tile_size, tile_size, bands) and its output
        n_classes + 1 wide, as the metadata say.
    out_dir : path-like
        Output folder (created when missing).
    name : str
        Model name, without extension (a trailing ``.keras`` is dropped).
    metadata : ModelMetadata
        Its metadata; ``created`` is set to now.

    The optimiser's state is not saved (see :func:`_without_optimizer`); recompile the
    loaded model (:func:`seeice.phase1.models.compile_tile_model`) to train it further.

    Returns
    -------
    pathlib.Path
        Path of the ``.keras`` file.

    Raises
    ------
    ConfigError
        ``name`` is empty or contains a folder separator.
    ModelError
        The metadata do not match the model's shapes.
    """
    name = check_model_name(name)
    check_model_matches(model, metadata, source=name)
    metadata.created = utc_now()
    out_dir = Path(out_dir)
    model_path = out_dir / f"{name}{MODEL_SUFFIX}"
    with atomic_path(model_path) as tmp:
        _without_optimizer(model).save(tmp)
        # The sidecar is renamed into place just before the model, so the pair is complete
        # unless the process dies between the two renames.
        write_json(sidecar_path(model_path), metadata.to_dict())
    log.info("saved model %s (+ %s)", model_path, sidecar_path(model_path).name)
    return model_path


def _without_optimizer(model):
    """An uncompiled copy of a compiled model (same layers, dtype policies and weights).

    A compiled ``.keras`` file also holds the optimiser's state: with Adam (amsgrad) that is
    three more copies of every weight, a 240 MB file instead of 60 MB for VGG16. Inference
    does not need it and fine-tuning starts a fresh optimiser, so it is left out.
    """
    if getattr(model, "optimizer", None) is None:
        return model
    copy = model.__class__.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def model_shapes(model) -> tuple[int | None, int | None, int]:
    """(tile_size, bands, n_outputs) of a Keras tile model.

    Raises
    ------
    ModelError
        The model does not take one (tile, tile, bands) input or give one flat output.
    """
    try:
        in_shape = tuple(model.input_shape)
        out_shape = tuple(model.output_shape)
    except (AttributeError, ValueError, RuntimeError) as exc:
        raise ModelError(f"model {getattr(model, 'name', '?')} has no single input and output "
                         f"({exc}).") from None
    if len(in_shape) != 4 or len(out_shape) != 2 or in_shape[1] != in_shape[2]:
        raise ModelError(f"model {getattr(model, 'name', '?')} is not a tile classifier: input "
                         f"{in_shape}, output {out_shape}; expected (None, tile, tile, bands) and "
                         "(None, n_classes + 1).")
    return in_shape[1], in_shape[3], out_shape[1]


def check_model_matches(model, metadata: ModelMetadata, source: str = "model") -> None:
    """Raise ModelError when the model's shapes disagree with its metadata."""
    tile, bands, outputs = model_shapes(model)
    problems = []
    if tile is not None and tile != metadata.tile_size:
        problems.append(f"tile size {tile} vs {metadata.tile_size}")
    if bands is not None and bands != metadata.bands:
        problems.append(f"bands {bands} vs {metadata.bands}")
    if outputs is not None and outputs != metadata.n_classes + 1:
        problems.append(f"outputs {outputs} vs n_classes + 1 = {metadata.n_classes + 1}")
    if problems:
        raise ModelError(f"{source}: the network and its metadata disagree ("
                         f"{'; '.join(problems)}, network vs metadata).")


def _read_sidecar(path: Path) -> ModelMetadata:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model metadata {path} cannot be read ({exc}). Delete it to fall back "
                         "on defaults, or restore it.") from None
    return ModelMetadata.from_dict(data, source=str(path))


def infer_metadata(model, path: str | os.PathLike | None = None) -> ModelMetadata:
    """Metadata for a model without a sidecar: shapes from the network, defaults otherwise."""
    tile, bands, outputs = model_shapes(model)
    if tile is None or bands is None or outputs is None or outputs < 3:
        raise ModelError(f"{path or 'model'}: cannot read the tile size, bands and classes from "
                         f"the network (input {model.input_shape}, output {model.output_shape}).")
    meta = ModelMetadata(base=base_of(model) or UNKNOWN_BASE, tile_size=tile, bands=bands,
                         n_classes=outputs - 1, norm_factor=SENTINEL2_NORM_FACTOR,
                         precision=_model_precision(model),
                         training={"legacy_model": str(path) if path else None})
    meta.inferred = True
    return meta


def _model_precision(model) -> str:
    policy = getattr(model, "dtype_policy", None)
    return str(getattr(policy, "name", None) or "float32")


def _warn_inferred(path: Path, meta: ModelMetadata) -> None:
    log.warning("model %s has no metadata file (%s): assuming tile size %d, %d bands and "
                "%d classes from the network, the %s class names and normalisation factor "
                "%g. Save it again with SEE_ICE to record them.", path, sidecar_path(path).name,
                meta.tile_size, meta.bands, meta.n_classes, meta.class_scheme().name,
                meta.norm_factor)


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"


def check_model_file(path: Path) -> None:
    """Refuse a file that cannot be a Keras model before Keras reads it.

    A ``.keras`` model is a zip archive holding ``config.json``; a legacy ``.h5`` model is an
    HDF5 file. Keras itself reports a damaged ``.keras`` file as "File not found", which
    sends users looking for a file that is there.

    Raises
    ------
    ModelError
        The file is empty, not a zip archive (``.keras``) or not an HDF5 file (``.h5``).
    """
    size = path.stat().st_size
    fix = ("It may be damaged or truncated (an interrupted copy or download), or another file "
           "renamed: copy it again from where it was saved, or train it again with TrainCNN.")
    if size == 0:
        raise ModelError(f"{path} is empty (0 bytes), not a Keras model. {fix}")
    if path.suffix.lower() in LEGACY_SUFFIXES:
        with open(path, "rb") as handle:
            head = handle.read(len(HDF5_SIGNATURE))
        if head != HDF5_SIGNATURE:
            raise ModelError(f"{path} is not a Keras .h5 model: it is not an HDF5 file. {fix}")
        return
    if not zipfile.is_zipfile(path):
        raise ModelError(f"{path} is not a Keras model file: a .keras model is a zip archive "
                         f"and this file ({size} bytes) is not one. {fix}")
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ModelError(f"{path} is a damaged zip archive ({exc}), not a readable Keras model. "
                         f"{fix}") from None
    if "config.json" not in names:
        raise ModelError(f"{path} is a zip archive but not a Keras model (it holds no "
                         f"config.json). {fix}")


def _load_keras(path: Path, compile: bool = False):
    import keras

    check_model_file(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return keras.models.load_model(path, compile=compile)
    except MemoryError:
        raise
    except Exception as exc:  # any failure to read the file is the user's file, not a bug
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
        raise ModelError(f"{path} is not a readable Keras model ({type(exc).__name__}"
                         f"{': ' + detail if detail else ''}). Give a model saved by TrainCNN "
                         "(.keras) or a legacy Keras .h5 model.") from None


def load_metadata(model_path: str | os.PathLike) -> ModelMetadata:
    """The metadata of a saved model.

    Reads the sidecar ``<name>.meta.json`` without importing TensorFlow. A model without a
    sidecar (a legacy ``.h5``, or a ``.keras`` saved elsewhere) is loaded to read its input and
    output shapes; the other fields take their defaults, with a warning.

    Parameters
    ----------
    model_path : path-like
        The ``.keras`` or ``.h5`` file; without extension ``.keras`` then ``.h5`` are tried.

    Raises
    ------
    InputFileError
        The model file does not exist.
    ModelError
        The sidecar is unreadable, or (without a sidecar) the file is not a model.
    """
    path = resolve_model_path(model_path)
    meta_path = sidecar_path(path)
    if meta_path.is_file():
        return _read_sidecar(meta_path)
    model = _load_keras(path)
    meta = infer_metadata(model, path)
    _warn_inferred(path, meta)
    return meta


def load_model(model_path: str | os.PathLike, compile: bool = False):
    """Load a tile model and its metadata.

    Parameters
    ----------
    model_path : path-like
        The ``.keras`` or legacy ``.h5`` file; without extension ``.keras`` then ``.h5`` are
        tried.
    compile : bool
        Restore the training configuration too. Not needed for inference; for further
        training recompile with :func:`seeice.phase1.models.compile_tile_model`.

    Returns
    -------
    model : keras.Model
    metadata : ModelMetadata

    Raises
    ------
    InputFileError
        The model file does not exist.
    ModelError
        The file is not a Keras model, or its metadata disagree with the network.
    """
    path = resolve_model_path(model_path)
    model = _load_keras(path, compile=compile)
    meta_path = sidecar_path(path)
    if meta_path.is_file():
        meta = _read_sidecar(meta_path)
        check_model_matches(model, meta, source=str(path))
    else:
        meta = infer_metadata(model, path)
        _warn_inferred(path, meta)
    log.info("loaded model %s (%s base, tiles %d px, %d bands, %d classes)", path.name,
             meta.base, meta.tile_size, meta.bands, meta.n_classes)
    return model, meta


def base_of(model) -> str | None:
    """The base of a tile model (built here or loaded from a file), or None when unknown."""
    name = getattr(model, "name", "") or ""
    if name.startswith(MODEL_NAME_PREFIX) and name[len(MODEL_NAME_PREFIX):] in BASES:
        return name[len(MODEL_NAME_PREFIX):]
    for layer in getattr(model, "layers", []):
        lname = layer.name.lower()
        for base in BASES:
            if lname.startswith(base):
                return base
        # Bases flattened into the model keep their layer names.
        if lname == "block1_conv1":
            return "vgg16"
        if lname == "conv1_conv":
            return "resnet50"
        if lname == "conv1/conv":
            return "densenet121"
    return None

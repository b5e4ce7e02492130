"""What a run was: patch size, tile size, bands, CNN training, glacier and validation (DESIGN 6).

Each field comes from the run's ``run.json`` when it says so; otherwise it is read from the
run folder's name, the published naming (``Jak_VGG16_joint_50_RGBNIR_fp16_patch7``), token by
token (a token is a part of the name between ``_``, ``-``, ``.`` or spaces), so that a word
that merely contains a token (``Storstrommen``, ``Lunirfjord``, ``disjointed``) is not read as
one. Where neither says, the published scripts' defaults apply (RGB, Single). The published
Seen/Unseen rule (phase one was trained on Helheim: Helheim Seen, Jakobshavn and Store Unseen)
applies only to a glacier named by a token of the run folder's name. Where each field came
from is logged once per run.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

from seeice.results.runs import (
    BANDS_KEYS,
    IMAGE_LIST_KEYS,
    PATCH_KEYS,
    PREDICT_KEYS,
    TILE_KEYS,
    as_int,
    bands_label,
    first_value,
    joint_training,
    read_run_record,
    record_section,
    run_images,
)

log = logging.getLogger(__name__)

#: Glacier name tokens of the published folder naming (whole tokens, any case).
GLACIER_TOKENS = {"hel": "Helheim", "helheim": "Helheim", "jak": "Jakobshavn",
                  "jakobshavn": "Jakobshavn", "sto": "Store", "store": "Store"}
#: The published Seen/Unseen rule: phase one was trained on Helheim.
PUBLISHED_VALIDATION = {"Helheim": "Seen", "Jakobshavn": "Unseen", "Store": "Unseen"}
#: Tokens that name the NIR + RGB bands (the published names: NIR, RGBNIR).
_NIR_TOKEN = re.compile(r"^(rgb)?nir(rgb)?$", re.IGNORECASE)
#: Runs whose sources were already logged in this process.
_LOGGED: set[str] = set()

_FIX_OURS = ("Set them when running CSC.py (--validation seen|unseen, --glacier NAME), or add "
             "Validation and Glacier columns to the jobs CSV of CSC_Batch.py")
_FIX_PUBLISHED = ("This run has no run.json (made elsewhere): name its folder in the published "
                  "way, e.g. Hel_VGG16_50_RGBNIR_patch7")


def name_tokens(name: str) -> list[str]:
    """The tokens of a folder name: its parts between ``_``, ``-``, ``.`` and spaces."""
    return [t for t in re.split(r"[_\-\s.]+", name) if t]


def glacier_from_name(name: str) -> tuple[str, str] | tuple[None, None]:
    """The glacier named by a token of ``name`` (Hel/Helheim, Jak/Jakobshavn, Sto/Store).

    Returns
    -------
    (glacier, token) or (None, None)
        The first glacier token, and the token as written.

    Examples
    --------
    >>> glacier_from_name("Sto_VGG16_100_RGB_patch15")
    ('Store', 'Sto')
    >>> glacier_from_name("Storstrommen_VGG16_patch7")
    (None, None)
    """
    for token in name_tokens(name):
        if token.lower() in GLACIER_TOKENS:
            return GLACIER_TOKENS[token.lower()], token
    return None, None


def _validation_token(name: str) -> str | None:
    tokens = {t.lower() for t in name_tokens(name)}
    if "unseen" in tokens:
        return "Unseen"
    if "seen" in tokens:
        return "Seen"
    return None


def normalise_validation(value) -> str | None:
    """``"Seen"``, ``"Unseen"``, None for empty, else the value as text."""
    if value is None or str(value).strip() == "":
        return None
    text = str(value).strip()
    return text.capitalize() if text.lower() in {"seen", "unseen"} else text


def parse_run_name(name: str) -> dict:
    """Describe a run from its folder name alone (the published naming).

    Read token by token: the glacier from a Hel/Helheim, Jak/Jakobshavn or Sto/Store token;
    the patch size from the last ``patch<k>`` (else a ``k<k>`` token); the tile size from the
    first token of 2 to 4 digits (``_50_``, ``_75_``, ``_100_``); NIR_RGB from a ``NIR`` or
    ``RGBNIR`` token, else RGB; Joint from a ``joint`` token, else Single; validation from a
    ``seen``/``unseen`` token, else the published rule for the glacier token, else "Unknown".
    ``sources`` says where each field came from.

    Examples
    --------
    >>> parse_run_name("Jak_VGG16_joint_50_RGBNIR_fp16_patch7")["patch_size"]
    7
    """
    tokens = name_tokens(name)
    lowered = [t.lower() for t in tokens]
    sources = {}
    patches = re.findall(r"patch(\d+)", name, flags=re.IGNORECASE)
    ks = [int(t[1:]) for t in lowered if re.fullmatch(r"k\d+", t)]
    patch = int(patches[-1]) if patches else (ks[-1] if ks else None)
    sources["patch_size"] = "folder name"
    digits = [int(t) for t in tokens if t.isdigit() and 2 <= len(t) <= 4]
    sources["tile_size"] = "folder name"
    nir = next((t for t in tokens if _NIR_TOKEN.match(t)), None)
    sources["bands"] = (f"folder name token {nir!r}" if nir else
                        "no NIR token in the folder name: the paper's default")
    joint = "joint" in lowered
    sources["cnn_training"] = ("folder name token 'joint'" if joint else
                               "no 'joint' token in the folder name: the paper's default")
    glacier, token = glacier_from_name(name)
    sources["glacier"] = f"folder name token {token!r}" if glacier else "not found"
    validation = _validation_token(name)
    if validation:
        sources["validation"] = f"folder name token {validation.lower()!r}"
    elif glacier in PUBLISHED_VALIDATION:
        validation = PUBLISHED_VALIDATION[glacier]
        sources["validation"] = (f"the paper's rule for {glacier} (phase one trained on "
                                 f"Helheim), from the folder name token {token!r}")
    else:
        validation = "Unknown"
        sources["validation"] = "not found"
    return {"patch_size": patch, "tile_size": digits[0] if digits else None,
            "bands": "NIR_RGB" if nir else "RGB", "cnn_training": "Joint" if joint else "Single",
            "glacier": glacier, "validation": validation, "sources": sources}


def describe_run(run_dir: str | os.PathLike, record: dict | None = None) -> tuple[dict, dict]:
    """A run's description and where each field came from.

    Returns
    -------
    meta : dict
        As :func:`run_metadata`.
    sources : dict
        Field -> a few words on its source (``"run.json config Validation"``, ``"folder name
        token 'Hel'"``, ...).
    """
    run_dir = Path(run_dir)
    record = read_run_record(run_dir) if record is None else record
    from_name = parse_run_name(run_dir.name)
    name_sources = from_name.pop("sources")
    if record is None:
        return from_name, name_sources
    config = record_section(record, "config")
    model = record_section(record, "model")
    training = record_section(model, "training")
    meta, sources = {}, {}

    def pick(field, candidates):
        for value, source in candidates:
            if value is not None and value != "":
                meta[field], sources[field] = value, source
                return
        meta[field], sources[field] = from_name[field], name_sources[field]

    pick("patch_size", [(as_int(first_value(config, *PATCH_KEYS)), "run.json config")])
    pick("tile_size", [(as_int(first_value(config, *TILE_KEYS)), "run.json config"),
                       (as_int(model.get("tile_size")), "run.json model")])
    pick("bands", [(bands_label(first_value(model, "bands")), "run.json model bands"),
                   (bands_label(first_value(config, *BANDS_KEYS)), "run.json config")])
    joint = joint_training(record)
    pick("cnn_training", [(None if joint is None else "Joint" if joint else "Single",
                           "run.json model training")])
    predict = str(first_value(config, *PREDICT_KEYS) or "")
    glacier = first_value(config, "Glacier", "glacier")
    pick("glacier", [(str(glacier) if glacier is not None else None, "run.json config Glacier"),
                     (from_name["glacier"], name_sources["glacier"]),
                     (Path(predict).name if predict else None,
                      "the name of the PredictPath folder (run.json config)")])
    if meta["glacier"] is None:
        sources["glacier"] = "not found"
    pick("validation", [(normalise_validation(first_value(config, "Validation", "validation")),
                         "run.json config Validation"),
                        *_validation_from_training(run_dir, record, training, meta["glacier"])])
    if sources["validation"].startswith("the paper's rule") and meta["glacier"] != from_name["glacier"]:
        # the folder's glacier token is not the run's glacier: the rule says nothing
        meta["validation"], sources["validation"] = "Unknown", "not found"
    return meta, sources


def _validation_from_training(run_dir: Path, record: dict, training: dict,
                              glacier: str | None) -> list[tuple[str | None, str]]:
    """Seen/Unseen from what the model's training record lists, as (value, source) pairs."""
    out = []
    if isinstance(training.get("glaciers"), list) and glacier:
        seen = {str(g).lower() for g in training["glaciers"]}
        out.append(("Seen" if glacier.lower() in seen else "Unseen",
                    "the glaciers the model was trained on (run.json model training)"))
    listed = next((training[k] for k in IMAGE_LIST_KEYS if isinstance(training.get(k), list)),
                  None)
    if listed is not None:
        trained = {Path(str(s)).stem for s in listed}
        out.append(("Seen" if trained & set(run_images(run_dir, record)) else "Unseen",
                    "the images the model was trained on (run.json model training)"))
    return out


def run_metadata(run_dir: str | os.PathLike, record: dict | None = None) -> dict:
    """Describe a run: patch size, tile size, bands, CNN training, glacier and validation.

    Each field comes from ``run.json`` when it says so, else from the folder name
    (:func:`parse_run_name`):

    * ``patch_size``: config ``Kernel_size`` (or ``PatchSize``, ``patch_size``);
    * ``tile_size``: config ``size`` (or ``TileSize``, ``tile_size``), else the model's;
    * ``bands``: the model's ``bands`` (else config ``Ndims``): 4 gives "NIR_RGB", else "RGB";
    * ``cnn_training``: "Joint" or "Single" from the model's training record
      (:func:`seeice.results.runs.joint_training`);
    * ``glacier``: config ``Glacier`` (CSC.py ``--glacier``), else a glacier token of the run
      folder's name, else the name of the ``PredictPath`` folder (never a token inside it);
    * ``validation`` ("Seen"/"Unseen"): config ``Validation`` (CSC.py ``--validation``, or
      the jobs CSV's Validation column); else, when the model's training record lists the
      glaciers (``glaciers``) or images (``images``) it was trained on, Seen when the run's
      glacier or one of its images is among them; else a ``seen``/``unseen`` token of the
      folder name; else the published rule on a glacier token of the folder name (Helheim
      Seen, Jakobshavn and Store Unseen); else "Unknown" with a warning naming the input to set.

    Where each field came from is logged (info, once per run and process).

    Returns
    -------
    dict
        Keys ``patch_size`` (int or None), ``tile_size`` (int or None), ``bands``,
        ``cnn_training``, ``glacier`` (str or None), ``validation``.
    """
    run_dir = Path(run_dir)
    record = read_run_record(run_dir) if record is None else record
    meta, sources = describe_run(run_dir, record)
    key = os.path.abspath(run_dir)
    if key not in _LOGGED:
        _LOGGED.add(key)
        log.info("run %s%s: %s", run_dir.name, " (no run.json)" if record is None else "",
                 "; ".join(f"{field} {meta[field]} ({sources[field]})" for field in meta))
    missing = [k for k, v in meta.items() if v is None or v == "Unknown"]
    if missing:
        log.warning("run %s: %s unknown (not in run.json nor in the folder name). %s.",
                    run_dir.name, ", ".join(missing),
                    _FIX_PUBLISHED if record is None else _FIX_OURS)
    return meta

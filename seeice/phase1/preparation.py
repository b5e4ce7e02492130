"""Tile preparation over a folder of images: plan, cut, augment and write training tiles (DESIGN section 4).

:func:`prepare_tiles` reads each image with an ``SCLS_`` class raster, keeps the pure windows,
augments them and writes them to ``<out>/Train/C<k>/`` (and ``Valid/``) as multi-band TIFFs,
or straight into a tensor.

Rare classes get more windows (DESIGN 9): a class with fewer than ``rare_class_tiles`` tiles
at the common stride is cut again at the denser ``rare_stride``, adding only windows of that
class that the common pass did not take. The published scripts did not do this
(``rare_class_tiles=0``); they also augmented with rotations only (``augmentation=
"rotations"``), where the default here is all eight symmetries of the square.
"""

from __future__ import annotations

import logging
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from seeice.classes import check_found_classes
from seeice.checks import positive_int
from seeice.config.inputs import save_run_config
from seeice.defaults import (
    AUGMENTATION,
    IMAGE_SCALE,
    RADIOMETRIC,
    RARE_CLASS_TILES,
    RARE_STRIDE,
    RESIZE_COMPANIONS,
    SEED,
)
from seeice.errors import ConfigError, DataError, InputFileError, RasterError
from seeice.io.georef import check_projected
from seeice.io.images import check_image_scale, probe_image, read_scene
from seeice.io.raster import Grid, find_companions, list_images, read_labels, write_raster
from seeice.io.tiles import TRAIN_DIR, VALID_DIR, list_tiles, tile_name
from seeice.phase1.augmentation import augment_tiles, check_augmentation
from seeice.phase1.class_counts import report_class_counts
from seeice.phase1.compilation import TensorWriter
from seeice.phase1.tensors import check_mode
from seeice.phase1.tiling import (
    MAX_UNLABELLED,
    MIN_MAJORITY,
    STRIDE,
    TILE_SIZE,
    check_tiling,
    cut_tiles,
    select_windows,
)

log = logging.getLogger(__name__)


# Source tiles augmented at once (fixed: the noise sequence depends on it).
_AUGMENT_CHUNK = 256


@dataclass
class PreparationResult:
    """What :func:`prepare_tiles` produced.

    Attributes
    ----------
    out_dir : pathlib.Path
        The output folder.
    counts : dict
        ``{"Train": {k: n}, "Valid": {k: n}}``: tiles written per class, augmented copies
        included.
    images : list of str
        Images that gave tiles or were tiled without any pure tile.
    skipped : list of str
        Images skipped for lack of an ``SCLS_`` class raster.
    tensors : dict
        In tensor mode, ``{"Train": TensorFiles, "Valid": TensorFiles}`` (Valid only with a
        validation fraction).
    """

    out_dir: Path
    counts: dict = field(default_factory=dict)
    images: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    tensors: dict = field(default_factory=dict)

    @property
    def n_tiles(self) -> int:
        """All tiles written (both subsets)."""
        return sum(sum(c.values()) for c in self.counts.values())


@dataclass
class _ImagePlan:
    path: Path
    stem: str
    classes_path: Path
    rows: np.ndarray
    cols: np.ndarray
    labels: np.ndarray
    valid: np.ndarray | None = None   # bool, shape (n,)
    grid: Grid | None = None          # the image's grid, which the class raster must match
    nodata_bits: np.ndarray | None = None   # packed (H, W) no-data mask, None when none
    shape: tuple[int, int] = (0, 0)

    def pixel_valid(self) -> np.ndarray | None:
        """(H, W) bool valid mask of the image, None when every pixel is valid."""
        return None if self.nodata_bits is None else ~np.unpackbits(
            self.nodata_bits, count=self.shape[0] * self.shape[1]).astype(bool).reshape(self.shape)


def _check_inputs(tile_size, stride, valid_fraction, bands, rare_class_tiles, rare_stride):
    check_tiling(tile_size, stride)
    if rare_class_tiles:
        positive_int(rare_class_tiles, "rare-class tile count",
                     "Give 0 to turn the denser stride for rare classes off.")
        check_tiling(tile_size, rare_stride)
    if not 0.0 <= float(valid_fraction) < 1.0:
        raise ConfigError(f"validation fraction must lie in [0, 1), got {valid_fraction}. "
                          "Use 0 for no validation tiles, 0.2 for a fifth.")
    if bands is not None:
        positive_int(bands, "bands", "Give None to keep all bands.")


def _plan(images_dir: Path, tile_size: int, stride: int, valid_fraction: float, bands,
          rng: np.random.Generator, n_copies: int, rare_class_tiles: int, rare_stride: int,
          image_scale: float | None = None, resize_companions: bool = False
          ) -> tuple[list[_ImagePlan], list[str], int, np.dtype]:
    """First pass: check every input, select pure windows (denser for rare classes) and the
    validation split.

    Nothing is written; every error a user can cause is raised here.
    """
    images = list_images(images_dir)
    if not images:
        raise InputFileError(f"{images_dir} holds no images (.tif, .png, .jpg). Check the path "
                             "(TrainPath / --images).")
    stems = Counter(p.stem for p in images)
    doubles = sorted(s for s, n in stems.items() if n > 1)
    if doubles:
        raise DataError(f"{images_dir} holds several images with the stem {doubles[0]!r} (for "
                        "example .tif and .jpg); tile names and class rasters go by stem. Keep "
                        "one image per stem.")
    plans, skipped = [], []
    band_counts, dtypes = {}, {}
    for path in tqdm(images, desc="Checking class rasters", unit="image", disable=None):
        companions = find_companions(path)
        if companions.classes is None:
            log.warning("%s has no SCLS_%s class raster beside it: skipped.", path.name, path.stem)
            skipped.append(path.name)
            continue
        header = probe_image(path)
        height, width, count = header.shape[0], header.shape[1], header.count
        check_projected(header.crs, header.transform, header.shape, path.name)
        scale = check_image_scale(header, image_scale)
        # Float images are converted to uint16 DN when read (seeice.io.images.read_scene).
        dtype = np.dtype(np.uint16) if scale is not None else header.dtype
        grid = Grid(height, width, header.crs, header.transform)
        if bands is not None and count < bands:
            raise RasterError(f"{path.name} has {count} band(s) but {bands} were asked for "
                              f"(--bands). Use --bands {count} or give images with {bands} bands.")
        if tile_size > min(height, width):
            raise ConfigError(f"tile size {tile_size} is larger than {path.name} ({height} x "
                              f"{width} pixels). Use --tile-size {min(height, width)} or less, or "
                              "remove that image from the folder.")
        band_counts[path.name] = bands or count
        dtypes[path.name] = dtype
        labels = read_labels(companions.classes, grid, resize_companions, path.name)
        valid = read_scene(path, bands=bands, image_scale=image_scale).valid
        rows, cols, classes = select_windows(labels, tile_size, stride, valid=valid)
        if len(classes) == 0:
            log.warning("%s: no tile passes purity (at most %d%% unlabelled, at least %d%% one "
                        "class, no no-data).", path.name, round(100 * MAX_UNLABELLED),
                        round(100 * MIN_MAJORITY))
        plans.append(_ImagePlan(path, path.stem, companions.classes, rows, cols, classes,
                                grid=grid, shape=(height, width),
                                nodata_bits=None if valid.all()
                                else np.packbits(~valid.ravel())))
    if not plans:
        raise InputFileError(f"no image in {images_dir} has an SCLS_<image stem> class raster "
                             "beside it. Put each image's class raster next to it.")
    if rare_class_tiles:
        _add_rare_windows(plans, tile_size, stride, rare_stride, n_copies, rare_class_tiles)
    for plan in plans:
        plan.valid = np.zeros(len(plan.labels), dtype=bool)
        if valid_fraction > 0:
            # Stratified per class so that every class of the image reaches Valid/.
            for k in np.unique(plan.labels):
                members = np.flatnonzero(plan.labels == k)
                n_valid = int(round(valid_fraction * len(members)))
                plan.valid[rng.choice(members, size=n_valid, replace=False)] = True
    if len(set(band_counts.values())) > 1:
        listing = ", ".join(f"{n}: {b}" for n, b in band_counts.items())
        raise RasterError(f"the images have different band counts ({listing}); tiles of one set "
                          f"must match. Use --bands {min(band_counts.values())}.")
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise RasterError(f"the images have different pixel types ({listing}); mixing 8-bit and "
                          "16-bit images in one tile set would mix value ranges. Prepare them "
                          "in separate folders.")
    if sum(len(p.labels) for p in plans) == 0:
        raise DataError(f"no tile of any image in {images_dir} passes purity (at most "
                        f"{round(100 * MAX_UNLABELLED)}% unlabelled and at least "
                        f"{round(100 * MIN_MAJORITY)}% of one class in a {tile_size} x "
                        f"{tile_size} tile). Use a smaller --tile-size or label larger, "
                        "purer areas in the SCLS_ rasters.")
    return plans, skipped, next(iter(band_counts.values())), next(iter(dtypes.values()))


def _add_rare_windows(plans: list[_ImagePlan], tile_size: int, stride: int, rare_stride: int,
                      n_copies: int, rare_class_tiles: int) -> None:
    """Add the windows of rare classes found at the denser stride (in place, sorted by position).

    A class is rare when all images together give it fewer than ``rare_class_tiles`` tiles
    (augmented copies included) at the common ``stride``; only windows labelled with a rare
    class and not already taken at the common stride are added. Nothing is added when
    ``rare_stride`` is not smaller than ``stride``. The per-class counts before and after are
    logged.
    """
    totals = Counter()
    for plan in plans:
        totals.update({int(k): n_copies * int(n) for k, n in
                       zip(*np.unique(plan.labels, return_counts=True))})
    if rare_stride >= stride:
        log.info("The rare-class stride (%d px) is not denser than the common stride (%d px): "
                 "rare classes get no extra windows. Give a smaller --rare-stride to add them.",
                 rare_stride, stride)
        return
    found = {}
    for plan in plans:
        # The first pass refused a class raster on another grid unless --resize-companions.
        labels = read_labels(plan.classes_path, plan.grid, resize_to_shape=True)
        rows, cols, classes = select_windows(labels, tile_size, rare_stride,
                                             valid=plan.pixel_valid())
        found[plan.stem] = (rows, cols, classes, labels.shape[1])
        for k in np.unique(classes):
            totals.setdefault(int(k), 0)
    log.info("Tiles per class at the common stride (%d px): %s", stride,
             ", ".join(f"C{k}: {n}" for k, n in sorted(totals.items())))
    rare = sorted(k for k, n in totals.items() if n < rare_class_tiles)
    if not rare:
        log.info("No class has fewer than %d tiles; no rare-class windows added.",
                 rare_class_tiles)
        return
    added = Counter()
    for plan in plans:
        rows, cols, classes, width = found[plan.stem]
        # windows as one integer key (row * width + col); a window of the common pass is skipped
        taken = plan.rows.astype(np.int64) * width + plan.cols
        new = np.isin(classes, rare) & ~np.isin(rows.astype(np.int64) * width + cols, taken)
        if not new.any():
            continue
        added.update({int(k): n_copies * int(n) for k, n in
                      zip(*np.unique(classes[new], return_counts=True))})
        all_rows = np.concatenate([plan.rows, rows[new]])
        all_cols = np.concatenate([plan.cols, cols[new]])
        order = np.lexsort((all_cols, all_rows))
        plan.rows, plan.cols = all_rows[order], all_cols[order]
        plan.labels = np.concatenate([plan.labels, classes[new]])[order]
    log.info("Rare classes (under %d tiles at the common stride) cut again at stride %d px: %s",
             rare_class_tiles, rare_stride,
             ", ".join(f"C{k}: {totals[k]} -> {totals[k] + added[k]} tiles" for k in rare))


def _augmented_chunks(plan: _ImagePlan, image: np.ndarray, subset_mask: np.ndarray,
                      tile_size: int, rng: np.random.Generator, augmentation: str,
                      radiometric: float = 0.0):
    """Yield (tiles (m, c, t, t, B), labels (m,), rows (m,), cols (m,)) for one subset; c
    copies per window."""
    index = np.flatnonzero(subset_mask)
    for start in range(0, len(index), _AUGMENT_CHUNK):
        part = index[start:start + _AUGMENT_CHUNK]
        tiles = cut_tiles(image, plan.rows[part], plan.cols[part], tile_size)
        yield (augment_tiles(tiles, rng, augmentation=augmentation, radiometric=radiometric),
               plan.labels[part],
               plan.rows[part], plan.cols[part])


def prepare_tiles(images_dir: str | os.PathLike, out_dir: str | os.PathLike,
                  tile_size: int = TILE_SIZE, stride: int = STRIDE, valid_fraction: float = 0.0,
                  seed: int = SEED, bands: int | None = None, tensor_name: str | None = None,
                  tensor_mode: str = "float16", norm_factor: float | None = None,
                  n_classes: int | None = None, augmentation: str = AUGMENTATION,
                  rare_class_tiles: int = RARE_CLASS_TILES, rare_stride: int = RARE_STRIDE,
                  radiometric: float = RADIOMETRIC, image_scale: float | None = IMAGE_SCALE,
                  resize_companions: bool = RESIZE_COMPANIONS,
                  run_config: dict | None = None, script: str | None = None) -> PreparationResult:
    """Cut, check and augment training tiles from a folder of images with class rasters.

    Parameters
    ----------
    images_dir : path-like
        Folder of images (GeoTIFF, PNG, JPEG), each with its ``SCLS_<stem>`` class raster;
        images without one are skipped with a warning.
    out_dir : path-like
        Output folder: tiles go to ``Train/C<k>/`` (and ``Valid/C<k>/``), ``run.json`` beside.
        Tiles already there are kept (tiles of the same name are replaced), so several image
        folders may feed one tile set.
    tile_size, stride : int
        Tile edge and window step in pixels (50, 25); ``stride`` is the common classes' step.
    valid_fraction : float
        Fraction of each image's pure source tiles, per class, that go (with all their
        augmented copies) to ``Valid/`` instead of ``Train/``. 0 (default) writes no Valid/.
    seed : int
        Seed of the validation split and of the noise.
    bands : int, optional
        Keep the first ``bands`` bands (3 = RGB, 4 = RGB + NIR); all when None.
    tensor_name : str, optional
        Tensor mode: write ``<out>/<name>_T_<mode>.npy``, ``<name>_L_<mode>.npy``,
        ``<name>_G_<mode>.npy`` (int32 (n,), the source-window group of each tile) and
        ``<name>_<mode>.json`` (validation tiles: ``<name>_valid_...``) instead of tile files.
        The tensors equal those :func:`seeice.phase1.compilation.compile_tensor`
        makes from the files.
    tensor_mode, norm_factor : optional
        Tensor dtype and normalisation (see :func:`seeice.phase1.tensors.convert_tiles`).
    n_classes : int, optional
        Tensor mode: number of classes recorded (default: the largest class found).
    augmentation : {"dihedral", "rotations"}
        Copies of each window: the 8 symmetries of the square (default) or the tile and its
        3 rotations (published).
    rare_class_tiles : int
        A class with fewer tiles than this at ``stride`` is cut again at ``rare_stride``
        (default 500; 0 turns it off, as published).
    rare_stride : int
        Window step for rare classes, pixels (default 10); used only when smaller than
        ``stride``. An explicit ``stride`` leaves it on.
    radiometric : float
        Radiometric augmentation of the copies (see :mod:`seeice.phase1.augmentation`);
        0 (default) turns it off.
    image_scale : float, optional
        Pixel value of reflectance 1 in floating-point images (1 or 10000); required for
        them, which are converted to uint16 DN (:func:`seeice.io.images.read_scene`), so that
        tiles, noise and tensors are on the Sentinel-2 DN scale.
    resize_companions : bool
        Match a class raster on another grid by position, as published (default: refuse it).
    run_config, script : optional
        Resolved user inputs and script name for ``run.json`` (default: these arguments).

    Returns
    -------
    PreparationResult

    Raises
    ------
    InputFileError
        The folder is missing, holds no images, or no image has a class raster.
    RasterError
        A class raster lies on another grid than its image, images differ in band count or
        pixel type, an image has fewer bands than asked, or an image is in a geographic CRS.
    ConfigError
        Bad tile size, stride, fraction, bands, a tile larger than an image, or a
        floating-point image without a fitting ``image_scale``.
    DataError
        No tile of any image passes purity, or two images share a stem.

    All these are raised before anything is written.
    """

    images_dir, out_dir = Path(images_dir), Path(out_dir)
    _check_inputs(tile_size, stride, valid_fraction, bands, rare_class_tiles, rare_stride)
    copies = check_augmentation(augmentation)
    if tensor_name is not None:
        check_mode(tensor_mode)
        tensor_name = str(tensor_name)
        if not tensor_name or any(c in tensor_name for c in "/\\"):
            raise ConfigError(f"tensor name {tensor_name!r} must be a plain file name stem.")
    rng = np.random.default_rng(seed)
    plans, skipped, n_bands, dtype = _plan(images_dir, tile_size, stride, valid_fraction,
                                           bands, rng, len(copies), rare_class_tiles, rare_stride,
                                           image_scale, resize_companions)
    found_classes = sorted({int(k) for p in plans for k in np.unique(p.labels)})
    check_found_classes(found_classes, n_classes if tensor_name is not None else None)
    if tensor_name is not None and n_classes is None:
        n_classes = max(found_classes)

    subsets = [TRAIN_DIR] + ([VALID_DIR] if valid_fraction > 0 else [])
    masks = {TRAIN_DIR: lambda p: ~p.valid, VALID_DIR: lambda p: p.valid}
    result = PreparationResult(out_dir)
    result.images = [p.path.name for p in plans]
    result.skipped = skipped
    counts = {s: Counter() for s in subsets}
    for s in subsets:
        for p in plans:
            counts[s].update({int(k): len(copies) * int(n) for k, n in
                              zip(*np.unique(p.labels[masks[s](p)], return_counts=True))})

    if run_config is None:
        run_config = {"images_dir": str(images_dir), "out_dir": str(out_dir),
                      "tile_size": tile_size, "stride": stride, "valid_fraction": valid_fraction,
                      "seed": seed, "bands": bands, "tensor_name": tensor_name,
                      "tensor_mode": tensor_mode, "norm_factor": norm_factor,
                      "n_classes": n_classes, "augmentation": augmentation,
                      "rare_class_tiles": rare_class_tiles, "rare_stride": rare_stride,
                      "radiometric": radiometric, "image_scale": image_scale,
                      "resize_companions": resize_companions}
    script = script or "seeice.phase1.preparation.prepare_tiles"

    if VALID_DIR in subsets and not counts[VALID_DIR]:
        log.warning("The validation fraction %g selects no tile (too few pure tiles per class "
                    "and image); no validation tiles are written.", valid_fraction)
        subsets.remove(VALID_DIR)
    if tensor_name is None:
        existing = sum(len(list_tiles(out_dir / s / f"C{k}")) for s in subsets
                       for k in found_classes)
        if existing:
            log.warning("%s already holds %d tiles; new tiles are added beside them (same "
                        "names are replaced).", out_dir, existing)
    writers, destinations, group_ids = {}, {}, {}
    try:
        if tensor_name is not None:
            for s in subsets:
                destinations[s] = _tensor_positions(plans, masks[s], copies)
                group_ids[s] = _group_ids(plans, masks[s])
                name = tensor_name if s == TRAIN_DIR else f"{tensor_name}_valid"
                writers[s] = TensorWriter(out_dir, name, n_tiles=len(destinations[s]),
                                          tile_size=tile_size, bands=n_bands, source_dtype=dtype,
                                          mode=tensor_mode, norm_factor=norm_factor,
                                          n_classes=n_classes, run_config=run_config,
                                          script=script,
                                          extra={"source": str(images_dir), "subset": s})
        filled = {s: 0 for s in subsets}
        for plan in tqdm(plans, desc="Tiling", unit="image", disable=None):
            if len(plan.labels) == 0:
                continue
            image = read_scene(plan.path, bands=bands, image_scale=image_scale).data
            for s in subsets:
                for aug, labels, rows, cols in _augmented_chunks(
                        plan, image, masks[s](plan), tile_size, rng, augmentation, radiometric):
                    if tensor_name is None:
                        _write_tile_files(out_dir / s, plan.stem, aug, labels, rows, cols, copies)
                    else:
                        m = aug.shape[0] * len(copies)
                        positions = destinations[s][filled[s]:filled[s] + m]
                        groups = np.repeat([group_ids[s][(plan.stem, int(r), int(c))]
                                            for r, c in zip(rows, cols)], len(copies))
                        writers[s].put(positions, aug.reshape((m,) + aug.shape[2:]),
                                       np.repeat(labels, len(copies)), groups)
                        filled[s] += m
        for s, writer in writers.items():
            result.tensors[s] = writer.commit()
    except BaseException:
        for writer in writers.values():
            writer.abort()
        raise

    result.counts = {s: dict(sorted(counts[s].items())) for s in subsets}
    for s in subsets:
        report_class_counts(result.counts[s], f"{s} tiles written ({sum(result.counts[s].values())} in all)")
    extra = {"tiles_per_class": {s: {f"C{k}": n for k, n in c.items()}
                                 for s, c in result.counts.items()},
             "images": result.images, "skipped_images": skipped,
             "bands": n_bands, "source_dtype": str(dtype)}
    if tensor_name is not None:
        extra["tensors"] = {s: str(t.tensor) for s, t in result.tensors.items()}
    save_run_config(out_dir, run_config, script=script, extra=extra)
    return result


def _write_tile_files(subset_dir: Path, stem: str, aug: np.ndarray, labels: np.ndarray,
                      rows: np.ndarray, cols: np.ndarray, copies) -> None:
    """Write every tile and augmented copy of one chunk as a small uncompressed GeoTIFF."""
    for k in np.unique(labels):
        (subset_dir / f"C{int(k)}").mkdir(parents=True, exist_ok=True)
    for i in range(aug.shape[0]):
        folder = subset_dir / f"C{int(labels[i])}"
        for c, (rotation, mirrored) in enumerate(copies):
            write_raster(folder / tile_name(stem, rows[i], cols[i], rotation, mirrored),
                         aug[i, c], compress=None)


def _tensor_positions(plans: list[_ImagePlan], mask_of, copies) -> np.ndarray:
    """Row of each generated tile in the compiled tensor, in generation order.

    Compilation reads C1..CN in order and each folder sorted by file name; tensor mode
    writes each tile where that reading would put its file, so both give equal tensors.
    """
    keys = []
    for plan in plans:
        mask = mask_of(plan)
        for label, row, col in zip(plan.labels[mask], plan.rows[mask], plan.cols[mask]):
            for rotation, mirrored in copies:
                keys.append((int(label), tile_name(plan.stem, row, col, rotation, mirrored)))
    order = sorted(range(len(keys)), key=keys.__getitem__)
    positions = np.empty(len(keys), dtype=np.int64)
    positions[order] = np.arange(len(keys))
    return positions


def _group_ids(plans: list[_ImagePlan], mask_of) -> dict[tuple[str, int, int], int]:
    """Source-window group id of every window of a subset, ``(stem, row, col) -> id``.

    Ids number the windows in sorted ``(stem, row, col)`` order, as compilation numbers them
    from the tile file names, so that both give equal group files.
    """
    keys = sorted((plan.stem, int(r), int(c)) for plan in plans
                  for r, c in zip(plan.rows[mask_of(plan)], plan.cols[mask_of(plan)]))
    return {key: i for i, key in enumerate(keys)}

"""Hand-made CSC run folders with known answers, for the results and Batch-script tests.

The known example: six scored pixels over two images, with four rows holding a zero label
mixed in (they must be dropped before scoring). The front-distance example pools six
distances over two images. The expected values are worked out in the comments.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
from rasterio.crs import CRS
from rasterio.transform import Affine

from seeice.classes import GLACIER_SCHEME
from seeice.io.raster import write_raster

CRS_UTM = CRS.from_epsg(32624)
TRANSFORM_10M = Affine(10.0, 0.0, 500000.0, 0.0, -10.0, 7400000.0)

# The known example: six scored pixels (after the zero rows are dropped).
TRUTH = [1, 1, 4, 4, 4, 7]
CNN = [1, 4, 4, 4, 4, 7]
CSC = [1, 1, 4, 4, 1, 1]
# Phase 1 (CNN): class 1 P=1, R=1/2 -> F1 2/3; class 4 P=3/4, R=1 -> F1 6/7; class 7 F1 1.
# Weighted by support (2, 3, 1): (2*2/3 + 3*6/7 + 1)/6 = 103/126.
CNN_WEIGHTED, CNN_GLACIER = 103 / 126, 6 / 7
# Phase 2 (CSC): class 1 P=2/4, R=1 -> 2/3; class 4 P=1, R=2/3 -> 4/5; class 7 F1 0.
# Weighted: (2*2/3 + 3*4/5 + 0)/6 = 28/45.
CSC_WEIGHTED, CSC_GLACIER = 28 / 45, 4 / 5
# Rows that must be dropped (a zero in truth, CNN or CSC); kept, they would change every F1.
ZERO_ROWS = [(0, 1, 1), (4, 0, 4), (1, 1, 0), (7, 0, 0)]

# Pooled distances [0, 14, 10, 22, 34, 10]: rounded to 10 m -> 0, 10, 10, 20, 30, 10: mode 10.
# Sorted 0, 10, 10, 14, 22, 34: median 12. Mean 90/6 = 15. Deviations -15, -1, -5, 7, 19, -5:
# squares sum to 686, population st.dev sqrt(686/6).
FRONT_A, FRONT_B = [0.0, 14.0, 10.0], [22.0, 34.0, 10.0]
FRONT_STATS = {"Mode": 10.0, "Median": 12.0, "Mean": 15.0, "St.Dev": math.sqrt(686 / 6)}


def write_ovpdat(run: Path, stem: str, exp: str, truth, cnn, csc) -> Path:
    """Write the per-image label file ``OvPdat_<stem>_<exp>.npz`` of a run (uint8 arrays)."""
    path = run / f"OvPdat_{stem}_{exp}.npz"
    np.savez(path, truth=np.asarray(truth, np.uint8), cnn=np.asarray(cnn, np.uint8),
             csc=np.asarray(csc, np.uint8))
    return path


def write_run_json(run: Path, config: dict, training: dict | None = None,
                   scheme: dict | None = None, extra: dict | None = None) -> None:
    """Write a run's ``run.json`` as CSC.py does: config, model metadata, class scheme, and
    ``status: complete`` (a finished run).

    Parameters
    ----------
    run : Path
        Run folder.
    config : dict
        Resolved CSC user inputs.
    training : dict, optional
        The model's training record (``joint``, ``images``, ``fine_tuned_from``, ...).
    scheme : dict, optional
        Class scheme of the run; the glacier scheme by default.
    extra : dict, optional
        Further top-level keys.
    """
    record = {"script": "CSC.py", "status": "complete", "config": config,
              "model": {"base": "vgg16", "tile_size": 50, "bands": 4, "n_classes": 7,
                        "class_names": list(GLACIER_SCHEME.names),
                        "scheme": GLACIER_SCHEME.to_dict(), "norm_factor": 8192.0,
                        "training": training or {}},
              "scheme": scheme or GLACIER_SCHEME.to_dict()}
    record.update(extra or {})
    (run / "run.json").write_text(json.dumps(record), encoding="utf-8")


def known_run(root: Path, name: str = "Sweep_patch7", exp: str = "HelS2k7", **json_kwargs) -> Path:
    """The six-pixel example split over two images, with the zero rows mixed in.

    A ``run.json`` is written when ``config`` is among the keyword arguments (passed on to
    :func:`write_run_json`).
    """
    run = root / name
    run.mkdir(parents=True)
    t, c, s = zip(*ZERO_ROWS[:2])
    write_ovpdat(run, "imgA", exp, TRUTH[:3] + list(t), CNN[:3] + list(c), CSC[:3] + list(s))
    t, c, s = zip(*ZERO_ROWS[2:])
    write_ovpdat(run, "imgB", exp, list(t) + TRUTH[3:], list(c) + CNN[3:], list(s) + CSC[3:])
    if json_kwargs.get("config") is not None:
        write_run_json(run, **json_kwargs)
    return run


def helheim_config(**overrides) -> dict:
    """CSC user inputs of a Helheim run (patch 7, 50 px tiles, 4 bands, seen glacier)."""
    config = {"ModelName": "Models/VGG16_50_RGBNIR", "PredictPath": "Data/Validate/Helheim",
              "ScorePath": "Results/Sweep", "Experiment": "HelS2", "Ndims": 4, "NClasses": 7,
              "Kernel_size": 7, "size": 50, "CNNsamples": 500000, "WholeImage": 1,
              "Patience": 10, "SmallestElement": 2, "Glacier": "Helheim", "Validation": "Seen"}
    config.update(overrides)
    return config


def write_geotiff(path: Path, data: np.ndarray) -> Path:
    """Write a uint8 GeoTIFF in UTM 24N with 10 m pixels."""
    return write_raster(path, data.astype(np.uint8), crs=CRS_UTM, transform=TRANSFORM_10M)


def rock_rasters(rock_class: int = 7, vm_col: int = 11, blob: bool = True):
    """150 x 40 classes: rock in columns 0..9, glacier ice elsewhere; a valley margin line.

    The rock boundary contour runs along column 9.5 (150 vertices), rasterised to column 9.
    A margin in column 11 is 2 px = 20 m away, in column 5 it is 4 px = 40 m away. The 3 x 3
    rock blob next to the margin has a short contour (< 100 vertices) and must be ignored:
    counted, it would put some margin pixels 0 m from a boundary.
    """
    classes = np.full((150, 40), 4, np.uint8)
    classes[:, :10] = rock_class
    if blob:
        classes[60:63, 12:15] = 7
    margin = np.zeros_like(classes)
    margin[:, vm_col] = 1
    return classes, margin


def full_run(root: Path, name: str, exp: str, stems, config=None, training=None) -> Path:
    """A run folder holding every per-image output of CSC for each stem, and a summary."""
    run = root / name
    run.mkdir(parents=True)
    for stem in stems:
        write_ovpdat(run, stem, exp, [1], [1], [1])
        for prefix in ("CNN", "CSC"):
            (run / f"{prefix}_{stem}_{exp}.csv").write_text("Class,F1_score\n", encoding="utf-8")
        (run / f"CSC_{exp}_{stem}.png").write_bytes(b"png")
        np.save(run / f"{stem}_cfdistances.npy", np.array([10.0]))
        (run / f"{stem}_classified.tif").write_bytes(b"tif")
    pd.DataFrame({"Image": list(stems), "CSC_F1": 0.9}).to_csv(run / "summary.csv", index=False)
    if config is not None:
        write_run_json(run, config, training=training)
    return run


def per_image(run: Path, stem: str, exp: str) -> set[Path]:
    """The six files :func:`full_run` writes for one image."""
    names = [f"OvPdat_{stem}_{exp}.npz", f"CNN_{stem}_{exp}.csv", f"CSC_{stem}_{exp}.csv",
             f"CSC_{exp}_{stem}.png", f"{stem}_cfdistances.npy", f"{stem}_classified.tif"]
    return {run / n for n in names}


def joint_runs(root: Path):
    """Three runs over images img1, img10, img2, img3, of which img1 and img2 trained the CNN.

    Returns
    -------
    runs : Path
        Folder of the runs.
    joint : Path
        Folder of the joint-training images (img1 with its class raster, img2).
    with_json, by_name, single : Path
        A joint run known from its ``run.json``, a published joint run (no run.json: joint
        only when named in ``joint_runs``), and a single-image run (nothing to remove).
    """
    runs, joint = root / "runs", root / "joint_images"
    joint.mkdir()
    for name in ("img1.tif", "SCLS_img1.tif", "img2.png"):
        (joint / name).write_bytes(b"x")
    stems = ["img1", "img10", "img2", "img3"]
    with_json = full_run(runs, "sweep_patch7", "Jk7", stems,
                         config={"Experiment": "J", "Kernel_size": 7, "size": 50},
                         training={"joint": True})
    by_name = full_run(runs, "Jak_VGG16_joint_50_RGB_patch3", "Jak_k3", stems)
    single = full_run(runs, "Jak_VGG16_50_RGB_patch3", "Jak_k3", stems)
    return runs, joint, with_json, by_name, single


def is_png(path: Path) -> bool:
    """Whether ``path`` is a file starting with the PNG signature."""
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

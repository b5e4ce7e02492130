"""Shared fixtures of the bad-input catalogue (tests/bad_inputs/): run a script in-process,
tiny scenes and models, and checks that a refusal lost nothing and left nothing looking done.

Each case of the catalogue runs a script's entry function as the command line would
(:func:`run_entry`: the script's header, ``--config`` YAML and flags, then ``main``), and
asserts the exit status, that the message names the problem and the fix, and that no
traceback was printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import io
import json
import logging
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rasterio.transform import Affine

from repo_paths import REPO

_MODULES: dict[str, object] = {}


@dataclass
class Outcome:
    """What a script run left: its exit status and everything it printed (stderr + stdout)."""

    code: int
    output: str

    @property
    def text(self) -> str:
        """The output with its line breaks joined (messages are wrapped at 100 columns)."""
        return " ".join(self.output.split())

    def refused(self, *phrases: str, code: int = 2) -> "Outcome":
        """Assert a clean refusal: ``code``, no traceback, every phrase in the message."""
        assert self.code == code, f"exit {self.code}, not {code}:\n{self.output}"
        assert "Traceback" not in self.output, self.output
        for phrase in phrases:
            assert " ".join(phrase.split()) in self.text, f"{phrase!r} not in:\n{self.output}"
        return self


def script_module(script: str):
    """The module of a script (``"CSC_Application/CSC.py"``), imported once, not run."""
    if script not in _MODULES:
        path = REPO / script
        name = "seeice_script_" + path.stem.lower()
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _MODULES[script] = module
    return _MODULES[script]


def run_entry(script: str, *argv) -> Outcome:
    """Run ``script`` in-process with command-line arguments ``argv``; capture what it printed.

    The script's ``main`` goes through :func:`seeice.config.runner.run_script` exactly as on
    the command line (its header, YAML, flags, error handling and exit status).
    """
    from seeice.config.runner import run_script

    module = script_module(script)
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    code = None
    root.handlers[:] = []  # so that run_script logs to the captured stderr, as in a terminal
    try:
        with contextlib.redirect_stderr(stream), contextlib.redirect_stdout(stream):
            try:
                run_script(REPO / script, module.main, argv=[str(a) for a in argv])
            except SystemExit as stop:
                code = stop.code
            except BaseException:  # a traceback a user would see: keep it for the assertion
                import traceback

                stream.write(traceback.format_exc())
                code = -1
    finally:  # run_script set up its own logging; give pytest's back
        for handler in root.handlers[:]:
            if handler not in handlers:
                root.removeHandler(handler)
        root.handlers[:] = handlers
        root.setLevel(level)
    return Outcome(code if isinstance(code, int) else 1, stream.getvalue())


def write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (to show nothing changed)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def run_status(out_dir: Path) -> str | None:
    """The ``status`` of a run's run.json (None when there is none)."""
    path = Path(out_dir) / "run.json"
    return json.loads(path.read_text())["status"] if path.is_file() else None


# ---------------------------------------------------------------------------------------------
# Tiny data
# ---------------------------------------------------------------------------------------------

SCENE_SIZE = 100   #: smallest synthetic scene, px
TILE = 32          #: tile size of the tiny model


def scene_files(folder: Path, stem: str, seed: int = 3) -> Path:
    """Write a tiny synthetic scene ``<stem>.tif`` with its SCLS_, EDGE_ and VM_ companions."""
    from seeice.datasets.synthetic import make_scene
    from seeice.io.raster import write_raster

    folder.mkdir(parents=True, exist_ok=True)
    scene = make_scene(seed, SCENE_SIZE)
    geo = {"crs": scene.crs, "transform": scene.transform}
    write_raster(folder / f"{stem}.tif", scene.image, **geo)
    write_raster(folder / f"SCLS_{stem}.tif", scene.classes, **geo)
    write_raster(folder / f"EDGE_{stem}.tif", scene.front.astype(np.uint8), **geo)
    write_raster(folder / f"VM_{stem}.tif", scene.margins.astype(np.uint8), **geo)
    return folder / f"{stem}.tif"


def rewrite_companion(path: Path, shift_px: int = 0, crs=None, size=None, values=None,
                      truncate: bool = False) -> Path:
    """Rewrite a companion raster: shifted by ``shift_px`` pixels, in another CRS, cropped
    to ``size`` (H, W), with ``values`` written into its first rows, or truncated."""
    from seeice.io.raster import open_raster, write_raster

    with open_raster(path) as src:
        data, src_crs, transform = src.read(1), src.crs, src.transform
    if truncate:
        raw = path.read_bytes()
        path.write_bytes(raw[: len(raw) // 3])
        return path
    if shift_px:
        transform = transform @ Affine.translation(shift_px, 0)
    if size is not None:
        data = data[: size[0], : size[1]]
    if values is not None:
        data = data.copy()
        for i, value in enumerate(values):
            data[i, :] = value
    write_raster(path, data, crs=crs or src_crs, transform=transform)
    return path


def tiny_model(folder: Path) -> Path:
    """A small untrained tile model (32 px tiles, 4 bands, 7 classes) with its metadata."""
    from csc_helpers import tiny_tile_model

    return tiny_tile_model(folder, tile_size=TILE)


def csc_args(model: Path, predict: Path, out: Path, *extra) -> list:
    """Command-line arguments of a fast CSC.py run on tiny scenes."""
    return ["--model", model, "--predict", predict, "--out", out, "--tile-size", TILE,
            "--patch-size", 1, "--samples", 300, "--patience", 1, "--dpi", 30, *extra]


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


def python_exe() -> str:
    return sys.executable

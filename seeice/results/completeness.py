"""Complete runs and complete images: what the results readers read (DESIGN 10.2).

* A run folder without ``run.json`` is a published run (made elsewhere): it is read as
  complete, and each reader logs once that it did so.
* A run folder with ``run.json`` is read only when its ``status`` is ``"complete"``; any other
  run (``"running"``, ``"interrupted"``, or no status) is skipped with a warning naming it.
* Within a run, when ``run.json`` lists ``images_complete``, only the outputs of those images
  are read; the files of any other image (interrupted or failed part way, or left from an
  earlier run in the same folder) are skipped with a warning naming them.

The fields are written by :mod:`seeice.config.run_record`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from seeice.config.run_record import STATUS_COMPLETE
from seeice.errors import DataError, InputFileError
from seeice.results.runs import read_run_record, run_experiment

log = logging.getLogger(__name__)

#: Published run folders already reported in this process (each is named once).
_REPORTED_PUBLISHED: set[str] = set()
_FIX = ("Rerun it (CSC_Batch.py redoes unfinished jobs); if you know that it finished, set "
        '"status": "complete" in its run.json.')


def run_state(record: dict | None) -> str:
    """``"published"`` (no run.json), ``"complete"``, or the run's unfinished status."""
    if record is None:
        return "published"
    status = record.get("status")
    if status == STATUS_COMPLETE:
        return "complete"
    return f"status {status!r}" if status else "no status recorded"


def complete_runs(runs: Sequence[Path], runs_dir: str | os.PathLike | None = None
                  ) -> list[Path]:
    """The runs that may be read: complete ones and published ones (without run.json).

    Unfinished runs are skipped with one warning naming each; published runs are named in one
    info line (once per folder and process, however many tables read them).

    Raises
    ------
    DataError
        No run is left (every run is unfinished), or a run.json is not valid JSON.
    """
    kept, published, skipped = [], [], []
    for run in runs:
        state = run_state(read_run_record(run))
        if state == "published":
            key = os.path.abspath(run)
            if key not in _REPORTED_PUBLISHED:
                _REPORTED_PUBLISHED.add(key)
                published.append(run.name)
        elif state != "complete":
            skipped.append(f"{run.name} ({state})")
            continue
        kept.append(Path(run))
    if published:
        log.info("%d run folder(s) without run.json read as published, complete runs: %s",
                 len(published), ", ".join(published))
    if skipped:
        log.warning("skipped %d unfinished run(s), whose run.json is not marked complete: %s. "
                    "%s", len(skipped), ", ".join(skipped), _FIX)
    if not kept:
        where = f" in {runs_dir}" if runs_dir is not None else ""
        raise DataError(f"no complete CSC run{where}: every run found is unfinished "
                        f"({', '.join(skipped)}). " + _FIX)
    return kept


def require_complete_run(run_dir: str | os.PathLike) -> dict | None:
    """Check that one run folder may be read; return its run.json (None when published).

    Raises
    ------
    InputFileError
        The folder does not exist (it would otherwise read as a published run).
    DataError
        The run's run.json is not marked complete.
    """
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputFileError(f"run folder {run_dir} does not exist. Give one CSC run folder "
                             "(<OutFolder>_patch<k>).")
    record = read_run_record(run_dir)
    state = run_state(record)
    if state == "published":
        if os.path.abspath(run_dir) not in _REPORTED_PUBLISHED:
            _REPORTED_PUBLISHED.add(os.path.abspath(run_dir))
            log.info("run %s has no run.json: read as a published, complete run.", run_dir.name)
    elif state != "complete":
        raise DataError(f"run {run_dir} is unfinished: its run.json is not marked complete "
                        f"({state}). " + _FIX)
    return record


def complete_image_stems(record: dict | None) -> set[str] | None:
    """Stems of the images whose outputs are all written; None when every image counts.

    None for published runs (no run.json) and for run.json files without an
    ``images_complete`` list.
    """
    listed = (record or {}).get("images_complete")
    if record is None or not isinstance(listed, list):
        return None
    return {Path(str(name)).stem for name in listed}


def result_names(stem: str, experiment: str) -> set[str]:
    """File names of one image's CSC outputs (DESIGN 5.8-5.11 naming)."""
    names = {f"OvPdat_{stem}_{experiment}.npz", f"CNN_{stem}_{experiment}.csv",
             f"CSC_{stem}_{experiment}.csv", f"CSC_{experiment}_{stem}.png",
             f"{stem}_cfdistances.npy", f"{stem}_front.gpkg",
             f"{stem}_cfdistances_predicted.npy", f"{stem}_front.geojson"}
    names |= {f"{stem}_classified{ext}" for ext in (".tif", ".tiff", ".png")}
    return names | {name + ".aux.xml" for name in names}


def _owner(name: str, experiment: str | None, stems: Iterable[str]) -> str | None:
    """The stem (among ``stems``) whose outputs include the file ``name``, or None."""
    for stem in sorted(stems, key=len, reverse=True):
        if experiment is not None:
            if name in result_names(stem, experiment):
                return stem
        elif name.startswith((f"OvPdat_{stem}_", f"CNN_{stem}_", f"CSC_{stem}_", f"{stem}_")) \
                or (name.startswith("CSC_") and name.endswith(f"_{stem}.png")):
            return stem
    return None


def keep_complete_images(run_dir: str | os.PathLike, files: Iterable[Path],
                         record: dict | None = None) -> list[Path]:
    """The result files of a run that belong to its complete images.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    files : iterable of pathlib.Path
        Result files of the run (``OvPdat_*.npz``, ``*_cfdistances.npy``, ...).
    record : dict, optional
        Its run.json content, when already read.

    Returns
    -------
    list of pathlib.Path
        The files of images listed in ``images_complete`` (all files when the run has no such
        list), in the given order. The others are named in one warning.
    """
    run_dir = Path(run_dir)
    files = list(files)
    record = read_run_record(run_dir) if record is None else record
    done = complete_image_stems(record)
    if done is None:
        return files
    experiment = run_experiment(run_dir, record)
    known = set(done)
    for key in ("images", "images_failed"):
        if isinstance(record.get(key), list):
            known.update(Path(str(name)).stem for name in record[key])
    kept, skipped = [], []
    for path in files:
        stem = _owner(path.name, experiment, known)
        if stem is not None and stem in done:
            kept.append(path)
        elif (stem or path.name) not in skipped:
            skipped.append(stem or path.name)
    if skipped:
        log.warning("run %s: skipped the outputs of %s: not listed as complete in run.json "
                    "(images_complete). They may be partly written (an interrupted or failed "
                    "image) or left from an earlier run in this folder; rerun the run to redo "
                    "them.", run_dir.name, ", ".join(sorted(skipped)))
    return kept

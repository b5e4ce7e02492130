"""Joint-run clean-up: remove the results of images used in joint fine-tuning, so validation stays out of sample."""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path
from typing import Sequence

import pandas as pd

from seeice.errors import ConfigError, DataError
from seeice.io.atomic import write_csv
from seeice.io.raster import list_images
from seeice.results.completeness import complete_runs
from seeice.results.runs import (
    find_runs,
    joint_training,
    read_run_record,
    record_section,
    run_experiment,
)

log = logging.getLogger(__name__)


def image_result_files(run_dir: str | os.PathLike, stem: str, experiment: str | None
                       ) -> list[Path]:
    """The per-image result files of ``stem`` in a run folder.

    With the experiment known, exactly: ``OvPdat_<stem>_<exp>.npz``, ``CNN_<stem>_<exp>.csv``,
    ``CSC_<stem>_<exp>.csv``, the figure ``CSC_<exp>_<stem>.png``, ``<stem>_cfdistances.npy``
    and ``<stem>_cfdistances_predicted.npy``, the front ``<stem>_front.gpkg`` and ``.geojson``, ``<stem>_classified.tif/.tiff/.png`` (with GDAL
    ``.aux.xml`` side files) and ``valley_margins/<stem>_vmdistances.npy``. Without it, every
    file whose name holds ``<stem>`` between ``_`` or the name's start and ``_``, ``.`` or its
    end (which can also catch an image whose stem ends in ``_<stem>``), except ``run.json`` and
    ``summary.csv``, and the margin distances.
    """
    run_dir = Path(run_dir)
    files = [p for p in run_dir.iterdir() if p.is_file()]
    margins = run_dir / "valley_margins" / f"{stem}_vmdistances.npy"
    margins = [margins] if margins.is_file() else []
    if experiment is None:
        bounded = re.compile(rf"(?:^|_){re.escape(stem)}(?=[_.]|$)")
        return sorted([p for p in files if p.name not in ("run.json", "summary.csv")
                       and bounded.search(p.name)] + margins)
    exact = {f"OvPdat_{stem}_{experiment}.npz", f"CNN_{stem}_{experiment}.csv",
             f"CSC_{stem}_{experiment}.csv", f"CSC_{experiment}_{stem}.png",
             f"{stem}_cfdistances.npy", f"{stem}_front.gpkg",
             f"{stem}_cfdistances_predicted.npy", f"{stem}_front.geojson"}
    exact |= {f"{stem}_classified{ext}" for ext in (".tif", ".tiff", ".png")}
    exact |= {name + ".aux.xml" for name in list(exact)}
    return sorted([p for p in files if p.name in exact] + margins)


def clear_joint(runs_dir: str | os.PathLike, joint_images_dir: str | os.PathLike | None,
                dry_run: bool = False, joint_runs: Sequence[str] | None = None) -> list[Path]:
    """Remove from joint-training runs the results of the images used in joint fine-tuning.

    So that validation stays out of sample: a CNN fine-tuned jointly on some images must not
    be scored on them.

    Which runs are joint is read from each run's run.json (the model's training record, see
    :func:`seeice.results.runs.joint_training`), never from folder names. A published run
    folder (no run.json) is touched only when ``joint_runs`` names it. Unfinished runs (run.json
    not marked complete) are skipped with a warning.

    Parameters
    ----------
    runs_dir : path-like
        Folder of run folders (or one run folder).
    joint_images_dir : path-like or None
        Folder of the images used in joint fine-tuning (their stems, via
        :func:`seeice.io.raster.list_images`). None: each run's own list, the model's
        ``training.fine_tuned_on`` in run.json.
    dry_run : bool
        List what would be removed, remove nothing.
    joint_runs : sequence of str, optional
        Folder names of joint-training runs, for published runs (without run.json), and for
        runs whose run.json records no model training. A named run whose run.json records a
        single-model CNN is refused.

    The rows of those images are also dropped from each run's ``summary.csv`` (rows with a
    cell that names the image: its stem, file name or path).

    Returns
    -------
    list of pathlib.Path
        The files removed (or, in a dry run, that would be removed), sorted.

    Raises
    ------
    ConfigError
        ``joint_runs`` names a folder that is not a run, or a run whose run.json records a
        single-model CNN. Nothing is removed.
    """
    stems = None
    if joint_images_dir not in (None, ""):
        stems = sorted({p.stem for p in list_images(joint_images_dir)})
        if not stems:
            raise DataError(f"{joint_images_dir} holds no images. Give the folder of the images "
                            "used in joint fine-tuning (SCLS_ companions are ignored).")
    found = find_runs(runs_dir)
    joint = _joint_runs(found, complete_runs(found, runs_dir), joint_runs or (), runs_dir)
    removed = []
    for run, record in joint:
        run_stems = stems
        if run_stems is None:
            listed = record_section(record_section(record, "model"), "training").get("fine_tuned_on") or []
            run_stems = sorted({Path(str(s)).stem for s in listed})
            if not run_stems:
                log.warning("run %s: run.json names no fine-tuning images (model training "
                            "'fine_tuned_on'); give --joint-images.", run.name)
                continue
        experiment = run_experiment(run, record)
        if experiment is None:
            log.warning("run %s: experiment name unknown; matching files by image name only.",
                        run.name)
        files = sorted({f for stem in run_stems
                        for f in image_result_files(run, stem, experiment)})
        for f in files:
            if dry_run:
                log.info("would remove %s", f)
            else:
                f.unlink()
                log.info("removed %s", f)
        removed += files
        _drop_summary_rows(run / "summary.csv", run_stems, dry_run)
    if not joint:
        log.warning("no joint-training run in %s; nothing to remove.", runs_dir)
    log.info("%s %d file(s) from %d joint-training run(s).",
             "would remove" if dry_run else "removed", len(removed), len(joint))
    return sorted(removed)


def _joint_runs(found: Sequence[Path], complete: Sequence[Path], names: Sequence[str],
                runs_dir) -> list[tuple[Path, dict | None]]:
    """The joint-training runs among ``complete``, with their run.json; every refusal at once."""
    listed = {str(n).strip().rstrip("/\\") for n in names if str(n).strip()}
    unknown = sorted(listed - {run.name for run in found})
    problems = []
    if unknown:
        problems.append(f"--joint-runs names {', '.join(unknown)}, not a run folder in "
                        f"{runs_dir} (run folders: {', '.join(r.name for r in found)}); give "
                        "the folder names as they are there")
    joint, published, unrecorded = [], [], []
    for run in complete:
        record = read_run_record(run)
        named = run.name in listed
        is_joint = joint_training(record)
        if record is None and not named:
            published.append(run.name)
        elif is_joint is None and not named:
            unrecorded.append(run.name)
        elif is_joint is False and named:
            problems.append(f"--joint-runs names {run.name}, but its run.json records a "
                            "single-model CNN (a model training record without 'joint' or "
                            f"'fine_tuned_from'); remove {run.name} from --joint-runs")
        elif is_joint or named:
            joint.append((run, record))
    if problems:
        raise ConfigError("nothing was removed: " + "; ".join(problems) + ".")
    if published:
        log.info("left alone %d published run(s) without run.json: %s. ClearJoint acts on a "
                 "published run only when --joint-runs names it.", len(published),
                 ", ".join(published))
    if unrecorded:
        log.info("left alone %d run(s) whose run.json records no training of the model: %s. "
                 "Name them in --joint-runs if their CNN was trained jointly.",
                 len(unrecorded), ", ".join(unrecorded))
    return joint


def _drop_summary_rows(path: Path, stems: Sequence[str], dry_run: bool) -> int:
    """Drop from a run's ``summary.csv`` the rows of ``stems`` (a cell naming the image)."""
    if not path.is_file():
        return 0
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError):
        log.warning("%s cannot be read as CSV; left unchanged.", path)
        return 0
    wanted = set(stems)

    def names_image(cell: str) -> bool:
        return cell in wanted or Path(cell).stem in wanted or Path(cell).name in wanted

    hit = table.apply(lambda row: any(names_image(str(c)) for c in row), axis=1) \
        if len(table) else pd.Series([], dtype=bool)
    n = int(hit.sum())
    if n:
        if dry_run:
            log.info("would drop %d row(s) from %s", n, path)
        else:
            write_csv(path, table[~hit])
            log.info("dropped %d row(s) from %s", n, path)
    return n

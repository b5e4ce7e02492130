"""The completeness record of a run in its ``run.json``: status, images finished, sweep job.

:func:`seeice.config.inputs.save_run_config` writes ``run.json`` when a run starts; the run
then keeps these fields of it up to date (each update rewrites the file atomically):

* ``status``: ``"running"`` from the start, ``"complete"`` once every output is written,
  ``"interrupted"`` after Ctrl-C. A run killed outright stays ``"running"``.
* ``images_complete``: file names of the images whose outputs are all written, in order.
* ``images_failed``: file names of the images that could not be classified (their reason is
  in ``summary.csv``).
* ``job``: for a run started by a sweep, the job that owns the folder: ``jobs_csv`` (absolute
  path), ``row`` (line of the CSV), ``job`` (0-based row index) and ``inputs_sha256`` (hash
  of the row's job inputs). A sweep removes an unfinished folder only when this names it.

Results readers treat a folder whose ``run.json`` is not ``"complete"`` as unfinished, and
read only the images listed in ``images_complete``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from seeice.errors import DataError
from seeice.io.atomic import write_json
from seeice.timestamps import utc_now

RUN_FILE = "run.json"
STATUS_RUNNING = "running"
STATUS_COMPLETE = "complete"
STATUS_INTERRUPTED = "interrupted"
#: Key of a job's CSC inputs under which a sweep passes the job's identity to the run.
JOB_KEY = "SweepJob"



def start_fields(job: dict | None = None) -> dict:
    """The completeness fields of a run that starts now (for ``save_run_config(extra=...)``)."""
    fields = {"status": STATUS_RUNNING, "images_complete": [], "images_failed": []}
    if job:
        fields["job"] = dict(job)
    return fields


def _read(path: Path) -> dict:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise DataError(f"{path} cannot be updated ({exc}); the run's record is lost. Rerun "
                        "the run into an empty folder.") from None
    if not isinstance(record, dict):
        raise DataError(f"{path} must hold a JSON object; rerun the run into an empty folder.")
    return record


def update_run_record(out_dir: str | os.PathLike, **fields) -> Path:
    """Set fields of ``out_dir/run.json`` and rewrite it atomically.

    Raises
    ------
    DataError
        ``run.json`` is missing or not a JSON object.
    """
    path = Path(out_dir) / RUN_FILE
    record = _read(path)
    record.update(fields)
    return write_json(path, record)


def add_image(out_dir: str | os.PathLike, name: str, failed: bool = False,
              stage_seconds: dict | None = None) -> Path:
    """Record that image ``name`` is finished: all its outputs written, or failed.

    Called after the image's last output (and its ``summary.csv`` row) is written.
    ``stage_seconds`` (seconds per stage of a classified image) goes under
    ``stage_seconds[name]``.
    """
    path = Path(out_dir) / RUN_FILE
    record = _read(path)
    key = "images_failed" if failed else "images_complete"
    record[key] = [n for n in record.get(key) or [] if n != name] + [name]
    if stage_seconds:
        record.setdefault("stage_seconds", {})[name] = {
            stage: round(float(seconds), 2) for stage, seconds in stage_seconds.items()}
    return write_json(path, record)


def mark_complete(out_dir: str | os.PathLike) -> Path:
    """Mark the run complete: the last write of a run."""
    return update_run_record(out_dir, status=STATUS_COMPLETE, completed=utc_now())


def mark_interrupted(out_dir: str | os.PathLike, image: str | None = None) -> Path:
    """Mark the run interrupted (Ctrl-C), naming the image that was in progress."""
    return update_run_record(out_dir, status=STATUS_INTERRUPTED, interrupted=utc_now(),
                             interrupted_image=image)

"""Which output folders a sweep may replace, and whether it can record its progress.

A sweep replaces (removes, then reruns) an existing output folder only when its ``run.json``
says it is an unfinished run of the same job: the same jobs CSV and the same job inputs
(``job`` in run.json, see :mod:`seeice.config.run_record`). A complete run of the same job is
taken as done. Any other folder (a finished run, another job's or another script's run, a
published run without run.json) is left alone and the sweep refuses to start.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

from seeice.config.run_record import STATUS_COMPLETE
from seeice.errors import SeeIceError
from seeice.results.runs import read_run_record
from seeice.sweeps.job_log import only_a_job_log

#: What to do with a job's output folder.
NEW, REPLACE, DONE, REFUSE = "new", "replace", "done", "refuse"


def job_identity(jobs_csv: str | os.PathLike, index: int, key: dict) -> dict:
    """The identity of a job, recorded in its run.json (``job``).

    Parameters
    ----------
    jobs_csv : path-like
        The jobs CSV.
    index : int
        The job's row index (0-based; CSV line ``index + 2``).
    key : dict
        The row's job inputs (column -> cell text), hashed.
    """
    payload = json.dumps({k: str(v).strip() for k, v in key.items()}, sort_keys=True)
    return {"jobs_csv": os.path.abspath(jobs_csv), "row": index + 2, "job": index,
            "inputs_sha256": hashlib.sha256(payload.encode("utf-8")).hexdigest()}


def output_folder_action(out: Path, identity: dict) -> tuple[str, str]:
    """What a sweep may do with a pending job's output folder.

    Returns
    -------
    action : str
        ``"new"`` (absent or empty: just run), ``"replace"`` (this job's own unfinished run:
        remove it, then run), ``"done"`` (this job's own complete run: record the job as done)
        or ``"refuse"``.
    detail : str
        For ``"replace"`` the run's status; for ``"refuse"`` what the folder holds.
    """
    out = Path(out)
    if not out.exists():
        return NEW, ""
    if not out.is_dir():
        return REFUSE, "exists and is not a folder"
    if not any(out.iterdir()) or only_a_job_log(out):
        return NEW, ""
    try:
        record = read_run_record(out)
    except SeeIceError as exc:
        return REFUSE, f"holds a run.json that cannot be read ({exc})"
    if record is None:
        return REFUSE, "holds files but no run.json (a published run, or files made elsewhere)"
    job = record.get("job") if isinstance(record.get("job"), dict) else {}
    status = record.get("status")
    if not job:
        return REFUSE, (f"holds a run made by {record.get('script') or 'another script'} "
                        f"(status {status or 'not recorded'}), not by this sweep")
    if job.get("jobs_csv") != identity["jobs_csv"]:
        return REFUSE, f"holds the run of job {job.get('job')} of another jobs CSV, {job.get('jobs_csv')}"
    if job.get("inputs_sha256") != identity["inputs_sha256"]:
        return REFUSE, (f"holds a run of this jobs CSV made with other job inputs (row "
                        f"{job.get('row')} then; the row has been edited or moved since)")
    if status == STATUS_COMPLETE:
        return DONE, ""
    return REPLACE, str(status or "not recorded")


def refuse_message(where: str, out: Path, detail: str) -> str:
    """The problem line of a refused output folder: what it holds and the fix."""
    return (f"{where}: output folder {out} {detail}. A sweep replaces only an unfinished run of "
            "the same job; move or delete that folder yourself, or give this row another "
            "OutFolder")


def csv_write_problem(jobs_csv: str | os.PathLike) -> str | None:
    """Why the sweep could not save the jobs CSV after each job, or None when it can.

    The CSV is saved atomically: a new file written beside it, then renamed over it. So both
    the file (read-only marks are respected, for every user) and its folder must be writable.
    """
    path = Path(jobs_csv)
    mode = path.stat().st_mode
    if not os.access(path, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        return (f"the jobs CSV {path} is read-only, and the sweep saves Done and Error in it "
                f"after every job: make it writable (chmod u+w {path.name}) and run again")
    try:
        fd, probe = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".probe", dir=path.parent)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return (f"the folder {path.parent} of the jobs CSV is not writable ({exc.strerror}), "
                "and the sweep saves the CSV by writing a new file beside it after every job: "
                "make the folder writable, or copy the CSV (and the paths it names) to a "
                "writable folder")
    return None

"""Each sweep job's log in its own output folder, and TensorFlow sized to the job's CPUs.

Jobs run by Ray log in worker processes, whose output the driver's console does not show
in full; so every job, on either engine, writes its log (INFO and above) to
``<output folder>/job.log``, which is kept with the run's results. A folder holding only that
log (a job that stopped before it wrote anything else) counts as empty for the sweep.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Mapping

from seeice.pipeline.csc import CSCSettings

log = logging.getLogger(__name__)

#: File name of a job's log in its output folder.
JOB_LOG = "job.log"


def job_log_path(config: Mapping) -> Path:
    """``<ScorePath>_patch<k>/job.log`` for a job's CSC user inputs."""
    return CSCSettings.from_config(config).out_dir / JOB_LOG


@contextmanager
def job_logging(config: Mapping, forward_warnings: bool = False) -> Iterator[Path]:
    """Write the ``seeice`` log records of the enclosed job to its ``job.log``.

    Parameters
    ----------
    config : mapping
        The job's CSC user inputs (the output folder follows from them).
    forward_warnings : bool
        Also write warnings and errors to stderr (a Ray worker's stderr reaches the driver's
        console), when no handler of this process does already.

    Yields
    ------
    pathlib.Path
        The log file.
    """
    path = job_log_path(config)
    path.parent.mkdir(parents=True, exist_ok=True)
    logger = logging.getLogger("seeice")
    handler = logging.FileHandler(path, mode="w", encoding="utf-8")
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s",
                                           datefmt="%Y-%m-%d %H:%M:%S"))
    handlers = [handler]
    if forward_warnings and not logging.getLogger().handlers:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(logging.WARNING)
        console.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        handlers.append(console)
    level = logger.level
    for h in handlers:
        logger.addHandler(h)
    if logger.getEffectiveLevel() > logging.INFO:
        logger.setLevel(logging.INFO)
    try:
        yield path
    finally:
        for h in handlers:
            logger.removeHandler(h)
            h.close()
        logger.setLevel(level)


def only_a_job_log(folder: str | os.PathLike) -> bool:
    """True when ``folder`` holds nothing but a job's log (a job that stopped before writing)."""
    names = [p.name for p in Path(folder).iterdir()]
    return names == [JOB_LOG]


def size_tensorflow_threads(cpus: float | int | None) -> int | None:
    """Size TensorFlow's (and OpenMP's) thread pools to the ``cpus`` a job was given.

    Sets ``TF_NUM_INTRAOP_THREADS`` (= cpus), ``TF_NUM_INTEROP_THREADS`` (= min(cpus, 2)) and
    ``OMP_NUM_THREADS`` before TensorFlow starts; when it has started already, its pools are
    set through ``tf.config.threading`` if it still allows that, else a warning says they
    were not. Without it every job would start one thread per core of the machine, and jobs
    running side by side would oversubscribe the cores.

    Returns
    -------
    int or None
        The intra-op thread count set, None when ``cpus`` is not known.
    """
    if not cpus:
        return None
    threads = max(1, int(cpus))
    inter = min(threads, 2)
    os.environ["TF_NUM_INTRAOP_THREADS"] = str(threads)
    os.environ["TF_NUM_INTEROP_THREADS"] = str(inter)
    os.environ["OMP_NUM_THREADS"] = str(threads)
    tf = sys.modules.get("tensorflow")
    if tf is not None:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(inter)
        except RuntimeError as exc:
            log.warning("TensorFlow had started before the job: its thread pools keep their "
                        "size (%s); the job was given %d CPU(s).", exc, threads)
    log.info("TensorFlow thread pools sized to the job's %d CPU(s) (inter-op %d).", threads,
             inter)
    return threads

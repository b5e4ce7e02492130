"""Ray engine of the batch sweeps: independent jobs in parallel, results back to the driver.

Ray is optional (``pip install -r requirements-ray.txt``). Each job asks Ray for one GPU when
the cluster has GPUs and for CPU slots otherwise. Workers only compute and write their own
job's output folder; the driver alone writes the jobs CSV.

* No silent retries: a job whose worker dies is reported failed, not rerun behind the user's
  back (``max_retries`` 0 by default; ``--max-retries`` of CSC_Batch allows retries, each
  logged as a warning by Ray).
* Each job's log goes to ``job.log`` in its output folder (:mod:`seeice.sweeps.job_log`);
  warnings and errors also reach the driver's console.
* Each job runs in a fresh worker process whose TensorFlow thread pools are sized to the CPUs
  Ray gave the job.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterator

from tqdm.auto import tqdm

from seeice.errors import ConfigError, one_line
from seeice.sweeps.job_log import job_logging, size_tensorflow_threads

log = logging.getLogger(__name__)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install -r requirements-ray.txt "
                          "(or use --engine local).") from None
    return ray


def _assigned_cpus() -> float | None:
    """CPUs Ray gave the running task (None outside Ray or when it does not say)."""
    try:
        import ray

        return ray.get_runtime_context().get_assigned_resources().get("CPU")
    except Exception:  # not in a Ray worker, or an older Ray without the call
        return None


def _run_config(runner: Callable[[dict], str], config: dict) -> tuple[str | None, str | None]:
    """Run one job in a worker; return (note, None) or (None, one-line error).

    The job's log goes to its output folder; TensorFlow's thread pools are sized to the CPUs
    Ray assigned to the task before the job starts TensorFlow.
    """
    try:
        with job_logging(config, forward_warnings=True):
            size_tensorflow_threads(_assigned_cpus())
            try:
                return runner(config), None
            except Exception as exc:  # reported to the driver, which records it
                logging.getLogger("seeice").exception("job failed")
                return None, one_line(exc)
    except OSError as exc:  # the log file itself could not be written
        return None, one_line(exc)


def check_max_retries(max_retries) -> int:
    """``max_retries`` as a count of retries (0 or more), or a :class:`ConfigError`."""
    if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
        raise ConfigError(f"max retries must be a whole number 0 or more (0: a job whose "
                          f"worker dies is reported failed, not rerun), got {max_retries!r}.")
    return max_retries


def ray_options(cluster: dict, cpus_per_job: int | None = None, max_retries: int = 0) -> dict:
    """Options of the remote job function: resources, retries and one worker per job.

    Parameters
    ----------
    cluster : dict
        ``ray.cluster_resources()``.
    cpus_per_job : int, optional
        CPU slots per job without GPUs (default: the cluster's CPUs / 2, at least 1).
    max_retries : int
        Times Ray may rerun a job whose worker died (0: never).
    """
    if cluster.get("GPU", 0) >= 1:
        options: dict = {"num_gpus": 1}
    else:
        options = {"num_cpus": cpus_per_job or max(1, int(cluster.get("CPU", 1)) // 2)}
    # max_calls=1: a fresh worker per job, so that TensorFlow starts with pools sized to it
    # (and frees the GPU's memory when the job ends).
    options.update(max_retries=check_max_retries(max_retries), retry_exceptions=False,
                   max_calls=1)
    return options


def run_on_ray(configs: dict[int, dict], runner: Callable[[dict], str],
               address: str | None = None, progress: bool = True,
               labels: dict[int, str] | None = None, cpus_per_job: int | None = None,
               max_retries: int = 0) -> Iterator[tuple[int, str | None, str | None]]:
    """Run job configs on Ray; yield (job index, note, error) as each job finishes.

    Parameters
    ----------
    configs : dict
        Job index -> CSC user inputs.
    runner : callable
        The job function (the sweep passes :func:`seeice.sweeps.jobs.run_job`); must be
        importable by the workers.
    address : str, optional
        Ray cluster address; None starts (or joins) a local Ray.
    cpus_per_job : int, optional
        CPU slots per job on machines without GPUs (default: all local cores / 2, at least 1).
    max_retries : int
        Times Ray may rerun a job whose worker died (default 0: the job is reported failed).
    """
    check_max_retries(max_retries)
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        # Workers' stderr (warnings and errors only, see _run_config) reaches this console;
        # each job's full log is in its output folder.
        ray.init(address=address, include_dashboard=False, log_to_driver=True,
                 logging_level=logging.WARNING)
    try:
        options = ray_options(ray.cluster_resources(), cpus_per_job, max_retries)
        log.info("Ray: %d job(s), each with %s", len(configs), options)
        remote = ray.remote(**options)(_run_config)
        pending = {remote.remote(runner, config): index for index, config in configs.items()}
        bar = tqdm(total=len(pending), desc="jobs (ray)", unit="job", disable=not progress)
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            for ref in done:
                index = pending.pop(ref)
                try:
                    note, error = ray.get(ref)
                except Exception as exc:  # a worker that died (retried max_retries times)
                    note, error = None, (f"the job's worker stopped and the job was not rerun "
                                         f"(--max-retries {max_retries}): {one_line(exc)}")[:500]
                bar.update(1)
                if labels:
                    bar.set_postfix_str(labels.get(index, ""))
                yield index, note, error
        bar.close()
    finally:
        if started_here:
            ray.shutdown()

"""Ray engine of the batch sweeps: independent jobs in parallel, results back to the driver.

Ray is optional (``pip install -r requirements-ray.txt``). Each job asks Ray for one GPU when
the cluster has GPUs and for CPU slots otherwise. Workers only compute and write their own
job's output folder; the driver alone writes the jobs CSV.
"""

from __future__ import annotations

import logging
from typing import Callable, Iterator

from tqdm.auto import tqdm

from seeice.errors import ConfigError, one_line

log = logging.getLogger(__name__)


def _import_ray():
    try:
        import ray
    except ImportError:
        raise ConfigError("--engine ray needs Ray: pip install -r requirements-ray.txt "
                          "(or use --engine local).") from None
    return ray


def _run_config(runner: Callable[[dict], str], config: dict) -> tuple[str | None, str | None]:
    """Run one job in a worker; return (note, None) or (None, one-line error)."""
    try:
        return runner(config), None
    except Exception as exc:  # reported to the driver, which records it
        return None, one_line(exc)


def run_on_ray(configs: dict[int, dict], runner: Callable[[dict], str],
               address: str | None = None, progress: bool = True,
               labels: dict[int, str] | None = None, cpus_per_job: int | None = None
               ) -> Iterator[tuple[int, str | None, str | None]]:
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
    """
    ray = _import_ray()
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address, include_dashboard=False, log_to_driver=False,
                 logging_level=logging.WARNING)
    try:
        gpus = ray.cluster_resources().get("GPU", 0)
        if gpus >= 1:
            options = {"num_gpus": 1}
        else:
            cpus = cpus_per_job or max(1, int(ray.cluster_resources().get("CPU", 1)) // 2)
            options = {"num_cpus": cpus}
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
                except Exception as exc:  # a worker that died
                    note, error = None, one_line(exc)
                bar.update(1)
                if labels:
                    bar.set_postfix_str(labels.get(index, ""))
                yield index, note, error
        bar.close()
    finally:
        if started_here:
            ray.shutdown()

"""The Ray engine: no silent retries, each job's log in its output folder, TensorFlow sized to the job.

The options and the worker-side wrapper are tested without Ray (a stand-in module records
what the engine asks of it); one test runs real Ray when it is installed.
"""

from __future__ import annotations

import logging
import os
import types

import pytest

from seeice.errors import ConfigError
from seeice.sweeps import ray_engine
from seeice.sweeps.job_log import JOB_LOG, job_log_path, only_a_job_log
from seeice.sweeps.ownership import NEW, output_folder_action


def _config(tmp_path, name="job0", k=1):
    return {"ScorePath": str(tmp_path / "runs" / name), "Kernel_size": k}


def test_options_never_retry_by_default_and_take_one_fresh_worker_per_job():
    options = ray_engine.ray_options({"CPU": 8.0})
    assert options == {"num_cpus": 4, "max_retries": 0, "retry_exceptions": False,
                       "max_calls": 1}
    assert ray_engine.ray_options({"CPU": 8.0, "GPU": 2.0}, max_retries=2) == {
        "num_gpus": 1, "max_retries": 2, "retry_exceptions": False, "max_calls": 1}
    assert ray_engine.ray_options({"CPU": 8.0}, cpus_per_job=3)["num_cpus"] == 3
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ConfigError, match="max retries must be a whole number 0 or more"):
            ray_engine.ray_options({"CPU": 2.0}, max_retries=bad)


class Ref:
    """A task reference of the stand-in: its outcome, hashable by identity as Ray's are."""

    def __init__(self, kind, value=None):
        self.kind, self.value = kind, value


class FakeRay(types.SimpleNamespace):
    """Records what the engine asks of Ray; runs each task at once in this process."""

    def __init__(self, crash=()):
        super().__init__(init_kwargs=None, remote_options=None, crash=set(crash), shut=False)

    def is_initialized(self):
        return self.init_kwargs is not None

    def init(self, **kwargs):
        self.init_kwargs = kwargs

    def cluster_resources(self):
        return {"CPU": 4.0}

    def remote(self, **options):
        self.remote_options = options
        fake = self

        def wrap(function):
            def submit(runner, config):
                if config["ScorePath"] in fake.crash:
                    return Ref("crash")
                return Ref("done", function(runner, config))
            return types.SimpleNamespace(remote=submit)
        return wrap

    def wait(self, refs, num_returns=1):
        return refs[:num_returns], refs[num_returns:]

    def get(self, ref):
        if ref.kind == "crash":
            raise RuntimeError("The worker died unexpectedly while executing this task.")
        return ref.value

    def shutdown(self):
        self.shut = True


def test_engine_asks_ray_for_no_retries_and_forwards_worker_logs(tmp_path, monkeypatch):
    fake = FakeRay(crash=[str(tmp_path / "runs" / "job1")])
    monkeypatch.setattr(ray_engine, "_import_ray", lambda: fake)
    monkeypatch.setattr(ray_engine, "_assigned_cpus", lambda: 2.0)
    monkeypatch.setattr(ray_engine, "size_tensorflow_threads", lambda cpus: None)

    def runner(config):
        return "ok"

    configs = {0: _config(tmp_path, "job0"), 1: _config(tmp_path, "job1")}
    results = {i: (note, error) for i, note, error in
               ray_engine.run_on_ray(configs, runner, progress=False)}
    assert fake.init_kwargs["log_to_driver"] is True
    assert fake.remote_options["max_retries"] == 0 and fake.remote_options["max_calls"] == 1
    assert results[0] == ("ok", None)
    assert results[1][0] is None
    assert "worker stopped and the job was not rerun (--max-retries 0)" in results[1][1]
    assert fake.shut


def test_a_job_writes_its_log_into_its_output_folder(tmp_path, monkeypatch):
    monkeypatch.setattr(ray_engine, "_assigned_cpus", lambda: 3.0)
    for name in ("TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"):
        monkeypatch.delenv(name, raising=False)

    def runner(config):
        logging.getLogger("seeice.pipeline.csc").info("classifying %s", config["ScorePath"])
        logging.getLogger("seeice.pipeline.image_csc").warning("b.tif: no calving front")
        return os.environ["TF_NUM_INTRAOP_THREADS"]

    config = _config(tmp_path)
    note, error = ray_engine._run_config(runner, config)
    assert (note, error) == ("3", None)  # the pools were sized before the job started
    assert os.environ["TF_NUM_INTEROP_THREADS"] == "2" and os.environ["OMP_NUM_THREADS"] == "3"
    text = job_log_path(config).read_text()
    assert job_log_path(config) == tmp_path / "runs" / "job0_patch1" / JOB_LOG
    assert "INFO seeice.pipeline.csc: classifying" in text
    assert "WARNING seeice.pipeline.image_csc: b.tif: no calving front" in text
    assert "thread pools sized to the job's 3 CPU(s)" in text
    # The handler is gone after the job: later records do not reach this job's log.
    logging.getLogger("seeice").warning("after the job")
    assert "after the job" not in job_log_path(config).read_text()


def test_a_failing_job_logs_its_traceback_and_reports_one_line(tmp_path, monkeypatch):
    monkeypatch.setattr(ray_engine, "_assigned_cpus", lambda: None)

    def runner(config):
        raise ValueError("the model has 3 bands\nand more")

    config = _config(tmp_path)
    note, error = ray_engine._run_config(runner, config)
    assert note is None and error == "ValueError: the model has 3 bands and more"
    text = job_log_path(config).read_text()
    assert "job failed" in text and "Traceback" in text and "raise ValueError" in text


def test_a_folder_holding_only_a_job_log_counts_as_empty(tmp_path):
    out = tmp_path / "runs" / "job0_patch1"
    out.mkdir(parents=True)
    (out / JOB_LOG).write_text("12:00 ERROR model not found\n")
    assert only_a_job_log(out)
    assert output_folder_action(out, {"jobs_csv": "x", "inputs_sha256": "y"})[0] == NEW
    (out / "summary.csv").write_text("Image\n")
    assert not only_a_job_log(out)


@pytest.mark.slow  # starting Ray takes about 20 s
def test_real_ray_job_log_and_thread_pools(tmp_path):
    ray = pytest.importorskip("ray", reason="Ray is optional (requirements-ray.txt)")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             logging_level=logging.ERROR)
    try:
        def runner(config):
            import logging as logging_
            import os as os_
            logging_.getLogger("seeice.pipeline.csc").warning("seen in %s", config["ScorePath"])
            return os_.environ.get("TF_NUM_INTRAOP_THREADS")

        results = list(ray_engine.run_on_ray({0: _config(tmp_path)}, runner, progress=False,
                                             cpus_per_job=1))
    finally:
        ray.shutdown()
    assert results == [(0, "1", None)]
    text = job_log_path(_config(tmp_path)).read_text()
    assert "WARNING seeice.pipeline.csc: seen in" in text

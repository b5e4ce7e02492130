"""The machine a benchmark ran on, and the peak memory of the running process.

Shared by the scripts of this folder (``import machine`` works because Python puts the
script's folder first on ``sys.path``). Linux first (``/proc``), with portable fallbacks.
"""

from __future__ import annotations

import datetime as _dt
import os
import platform
import sys


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gb() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    """1, 5 and 15 minute load averages (None where the system has none)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def machine_info() -> dict:
    """CPU model, cores, RAM, load, versions and the UTC time, as a JSON-ready dict."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    info = {
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
        "cpus_usable": usable,
        "ram_gb": _ram_gb(),
        "load_average": load_average(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "date_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    import numpy

    info["numpy"] = numpy.__version__
    if "tensorflow" in sys.modules:  # never imported here just to read a version
        info["tensorflow"] = sys.modules["tensorflow"].__version__
    return info


def describe(info: dict) -> str:
    """One line: CPU model, cores, RAM, load."""
    load = info.get("load_average")
    load_txt = f", load {load[0]:.2f}/{load[1]:.2f}/{load[2]:.2f}" if load else ""
    ram = f", {info['ram_gb']:.0f} GB RAM" if info.get("ram_gb") else ""
    return f"{info['cpu_model']}, {info['cpus_usable']} of {info['cpu_count']} cores{ram}{load_txt}"


def proc_status_mb(field: str) -> float:
    """A memory field of /proc/self/status in MB (VmRSS, VmHWM); ru_maxrss where /proc is missing."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    import resource

    scale = 1024.0 * 1024.0 if sys.platform == "darwin" else 1024.0  # bytes on macOS, KiB on Linux
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def reset_peak() -> bool:
    """Reset the process's peak resident memory (VmHWM) to its current size; True if it worked.

    Linux >= 4.0: writing 5 to /proc/self/clear_refs.
    """
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False

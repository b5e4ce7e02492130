"""Floating-point precision policy of the CNNs: choose it from the hardware, then apply it.

``"auto"`` gives ``mixed_float16`` on any NVIDIA GPU of compute capability 7.0 or more (Volta,
Turing, Ampere, Ada, Hopper: the cards with tensor cores); without a GPU, ``mixed_bfloat16`` on
CPUs with native bfloat16 arithmetic (``avx512_bf16`` or ``amx_bf16`` among the CPU flags of
``/proc/cpuinfo``); ``float32`` elsewhere (other CPUs, older GPUs, GPUs that report no CUDA
compute capability). On a CPU without native bfloat16, ``mixed_bfloat16`` is emulated and
slower than float32 (measured 0.35x training, 0.5x prediction), so ``auto`` keeps float32
there. Mixed policies keep float32 variables, and the models' softmax output layers compute
in float32. An explicit policy overrides the choice.

A model keeps the dtype policy of every layer when it is saved: a model trained under
``mixed_float16`` on a GPU would still compute in float16 after loading on a CPU.
:func:`apply_model_policy` sets the run's policy on every layer of a loaded (or trained)
model before inference, the output layer kept in float32.

Fix of a published defect: the published scripts enabled mixed precision only when the card's
name contained ``RTX`` (and only on TensorFlow 2.4), so data-centre cards (V100, A100, H100)
trained in float32 although they support float16 tensor cores.

Detection is injectable: pass ``gpus`` as a list of GPU descriptions (a compute capability
tuple such as ``(8, 6)``, a ``(name, (major, minor))`` pair, a dict as returned by
``tf.config.experimental.get_device_details``, or a :class:`GpuInfo`), so that the choice can be
tested without the hardware; likewise ``cpu_flags``, a set of CPU flag names (as in the
``flags`` line of ``/proc/cpuinfo``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Iterable, Sequence

from seeice.errors import ConfigError

log = logging.getLogger(__name__)

POLICIES = ("float32", "mixed_float16", "mixed_bfloat16")
"""Precision policies that can be asked for explicitly."""

CHOICES = ("auto",) + POLICIES
"""Valid values of ``requested`` in :func:`choose_policy`."""

#: CPU flags of native bfloat16 arithmetic (AVX-512 BF16, AMX BF16 tiles).
CPU_BF16_FLAGS = ("avx512_bf16", "amx_bf16")

MIN_COMPUTE_CAPABILITY = (7, 0)
"""Smallest NVIDIA compute capability given ``mixed_float16`` by ``"auto"`` (tensor cores)."""


@dataclass(frozen=True)
class GpuInfo:
    """What the policy choice needs to know about one GPU.

    Attributes
    ----------
    name : str
        Device name as reported by the driver ("NVIDIA H100 80GB HBM3"), or a placeholder.
    compute_capability : tuple of int or None
        CUDA compute capability ``(major, minor)``; None when the device is not an NVIDIA GPU
        or does not report one.
    """

    name: str = "GPU"
    compute_capability: tuple[int, int] | None = None

    @property
    def is_nvidia(self) -> bool:
        return self.compute_capability is not None


def _as_gpu_info(item) -> GpuInfo:
    """Convert one injected GPU description to a :class:`GpuInfo`."""
    if isinstance(item, GpuInfo):
        return item
    if isinstance(item, dict):
        cc = item.get("compute_capability")
        return GpuInfo(str(item.get("device_name", "GPU")),
                       None if cc is None else (int(cc[0]), int(cc[1])))
    if item is None:
        return GpuInfo()
    if isinstance(item, (tuple, list)):
        if len(item) == 2 and all(isinstance(v, int) for v in item):
            return GpuInfo("GPU", (int(item[0]), int(item[1])))
        if len(item) == 2 and isinstance(item[0], str):
            cc = item[1]
            return GpuInfo(item[0], None if cc is None else (int(cc[0]), int(cc[1])))
    raise ConfigError(f"cannot read GPU description {item!r}: give a compute capability "
                      "tuple such as (8, 6), a (name, (major, minor)) pair or a dict with "
                      "'device_name' and 'compute_capability'.")


def detect_gpus() -> list[GpuInfo]:
    """Describe the GPUs TensorFlow can see (an empty list on a CPU-only machine).

    Returns
    -------
    list of GpuInfo
        One entry per visible GPU, with its name and CUDA compute capability where the
        driver reports them.
    """
    import tensorflow as tf

    found = []
    for device in tf.config.list_physical_devices("GPU"):
        try:
            details = tf.config.experimental.get_device_details(device) or {}
        except Exception as exc:  # a driver that cannot describe the device: treat as unknown
            log.debug("no details for %s: %s", device.name, exc)
            details = {}
        details.setdefault("device_name", device.name)
        found.append(_as_gpu_info(details))
    return found


def read_cpu_flags(cpuinfo: str | None = None) -> frozenset[str]:
    """The CPU's feature flags.

    Parameters
    ----------
    cpuinfo : str, optional
        Text in the format of ``/proc/cpuinfo`` (``flags : fpu vme ...`` lines); read from
        ``/proc/cpuinfo`` when None. Machines without that file (macOS, Windows) give no flags.

    Returns
    -------
    frozenset of str
        Flag names, lower case, of every ``flags`` line.
    """
    if cpuinfo is None:
        try:
            with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
                cpuinfo = handle.read()
        except OSError:
            return frozenset()
    flags: set[str] = set()
    for line in cpuinfo.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() == "flags":
            flags.update(value.lower().split())
    return frozenset(flags)


def explain_policy(requested: str = "auto", gpus: Sequence | None = None,
                   cpu_flags: Iterable[str] | None = None) -> tuple[str, str]:
    """The precision policy for ``requested`` and the reason, for the log.

    Parameters
    ----------
    requested : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        ``"auto"`` chooses from the hardware; any other value is used as given.
    gpus : sequence, optional
        GPU descriptions (see the module docstring); detected with TensorFlow when None.
    cpu_flags : iterable of str, optional
        The CPU's flags (see :func:`read_cpu_flags`); read from ``/proc/cpuinfo`` when None.
        Used only when there is no GPU.

    Returns
    -------
    policy : str
        One of :data:`POLICIES`.
    reason : str
        Why, in words (names the GPU and its compute capability, or the CPU flag, for
        ``"auto"``).

    Raises
    ------
    ConfigError
        ``requested`` is not one of :data:`CHOICES`.
    """
    value = str(requested).strip().lower() if requested is not None else "auto"
    if value not in CHOICES:
        raise ConfigError(f"unknown precision {requested!r}; valid choices are "
                          f"{', '.join(CHOICES)}.")
    if value != "auto":
        return value, f"asked for explicitly (precision={value})"
    infos = detect_gpus() if gpus is None else [_as_gpu_info(g) for g in gpus]
    if not infos:
        flags = read_cpu_flags() if cpu_flags is None else {f.lower() for f in cpu_flags}
        native = [f for f in CPU_BF16_FLAGS if f in flags]
        if native:
            return "mixed_bfloat16", (f"auto: no GPU found; the CPU computes bfloat16 natively "
                                      f"({', '.join(native)})")
        return "float32", ("auto: no GPU found and the CPU has no native bfloat16 "
                           f"({' or '.join(CPU_BF16_FLAGS)}), computing in float32")
    capable = [g for g in infos if g.is_nvidia and g.compute_capability >= MIN_COMPUTE_CAPABILITY]
    if capable:
        gpu = capable[0]
        major, minor = gpu.compute_capability
        return "mixed_float16", (f"auto: NVIDIA GPU {gpu.name!r} of compute capability "
                                 f"{major}.{minor} >= 7.0 (tensor cores)")
    gpu = infos[0]
    if gpu.is_nvidia:
        major, minor = gpu.compute_capability
        why = f"compute capability {major}.{minor} < 7.0 (no tensor cores)"
    else:
        why = "no CUDA compute capability reported"
    return "float32", f"auto: GPU {gpu.name!r} has {why}"


def choose_policy(requested: str = "auto", gpus: Sequence | None = None,
                  cpu_flags: Iterable[str] | None = None) -> str:
    """The precision policy to train and predict with.

    Parameters
    ----------
    requested : {"auto", "float32", "mixed_float16", "mixed_bfloat16"}
        ``"auto"`` gives ``"mixed_float16"`` on any NVIDIA GPU of compute capability >= 7.0,
        ``"mixed_bfloat16"`` without a GPU on a CPU with native bfloat16, and ``"float32"``
        elsewhere; the other values override the choice.
    gpus : sequence, optional
        GPU descriptions, for example ``[(8, 6)]``, ``[(6, 1)]`` or ``[]`` (no GPU); detected
        with TensorFlow when None.
    cpu_flags : iterable of str, optional
        CPU flags, for example ``{"avx2", "avx512_bf16"}``; read from ``/proc/cpuinfo`` when
        None.

    Returns
    -------
    str
        The policy name.

    Examples
    --------
    >>> choose_policy("auto", gpus=[(8, 6)])
    'mixed_float16'
    >>> choose_policy("auto", gpus=[], cpu_flags={"avx2"})
    'float32'
    >>> choose_policy("auto", gpus=[], cpu_flags={"avx2", "avx512_bf16"})
    'mixed_bfloat16'
    """
    return explain_policy(requested, gpus, cpu_flags)[0]


def enable_memory_growth() -> None:
    """Let TensorFlow allocate GPU memory as needed instead of all of it up front.

    Has no effect on a CPU-only machine. Must run before the GPUs are first used; later calls
    leave the setting as it is (TensorFlow refuses to change it once the GPU is initialised).
    """
    import tensorflow as tf

    for device in tf.config.list_physical_devices("GPU"):
        try:
            tf.config.experimental.set_memory_growth(device, True)
        except (RuntimeError, ValueError) as exc:
            log.debug("memory growth unchanged on %s: %s", device.name, exc)


def current_policy() -> str:
    """Name of Keras's global dtype policy now in force."""
    import keras

    return keras.mixed_precision.global_policy().name


def apply_policy(policy: str) -> str:
    """Set Keras's global precision policy and turn GPU memory growth on.

    Parameters
    ----------
    policy : {"float32", "mixed_float16", "mixed_bfloat16"}
        The policy (see :func:`choose_policy`).

    Returns
    -------
    str
        The policy that was in force before, so that a caller can restore it.

    Raises
    ------
    ConfigError
        ``policy`` is not one of :data:`POLICIES`.
    """
    import keras

    _check_policy(policy)
    previous = current_policy()
    enable_memory_growth()
    keras.mixed_precision.set_global_policy(policy)
    return previous


def _check_policy(policy: str) -> None:
    """Refuse a policy name that is not one of :data:`POLICIES`."""
    if policy not in POLICIES:
        raise ConfigError(f"unknown precision policy {policy!r}; valid policies are "
                          f"{', '.join(POLICIES)}.")


def _layers_of(model):
    """Every layer of ``model``, nested models' layers included (depth first)."""
    for layer in getattr(model, "layers", []):
        yield layer
        if getattr(layer, "layers", None):
            yield from _layers_of(layer)


def _is_output_layer(layer, model) -> bool:
    """The model's last layer, or a layer with a softmax activation."""
    import keras

    if layer is (model.layers[-1] if model.layers else None):
        return True
    return getattr(layer, "activation", None) is keras.activations.softmax or (
        isinstance(layer, keras.layers.Softmax))


def apply_model_policy(model, policy: str):
    """Set ``policy`` on every layer of ``model`` for inference; the output layer computes in float32.

    A saved model keeps the dtype policy of each layer, whatever the global policy when it is
    loaded; this sets the run's policy on every layer (nested models included). Variables stay
    as they are (float32 under every policy of :data:`POLICIES`); the last layer, and any
    softmax layer, computes in float32. Call it before the model's first prediction (a traced
    prediction function keeps the dtypes it was traced with).

    Parameters
    ----------
    model : keras.Model
        A built model (loaded, or just trained).
    policy : {"float32", "mixed_float16", "mixed_bfloat16"}
        The run's policy (see :func:`choose_policy`).

    Returns
    -------
    keras.Model
        The same model object, its layers under ``policy``.

    Raises
    ------
    ConfigError
        ``policy`` is not one of :data:`POLICIES`.
    """
    _check_policy(policy)
    for layer in _layers_of(model):
        if getattr(layer, "layers", None):  # a nested model: its layers are set one by one
            layer.dtype_policy = policy
            continue
        layer.dtype_policy = "float32" if _is_output_layer(layer, model) else policy
    model.dtype_policy = policy
    log.debug("model %s: layers set to %s, output in float32", getattr(model, "name", "?"),
              policy)
    return model


def model_policies(model) -> dict[str, str]:
    """Layer name -> dtype policy name, for every layer of ``model`` (nested ones included)."""
    return {layer.name: layer.dtype_policy.name for layer in _layers_of(model)}


def describe_gpus(gpus: Iterable[GpuInfo]) -> str:
    """A short text listing GPUs and their compute capabilities, for logs."""
    parts = []
    for gpu in gpus:
        cc = (f"{gpu.compute_capability[0]}.{gpu.compute_capability[1]}"
              if gpu.compute_capability else "n/a")
        parts.append(f"{gpu.name} (cc {cc})")
    return ", ".join(parts) or "none"

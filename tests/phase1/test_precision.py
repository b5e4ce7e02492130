"""Precision policy: choice from the hardware (injected GPU descriptions), overrides, applying."""

import pytest

from seeice.errors import ConfigError
from seeice.phase1 import precision
from seeice.phase1.precision import (
    GpuInfo,
    apply_model_policy,
    apply_policy,
    choose_policy,
    explain_policy,
    model_policies,
    read_cpu_flags,
)

PLAIN_CPU = {"fpu", "sse4_2", "avx2", "avx512f"}
BF16_CPU = PLAIN_CPU | {"avx512_bf16"}
AMX_CPU = PLAIN_CPU | {"amx_bf16", "amx_tile"}


@pytest.mark.parametrize("gpus, expected", [
    ([], "float32"),                                   # CPU only
    ([(7, 0)], "mixed_float16"),                       # V100: the lower bound is included
    ([(8, 6)], "mixed_float16"),                       # RTX 30xx / A40
    ([(9, 0)], "mixed_float16"),                       # H100
    ([(6, 1)], "float32"),                             # GTX 10xx: no tensor cores
    ([(5, 2)], "float32"),
    ([(6, 1), (8, 0)], "mixed_float16"),               # any capable GPU
    ([GpuInfo("AMD Instinct", None)], "float32"),      # no CUDA compute capability
])
def test_auto_policy_from_compute_capability(gpus, expected):
    assert choose_policy("auto", gpus=gpus, cpu_flags=PLAIN_CPU) == expected


def test_auto_policy_does_not_depend_on_the_card_name():
    # The published check fired only for names containing 'RTX': data-centre cards missed out.
    tesla = {"device_name": "Tesla V100-SXM2-16GB", "compute_capability": (7, 0)}
    old_rtx_name = {"device_name": "Quadro RTX-like old card", "compute_capability": (6, 1)}
    assert choose_policy("auto", gpus=[tesla]) == "mixed_float16"
    assert choose_policy("auto", gpus=[old_rtx_name]) == "float32"
    assert choose_policy("auto", gpus=[("NVIDIA A100-SXM4-40GB", (8, 0))]) == "mixed_float16"


@pytest.mark.parametrize("requested", ["float32", "mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("gpus", [[], [(8, 6)], [(6, 1)]])
def test_explicit_policy_overrides_the_hardware(requested, gpus):
    assert choose_policy(requested, gpus=gpus) == requested


def test_explicit_policy_is_case_insensitive():
    assert choose_policy("Mixed_Float16", gpus=[]) == "mixed_float16"


def test_unknown_policy_lists_the_choices():
    with pytest.raises(ConfigError) as info:
        choose_policy("float16", gpus=[])
    message = str(info.value)
    for choice in ("auto", "float32", "mixed_float16", "mixed_bfloat16"):
        assert choice in message


def test_reason_names_the_gpu_and_capability():
    policy, reason = explain_policy("auto", gpus=[("NVIDIA H100", (9, 0))])
    assert policy == "mixed_float16"
    assert "NVIDIA H100" in reason and "9.0" in reason
    policy, reason = explain_policy("auto", gpus=[(6, 1)])
    assert policy == "float32" and "6.1" in reason
    assert "no GPU" in explain_policy("auto", gpus=[], cpu_flags=PLAIN_CPU)[1]


def test_detection_is_used_when_no_gpus_are_given(monkeypatch):
    monkeypatch.setattr(precision, "detect_gpus", lambda: [GpuInfo("NVIDIA A100", (8, 0))])
    assert choose_policy() == "mixed_float16"
    monkeypatch.setattr(precision, "detect_gpus", list)
    monkeypatch.setattr(precision, "read_cpu_flags", lambda: frozenset(PLAIN_CPU))
    assert choose_policy() == "float32"
    monkeypatch.setattr(precision, "read_cpu_flags", lambda: frozenset(BF16_CPU))
    assert choose_policy() == "mixed_bfloat16"


def test_detect_gpus_describes_visible_devices(monkeypatch):
    """Each device TensorFlow lists becomes a GpuInfo with its name and compute capability."""
    import tensorflow as tf

    class Device:
        def __init__(self, name):
            self.name = name

    details = {"/physical_device:GPU:0": {"device_name": "NVIDIA H100", "compute_capability": (9, 0)},
               "/physical_device:GPU:1": {"device_name": "Tesla P100", "compute_capability": (6, 0)}}
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [Device(n) for n in details] if kind == "GPU" else [])
    monkeypatch.setattr(tf.config.experimental, "get_device_details", lambda d: dict(details[d.name]))
    gpus = precision.detect_gpus()
    assert [(g.name, g.compute_capability) for g in gpus] == [("NVIDIA H100", (9, 0)),
                                                            ("Tesla P100", (6, 0))]
    assert choose_policy("auto", gpus=gpus[:1]) == "mixed_float16"
    assert choose_policy("auto", gpus=gpus[1:]) == "float32"     # compute capability 6.0


def test_bad_gpu_description_is_a_config_error():
    with pytest.raises(ConfigError):
        choose_policy("auto", gpus=["not a gpu"])


def test_apply_policy_sets_and_returns_the_previous_policy():
    import keras

    before = keras.mixed_precision.global_policy().name
    try:
        previous = apply_policy("mixed_bfloat16")
        assert previous == before
        assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
        assert apply_policy("float32") == "mixed_bfloat16"
        assert keras.mixed_precision.global_policy().name == "float32"
    finally:
        keras.mixed_precision.set_global_policy(before)
    with pytest.raises(ConfigError):
        apply_policy("auto")


@pytest.mark.parametrize("flags, expected", [
    (PLAIN_CPU, "float32"),            # AVX-512 without BF16: bfloat16 would be emulated, slower
    (BF16_CPU, "mixed_bfloat16"),      # AVX512_BF16
    (AMX_CPU, "mixed_bfloat16"),       # AMX tiles with BF16
    (set(), "float32"),                # no /proc/cpuinfo (macOS, Windows)
])
def test_auto_policy_on_a_cpu_follows_native_bfloat16(flags, expected):
    policy, reason = explain_policy("auto", gpus=[], cpu_flags=flags)
    assert policy == expected
    if expected == "mixed_bfloat16":
        assert "bf16" in reason
    # a capable GPU wins over the CPU; an old GPU trains in float32 whatever the CPU
    assert choose_policy("auto", gpus=[(8, 0)], cpu_flags=flags) == "mixed_float16"
    assert choose_policy("auto", gpus=[(6, 1)], cpu_flags=flags) == "float32"
    # --precision float32 forces float32 everywhere
    assert choose_policy("float32", gpus=[], cpu_flags=flags) == "float32"


def test_cpu_flags_are_read_from_cpuinfo_text():
    text = ("processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: fpu AVX2 avx512_bf16\n\n"
            "processor\t: 1\nflags\t\t: fpu avx2 amx_bf16\n")
    assert read_cpu_flags(text) == {"fpu", "avx2", "avx512_bf16", "amx_bf16"}
    assert read_cpu_flags("processor : 0\n") == frozenset()
    assert isinstance(read_cpu_flags(), frozenset)  # this machine's, whatever they are


def _mixed_built_model(policy, tmp_path):
    """A compact tile model built and saved under ``policy``, loaded back."""
    import keras

    from seeice.phase1.models import build_tile_model

    before = keras.mixed_precision.global_policy().name
    try:
        keras.mixed_precision.set_global_policy(policy)
        model = build_tile_model("compact", 32, 4, 3)
    finally:
        keras.mixed_precision.set_global_policy(before)
    path = tmp_path / "m.keras"
    model.save(path)
    return keras.models.load_model(path)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_a_model_saved_under_float16_predicts_under_the_runs_policy(policy, tmp_path):
    import keras
    import numpy as np

    from seeice.phase1.models import build_tile_model

    loaded = _mixed_built_model("mixed_float16", tmp_path)
    # Keras keeps the saved per-layer policy: the loaded model would compute in float16.
    assert "mixed_float16" in set(model_policies(loaded).values())
    assert apply_model_policy(loaded, policy) is loaded
    policies = model_policies(loaded)
    assert policies[loaded.layers[-1].name] == "float32"  # the softmax stays float32
    assert set(policies.values()) == {"float32", policy}
    assert all(v.dtype == "float32" for v in loaded.weights)  # variables stay float32
    x = np.random.default_rng(0).random((6, 32, 32, 4)).astype(np.float32)
    probs = np.asarray(loaded(x, training=False))
    assert probs.dtype == np.float32
    reference = build_tile_model("compact", 32, 4, 3)  # built in float32, same weights
    reference.set_weights(loaded.get_weights())
    expected = np.asarray(reference(x, training=False))
    if policy == "float32":
        np.testing.assert_array_equal(probs, expected)
    else:  # bfloat16 arithmetic: close, not equal
        np.testing.assert_allclose(probs, expected, atol=0.02)
        assert keras.mixed_precision.global_policy().name == "float32"  # global left alone
    with pytest.raises(ConfigError):
        apply_model_policy(loaded, "auto")

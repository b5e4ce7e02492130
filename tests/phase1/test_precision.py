"""Precision policy: choice from the hardware (injected GPU descriptions), overrides, applying."""

import pytest

from seeice.phase1 import precision
from seeice.errors import ConfigError
from seeice.phase1.precision import GpuInfo, apply_policy, choose_policy, explain_policy


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
    assert choose_policy("auto", gpus=gpus) == expected


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
    assert "no GPU" in explain_policy("auto", gpus=[])[1]


def test_detection_is_used_when_no_gpus_are_given(monkeypatch):
    monkeypatch.setattr(precision, "detect_gpus", lambda: [GpuInfo("NVIDIA A100", (8, 0))])
    assert choose_policy() == "mixed_float16"
    monkeypatch.setattr(precision, "detect_gpus", lambda: [])
    assert choose_policy() == "float32"


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

"""Bad inputs of every script's user inputs: wrong types, values and flags, from the command
line and from YAML alike. Each is refused with exit 2 and one paragraph naming the input, the
value and a valid one, before anything is read or written.
"""

from __future__ import annotations

import pytest

from bad_input_helpers import run_entry, snapshot, write_yaml

CSC = "CSC_Application/CSC.py"
TILES = "Phase_1_CNN/TilePreparation.py"
COMPILE = "Phase_1_CNN/CompileTensor.py"
TRAIN = "Phase_1_CNN/TrainCNN.py"
THIN = "Phase_1_CNN/ThinTiles.py"
FINE = "Phase_1_CNN/FineTuneCNN.py"
BATCH = "Batch/CSC_Batch.py"
FRAME = "Batch/BuildDataFrame.py"
HIST = "Batch/ErrorHistogram.py"
SUMMARY = "Batch/SweepSummary.py"
CLEAR = "Batch/ClearJoint.py"

#: (script, YAML text or None, command-line arguments, phrases of the message). ``{tmp}``
#: stands for the case's folder; every script's outputs are sent there.
CASES = {
    "csc-cli-classes-word": (CSC, None, ["--classes", "seven"],
                             ["NClasses (--classes) must be a whole number", "'seven'",
                              "Give --classes 7 on the command line"]),
    "csc-yaml-pixel-size-word": (CSC, "PixelSize: ten\n", [],
                                 ["PixelSize (--pixel-size) must be a number", "'ten'",
                                  "PixelSize: 10.0 in a YAML file"]),
    "csc-cli-pixel-size-word": (CSC, None, ["--pixel-size", "ten"],
                                ["PixelSize (--pixel-size) must be a number", "'ten'",
                                 "Give --pixel-size 10.0"]),
    "csc-cli-patch-size-word": (CSC, None, ["--patch-size", "seven"],
                                ["Kernel_size (--patch-size) must be a whole number",
                                 "Give --patch-size 7"]),
    "csc-yaml-patch-size-word": (CSC, "Kernel_size: seven\n", [],
                                 ["Kernel_size (--patch-size) must be a whole number",
                                  "Kernel_size: 7 in a YAML file"]),
    "csc-patch-size-not-offered": (CSC, None, ["--patch-size", "9"],
                                   ["Kernel_size (--patch-size) is 9",
                                    "valid choices are 1, 3, 5, 7, 15"]),
    "csc-yaml-patch-size-not-offered": (CSC, "patch-size: 9\n", [],
                                        ["is 9", "valid choices are 1, 3, 5, 7, 15"]),
    "csc-whole-image-2": (CSC, None, ["--whole-image", "2"], ["valid choices are 0, 1"]),
    "csc-bool-word": (CSC, None, ["--demo", "maybe"],
                      ["Demo (--demo) must be true or false", "'maybe'"]),
    "csc-yaml-bool-word": (CSC, "Demo: perhaps\n", [], ["Demo (--demo) must be true or false"]),
    "csc-ocean-rule": (CSC, None, ["--ocean-rule", "coast"],
                       ["OceanRule (--ocean-rule) is 'coast'", "valid choices are sea, published"]),
    "csc-unknown-flag": (CSC, None, ["--bandz", "3"],
                         ["unrecognized arguments: --bandz 3", "Run CSC.py --help"]),
    "csc-flag-without-value": (CSC, None, ["--seed"],
                               ["argument --seed", "expected one argument", "--help"]),
    "csc-yaml-unknown-key": (CSC, "Kernelsize: 3\n", [],
                             ["unknown user input(s) Kernelsize", "Valid names: ModelName"]),
    "csc-yaml-not-a-mapping": (CSC, "- 3\n- 5\n", [],
                               ["must hold a mapping of user inputs (key: value)"]),
    "csc-yaml-syntax": (CSC, "Kernel_size: [3\n", [], ["is not valid YAML"]),
    "csc-yaml-list-for-number": (CSC, "CNNsamples: [1, 2]\n", [],
                                 ["CNNsamples (--samples) must be a whole number"]),
    "csc-config-file-missing": (CSC, None, ["--config", "{tmp}/absent.yaml"],
                                ["configuration file", "absent.yaml does not exist",
                                 "Check the path given to --config"]),
    "csc-half-a-class": (CSC, None, ["--classes", "6.5"],
                         ["NClasses (--classes) must be a whole number", "6.5"]),
    "tiles-tile-size-word": (TILES, None, ["--tile-size", "fifty", "--out", "{tmp}/tiles"],
                             ["TileSize (--tile-size) must be a whole number", "Give --tile-size 50"]),
    "tiles-mode": (TILES, None, ["--mode", "float64", "--out", "{tmp}/tiles"],
                   ["Mode (--mode) is 'float64'", "float16, uint8, uint8float16, int16"]),
    "tiles-augment": (TILES, None, ["--augment", "flips", "--out", "{tmp}/tiles"],
                      ["Augment (--augment) is 'flips'", "dihedral, rotations"]),
    "tiles-yaml-bands-word": (TILES, "Ndims: four\n", ["--out", "{tmp}/tiles"],
                              ["Ndims (--bands) must be a whole number", "or left empty (None)"]),
    "compile-classes-word": (COMPILE, None, ["--classes", "seven", "--out", "{tmp}/t"],
                             ["NClasses (--classes) must be a whole number"]),
    "compile-norm-word": (COMPILE, None, ["--norm-factor", "auto", "--out", "{tmp}/t"],
                          ["NormFactor (--norm-factor) must be a number", "'auto'"]),
    "train-base": (TRAIN, None, ["--base", "vgg19", "--out", "{tmp}/m"],
                   ["CNNname (--base) is 'vgg19'", "vgg16, densenet121, resnet50, compact"]),
    "train-learning-rate-word": (TRAIN, "LearningRate: fast\n", ["--out", "{tmp}/m"],
                                 ["LearningRate (--learning-rate) must be a number", "'fast'"]),
    "train-precision": (TRAIN, None, ["--precision", "half", "--out", "{tmp}/m"],
                        ["Precision (--precision) is 'half'"]),
    "thin-per-class-word": (THIN, None, ["--per-class", "many", "--folder", "{tmp}/tiles"],
                            ["NumberPerClass (--per-class) must be a whole number"]),
    "fine-tune-select": (FINE, None, ["--select", "loss", "--out", "{tmp}/m"],
                         ["Select (--select) is 'loss'", "macro_f1, min_recall, accuracy"]),
    "batch-engine": (BATCH, None, ["--engine", "spark"],
                     ["Engine (--engine) is 'spark'", "valid choices are local, ray"]),
    "batch-start-word": (BATCH, None, ["--start", "first"],
                         ["Start (--start) must be a whole number", "Give --start 0"]),
    "batch-max-retries-word": (BATCH, None, ["--max-retries", "some"],
                               ["MaxRetries (--max-retries) must be a whole number"]),
    "frame-subsample-word": (FRAME, None, ["{tmp}", "--subsample", "lots", "--out", "{tmp}/f.csv"],
                             ["Subsample (--subsample) must be a whole number"]),
    "histogram-bin-word": (HIST, None, ["{tmp}", "--bin", "wide"],
                           ["BinM (--bin) must be a number", "Give --bin 10.0"]),
    "summary-dpi-word": (SUMMARY, "DPI: high\n", ["{tmp}", "--out", "{tmp}/s.png"],
                         ["DPI (--dpi) must be a whole number", "DPI: 150 in a YAML file"]),
    "clear-joint-dry-run-word": (CLEAR, None, ["{tmp}", "--dry-run", "perhaps"],
                                 ["DryRun (--dry-run) must be true or false"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_user_input_is_one_clear_paragraph(case, tmp_path):
    script, yaml_text, args, phrases = CASES[case]
    args = [str(a).replace("{tmp}", str(tmp_path)) for a in args]
    if yaml_text is not None:
        args += ["--config", str(write_yaml(tmp_path / "inputs.yaml", yaml_text))]
    before = snapshot(tmp_path)
    kind = "InputFileError" if case == "csc-config-file-missing" else "ConfigError"
    outcome = run_entry(script, *args).refused(kind, *phrases)
    assert outcome.output.count("ERROR") == 1  # one paragraph, no usage dump
    assert "usage:" not in outcome.output
    assert snapshot(tmp_path) == before  # refused before anything was written


def test_a_message_never_splits_a_flag_or_a_path_across_lines(tmp_path):
    deep = tmp_path / ("a-very-long-folder-name-with-hyphens" * 3) / "absent.yaml"
    outcome = run_entry(CSC, "--config", deep).refused("InputFileError")
    assert str(deep) in outcome.output  # whole, on one line
    assert "--config" in outcome.output

"""Script configuration: header parsing, YAML and command-line overrides, run.json, errors."""

import json
import subprocess
import sys
import textwrap

import pytest

from seeice.classes import GLACIER_SCHEME, load_scheme, scheme_from_dict
from seeice.config.inputs import parse_header, resolve, save_run_config
from seeice.errors import ConfigError, InputFileError

SCRIPT = textwrap.dedent('''\
    """Example script: resolves its inputs and logs them."""
    # ==== USER INPUTS ====
    ImagePath = "Data/Train"   # --images: folder of images
    TileSize = 50              # --tile-size: tile edge in pixels
    NormFactor = 8192.0        # --norm-factor: normalisation factor
    Mode = "float16"           # --mode {float16,uint8}: tensor dtype
    Tuning = False             # --tuning: tuning mode
    Patches = [1, 3]           # --patch: patch sizes
    Jobs = "jobs.csv"          # JOBS: the jobs CSV
    # ==== END OF USER INPUTS ====
    import json, sys
    from seeice.config.runner import run_script
    from seeice.errors import DataError

    def main(cfg):
        if cfg.ImagePath == "fail":
            raise DataError("no tile passes the purity rule. Use smaller tiles.")
        sys.stdout.write(json.dumps(cfg))

    if __name__ == "__main__":
        run_script(__file__, main)
''')


@pytest.fixture()
def specs():
    return parse_header(SCRIPT)[1]


def test_header_gives_defaults_flags_and_types(specs):
    by_name = {s.name: s for s in specs}
    assert by_name["TileSize"].flag == "--tile-size" and by_name["TileSize"].default == 50
    assert by_name["Mode"].choices == ("float16", "uint8")
    assert by_name["Jobs"].positional
    config, _ = resolve(specs, [])
    assert config == {"ImagePath": "Data/Train", "TileSize": 50, "NormFactor": 8192.0,
                      "Mode": "float16", "Tuning": False, "Patches": [1, 3], "Jobs": "jobs.csv"}


def test_resolution_order_header_then_yaml_then_command_line(tmp_path, specs):
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("TileSize: 75\ntile-size: 75\nmode: uint8\nnorm_factor: 255\n")
    config, _ = resolve(specs, ["--config", str(yaml_file)])
    assert (config.TileSize, config.Mode, config.NormFactor) == (75, "uint8", 255.0)
    config, _ = resolve(specs, ["my.csv", "--config", str(yaml_file), "--tile-size", "100",
                                "--tuning", "--patch", "5", "7"])
    assert (config.TileSize, config.Mode, config.Tuning) == (100, "uint8", True)
    assert config.Patches == [5, 7] and config.Jobs == "my.csv"


def test_unknown_yaml_key_and_bad_values_are_clear_errors(tmp_path, specs):
    bad_key = tmp_path / "k.yaml"
    bad_key.write_text("TileSise: 75\n")
    with pytest.raises(ConfigError, match="unknown user input.*TileSise.*Valid names: ImagePath"):
        resolve(specs, ["--config", str(bad_key)])
    bad_type = tmp_path / "t.yaml"
    bad_type.write_text("TileSize: fifty\n")
    with pytest.raises(ConfigError, match="TileSize .*must be a whole number"):
        resolve(specs, ["--config", str(bad_type)])
    bad_choice = tmp_path / "c.yaml"
    bad_choice.write_text("Mode: float64\n")
    with pytest.raises(ConfigError, match="valid choices are float16, uint8"):
        resolve(specs, ["--config", str(bad_choice)])
    with pytest.raises(InputFileError):
        resolve(specs, ["--config", str(tmp_path / "absent.yaml")])


def test_input_without_comment_is_rejected():
    source = '# ==== USER INPUTS ====\nTileSize = 50\n# ==== END OF USER INPUTS ====\n'
    with pytest.raises(ConfigError, match="TileSize needs a comment"):
        parse_header(source)


def test_run_json_holds_the_resolved_inputs(tmp_path, specs):
    config, _ = resolve(specs, ["--tile-size", "25"])
    path = save_run_config(tmp_path, config, script="Example.py", extra={"note": "x"})
    record = json.loads(path.read_text())
    assert record["config"]["TileSize"] == 25
    assert record["script"] == "Example.py" and record["note"] == "x"
    assert "seeice_version" in record and "created" in record


def test_script_help_lists_every_input_and_errors_exit_cleanly(tmp_path):
    script = tmp_path / "Example.py"
    script.write_text(SCRIPT)
    helped = subprocess.run([sys.executable, str(script), "--help"], capture_output=True, text=True)
    assert helped.returncode == 0
    help_text = " ".join(helped.stdout.split())
    for text in ["--images", "--tile-size", "--norm-factor", "--mode", "--tuning", "--patch",
                 "JOBS", "default: 50", "one of float16, uint8"]:
        assert text in help_text
    ran = subprocess.run([sys.executable, str(script), "--tile-size", "30"], capture_output=True,
                         text=True)
    assert ran.returncode == 0 and json.loads(ran.stdout)["TileSize"] == 30
    failed = subprocess.run([sys.executable, str(script), "--images", "fail"],
                            capture_output=True, text=True)
    assert failed.returncode == 2
    assert "DataError: no tile passes the purity rule" in failed.stderr
    assert "Traceback" not in failed.stderr


def test_class_schemes_load_from_yaml_and_check_their_content(tmp_path):
    assert load_scheme(None) is GLACIER_SCHEME
    glacier_yaml = load_scheme("glacier")
    assert glacier_yaml.n_classes == 7 and glacier_yaml.front_value == 8
    from_file = load_scheme(str(__import__("pathlib").Path("seeice/schemes/glacier.yaml")))
    assert from_file.names == GLACIER_SCHEME.names and from_file.ocean == (1, 2, 3)
    fluvial = load_scheme("fluvial")
    assert fluvial.n_classes == 5 and not fluvial.has_front and fluvial.front_value == 6
    with pytest.raises(ConfigError, match="numbered 1..n without gaps"):
        scheme_from_dict({"classes": {1: ["a", "red"], 3: ["b", "blue"]}})
    with pytest.raises(ConfigError, match="unknown keys"):
        scheme_from_dict({"classes": {1: ["a", "red"], 2: ["b", "blue"]}, "oceans": [1]})
    with pytest.raises(ConfigError, match="not a colour"):
        scheme_from_dict({"classes": {1: ["a", "red"], 2: ["b", "bluish"]}})
    with pytest.raises(InputFileError, match="not found"):
        load_scheme(str(tmp_path / "none.yaml"))


TYPED_EMPTY = textwrap.dedent('''\
    # ==== USER INPUTS ====
    PixelSize: float = None    # --pixel-size: metres per pixel
    NClasses: int = None       # --classes: number of classes
    Seed = 0                   # --seed: seed
    Name = "run"               # --name: a name
    # ==== END OF USER INPUTS ====
''')


def test_an_empty_default_takes_the_annotated_type(tmp_path):
    specs = parse_header(TYPED_EMPTY)[1]
    assert [s.kind for s in specs] == [float, int, int, str]
    config, _ = resolve(specs, ["--pixel-size", "10", "--classes", "7", "--seed", "010",
                                "--name", "007"])
    assert config == {"PixelSize": 10.0, "NClasses": 7, "Seed": 10, "Name": "007"}
    assert resolve(specs, ["--classes", "None"])[0].NClasses is None


def test_yaml_and_command_line_type_errors_give_one_message(tmp_path):
    specs = parse_header(TYPED_EMPTY)[1]
    yaml_file = tmp_path / "c.yaml"
    yaml_file.write_text("PixelSize: ten\n")
    with pytest.raises(ConfigError) as from_yaml:
        resolve(specs, ["--config", str(yaml_file)])
    with pytest.raises(ConfigError) as from_cli:
        resolve(specs, ["--pixel-size", "ten"])
    for raised, source in ((from_yaml, str(yaml_file)), (from_cli, "command line")):
        assert str(raised.value) == (
            f"{source}: PixelSize (--pixel-size) must be a number such as 10.0 or left empty "
            "(None) (type float), got 'ten'. Give --pixel-size 10.0 on the command line, or "
            "PixelSize: 10.0 in a YAML file.")
    with pytest.raises(ConfigError, match=r"NClasses \(--classes\) must be a whole number.*'seven'"):
        resolve(specs, ["--classes", "seven"])


def test_command_line_mistakes_are_input_errors_not_usage_dumps():
    specs = parse_header(TYPED_EMPTY)[1]
    with pytest.raises(ConfigError, match="unrecognized arguments: --pixelsize 10.*--help"):
        resolve(specs, ["--pixelsize", "10"], prog="X.py")
    with pytest.raises(ConfigError, match="expected one argument"):
        resolve(specs, ["--seed"], prog="X.py")


def test_an_annotation_that_is_not_a_type_is_refused():
    source = '# ==== USER INPUTS ====\nX: dict = None  # --x: a value\n# ==== END OF USER INPUTS ====\n'
    with pytest.raises(ConfigError, match="annotation must be one of int, float"):
        parse_header(source)

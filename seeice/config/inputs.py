"""User inputs of the scripts: header defaults, YAML overrides, command-line flags, run.json.

Every script starts with a block of user inputs, plain assignments with a comment each::

    # ==== USER INPUTS ====
    ImagePath = "Data/Train"   # --images: folder of images with SCLS_ class rasters
    TileSize = 50              # --tile-size: tile edge in pixels
    Mode = "float16"           # --mode {float16,uint8,uint8float16,int16}: tensor dtype
    JobsCSV = "jobs.csv"       # JOBS: the jobs CSV (a positional argument)
    # ==== END OF USER INPUTS ====

The comment gives the command-line name (``--flag`` for an option, an upper-case word for a
positional argument), optional choices in braces, and the meaning. The value is the default
and fixes the type (int, float, bool, str, list). An input whose default is None ("not given")
declares its type with an annotation, ``PixelSize: float = None``; without one it
accepts any YAML scalar. One parser is generated from the block, so ``--help`` lists every
input with its default and meaning.

Every value, from the header, a YAML file, the command line or a jobs CSV, is checked by one
function, so a value of the wrong type gives the same one-paragraph message wherever it came
from (the command line's own errors, such as an unknown flag, too).

Resolution order: header defaults < ``--config file.yaml`` < command-line flags. YAML keys
may be the header names (``TileSize``) or the flag names (``tile-size`` or ``tile_size``).
"""

from __future__ import annotations

import argparse
import ast
import io
import os
import platform
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import yaml

from seeice import __version__
from seeice.errors import ConfigError, InputFileError
from seeice.io.atomic import write_json
from seeice.timestamps import utc_now

HEADER_START = "# ==== USER INPUTS ===="
HEADER_END = "# ==== END OF USER INPUTS ===="
_COMMENT = re.compile(r"^#\s*(?P<flag>--[a-z0-9][a-z0-9-]*|[A-Z][A-Z0-9_]*)"
                      r"(?:\s*\{(?P<choices>[^}]*)\})?\s*:\s*(?P<help>.*)$")


@dataclass(frozen=True)
class InputSpec:
    """One user input of a script header.

    Attributes
    ----------
    name : str
        The header variable (``TileSize``), the key of the resolved configuration.
    flag : str
        ``--tile-size`` for options, ``JOBS`` for positional arguments.
    default : object
        The header value.
    help : str
        The meaning, from the comment.
    choices : tuple or None
        Allowed values, when the comment lists them in braces.
    kind : type or None
        The type of a value (int, float, bool, str or list): the default's, or the annotation's
        for a None default; None when neither tells (any YAML scalar).
    """

    name: str
    flag: str
    default: Any
    help: str
    choices: tuple | None = None
    kind: type | None = None

    @property
    def positional(self) -> bool:
        return not self.flag.startswith("--")

    @property
    def dest(self) -> str:
        return self.name

    def keys(self) -> set[str]:
        """Names under which a YAML file may set this input."""
        bare = self.flag.lstrip("-")
        return {self.name, bare, bare.replace("-", "_"), bare.lower()}


class Config(dict):
    """Resolved user inputs, keyed by header name; also readable as attributes."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no user input named {name!r}") from None


def parse_header(source: str, origin: str = "script") -> tuple[str, list[InputSpec]]:
    """Read the user-input block of a script's source.

    Returns
    -------
    description : str
        The module docstring (for ``--help``).
    specs : list of InputSpec
        The inputs in header order.
    """
    lines = source.splitlines()
    try:
        start = next(i for i, line in enumerate(lines) if line.strip() == HEADER_START)
        end = next(i for i, line in enumerate(lines) if line.strip() == HEADER_END)
    except StopIteration:
        raise ConfigError(f"{origin} has no '{HEADER_START}' ... '{HEADER_END}' block.") from None
    block = "\n".join(lines[start + 1:end])
    comments = {}
    for tok in tokenize.generate_tokens(io.StringIO(block).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string
    specs = []
    for node in ast.parse(block).body:
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            name, annotation = node.target.id, _annotated_kind(node.annotation, origin)
        elif (isinstance(node, ast.Assign) and len(node.targets) == 1
              and isinstance(node.targets[0], ast.Name)):
            name, annotation = node.targets[0].id, None
        else:
            continue
        comment = comments.get(node.end_lineno) or comments.get(node.lineno, "")
        match = _COMMENT.match(comment)
        if not match:
            raise ConfigError(f"{origin}: user input {name} needs a comment of the form "
                              "'# --flag: meaning' or '# NAME: meaning'.")
        default = ast.literal_eval(node.value)
        choices = None
        if match["choices"]:
            # Choices of a text input stay text: {weights,batches,none} offers the word "none".
            choices = tuple(c.strip() if isinstance(default, str) else _parse_scalar(c.strip())
                            for c in match["choices"].split(","))
        kind = type(default) if default is not None else annotation
        specs.append(InputSpec(name, match["flag"], default, match["help"].strip(), choices, kind))
    description = ast.get_docstring(ast.parse(source)) or ""
    return description, specs


_KINDS = {"int": int, "float": float, "str": str, "bool": bool, "list": list}


def _annotated_kind(node: ast.expr, origin: str) -> type:
    """The type named by a header annotation: ``float``, ``int | None``, ``str``, ..."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        sides = [n for n in (node.left, node.right)
                 if not (isinstance(n, ast.Constant) and n.value is None)]
        if len(sides) == 1:
            node = sides[0]
    if isinstance(node, ast.Name) and node.id in _KINDS:
        return _KINDS[node.id]
    raise ConfigError(f"{origin}: a user input's annotation must be one of "
                      f"{', '.join(_KINDS)} (optionally '| None'), got {ast.unparse(node)!r}.")


def _parse_scalar(text: str) -> Any:
    """A string as YAML reads a scalar: '3' -> 3, '0.5' -> 0.5, 'true' -> True, 'x' -> 'x'.

    Python's spelling of "no value" ('None') is read as None too, like YAML's 'null'.
    """
    if text.strip() in ("None", "none"):
        return None
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return text if isinstance(value, (dict, list)) else value


def _parse_bool(text: str) -> bool:
    lowered = str(text).strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise argparse.ArgumentTypeError(f"expected true/false or 1/0, got {text!r}")


def _coerce(spec: InputSpec, value: Any, source: str, text: bool = False,
            cell: bool = False) -> Any:
    """Check and convert ``value`` to the spec's type.

    ``text`` marks a value given as text (the command line, a CSV cell): numbers are read as
    numbers, text inputs keep the text as typed, anything else is read as YAML reads a scalar.
    ``cell`` marks a jobs-CSV cell (the message then says to correct the cell).
    """
    kind = spec.kind
    if text and value is not None:
        if isinstance(value, list):
            element = type(spec.default[0]) if spec.default else None
            value = [_from_text(element, v) for v in value]
        elif spec.default is None and value.strip() in ("None", "none", "null", ""):
            value = None
        else:
            value = _from_text(kind, value)
    try:
        if value is None or kind is None:
            result = value
        elif kind is bool:
            result = value if isinstance(value, bool) else _parse_bool(value)
        elif kind is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            result = int(value)
        elif kind is float:
            if isinstance(value, bool):
                raise ValueError
            result = float(value)
        elif kind is list:
            items = value if isinstance(value, list) else [value]
            element = type(spec.default[0]) if spec.default else None
            result = [element(v) if element else v for v in items]
        else:
            if isinstance(value, (dict, list)):
                raise TypeError
            result = str(value)
    except (ValueError, TypeError, argparse.ArgumentTypeError):
        example = {int: "a whole number such as 7", float: "a number such as 10.0",
                   bool: "true or false (1 or 0)", list: "a list of values",
                   str: "a text"}.get(kind, "a value")
        empty = " or left empty (None)" if spec.default is None else ""
        fix = (f"Write a value such as {_example_value(spec)} in that cell" if cell else
               f"Give {spec.flag} {_example_value(spec)} on the command line, or "
               f"{spec.name}: {_example_value(spec)} in a YAML file")
        raise ConfigError(f"{source}: {spec.name} ({spec.flag}) must be {example}{empty} "
                          f"(type {kind.__name__}), got {value!r}. {fix}.") from None
    if spec.choices is not None and isinstance(result, str) and result not in spec.choices:
        # text choices are matched in any case (a jobs-CSV cell "Seen" is the choice "seen")
        result = next((c for c in spec.choices
                       if isinstance(c, str) and c.lower() == result.strip().lower()), result)
    if spec.choices is not None and result is not None:
        values = result if isinstance(result, list) else [result]
        bad = [v for v in values if v not in spec.choices]
        if bad:
            raise ConfigError(f"{source}: {spec.name} ({spec.flag}) is {bad[0]!r}; valid "
                              f"choices are {', '.join(map(str, spec.choices))}.")
    return result


def _from_text(kind: type | None, text: str) -> Any:
    """A value typed as text, read for an input of type ``kind``.

    Numbers are read as numbers are written ("010" is ten, not YAML's octal eight); text
    inputs keep the text as typed; other values are read as YAML reads a scalar.
    """
    if kind is str:
        return text
    for number in ((int, float) if kind is int else (float,) if kind is float else ()):
        try:
            return number(text)
        except ValueError:
            pass
    return _parse_scalar(text)


def _example_value(spec: InputSpec) -> str:
    """A valid value of the spec, to show in a message: its default or its first choice."""
    if spec.default is not None and not isinstance(spec.default, list):
        return str(spec.default).lower() if isinstance(spec.default, bool) else str(spec.default)
    if spec.choices:
        return str(spec.choices[0])
    return {int: "7", float: "10.0", bool: "true", str: "text"}.get(spec.kind, "...")


def input_value(spec: InputSpec, text: str, source: str) -> Any:
    """A user input given as text (a jobs-CSV cell): read as YAML reads a scalar, then checked.

    Raises
    ------
    ConfigError
        The value is not of the input's type, or not one of its choices (``source`` names
        where it came from).
    """
    return _coerce(spec, str(text), source, text=True, cell=True)


class _InputParser(argparse.ArgumentParser):
    """An argument parser whose errors are :class:`ConfigError` (one paragraph, exit 2)."""

    def error(self, message: str):
        raise ConfigError(f"command line: {message}. Run {self.prog} --help to list every "
                          "user input with its flag and type.")


def build_parser(prog: str, description: str, specs: Sequence[InputSpec]) -> argparse.ArgumentParser:
    """An argument parser with one argument per user input, plus ``--config``.

    Values stay text here; :func:`resolve` checks and converts them (as it does YAML
    values), so a wrong type gives the same message from either.
    """
    parser = _InputParser(
        prog=prog, description=description,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Order of precedence: header defaults < --config YAML < command-line flags.")
    parser.add_argument("--config", metavar="YAML",
                        help="YAML file of user inputs (header names or flag names as keys)")
    parser.add_argument("--log-level", default="INFO",
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="logging verbosity (default: INFO)")
    for spec in specs:
        choices = f"; one of {', '.join(map(str, spec.choices))}" if spec.choices else ""
        text = f"{spec.help} [{spec.name}; default: {spec.default!r}{choices}]"
        text = text.replace("%", "%%")   # argparse formats help strings with %
        kwargs: dict[str, Any] = {"help": text, "default": argparse.SUPPRESS}
        if spec.kind is bool:
            kwargs.update(nargs="?", const="true", metavar="true|false")
        elif spec.kind is list:
            kwargs.update(nargs="+")
        if not spec.positional and "metavar" not in kwargs:
            kwargs["metavar"] = spec.flag.lstrip("-").upper().replace("-", "_")
        if spec.positional:
            kwargs.update(metavar=spec.flag, nargs="?")
            parser.add_argument(spec.name, **kwargs)
        else:
            parser.add_argument(spec.flag, dest=spec.name, **kwargs)
    return parser


def load_yaml_overrides(path: str | os.PathLike, specs: Sequence[InputSpec]) -> dict[str, Any]:
    """Read a YAML file of user inputs and map its keys to header names.

    Raises
    ------
    InputFileError
        The file does not exist.
    ConfigError
        The file is not a YAML mapping, or a key names no user input (the error lists them).
    """
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"configuration file {path} does not exist. Check the path given "
                             f"to --config (a relative path starts from the current folder, "
                             f"{Path.cwd()}).")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must hold a mapping of user inputs (key: value).")
    lookup = {key: spec for spec in specs for key in spec.keys()}
    unknown = [key for key in data if str(key) not in lookup]
    if unknown:
        valid = ", ".join(spec.name for spec in specs)
        raise ConfigError(f"{path}: unknown user input(s) {', '.join(map(str, unknown))}. "
                          f"Valid names: {valid}.")
    return {lookup[str(key)].name: _coerce(lookup[str(key)], value, str(path))
            for key, value in data.items()}


def resolve(specs: Sequence[InputSpec], argv: Sequence[str] | None = None, prog: str = "script",
            description: str = "") -> tuple[Config, argparse.Namespace]:
    """Resolve user inputs: header defaults < YAML (``--config``) < command line."""
    parser = build_parser(prog, description, specs)
    args = parser.parse_args(argv)
    config = Config((spec.name, spec.default) for spec in specs)
    if args.config:
        config.update(load_yaml_overrides(args.config, specs))
    by_name = {spec.name: spec for spec in specs}
    for name, value in vars(args).items():
        if name in by_name and value is not None:
            config[name] = _coerce(by_name[name], value, "command line", text=True)
    return config, args


def resolve_script(script_path: str | os.PathLike, argv: Sequence[str] | None = None
                   ) -> tuple[Config, argparse.Namespace]:
    """Parse a script's header and resolve its inputs from YAML and the command line."""
    script_path = Path(script_path)
    if not script_path.is_file():
        raise InputFileError(f"script {script_path} not found.")
    description, specs = parse_header(script_path.read_text(encoding="utf-8"), script_path.name)
    return resolve(specs, argv, prog=script_path.name, description=description)


def save_run_config(out_dir: str | os.PathLike, config: dict, script: str | None = None,
                    extra: dict | None = None, filename: str = "run.json") -> Path:
    """Write the resolved configuration as ``out_dir/run.json`` (atomically).

    Parameters
    ----------
    out_dir : path-like
        Folder of the run's outputs.
    config : dict
        Resolved user inputs (header name -> value).
    script : str, optional
        Name of the script or library entry point that ran.
    extra : dict, optional
        Further facts of the run (class scheme, model metadata, ...).
    """
    record = {
        "script": script,
        "seeice_version": __version__,
        "created": utc_now(),
        "command_line": list(sys.argv),
        "python": platform.python_version(),
        "config": dict(config),
    }
    if extra:
        record.update(extra)
    return write_json(Path(out_dir) / filename, record)

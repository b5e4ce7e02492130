"""Jobs-CSV columns beyond the required ones, and paths inside a jobs CSV.

A column named for a user input of ``CSC_Application/CSC.py`` (its header name, such as
``CNNsamples``, or its flag name, such as ``samples`` or ``--samples``; any case) sets that
input for its row; an empty cell leaves the CSC default. A column that would set an input a
required column already sets (``Kernel_size`` beside ``PatchSize``), or one that cannot vary
per job (``Demo``), is refused. Any other column is kept in the CSV and not used; the sweep
says so once.

Relative paths inside a jobs CSV resolve against the CSV's folder (DESIGN 10.10).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from seeice.config.inputs import InputSpec, input_value, parse_header
from seeice.errors import ConfigError

log = logging.getLogger(__name__)

#: The script whose user inputs a jobs-CSV column may set, relative to the repository.
CSC_SCRIPT = Path("CSC_Application") / "CSC.py"
#: The CSC user input each required column sets.
COLUMN_INPUTS = {"Model": "ModelName", "DataSource": "PredictPath", "OutFolder": "ScorePath",
                 "ExpShortHand": "Experiment", "Dims": "Ndims", "PatchSize": "Kernel_size",
                 "TileSize": "size", "WholeImage": "WholeImage", "Patience": "Patience"}
#: CSC user inputs that cannot vary per job.
NOT_PER_JOB = ("Demo", "DemoFolder")
#: Columns the sweep itself reads or writes.
SWEEP_COLUMNS = ("Done", "Error")


def find_csc_script() -> Path | None:
    """``CSC_Application/CSC.py`` of the repository in use, or None.

    Looked for beside the library (a source checkout or an editable install), then in the
    repository of the running script (``Batch/CSC_Batch.py`` with the library installed from a
    wheel), then under the working folder.
    """
    roots = [Path(__file__).resolve().parents[2]]
    if sys.argv and sys.argv[0]:
        roots.append(Path(sys.argv[0]).resolve().parent.parent)
    roots.append(Path.cwd())
    for root in roots:
        if (root / CSC_SCRIPT).is_file():
            return root / CSC_SCRIPT
    return None


@functools.lru_cache(maxsize=1)
def csc_input_specs() -> tuple[InputSpec, ...]:
    """The user inputs of ``CSC_Application/CSC.py`` (empty when the script is not found)."""
    script = find_csc_script()
    if script is None:
        log.warning("%s not found beside the library, the running script or the working "
                    "folder: no jobs-CSV column can set a CSC user input. Run the sweep from "
                    "the SEE_ICE repository.", CSC_SCRIPT)
        return ()
    return tuple(parse_header(script.read_text(encoding="utf-8"), script.name)[1])


@dataclass
class InputColumns:
    """The extra columns of a jobs CSV, sorted out.

    Attributes
    ----------
    overrides : dict
        Column -> the CSC user input it sets.
    unknown : list of str
        Columns that name no CSC user input (kept in the CSV, not used).
    problems : list of str
        Columns that are refused, one line each.
    """

    overrides: dict[str, InputSpec] = field(default_factory=dict)
    unknown: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def input_columns(columns: Iterable[str]) -> InputColumns:
    """Sort the columns of a jobs CSV beyond the required ones (see the module notes)."""
    specs = csc_input_specs()
    lookup = {key.lower(): spec for spec in specs for key in (*spec.keys(), spec.flag)}
    required_of = {name: column for column, name in COLUMN_INPUTS.items()}
    out = InputColumns()
    setter: dict[str, str] = {}
    for column in columns:
        if column in COLUMN_INPUTS or column in SWEEP_COLUMNS:
            continue
        spec = lookup.get(str(column).strip().lower())
        if spec is None:
            out.unknown.append(column)
        elif spec.name in required_of:
            out.problems.append(f"column {column} sets {spec.name} ({spec.flag}), which column "
                                f"{required_of[spec.name]} already sets; remove column {column}")
        elif spec.name in NOT_PER_JOB:
            out.problems.append(f"column {column}: {spec.name} ({spec.flag}) cannot be set per "
                                f"job; remove column {column}")
        elif spec.name in setter:
            out.problems.append(f"columns {setter[spec.name]} and {column} both set "
                                f"{spec.name} ({spec.flag}); keep one of them")
        else:
            setter[spec.name] = column
            out.overrides[column] = spec
    return out


def log_unused_columns(columns: InputColumns) -> None:
    """Say once which columns the sweep keeps but does not use."""
    if columns.unknown:
        fixed = set(COLUMN_INPUTS.values()) | set(NOT_PER_JOB)
        names = ", ".join(spec.name for spec in csc_input_specs() if spec.name not in fixed)
        log.warning("jobs CSV column(s) %s name no CSC user input: kept in the CSV, not used. "
                    "A column sets a CSC input when named for it (%s, or their flag names).",
                    ", ".join(columns.unknown), names)
    if columns.overrides:
        log.info("jobs CSV column(s) setting CSC inputs per job: %s",
                 ", ".join(f"{c} -> {s.name}" for c, s in columns.overrides.items()))


def job_overrides(job, columns: InputColumns, where: str) -> tuple[dict, list[str]]:
    """The CSC inputs a row sets through its extra columns, and the problems of its cells.

    Parameters
    ----------
    job : pandas.Series
        The row (cells as text).
    columns : InputColumns
        From :func:`input_columns`.
    where : str
        The row, for messages (``"row 3 (job 1)"``).

    Returns
    -------
    values : dict
        Header name -> value; empty cells are left out (the CSC default applies).
    problems : list of str
        One line per cell that is not a valid value of its input.
    """
    values, problems = {}, []
    for column, spec in columns.overrides.items():
        text = str(job[column]).strip()
        if not text:
            continue
        try:
            values[spec.name] = input_value(spec, text, f"{where}, column {column}")
        except ConfigError as exc:
            problems.append(str(exc).rstrip("."))
    return values, problems


def resolve_path(value: str, base: str | os.PathLike | None) -> Path:
    """A path written in a jobs CSV: relative ones resolve against ``base`` (the CSV's folder)."""
    path = Path(str(value).strip()).expanduser()
    return path if path.is_absolute() or base is None else Path(base) / path

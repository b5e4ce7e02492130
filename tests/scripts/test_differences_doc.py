"""docs/differences.md names only options that exist, each on the script it names."""

from __future__ import annotations

import re

from seeice.config.inputs import parse_header

from repo_paths import REPO

DOC = REPO / "docs" / "differences.md"


def _flags(script: str) -> set[str]:
    path = next(REPO.glob(f"*/{script}"))
    _, specs = parse_header(path.read_text(encoding="utf-8"), script)
    return {s.flag for s in specs}


def test_every_option_in_the_differences_table_exists():
    text = DOC.read_text(encoding="utf-8")
    everywhere = set().union(*(_flags(p.name) for folder in ("Phase_1_CNN", "CSC_Application",
                                                            "Batch", "Preparation")
                               for p in (REPO / folder).glob("*.py")))
    named = re.findall(r"`(\w+\.py) (--[a-z-]+)", text)
    assert len(named) >= 10
    for script, flag in named:
        assert flag in _flags(script), f"{script} has no {flag}"
    for flag in set(re.findall(r"`(--[a-z-]+)", text)):
        assert flag in everywhere, f"no script has {flag}"
    assert "docs/differences.md" in (REPO / "README.md").read_text(encoding="utf-8")

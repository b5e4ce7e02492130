"""Every script answers --help with exit 0, listing each of its user inputs with its default."""

from __future__ import annotations

import subprocess
import sys

import pytest

from seeice.config.inputs import parse_header

from repo_paths import REPO

SCRIPTS = sorted(p.relative_to(REPO).as_posix() for folder in ("Phase_1_CNN", "CSC_Application", "Batch",
                                                                  "Preparation")
                 for p in (REPO / folder).glob("*.py"))


def test_every_script_is_covered():
    assert len(SCRIPTS) >= 11 and "CSC_Application/CSC.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_help_lists_every_user_input(script):
    _, specs = parse_header((REPO / script).read_text(encoding="utf-8"), origin=script)
    assert specs, f"{script} declares no user inputs"
    proc = subprocess.run([sys.executable, str(REPO / script), "--help"], capture_output=True,
                          text=True, cwd=REPO, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    for spec in specs:
        assert spec.flag in proc.stdout, f"{script} --help does not list {spec.flag}"

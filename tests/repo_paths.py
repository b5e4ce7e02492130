"""Paths the tests share: the repository root and the optional data sets beside it.

The data sets live outside the repository, in ``../shared/data`` next to its root; tests that
need one skip when it is absent.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
"""Root of the repository (the folder holding ``seeice/`` and ``tests/``)."""

SHARED_DATA = REPO.parent / "shared" / "data"
"""Optional data sets beside the repository."""

STMARG = Path(os.environ.get("SEEICE_STMARG_DATA", SHARED_DATA / "stmarg_train"))
"""St Marguerite river images and class rasters (``SEEICE_STMARG_DATA`` points elsewhere)."""

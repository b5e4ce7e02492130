"""Shared pytest set-up: quiet TensorFlow, a headless matplotlib backend, the test helpers importable."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# The helper modules (csc_helpers, front_helpers, ...) live beside this file; the tests live
# in sub-folders that mirror the package.
sys.path.insert(0, str(Path(__file__).resolve().parent))

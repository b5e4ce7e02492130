"""Shared pytest set-up: quiet TensorFlow, a headless matplotlib backend, the test helpers importable."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")

# The helper modules (csc_helpers, front_helpers, inference_helpers, results_helpers,
# tiling_helpers, and repo_paths for the repository root and the shared data) live beside this
# file; the tests live in sub-folders that mirror the package. The sub-folders are not
# packages, so every test module needs a basename of its own across the whole of tests/.
sys.path.insert(0, str(Path(__file__).resolve().parent))

"""Running scripts: logging set-up, input resolution and error reporting.

A script ends with::

    if __name__ == "__main__":
        run_script(__file__, main)

``main`` receives the resolved :class:`seeice.config.inputs.Config`. Any :class:`SeeIceError`
(and a few common user errors, such as a full disk) becomes a one-paragraph message on
stderr and exit status 2; a bug keeps its traceback so that it can be reported.
"""

from __future__ import annotations

import logging
import os
import sys
import textwrap
from pathlib import Path
from typing import Callable, Sequence

from seeice.config.inputs import Config, resolve_script
from seeice.errors import SeeIceError

log = logging.getLogger("seeice")

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


def setup_logging(level: str = "INFO") -> None:
    """Log to stderr as ``HH:MM:SS LEVEL message``; quieten TensorFlow's C++ logging."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(message)s", datefmt="%H:%M:%S",
                        force=True)
    for noisy in ("matplotlib", "rasterio", "PIL", "h5py", "absl", "tensorflow", "pyogrio"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def format_error(exc: BaseException) -> str:
    """One paragraph naming the kind of problem and the message."""
    kind = type(exc).__name__
    # Flags and paths are never split across lines (a user copies them from the message).
    return textwrap.fill(f"{kind}: {exc}", width=100, break_on_hyphens=False,
                         break_long_words=False)


def run_script(script_file: str | os.PathLike, main: Callable[[Config], object],
               argv: Sequence[str] | None = None) -> int:
    """Resolve a script's user inputs and call ``main(config)``; exit with its status.

    Returns (when ``sys.exit`` is caught, as in tests) or exits with 0 on success,
    2 on a user error (message, no traceback), 130 on Ctrl-C.
    """
    status = 0
    try:
        # Logging to this process's stderr from the start, so that an error in the inputs
        # themselves is reported like every other (a --log-level given then applies).
        setup_logging()
        config, args = resolve_script(script_file, argv)
        setup_logging(args.log_level)
        result = main(config)
        if isinstance(result, int) and not isinstance(result, bool):
            status = result
    except SeeIceError as exc:
        setup_logging_if_needed()
        log.error("%s", format_error(exc))
        status = EXIT_USER_ERROR
    except KeyboardInterrupt:
        setup_logging_if_needed()
        log.error("Interrupted. Each file already written is whole (files are written "
                  "atomically), but the step in progress is unfinished and may have left part "
                  "of its outputs (a CSC run records in run.json which images are complete, "
                  "and the results scripts read only those). Rerun to finish.")
        status = EXIT_INTERRUPTED
    except MemoryError:
        setup_logging_if_needed()
        log.error("Out of memory. Use row-block mode (--whole-image 0) with a smaller "
                  "memory budget, a smaller patch size, or fewer samples.")
        status = EXIT_USER_ERROR
    except OSError as exc:
        if exc.errno is None or isinstance(exc, FileNotFoundError) and exc.filename is None:
            raise
        setup_logging_if_needed()
        log.error("%s", format_error(exc))
        status = EXIT_USER_ERROR
    sys.exit(status)


def setup_logging_if_needed() -> None:
    if not logging.getLogger().handlers:
        setup_logging()


def script_name(script_file: str | os.PathLike) -> str:
    """The script's file name, as recorded in run.json."""
    return Path(script_file).name


def keras_verbosity() -> int:
    """Keras progress bar when interactive, one line per epoch otherwise."""
    try:
        return 1 if sys.stdout.isatty() else 2
    except (AttributeError, ValueError):
        return 2

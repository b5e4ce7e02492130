"""Exception classes of SEE_ICE.

Every error a user can cause by their input is one of these. Each subclasses the built-in
exception it refines, so callers that catch ``ValueError`` or ``FileNotFoundError`` keep
working, and every script turns them into a one-paragraph message and a non-zero exit
(see :func:`seeice.config.runner.run_script`).

Messages name the problem and the fix, for example::

    ImageError: StMarg_1.jpg has 3 bands but 4 were asked for (Ndims=4).
    Use --bands 3, or give 4-band images.
"""


class SeeIceError(Exception):
    """Base class of every error SEE_ICE raises on purpose."""


class ConfigError(SeeIceError, ValueError):
    """A user input or configuration value is unknown, of the wrong type or out of range."""


class InputFileError(SeeIceError, FileNotFoundError):
    """A required file or folder does not exist (an image, a companion, a model, a CSV)."""


class RasterError(SeeIceError, ValueError):
    """A raster cannot be read, or does not fit the others (size, band count, dtype)."""


class DataError(SeeIceError, ValueError):
    """Data are unusable for the asked step (no tile passes purity, empty classes, ...)."""


class ModelError(SeeIceError, ValueError):
    """A model file is missing, not a model, or does not match the data (tile size, bands)."""


class FrontNotFoundError(SeeIceError, RuntimeError):
    """No acceptable calving front could be extracted from a classification."""


class JobsError(SeeIceError, ValueError):
    """A jobs CSV is malformed: missing columns, bad values, missing folders or models."""


class ProductError(SeeIceError, ValueError):
    """A Sentinel-2 product is not one, lacks bands or metadata, or is damaged (a corrupt zip)."""


def one_line(exc: BaseException, limit: int = 500) -> str:
    """``"<ErrorType>: <message>"`` on one line, at most ``limit`` characters (for CSV cells and logs)."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return f"{type(exc).__name__}: {text}"[:limit]

"""Checks of user-given values at the top of library functions, with messages that name the fix."""

from __future__ import annotations

import numbers

from seeice.errors import ConfigError


def positive_int(value, name: str, hint: str = "") -> int:
    """``value`` as an int if it is a whole number of at least 1, else a :class:`ConfigError`.

    Parameters
    ----------
    value : int-like
        The value to check; booleans and fractional numbers are refused.
    name : str
        What the value is, as the user knows it (``"tile size"``, ``"batch_size"``).
    hint : str, optional
        A sentence added to the message (for example the user input that sets it).
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or value != int(value) \
            or value < 1:
        message = f"{name} must be a positive whole number, got {value!r}."
        raise ConfigError(f"{message} {hint}".strip())
    return int(value)


def positive_number(value, name: str, hint: str = "") -> float:
    """``value`` as a float if it is a finite number above 0, else a :class:`ConfigError`."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 < value < float("inf"):
        message = f"{name} must be a positive number, got {value!r}."
        raise ConfigError(f"{message} {hint}".strip())
    return float(value)


def one_of(value, choices, name: str, hint: str = ""):
    """``value`` if it is one of ``choices``, else a :class:`ConfigError` listing them.

    Parameters
    ----------
    value : object
    choices : sequence
        The valid values, in the order to list them.
    name : str
        What the value is (``"class balance"``).
    hint : str, optional
        A sentence added to the message (for example which choice is the published one).
    """
    if value not in choices:
        listed = ", ".join(map(str, choices))
        raise ConfigError(f"{name} {value!r} is unknown; use one of {listed}. {hint}".strip())
    return value

"""The time stamps recorded in run records and model metadata."""

import datetime as _dt


def utc_now() -> str:
    """The current time in UTC, ISO 8601 to the second (``2026-12-04T04:57:58+00:00``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")

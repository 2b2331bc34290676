"""GDAL configuration options for the length of a write, safe with threads writing at once.

GDAL's configuration options are process-wide, and pyogrio sets no option for one call
only. Writers that need some (no fsync, a fixed date) take them through `gdal_options`:
writers asking for the same options share them; one asking for different ones waits
until the others are done, so no writer ever runs under options another one set.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading
from collections.abc import Iterator, Mapping

_changed = threading.Condition()
_active: dict[str, str] = {}  # the options set now
_users = 0  # writers running under them
_previous: dict[str, str | None] = {}  # what to restore when the last one finishes


@contextlib.contextmanager
def gdal_options(options: Mapping[str, str]) -> Iterator[None]:
    """Run the block with these GDAL configuration options set, restoring them after."""
    import pyogrio  # GDAL's bindings, imported by the first write (not by a reader's start)

    global _users
    wanted = dict(options)
    with _changed:
        while _users and _active != wanted:
            _changed.wait()
        if not _users:
            _previous.clear()
            _previous.update({k: pyogrio.get_gdal_config_option(k) for k in wanted})
            pyogrio.set_gdal_config_options(wanted)
            _active.clear()
            _active.update(wanted)
        _users += 1
    try:
        yield
    finally:
        with _changed:
            _users -= 1
            if not _users:
                pyogrio.set_gdal_config_options(dict(_previous))
                _active.clear()
                _changed.notify_all()


def gdal_date(timestamp: dt.datetime) -> str:
    """A datetime as GDAL writes dates into a GeoPackage (UTC): 2024-03-18T00:00:00.000Z,
    the value of its OGR_CURRENT_DATE option."""
    if timestamp.tzinfo is not None:
        timestamp = timestamp.astimezone(dt.UTC)
    return timestamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{timestamp.microsecond // 1000:03d}Z"

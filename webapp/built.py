"""Opening the built store, or saying in one line how to make it (for the CLI and the app).

Apart from webapp.app so that a command that needs only the store (`xinqu export`) starts
without importing Flask, folium and the views.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from webapp.errors import UsageError


def open_store(path: Path):
    """Open the built store, or explain in one line how to make it."""
    if not Path(path).exists():
        shown = os.path.relpath(path) if Path(path).is_absolute() else str(path)
        raise UsageError(f"no built data at {shown}: run `xinqu build`")
    from layers.store import StoreError, open_stable  # here: pandas/geopandas only when opening

    try:
        return open_stable(path)
    except StoreError as error:
        raise UsageError(f"{error}; run `xinqu build`") from None


def data_time(store: Any) -> str:
    """The items' `timeStamp`: when the store file was written (its stamp), so the same store
    gives the same bodies and ETags in every worker and after a restart (the start's time
    for a store handed in without one)."""
    stamp = getattr(store, "stamp", None)
    seconds = stamp[1] / 1e9 if stamp else time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

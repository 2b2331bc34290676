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


def open_store(where: str | Path):
    """Open the store at `where` (a GeoPackage path or a postgresql:// URL), or explain in
    one line what is wrong and how to make it."""
    # here: pandas/geopandas/psycopg only when opening
    from layers.stores import StoreErrors, is_database, open_at

    if is_database(where):
        try:
            return open_at(where)
        except StoreErrors as error:
            raise UsageError(str(error)) from None
    if not Path(where).exists():
        shown = os.path.relpath(where) if Path(where).is_absolute() else str(where)
        raise UsageError(f"no built data at {shown}: run `xinqu build`")
    try:
        return open_at(where)
    except StoreErrors as error:
        raise UsageError(f"{error}; run `xinqu build`") from None


def data_time(store: Any) -> str:
    """The items' `timeStamp`: when the store file was written (its stamp), so the same store
    gives the same bodies and ETags in every worker and after a restart (the start's time
    for a store handed in without one)."""
    loaded = getattr(store, "loaded_at", None)  # a database store: when it was loaded
    if loaded is not None:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(loaded))
    stamp = getattr(store, "stamp", None)
    seconds = stamp[1] / 1e9 if stamp else time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))

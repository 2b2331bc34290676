"""Opening the built store, or saying in one line how to make it (for the CLI and the app).

Apart from webapp.app so that a command that needs only the store (`xinqu export`) starts
without importing Flask, folium and the views.
"""

from __future__ import annotations

import os
from pathlib import Path

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

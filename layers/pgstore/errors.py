"""The PostGIS store's errors, apart from psycopg: `layers.stores` names it for every store
and must not load the database driver (~0.1 s) when the store is a GeoPackage."""

from __future__ import annotations


class PgStoreError(RuntimeError):
    """The PostGIS store cannot be reached or used; the message is one line."""

    def __init__(self, message: str):
        super().__init__(" ".join(message.split()))


class StoreUnavailable(PgStoreError):
    """The database cannot be reached right now (the web answers 503 and retries later)."""

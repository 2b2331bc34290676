"""Which store: a GeoPackage file (the embedded default) or a PostGIS database.

A store location is a path or a `postgresql://` URL: given with `--store`, else
`$XINQU_STORE`, else the instance folder's GeoPackage. Both stores answer the same
interface (layers.query.reader); this module opens either, and says how to follow one
that changes under a running service (`stamp`, `reopen`).

The database store's modules (psycopg, its pool, the loader) are imported only when a
database store is opened or published to: a service over a GeoPackage never loads them.
"""

from __future__ import annotations

from pathlib import Path

from layers import store_snapshot
from layers.pgstore.errors import PgStoreError, StoreUnavailable
from layers.store import Store, StoreError, keep_snapshot, open_stable
from layers.store_place import ENV, file_stamp, is_database, location

__all__ = ["ENV", "PgStoreError", "StoreUnavailable", "is_database", "keep", "location",
           "open_at", "publisher", "reopen", "stamp"]


def open_at(where: str | Path):
    """The store at `where` (a Store, or a PgStore for a database). StoreError (GeoPackage)
    or PgStoreError (database) name what is wrong in one line."""
    if is_database(where):
        from layers.pgstore.reader import PgStore  # here: psycopg only for a database store

        return PgStore.open(str(where))
    return open_stable(Path(where))


def stamp(store) -> object:
    """What changes whenever the store is replaced: the file's (inode, mtime, size), or the
    loaded schema's oid. None for a store that cannot be followed (not read from a file)."""
    if _is_database_store(store):
        return store.current_stamp()
    return file_stamp(store.path) if store.stamp is not None else None


def reopen(store):
    """The store at the same place, read anew (sharing what has not changed)."""
    if _is_database_store(store):  # the same class at the same place
        return type(store).open(store.url, store.schema)
    return open_stable(store.path, previous=store)


def keep(store) -> bool:
    """Keep a snapshot of a GeoPackage store for the next start (layers.store_snapshot),
    unless the one in place is of this very file; True when one was written. A database
    store keeps nothing per feature: nothing to keep."""
    if not isinstance(store, Store) or store.stamp is None:
        return False
    if store_snapshot.is_current(store.path, store.stamp):
        return False
    return keep_snapshot(store) is not None


def _is_database_store(store) -> bool:
    """A database store asks its database for its stamp (layers.pgstore.reader.PgStore);
    told apart without importing it."""
    return not isinstance(store, Store) and hasattr(store, "current_stamp")


StoreErrors = (StoreError, PgStoreError)


def publisher(where: str | Path | None, failure: type[Exception] = PgStoreError):
    """For a database store: what puts an updated store copy (a GeoPackage) into it, in one
    transaction (layers.pgstore.load; a failure, then nothing changed, raises `failure`
    with the load's one-line reason). None for a GeoPackage store, which the copy simply
    replaces."""
    if not is_database(where):
        return None

    def into_database(gpkg: Path) -> None:
        from layers.pgstore.load import load  # here: psycopg only for a database store

        try:
            load(gpkg, str(where))
        except PgStoreError as error:
            raise failure(str(error)) from None

    return into_database


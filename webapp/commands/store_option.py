"""The `--store` option the commands share: which store to read or write.

A GeoPackage path or a `postgresql://` URL; without it, $XINQU_STORE, else the instance
folder's GeoPackage (layers.stores.location).
"""

from __future__ import annotations

from webapp.errors import UsageError

HELP = ("the store: a GeoPackage file or a postgresql://user:password@host:port/db URL "
        "(default: $XINQU_STORE, else <home>/xinqu.gpkg)")


def add(parser) -> None:
    parser.add_argument("--store", metavar="PATH_OR_URL", default=None, help=HELP)


def open_chosen(args):
    """The store `--store` names (or the default one), opened; UsageError in one line."""
    # Imported here: the store's libraries load only when a command runs.
    from layers.stores import location
    from webapp.built import open_store

    return open_store(location(getattr(args, "store", None)))


def database_url(args) -> str | None:
    """The postgresql:// URL the command writes to as well, if its store is a database."""
    from layers.stores import is_database, location

    where = location(getattr(args, "store", None))
    return str(where) if is_database(where) else None


def publish(url: str | None):
    """For a database store: what loads a staged GeoPackage into it (all or nothing), a
    failure being a UsageError naming why; None for a GeoPackage store."""
    from layers.stores import publisher

    return publisher(url, UsageError)

"""Where the store is and which state of it: no heavy imports, so that a command can
decide what to do (`xinqu export` copying a kept export, say) before it loads pandas,
geopandas or psycopg. layers.stores and layers.store take these from here.

A store location is a path or a `postgresql://` URL: given with `--store`, else
`$XINQU_STORE`, else the instance folder's GeoPackage.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from layers import paths

ENV = "XINQU_STORE"
_URL = re.compile(r"^postgres(ql)?://")


def location(given: str | Path | None = None) -> str | Path:
    """The store to use: `given`, else $XINQU_STORE, else the instance GeoPackage."""
    chosen = given or os.environ.get(ENV) or paths.STORE_PATH
    return chosen if is_database(chosen) else Path(chosen)


def is_database(where: str | Path | None) -> bool:
    """Whether a store location names a PostgreSQL database (a postgresql:// URL)."""
    return isinstance(where, str) and bool(_URL.match(where))


def file_stamp(path: Path | str) -> tuple[int, int, int] | None:
    """(inode, mtime_ns, size) of the store file: it changes whenever the store is replaced
    (every writer replaces the file with os.replace, never edits it in place)."""
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_ino, info.st_mtime_ns, info.st_size)

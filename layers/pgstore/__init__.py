"""The PostGIS store: the built GeoPackage's tables in PostgreSQL, for many workers.

- `connect(url)`: a checked connection (one-line `PgStoreError` for a bad URL, a server
  that is down or refuses the login, a database without PostGIS);
- `load(store_path, url)`: copy the built store into schema `xinqu`, in one transaction
  that swaps the new tables in, so readers never see half a store;
- `check_schema(conn)`: the loaded store's schema version, `PgStoreError` if it is
  missing or from another xinqu.

`python -m layers.pgstore load [--store PATH] [URL]` loads from the command line.
"""

from layers.pgstore.connection import (
    DEFAULT_URL,
    SCHEMA,
    SCHEMA_VERSION,
    PgStoreError,
    check_schema,
    connect,
    safe_url,
)
from layers.pgstore.load import LoadReport, load

__all__ = ["DEFAULT_URL", "SCHEMA", "SCHEMA_VERSION", "LoadReport", "PgStoreError",
           "check_schema", "connect", "load", "safe_url"]

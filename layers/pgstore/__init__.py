"""The PostGIS store: the built GeoPackage's tables in PostgreSQL, for many workers.

- `connection.connect(url)`: a checked connection (one-line `PgStoreError` for a bad URL,
  a server that is down or refuses the login, a database without PostGIS);
- `load.load(store_path, url)`: copy the built store into schema `xinqu`, in one
  transaction that swaps the new tables in, so readers never see half a store;
- `connection.check_schema(conn)`: the loaded store's schema version, `PgStoreError` if
  it is missing or from another xinqu;
- `reader.PgStore`: the store interface answered by SQL.

The package itself imports nothing: every process imports it (`layers.stores` names
`errors.PgStoreError`), and only one that opens a database store needs psycopg, pandas and
the loader. Import what you use from its module.

`python -m layers.pgstore load [--store PATH] [URL]` loads from the command line.
"""

"""Load a built GeoPackage store into PostGIS, all or nothing.

Everything happens in one transaction: the tables are created and filled (COPY in binary,
geometry as WKB straight from GDAL, never through shapely) in a fresh schema
`<schema>_new`, indexed and analysed, a `schema_version` row is written, and then the fresh
schema is swapped in (`<schema>` → `<schema>_old`, `<schema>_new` → `<schema>`, old
dropped). Readers see the previous store until the commit and the whole new one after it;
a failure anywhere leaves the previous store as it was. Two loads at once queue on an
advisory lock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import pyogrio
from psycopg import sql
from pyogrio import raw

from layers.documents.model import LANGS
from layers.geometry import column_suffix
from layers.paths import STORE_PATH
from layers.pgstore.connection import (
    SCHEMA,
    SCHEMA_VERSION,
    PgStoreError,
    connect,
    extension_version,
)
from layers.pgstore.grams import short_grams
from layers.pgstore.lookups import write_lookups
from layers.pgstore.schema import (
    UNIT_SEARCH,
    Table,
    copy_columns,
    create_table,
    index_statements,
    table_from_meta,
)
from layers.progress import track
from layers.query.search import search_key
from layers.store import ATTRIBUTE_TABLES, DISPLAY_SUFFIX
from layers.textnorm import normalize

# How long the swap may wait for readers' locks on the old schema before giving up (the
# load then rolls back and the old store stays).
SWAP_LOCK_TIMEOUT = "60s"
# The swap gives way to readers on a deadlock (see _swap) and is tried again.
SWAP_DEADLOCK_TIMEOUT = "100ms"
SWAP_TRIES = 20
MAINTENANCE_WORK_MEM = "256MB"
_LOAD_LOCK = 0x78696E71  # pg_advisory_xact_lock key: "xinq"
_GDAL_ERRORS = (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError,
                pyogrio.errors.FieldError, pyogrio.errors.GeometryError)


@dataclass
class LoadReport:
    """What a load wrote: rows per store table and per lookup table, and the seconds it
    took (of which reading the GeoPackage and COPY, and building indexes and statistics)."""

    schema: str
    rows: dict[str, int] = field(default_factory=dict)
    lookups: dict[str, int] = field(default_factory=dict)  # rows of layers.pgstore.lookups
    seconds: float = 0.0
    copy_seconds: float = 0.0
    index_seconds: float = 0.0


def store_tables(store_path: Path) -> list[tuple[str, str | None]]:
    """The store's tables in loading order with their geometry type (None for attribute
    tables): every layer and its display copy, basemap, the attribute tables. Raises
    PgStoreError if the file is not a complete store."""
    if not store_path.exists():
        raise PgStoreError(f"{store_path}: no built store (run `xinqu build`)")
    try:
        present = dict(pyogrio.list_layers(store_path).tolist())
    except pyogrio.errors.DataSourceError as error:
        raise PgStoreError(f"{store_path}: not a GeoPackage ({error})") from None
    missing = [t for t in (*ATTRIBUTE_TABLES, "basemap") if t not in present]
    layer_ids = []
    if "layers" in present:
        fields = raw.read(store_path, layer="layers", columns=["id"], read_geometry=False)[3]
        layer_ids = [str(v) for v in fields[0]]
    missing += [n for lid in layer_ids for n in (lid, lid + DISPLAY_SUFFIX) if n not in present]
    if missing:
        raise PgStoreError(f"{store_path}: incomplete store, missing tables {missing}")
    names = [n for lid in layer_ids for n in (lid, lid + DISPLAY_SUFFIX)]
    names += ["basemap", *ATTRIBUTE_TABLES]
    return [(n, present[n] if n not in ATTRIBUTE_TABLES else None) for n in names]


def load(store_path: Path | str = STORE_PATH, url: str | None = None,
         schema: str = SCHEMA) -> LoadReport:
    """Copy every table of the built store at `store_path` into schema `schema` of the
    PostGIS database at `url` (default: the project's cluster), replacing what was there
    in one transaction. PgStoreError names the problem (bad store, URL, server, no PostGIS
    or pg_trgm); the previous store is then left in place."""
    store_path = Path(store_path)
    started = time.perf_counter()
    tables = store_tables(store_path)
    report = LoadReport(schema)
    fresh, old = f"{schema}_new", f"{schema}_old"
    with connect(url) as conn:
        if extension_version(conn, "pg_trgm") is None:
            raise PgStoreError("the database has no pg_trgm extension (CREATE EXTENSION "
                               "pg_trgm), which the search index needs")
        try:
            with conn.transaction():
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOAD_LOCK,))
                # Index builds (the trigram GIN above all) sort in memory rather than on disk.
                conn.execute(sql.SQL("SET LOCAL maintenance_work_mem = {}").format(
                    sql.Literal(MAINTENANCE_WORK_MEM)))
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(fresh)))
                conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(fresh)))
                for name, geometry_type in track(tables, "loading tables"):
                    report.rows[name] = _load_table(conn, store_path, fresh, name,
                                                    geometry_type, report)
                report.lookups = write_lookups(conn, store_path, fresh, _layer_ids(tables))
                _write_version(conn, fresh)
                _swap(conn, schema, fresh, old)
        except (psycopg.Error, *_GDAL_ERRORS) as error:
            raise PgStoreError(f"loading {store_path.name} into schema {schema!r} failed, "
                               f"the previous store is unchanged: {_one_line(error)}") from None
    report.seconds = time.perf_counter() - started
    return report


def _layer_ids(tables: list[tuple[str, str | None]]) -> list[str]:
    """The layer ids among the store's tables (those with a display copy), in order."""
    names = {name for name, _ in tables}
    return [name for name, _ in tables if name + DISPLAY_SUFFIX in names]


def _load_table(conn: psycopg.Connection, store_path: Path, schema: str, name: str,
                geometry_type: str | None, report: LoadReport) -> int:
    started = time.perf_counter()
    meta, fids, geometry, fields = raw.read(store_path, layer=name, return_fids=True,
                                            read_geometry=geometry_type is not None)
    table = table_from_meta(name, meta, geometry_type)
    data = [fids.tolist(), *(_values(a, c.type) for a, c in zip(fields, table.columns,
                                                                   strict=True))]
    if geometry_type is not None:
        data.append(list(geometry))
    _copy(conn, schema, table, data)
    if name == "units":
        ids = fields[table.column_names.index("id")].tolist()
        keys = list(_search_keys(table, fields))
        id_keys = [search_key(str(id)) for id in ids]
        _copy(conn, schema, UNIT_SEARCH, [fids.tolist(), ids, keys, id_keys,
                                          map(short_grams, keys), map(short_grams, id_keys)])
    copied = time.perf_counter()
    report.copy_seconds += copied - started
    for made in (table, UNIT_SEARCH) if name == "units" else (table,):
        for statement in index_statements(schema, made):
            conn.execute(statement)
        conn.execute(sql.SQL("ANALYZE {}.{}").format(sql.Identifier(schema),
                                                     sql.Identifier(made.name)))
    report.index_seconds += time.perf_counter() - copied
    return len(fids)


def _copy(conn: psycopg.Connection, schema: str, table, columns: list[Iterable]) -> None:
    """Create `table` and fill it from `columns` (fid first) by binary COPY, frozen: the
    table is new in this transaction, so its rows need no later visibility work (no hint
    bits written by the first readers, no vacuum before index-only scans)."""
    conn.execute(create_table(schema, table))
    names, types = copy_columns(table)
    statement = sql.SQL("COPY {}.{} ({}) FROM STDIN (FORMAT BINARY, FREEZE)").format(
        sql.Identifier(schema), sql.Identifier(table.name),
        sql.SQL(", ").join(map(sql.Identifier, names)))
    with conn.cursor() as cur, cur.copy(statement) as copy:
        copy.set_types(types)
        for row in zip(*columns, strict=True):
            copy.write_row(row)


def _values(array: np.ndarray, pg_type: str) -> list:
    """A column as Python values for COPY: GDAL's nulls (None, or NaN in float arrays,
    also of integer fields that have nulls) become None."""
    values = array.tolist()
    if array.dtype.kind == "f":
        if pg_type in ("int8", "int4"):
            return [None if v is None or math.isnan(v) else int(v) for v in values]
        return [None if v is None or math.isnan(v) else v for v in values]
    if pg_type == "bool":
        return [None if v is None else bool(v) for v in values]
    return values


def _search_keys(table: Table, fields: list[np.ndarray]) -> Iterator[str]:
    """Each unit's titles and texts in every language in the matching form (as unit search
    compares them: layers.textnorm.normalize, then case folded), one per line."""
    by_name = dict(zip(table.column_names, fields, strict=True))
    columns = [(lang, by_name.get(f"{part}_{column_suffix(lang)}"))
               for lang in LANGS for part in ("title", "text")]
    for i in range(len(fields[0]) if fields else 0):
        parts = []
        for lang, array in columns:
            value = array[i] if array is not None else None
            if isinstance(value, str) and value:
                form = normalize(value, lang).casefold()
                if form not in parts:  # zh-Hant's form is mostly zh-Hans's text again
                    parts.append(form)
        yield "\n".join(parts)


def _write_version(conn: psycopg.Connection, schema: str) -> None:
    conn.execute(sql.SQL(
        "CREATE TABLE {}.schema_version (version int4 NOT NULL, "
        "loaded_at timestamptz NOT NULL DEFAULT now())").format(sql.Identifier(schema)))
    conn.execute(sql.SQL("INSERT INTO {}.schema_version (version) VALUES (%s)").format(
        sql.Identifier(schema)), (SCHEMA_VERSION,))


def _swap(conn: psycopg.Connection, schema: str, fresh: str, old: str) -> None:
    """Put `fresh` in the place of `schema` and drop the replaced store (inside the caller's
    transaction, so readers see the old store or the new one, never a mix).

    A reader's query that already holds some of the old tables and waits for another while
    the swap holds that one is a deadlock. The swap is then the one to give way (its
    deadlock_timeout is the shorter): only its savepoint is undone, the reader finishes on
    the old store, and the swap is tried again."""
    conn.execute(sql.SQL("SET LOCAL lock_timeout = {}").format(sql.Literal(SWAP_LOCK_TIMEOUT)))
    conn.execute(sql.SQL("SET LOCAL deadlock_timeout = {}").format(
        sql.Literal(SWAP_DEADLOCK_TIMEOUT)))
    for attempt in range(SWAP_TRIES):
        try:
            with conn.transaction():  # a savepoint: a deadlock undoes this try only
                conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(
                    sql.Identifier(old)))
                exists = conn.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s",
                                      (schema,)).fetchone()
                if exists:
                    conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                        sql.Identifier(schema), sql.Identifier(old)))
                conn.execute(sql.SQL("ALTER SCHEMA {} RENAME TO {}").format(
                    sql.Identifier(fresh), sql.Identifier(schema)))
                if exists:
                    conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(old)))
            return
        except psycopg.errors.DeadlockDetected:
            if attempt == SWAP_TRIES - 1:
                raise
            time.sleep(0.05 * (attempt + 1))


def _one_line(error: BaseException) -> str:
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[0] if lines else type(error).__name__

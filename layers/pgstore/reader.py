"""The PostGIS store: the store interface (layers.query.reader) answered by SQL.

Every call is one or two indexed queries: GiST on geometry for bboxes, B-tree on ids and on
the unit/place joins, pg_trgm for search in any script, CQL2 filters and sortby translated
to SQL (layers.pgstore.cql_sql). What a worker keeps is small and fixed: the layer table,
the build info, each table's columns, and per-layer figures (count, extent, queryables)
read on first use; nothing per feature, so start-up and memory do not grow with the data.

The store answers for one load of the schema: every load swaps in a new schema (a new
oid, `stamp()`), and the service opens a new PgStore when the stamp changes
(webapp.reload), so the small tables it keeps are never stale for long.

The whole-table attributes of the GeoPackage store (`layers`, `display`, `units`,
`links`, `mentions`, `documents`, `basemap`) exist too, read in full on each use: the
exports, figures and planning pages that need whole tables read them per request.

A connection that fails (the server went away) raises StoreUnavailable (503 on the web);
the pool reconnects by itself when the server is back.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from functools import cached_property
from typing import Any

import geopandas as gpd
import pandas as pd
import psycopg
import shapely
from psycopg import sql
from psycopg_pool import ConnectionPool, PoolTimeout

from layers import cql
from layers.pgstore.connection import SCHEMA, check_schema, connect, safe_url
from layers.pgstore.cql_sql import order_by, where
from layers.pgstore.errors import StoreUnavailable
from layers.pgstore.grams import is_short
from layers.pgstore.schema import (
    GEOMETRY_COLUMN,
    ID_GRAMS_COLUMN,
    ID_KEY_COLUMN,
    SEARCH_GRAMS_COLUMN,
    SEARCH_KEY_COLUMN,
)
from layers.query.errors import QueryError
from layers.query.params import bbox_parts
from layers.query.reader import LinkFilter
from layers.store import DISPLAY_SUFFIX, LINK_COLUMNS

POOL_MAX = 8  # connections per process: one per server thread
POOL_TIMEOUT_S = 5.0
STAMP_CHECK_S = 1.0  # how often a service asks whether the store was reloaded
STATEMENT_TIMEOUT = "10s"  # no request holds a worker (or the database) for long
_HIDDEN = {"fid", GEOMETRY_COLUMN}


class PgStore:
    """The store loaded in schema `schema` of the PostGIS database at `url`."""

    holds_features = False  # pages are read and serialised per request

    def __init__(self, url: str, schema: str = SCHEMA):
        self.url = url
        self.schema = schema
        self.path = None  # no file: webapp.reload follows `stamp()` instead
        self._pool: ConnectionPool | None = None
        self._pid = 0
        self._lock = threading.Lock()
        self._checked: tuple[float, int | None] = (0.0, None)  # (when, stamp) last asked
        self._figures: dict[str, dict[str, Any]] = {}  # layer -> count and extent
        with connect(url) as conn:  # one-line errors: bad URL, server down, no PostGIS
            check_schema(conn, schema)
            self.stamp = self._read_stamp(conn)
            self.loaded_at = conn.execute(self._sql(  # seconds since the epoch
                "SELECT extract(epoch FROM max(loaded_at))::float8 FROM {}",
                "schema_version")).fetchone()[0]
            self.columns = self._read_columns(conn)
            info = conn.execute(self._sql("SELECT key, value FROM {} ORDER BY fid",
                                          "build_info")).fetchall()
            self.build_info = {str(k): str(v) for k, v in info}
            meta = self._frame_on(conn, self._sql("SELECT * FROM {} ORDER BY fid", "layers"))
        meta = meta.set_index("id")
        self.layer_meta = meta.sort_values("order", kind="stable") if "order" in meta else meta

    @classmethod
    def open(cls, url: str, schema: str = SCHEMA) -> PgStore:
        return cls(url, schema)

    def __repr__(self) -> str:
        return f"PgStore({safe_url(self.url)!r}, schema={self.schema!r})"

    # --- connections --------------------------------------------------------------------

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection]:
        """A pooled connection of this process (a forked worker makes its own pool)."""
        try:
            with self._process_pool().connection(timeout=POOL_TIMEOUT_S) as conn:
                yield conn
        except (PoolTimeout, psycopg.OperationalError) as error:
            raise StoreUnavailable(f"the PostGIS store at {safe_url(self.url)} cannot be "
                                   f"reached: {str(error).splitlines()[0]}") from None

    def _process_pool(self) -> ConnectionPool:
        if self._pool is None or self._pid != os.getpid():
            with self._lock:
                if self._pool is None or self._pid != os.getpid():
                    self._pool = ConnectionPool(
                        self.url, min_size=1, max_size=POOL_MAX, open=False,
                        kwargs={"autocommit": True, "application_name": "xinqu",
                                "options": f"-c statement_timeout={STATEMENT_TIMEOUT}"},
                        check=ConnectionPool.check_connection, name="xinqu")
                    self._pool.open(wait=False)
                    self._pid = os.getpid()
        return self._pool

    def close(self) -> None:
        if self._pool is not None and self._pid == os.getpid():
            self._pool.close()
        self._pool = None

    def _sql(self, text: str, *tables: str) -> sql.Composed:
        return sql.SQL(text).format(*(self._table(t) for t in tables))

    def _table(self, name: str) -> sql.Composed:
        return sql.SQL("{}.{}").format(sql.Identifier(self.schema), sql.Identifier(name))

    def _read_stamp(self, conn: psycopg.Connection) -> int | None:
        row = conn.execute("SELECT oid FROM pg_namespace WHERE nspname = %s",
                           (self.schema,)).fetchone()
        if not conn.autocommit:
            conn.rollback()
        return int(row[0]) if row else None

    def current_stamp(self) -> int | None:
        """The oid of the schema now loaded: a new one after every load. The database is
        asked at most once every STAMP_CHECK_S (the answer is kept meanwhile); while it
        cannot be reached the stamp is None, so the service keeps this store (whose own
        queries then answer 503)."""
        checked, last = self._checked
        if time.monotonic() - checked < STAMP_CHECK_S:
            return last
        try:
            with self._connection() as conn:
                now = self._read_stamp(conn)
        except StoreUnavailable:
            now = None
        self._checked = (time.monotonic(), now)
        return now

    def _read_columns(self, conn: psycopg.Connection) -> dict[str, list[str]]:
        rows = conn.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = %s ORDER BY table_name, ordinal_position",
            (self.schema,)).fetchall()
        out: dict[str, list[str]] = {}
        for table, column in rows:
            if column not in _HIDDEN:
                out.setdefault(table, []).append(column)
        return out

    # --- rows to frames -----------------------------------------------------------------

    def _select_list(self, table: str, alias: str = "t", geometry: bool = False,
                     ) -> sql.Composable:
        parts = [sql.SQL("{}.{}").format(sql.Identifier(alias), sql.Identifier(c))
                 for c in self.columns.get(table, [])]
        if geometry:
            parts.append(sql.SQL("ST_AsBinary({}.{}) AS geometry").format(
                sql.Identifier(alias), sql.Identifier(GEOMETRY_COLUMN)))
        return sql.SQL(", ").join(parts)

    def _frame_on(self, conn: psycopg.Connection, query, params=None) -> pd.DataFrame:
        cursor = conn.execute(query, params)
        names = [d.name for d in cursor.description]
        rows = cursor.fetchall()
        return _frame(names, rows)

    def _frame(self, query, params=None) -> pd.DataFrame:
        with self._connection() as conn:
            return self._frame_on(conn, query, params)

    def _rows(self, query, params=None) -> list[tuple]:
        with self._connection() as conn:
            return conn.execute(query, params).fetchall()

    def _places(self, query, params=None) -> gpd.GeoDataFrame:
        frame = self._frame(query, params)
        extra = [c for c in frame.columns if c.startswith("__")]
        if "geometry" in frame:
            geometry = shapely.from_wkb(frame.pop("geometry").to_numpy(dtype=object))
            out = gpd.GeoDataFrame(frame.drop(columns=extra), geometry=geometry,
                                   crs="EPSG:4326")
        else:
            out = frame.drop(columns=extra)
        out.attrs.update({c: frame[c].iloc[0] if len(frame) else None for c in extra})
        return out.set_index("id")

    # --- layers -------------------------------------------------------------------------

    def layer_ids(self) -> list[str]:
        return [str(i) for i in self.layer_meta.index]

    def layer_count(self, layer: str) -> int:
        return self._layer_figures(layer)["count"]

    def layer_extent(self, layer: str) -> list[float]:
        return self._layer_figures(layer)["extent"]

    def layer_queryables(self, layer: str) -> dict[str, str]:
        return self._queryables.get(layer, {})

    @cached_property
    def _queryables(self) -> dict[str, dict[str, str]]:
        out: dict[str, dict[str, str]] = {}
        for layer, name, kind in self._rows(self._sql(
                "SELECT layer, name, type FROM {} ORDER BY layer, position", "queryables")):
            out.setdefault(layer, {})[name] = kind
        return out

    def _layer_figures(self, layer: str) -> dict[str, Any]:
        if layer not in self._figures:
            count, minx, miny, maxx, maxy = self._rows(self._sql(
                "SELECT n, ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) "
                "FROM (SELECT count(*) AS n, ST_Extent(geom) AS e FROM {}) s", layer))[0]
            extent = [] if minx is None else [round(float(v), 6)
                                              for v in (minx, miny, maxx, maxy)]
            self._figures[layer] = {"count": int(count), "extent": extent}
        return self._figures[layer]

    def select_places(self, layer, *, bbox, linked, filter, order, limit, offset, ids=None,
                      columns=None, table=None):
        # Every value goes in as a literal (quoted by psycopg): the CQL2 translation does
        # so too, and a query mixing placeholders with literal text holding % cannot be.
        conditions = []
        if ids is not None:
            conditions.append(sql.SQL("t.id = ANY({})").format(sql.Literal(list(ids))))
        if bbox is not None:
            boxes = [sql.SQL("ST_Intersects(t.geom, ST_MakeEnvelope({}, 4326))").format(
                sql.SQL(", ").join(sql.Literal(float(v)) for v in part))
                for part in bbox_parts(bbox)]
            conditions.append(sql.SQL("({})").format(sql.SQL(" OR ").join(boxes)))
        if linked is not None:
            conditions.append(sql.SQL(
                "t.id IN (SELECT l.place_id FROM {} l WHERE l.relation IN ('named', 'via') "
                "AND l.unit_id IN ({}))").format(self._table("links"),
                                                 self._linked_units(linked)))
        if filter is not None:
            try:
                conditions.append(where(filter, self.layer_queryables(layer)))
            except cql.FilterError as error:
                raise QueryError("filter", str(error)) from None
        name = table or layer
        where_clause = (sql.SQL("WHERE ") + sql.SQL(" AND ").join(conditions) if conditions
                        else sql.SQL(""))
        page_clause = sql.SQL("OFFSET {}").format(sql.Literal(int(offset)))
        if limit is not None:
            page_clause = sql.SQL("LIMIT {} ").format(sql.Literal(int(limit))) + page_clause
        chosen = self._select_list(name, geometry=True)
        if columns is not None:
            chosen = sql.SQL(", ").join(
                sql.SQL("ST_AsBinary(t.geom) AS geometry") if c == "geometry"
                else sql.SQL("t.{}").format(sql.Identifier(c)) for c in ["id", *columns])
        query = sql.SQL("SELECT {}, count(*) OVER () AS __matched FROM {} t {} ORDER BY {} "
                        "{}").format(
            chosen, self._table(name), where_clause,
            order_by(order or [], self.layer_queryables(layer)), page_clause)
        page = self._places(query)
        matched = page.attrs.pop("__matched", None)
        if matched is None:  # an offset past the end: count the rows it skipped
            matched = self._rows(sql.SQL("SELECT count(*) FROM {} t {}").format(
                self._table(name), where_clause))[0][0]
        return page, int(matched)

    def _linked_units(self, linked: LinkFilter) -> sql.Composable:
        """SELECT of the unit ids a unit/document/chapter filter keeps."""
        conditions = [sql.SQL("TRUE")]
        for column, value in (("id", linked.unit), ("document", linked.document),
                              ("chapter_number", linked.chapter)):
            if value is not None:
                conditions.append(sql.SQL("u.{} = {}").format(sql.Identifier(column),
                                                              sql.Literal(value)))
        return sql.SQL("SELECT u.id FROM {} u WHERE {}").format(
            self._table("units"), sql.SQL(" AND ").join(conditions))

    def place_rows(self, ids):
        ids = [str(i) for i in ids]
        if not ids:
            return {}
        found = self._rows(self._sql("SELECT id, layer FROM {} WHERE id = ANY(%s)",
                                     "place_layers"), (ids,))
        by_layer: dict[str, list[str]] = {}
        for id, layer in found:
            by_layer.setdefault(layer, []).append(id)
        out = {}
        for layer, layer_ids in by_layer.items():
            # Without geometry: what reads a place's row takes its names and attributes
            # (a partner's outline alone can be megabytes). A Series per row straight from
            # the tuples: a frame's .loc per row costs ten times more.
            names = self.columns.get(layer, [])
            index = pd.Index([c for c in names if c != "id"])
            rows = self._rows(sql.SQL("SELECT {} FROM {} t WHERE t.id = ANY(%s)").format(
                self._select_list(layer), self._table(layer)), (layer_ids,))
            for row in rows:
                values = dict(zip(names, row, strict=True))
                id = str(values.pop("id"))
                out[id] = (layer, pd.Series([values[c] for c in index], index=index,
                                            dtype=object, name=id))
        return out

    def display_rows(self, layer, ids):
        return self.select_places(layer, bbox=None, linked=None, filter=None, order=None,
                                  limit=None, offset=0, ids=list(ids),
                                  table=layer + DISPLAY_SUFFIX)[0]

    # --- units, documents, links --------------------------------------------------------

    def unit_rows(self, ids=None, document=None, chapter=None, columns=None):
        conditions, params = [sql.SQL("TRUE")], []
        if ids is not None:
            conditions.append(sql.SQL("t.id = ANY(%s)"))
            params.append([str(i) for i in ids])
        if document is not None:
            conditions.append(sql.SQL("t.document = %s"))
            params.append(document)
        if chapter is not None:
            conditions.append(sql.SQL("t.chapter_number = %s"))
            params.append(int(chapter))
        chosen = (self._select_list("units") if columns is None else sql.SQL(", ").join(
            sql.SQL("t.{}").format(sql.Identifier(c)) for c in ["id", *columns]))
        return self._frame(sql.SQL("SELECT {} FROM {} t WHERE {} ORDER BY t.fid").format(
            chosen, self._table("units"),
            sql.SQL(" AND ").join(conditions)), params).set_index("id")

    def unit_documents(self):
        return self._unit_documents

    @cached_property
    def _unit_documents(self) -> set[str]:
        return {str(r[0]) for r in self._rows(self._sql("SELECT DISTINCT document FROM {}",
                                                        "units"))}

    def chapter_numbers(self, document):
        rows = self._rows(self._sql(
            "SELECT DISTINCT chapter_number FROM {} WHERE document = %s "
            "AND chapter_number IS NOT NULL ORDER BY 1", "units"), (document,))
        return [int(r[0]) for r in rows]

    def links_where(self, *, units=None, places=None, relations=None, layer=None, linked=None):
        conditions, params = [sql.SQL("TRUE")], []
        if units is not None:
            conditions.append(sql.SQL("l.unit_id = ANY(%s)"))
            params.append([str(u) for u in units])
        if places is not None:
            conditions.append(sql.SQL("l.place_id = ANY(%s)"))
            params.append([str(p) for p in places])
        if relations is not None:
            conditions.append(sql.SQL("l.relation = ANY(%s)"))
            params.append(list(relations))
        if layer is not None:
            conditions.append(sql.SQL("l.place_id IN (SELECT id FROM {} WHERE layer = %s)")
                              .format(self._table("place_layers")))
            params.append(layer)
        if linked is not None:
            conditions.append(sql.SQL("l.unit_id IN ({})").format(self._linked_units(linked)))
        columns = sql.SQL(", ").join(sql.SQL("l.{}").format(sql.Identifier(c))
                                     for c in self.columns.get("links", LINK_COLUMNS))
        frame = self._frame(sql.SQL(
            "SELECT {} FROM {} l LEFT JOIN {} u ON u.id = l.unit_id WHERE {} "
            "ORDER BY u.fid NULLS LAST, l.fid").format(
            columns, self._table("links"), self._table("units"),
            sql.SQL(" AND ").join(conditions)), params)
        return frame if len(frame.columns) else pd.DataFrame(columns=list(LINK_COLUMNS))

    def mentions_of(self, units):
        return self._frame(sql.SQL("SELECT {} FROM {} t WHERE t.unit_id = ANY(%s) ORDER BY t.fid")
                           .format(self._select_list("mentions"), self._table("mentions")),
                           ([str(u) for u in units],))

    def units_containing(self, needle, ids=None):
        holds, value = _holds(SEARCH_KEY_COLUMN, SEARCH_GRAMS_COLUMN, needle)
        query = sql.SQL("SELECT t.id FROM {} t WHERE {} {} ORDER BY t.fid").format(
            self._table("unit_search"), holds,
            sql.SQL("AND t.id = ANY(%s)") if ids is not None else sql.SQL(""))
        params: list = [value]
        if ids is not None:
            params.append([str(i) for i in ids])
        return [str(r[0]) for r in self._rows(query, params)]

    def units_matching(self, text, id_key, limit):
        # Group 0: the id starts with the key; 1: holds it; 2: the text holds `text`. Two
        # index scans (trigram or gram indexes on the narrow unit_search): the few id hits
        # whose text does not match, and the text hits, each text compared once; the page
        # and the count come from one pass over their union.
        in_text, text_value = _holds(SEARCH_KEY_COLUMN, SEARCH_GRAMS_COLUMN, text, "text")
        in_id, id_value = _holds(ID_KEY_COLUMN, ID_GRAMS_COLUMN, id_key, "key")
        rows = self._rows(sql.SQL(
            "SELECT id, count(*) OVER () FROM ("
            "SELECT t.fid, t.id, CASE WHEN t.{key} LIKE %(prefix)s THEN 0 ELSE 1 END AS grp "
            "FROM {search} t WHERE {in_id} AND ({in_text}) IS NOT TRUE "
            "UNION ALL SELECT t.fid, t.id, 2 FROM {search} t WHERE {in_text}"
            ") m ORDER BY grp, fid LIMIT %(limit)s").format(
                key=sql.Identifier(ID_KEY_COLUMN), in_id=in_id, in_text=in_text,
                search=self._table("unit_search")),
            {"text": text_value, "prefix": f"{_like(id_key)}%", "key": id_value,
             "limit": limit})
        return [str(r[0]) for r in rows], int(rows[0][1]) if rows else 0

    def places_matching(self, key, limit):
        # Each place's best key (rank as layers.query.search.rank: 0 whole, 1 start, 2
        # inside; then its position), places by that rank then in layer and table order.
        # A place is told by its `ord` (one per place): integers sort faster than ids.
        holds, inside = _holds("key", "grams", key, "inside")
        rows = self._rows(sql.SQL(
            "SELECT place_id, layer, form, count(*) OVER () FROM ("
            "SELECT DISTINCT ON (ord) place_id, layer, form, ord, rnk FROM ("
            "SELECT place_id, layer, form, ord, position, CASE WHEN key = %(key)s THEN 0 "
            "WHEN key LIKE %(prefix)s THEN 1 ELSE 2 END AS rnk FROM {} t "
            "WHERE {}) hits ORDER BY ord, rnk, position) best "
            "ORDER BY rnk, ord LIMIT %(limit)s").format(self._table("place_search"), holds),
            {"key": key, "prefix": f"{_like(key)}%", "inside": inside, "limit": limit})
        return [(str(p), str(layer), str(f)) for p, layer, f, _ in rows], \
            int(rows[0][3]) if rows else 0

    def documents_matching(self, key, limit):
        rows = self._rows(self._sql(
            "SELECT id, count(*) OVER () FROM {} WHERE key LIKE %s ORDER BY ord LIMIT %s",
            "document_search"), (f"%{_like(key)}%", limit))
        return [str(r[0]) for r in rows], int(rows[0][1]) if rows else 0

    def document_rows(self):
        return self._documents

    @cached_property
    def _documents(self) -> pd.DataFrame:
        return self._frame(self._sql("SELECT * FROM {} ORDER BY fid", "documents")) \
            .drop(columns=["fid"]).set_index("id")

    # --- whole tables (exports, figures, planning pages) --------------------------------

    @property
    def layers(self) -> Mapping[str, gpd.GeoDataFrame]:
        return _WholeLayers(self, "")

    @property
    def display(self) -> Mapping[str, gpd.GeoDataFrame]:
        return _WholeLayers(self, DISPLAY_SUFFIX)

    @property
    def units(self) -> pd.DataFrame:
        return self.unit_rows()

    @property
    def links(self) -> pd.DataFrame:
        return self._frame(sql.SQL("SELECT {} FROM {} t ORDER BY t.fid").format(
            self._select_list("links"), self._table("links")))

    @property
    def mentions(self) -> pd.DataFrame:
        return self._frame(sql.SQL("SELECT {} FROM {} t ORDER BY t.fid").format(
            self._select_list("mentions"), self._table("mentions")))

    @property
    def documents(self) -> pd.DataFrame:
        return self._documents

    @property
    def basemap(self) -> gpd.GeoDataFrame:
        frame = self._frame(sql.SQL("SELECT {} FROM {} t ORDER BY t.fid").format(
            self._select_list("basemap", geometry=True), self._table("basemap")))
        geometry = shapely.from_wkb(frame.pop("geometry").to_numpy(dtype=object))
        return gpd.GeoDataFrame(frame, geometry=geometry, crs="EPSG:4326")


class _WholeLayers(Mapping):
    """Layer id -> the whole layer (or its display copy), read on each access."""

    def __init__(self, store: PgStore, suffix: str):
        self._store = store
        self._suffix = suffix

    def __getitem__(self, layer: str) -> gpd.GeoDataFrame:
        if layer not in self._store.layer_meta.index:
            raise KeyError(layer)
        return self._store.select_places(layer, bbox=None, linked=None, filter=None,
                                         order=None, limit=None, offset=0,
                                         table=layer + self._suffix)[0]

    def __iter__(self):
        return iter(self._store.layer_ids())

    def __len__(self) -> int:
        return len(self._store.layer_meta)


def _frame(names: list[str], rows: list[tuple]) -> pd.DataFrame:
    """Rows as a DataFrame typed as pyogrio types the GeoPackage's columns (integers with
    nulls as floats, text as strings), so both stores give the same values."""
    if not rows:
        return pd.DataFrame({name: pd.Series([], dtype=object) for name in names},
                            columns=names)
    # One frame from columns of plain lists: pandas infers each column's type as it would
    # for a Series of it, at a quarter of the cost of making the Series one by one.
    return pd.DataFrame(dict(zip(names, map(list, zip(*rows, strict=True)), strict=True)),
                        columns=names)


def _holds(column: str, grams: str, needle: str, name: str | None = None
           ) -> tuple[sql.Composed, str | list[str]]:
    """The condition that `t.column` holds `needle`, and its parameter's value (a named
    placeholder when `name` is given): a short needle by the gram index on `t.grams`
    (layers.pgstore.grams), a longer one by LIKE, which the trigram index serves."""
    mark = sql.Placeholder(name) if name else sql.Placeholder()
    if is_short(needle):
        return sql.SQL("t.{} @> {}::text[]").format(sql.Identifier(grams), mark), [needle]
    return sql.SQL("t.{} LIKE {}").format(sql.Identifier(column), mark), f"%{_like(needle)}%"


def _like(text: str) -> str:
    """`text` for a LIKE pattern, its wildcards taken literally."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")

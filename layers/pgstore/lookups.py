"""Lookup tables the PostGIS store derives from the GeoPackage while loading it.

What the GeoPackage store derives in memory on first use (layers.frame_reader), the
PostGIS store keeps in tables made once at load time, so that no worker derives anything
per feature:

- `place_layers (id, layer, ord)`: which layer holds a place id (one indexed lookup for a
  place page, instead of one per layer);
- `place_search (place_id, layer, ord, position, key, form, grams)`: every place's search
  keys (names in every language, every form the documents name it by), trigram-indexed,
  and each key's one- and two-character substrings (layers.pgstore.grams), GIN-indexed;
- `document_search (id, ord, key)`: each document's search keys (its id and titles in
  every language), one line each;
- `queryables (layer, position, name, type)`: each layer's queryable properties and their
  types, copied from the GeoPackage's own `queryables` table (layers.store).
"""

from __future__ import annotations

from pathlib import Path

import psycopg
import pyogrio
from psycopg import sql

from layers.frame_reader import document_search_keys, place_search_keys
from layers.pgstore.grams import short_grams
from layers.store import QUERYABLES, queryables_table

TABLES = {
    "place_layers": "id text PRIMARY KEY, layer text NOT NULL, ord int8 NOT NULL",
    "place_search": ("place_id text NOT NULL, layer text NOT NULL, ord int8 NOT NULL, "
                     "position int4 NOT NULL, key text NOT NULL, form text NOT NULL, "
                     "grams text[] NOT NULL"),
    "document_search": "id text PRIMARY KEY, ord int8 NOT NULL, key text NOT NULL",
    "queryables": ("layer text NOT NULL, position int4 NOT NULL, name text NOT NULL, "
                   "type text NOT NULL, PRIMARY KEY (layer, position)"),
}
INDEXES = {
    "place_search": {"index": "USING gin (key gin_trgm_ops)", "grams": "USING gin (grams)"},
    "document_search": {"index": "USING gin (key gin_trgm_ops)"},
}


def _read(store_path: Path, name: str):
    frame = pyogrio.read_dataframe(store_path, layer=name)
    return frame.drop(columns="fid") if "fid" in frame.columns else frame


def write_lookups(conn: psycopg.Connection, store_path: Path, schema: str,
                  layer_ids: list[str]) -> dict[str, int]:
    """Create and fill the lookup tables in `schema`; rows written per table."""
    layers = {layer: _read(store_path, layer).set_index("id") for layer in layer_ids}
    mentions = _read(store_path, "mentions")
    rows: dict[str, list[tuple]] = {name: [] for name in TABLES}
    # The store's own queryables table (a store built before it had one: made the same way).
    written = (_read(store_path, QUERYABLES) if QUERYABLES in pyogrio.list_layers(store_path)[:, 0]
               else queryables_table(store_path, layer_ids))
    rows["queryables"] = [(str(layer), int(position), str(name), str(kind)) for
                          layer, position, name, kind in written[
                              ["layer", "position", "name", "type"]].itertuples(index=False)]
    for ord, (place_id, layer, keys) in enumerate(place_search_keys(layers, mentions)):
        rows["place_layers"].append((place_id, layer, ord))
        for position, (key, form) in enumerate(keys):
            rows["place_search"].append((place_id, layer, ord, position, key, form,
                                         short_grams(key)))
    documents = _read(store_path, "documents").set_index("id")
    for ord, (document, key) in enumerate(document_search_keys(documents)):
        rows["document_search"].append((document, ord, key))
    for name, columns in TABLES.items():
        table = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
        conn.execute(sql.SQL("CREATE TABLE {} ({})").format(table, sql.SQL(columns)))
        # COPY, frozen as the main tables are (the table is new in this transaction).
        with conn.cursor() as cur, cur.copy(
                sql.SQL("COPY {} FROM STDIN (FREEZE)").format(table)) as copy:
            for row in rows[name]:
                copy.write_row(row)
        for suffix, body in INDEXES.get(name, {}).items():
            conn.execute(sql.SQL("CREATE INDEX {} ON {} {}").format(
                sql.Identifier(f"{name}_{suffix}"), table, sql.SQL(body)))
        conn.execute(sql.SQL("ANALYZE {}").format(table))
    return {name: len(values) for name, values in rows.items()}

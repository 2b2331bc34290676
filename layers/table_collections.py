"""The store's attribute tables (units, links, documents) as collections without geometry.

OGC API - Features allows collections whose features have no geometry; served as such, a
GIS client loads the measures and the link table beside the layers and joins them. The
tables, their key columns and titles are listed in data/tables.yaml. Filters, sortby and
properties mean what they mean on a layer (layers.query.apply_filter, apply_sortby).
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass
from typing import Any

import pandas as pd

from layers import cql, query, yamlio
from layers.paths import DATA_DIR

TABLES_FILE = DATA_DIR / "tables.yaml"
KEY_SEPARATOR = "@"


@dataclass(frozen=True)
class Table:
    id: str
    key: tuple[str, ...]
    title: dict[str, str]
    description: dict[str, str]


@functools.cache
def tables() -> dict[str, Table]:
    """The tables served as collections, in data/tables.yaml's order."""
    entries = yamlio.read(TABLES_FILE)
    return {e["id"]: Table(e["id"], tuple(e["key"]), dict(e["title"]),
                           dict(e["description"])) for e in entries}


def is_table(id: str) -> bool:
    return id in tables()


_frames: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def frame(store, id: str) -> pd.DataFrame:
    """The rows of a table indexed by their feature id (NotFound for another name)."""
    if id not in tables():
        raise query.NotFound("collection", id)
    cached = _frames.setdefault(store, {})
    if id not in cached:
        table = tables()[id]
        rows = getattr(store, id)
        if table.key != ("id",):
            keys = rows[list(table.key)].astype(str).agg(KEY_SEPARATOR.join, axis=1)
            rows = rows.set_axis(pd.Index(keys, name="id"))
        cached[id] = rows
    return cached[id]


_queryables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def queryables(store, id: str) -> dict[str, str]:
    """A table's queryables, read from the whole table once per store."""
    known = _queryables.setdefault(store, {})
    if id not in known:
        known[id] = cql.queryables(frame(store, id))
    return known[id]


def items(store, id: str, limit: int = query.LIMIT_DEFAULT, offset: int = 0,
          filter: str | None = None, filter_lang: str = "cql2-text",
          sortby: str | None = None, properties: str | None = None) -> query.Items:
    """A page of a table's rows, filtered, sorted and with the properties asked for."""
    rows = frame(store, id)
    limit, offset = query.check_page(limit, offset)
    chosen = check_properties(store, id, properties)
    types = queryables(store, id)
    selected = query.apply_sortby(query.apply_filter(rows, filter, filter_lang, types=types),
                                  sortby, types=types)
    page = selected.iloc[offset:offset + limit]
    return query.Items(layer=id, frame=page, number_matched=len(selected), limit=limit,
                       offset=offset, properties=chosen)


def check_properties(store, id: str, properties: str | None) -> tuple[str, ...] | None:
    if properties is None:
        return None
    known = list(queryables(store, id))
    names = tuple(dict.fromkeys(p.strip() for p in properties.split(",") if p.strip()))
    for name in names:
        if name not in known:
            raise query.QueryError("properties", f"unknown property {name[:40]!r} (the "
                                                 f"properties are {', '.join(known)})")
    return names


def row_properties(id: str, row: pd.Series) -> dict[str, Any]:
    """A row's properties: its id and every column, as plain JSON values."""
    return {"id": id, **{str(k): query.scalar(v) for k, v in row.items()}}

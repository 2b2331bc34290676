"""CQL2 `filter` and `sortby` read once, and applied to a table in memory.

`parse_filter` and `parse_sortby` check the text and name the parameter on error; the
GeoPackage store and the table collections apply the result to DataFrames here, the
PostGIS store translates the same parsed forms to SQL.
"""

from __future__ import annotations

import pandas as pd

from layers import cql
from layers.query.errors import QueryError


def parse_filter(filter: str | None, filter_lang: str = "cql2-text") -> cql.Filter | None:
    """The parsed filter (None for none), or QueryError naming `filter` or `filter-lang`."""
    if filter is None:
        return None
    if filter_lang not in cql.LANGS and filter_lang not in cql.DRAFT_LANGS:
        raise QueryError("filter-lang", f"must be one of {', '.join(cql.LANGS)}")
    try:
        return cql.parse(filter, filter_lang)
    except cql.FilterError as error:
        raise QueryError("filter", str(error)) from None


def parse_sortby(sortby: str | None, types: dict[str, str]) -> list[tuple[str, bool]] | None:
    """`sortby` as (property, ascending) pairs (None for none), or QueryError naming it."""
    if sortby is None:
        return None
    try:
        return cql.sort_order(sortby, types)
    except cql.FilterError as error:
        raise QueryError("sortby", str(error)) from None


def filter_mask(frame: pd.DataFrame, parsed: cql.Filter, id_name: str = "id",
                types: dict[str, str] | None = None):
    """The boolean mask of the rows a parsed filter keeps (QueryError naming `filter`)."""
    try:
        return cql.mask(frame, parsed, id_name, types)
    except cql.FilterError as error:
        raise QueryError("filter", str(error)) from None


def apply_filter(frame: pd.DataFrame, filter: str | None, filter_lang: str = "cql2-text",
                 id_name: str = "id", types: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of `frame` a CQL2 filter keeps (QueryError naming `filter` or `filter-lang`)."""
    parsed = parse_filter(filter, filter_lang)
    if parsed is None:
        return frame
    return frame[filter_mask(frame, parsed, id_name, types)]


def apply_order(frame: pd.DataFrame, order: list[tuple[str, bool]] | None,
                id_name: str = "id") -> pd.DataFrame:
    """`frame` ordered by (property, ascending) pairs (stable: ties keep the table's order;
    empty values last)."""
    if not order:
        return frame
    keyed = frame.assign(**{f"__key{i}": _sort_key(frame, name, id_name)
                            for i, (name, _) in enumerate(order)})
    keys = [f"__key{i}" for i in range(len(order))]
    ordered = keyed.sort_values(keys, ascending=[a for _, a in order], kind="stable",
                                na_position="last")
    return frame.loc[ordered.index]


def apply_sortby(frame: pd.DataFrame, sortby: str | None, id_name: str = "id",
                 types: dict[str, str] | None = None) -> pd.DataFrame:
    """`frame` ordered by `sortby` (stable: ties keep the table's order; empty values last)."""
    order = parse_sortby(sortby, types or cql.queryables(frame, id_name))
    return apply_order(frame, order, id_name)


def _sort_key(frame: pd.DataFrame, name: str, id_name: str) -> pd.Series:
    if name == id_name and name not in frame.columns:
        return pd.Series(frame.index.astype(str), index=frame.index)
    column = frame[name]
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        return column.where(column.astype(str) != "")
    return column

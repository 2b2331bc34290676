"""CQL2 filters (OGC API - Features Part 3) on the store's tables, without evaluating text.

A filter is parsed by pygeofilter (`cql2-text` or `cql2-json`) into its syntax tree, checked
against the table's queryables (every property it names must be one, and compared with a
value of its type), and evaluated by a small visitor into a boolean mask over the rows:
pandas comparisons for values, shapely predicates for geometry. The tree is the
backend-neutral form: a SQL store would translate the same tree to a WHERE clause.
Parsing and evaluating live in layers.cql_tree, imported only when a filter is given.

- `queryables(frame) -> dict[name, type]`: `string`, `number`, `integer`, `boolean`,
  `date` (ISO dates stored as text) and `geometry`;
- `parse(text, lang) -> Filter` (FilterError saying where it cannot be read);
- `mask(frame, filter) -> numpy bool array` (FilterError for an unknown property or a
  comparison of a property with a value of another type);
- `sort_order(text, queryables)`: `sortby` (`+name,-official_area_km2`) as (column, ascending).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from layers.cql_model import DRAFT_LANGS, LANGS, MAX_LENGTH, Filter, FilterError

__all__ = ["DRAFT_LANGS", "LANGS", "MAX_LENGTH", "Filter", "FilterError", "column_type",
           "mask", "parse", "queryables", "sort_order"]

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


# --- queryables ---------------------------------------------------------------------------

def column_type(series: pd.Series) -> str:
    """The queryable type of a column, from its dtype (text of ISO dates counts as date)."""
    if isinstance(series.dtype, pd.api.extensions.ExtensionDtype) and \
            series.dtype.name == "geometry":
        return "geometry"
    if pd.api.types.is_bool_dtype(series.dtype):
        return "boolean"
    if pd.api.types.is_integer_dtype(series.dtype):
        return "integer"
    if pd.api.types.is_float_dtype(series.dtype):
        return "number"
    present = series.dropna().astype(str)
    present = present[present != ""]
    if not len(present) or not _DATE.match(present.iloc[0]):  # most columns: at once
        return "string"
    return "date" if present.str.match(_DATE).all() else "string"


def queryables(frame: pd.DataFrame, id_name: str = "id") -> dict[str, str]:
    """Every filterable property of a table: its index (as `id_name`) and its columns."""
    out = {id_name: "string"}
    for name in frame.columns:
        out[str(name)] = column_type(frame[name])
    return out


# --- parsing and evaluation ---------------------------------------------------------------

def parse(text: str, lang: str = "cql2-text") -> Filter:
    """The filter `text` in `lang` parsed, or FilterError saying where it cannot be read."""
    lang = DRAFT_LANGS.get(lang, lang)
    if lang not in LANGS:
        raise FilterError(f"filter-lang must be one of {', '.join(LANGS)}")
    if not text or not text.strip():
        raise FilterError("the filter is empty")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters")
    # Imported here, not at the top: pygeofilter's grammar and dateparser weigh on the
    # start-up of the service and of every command, and only a filter needs them.
    from layers import cql_tree

    try:
        tree = cql_tree.tree(text, lang)
    except RecursionError:
        raise FilterError("the filter is nested too deeply") from None
    return Filter(tree=tree, text=text, lang=lang)


def mask(frame: pd.DataFrame, filter: Filter, id_name: str = "id",
         types: dict[str, str] | None = None) -> np.ndarray:
    """Which rows of `frame` the filter keeps (FilterError for an unknown property, a
    comparison across types or an unsupported operation). `types`: the queryables of the
    whole table `frame` was selected from (a few rows may not show a column's type)."""
    from layers import cql_tree  # pygeofilter: only when a filter is applied (see parse)

    types = types if types is not None else queryables(frame, id_name)
    try:
        result = cql_tree.evaluate(frame, filter.tree, types, id_name)
    except RecursionError:
        raise FilterError("the filter is nested too deeply") from None
    if not isinstance(result, np.ndarray) or result.dtype != bool:
        raise FilterError("the filter is not a condition (compare a property with a value)")
    return result


# --- sorting ------------------------------------------------------------------------------

def sort_order(text: str, types: dict[str, str]) -> list[tuple[str, bool]]:
    """`sortby` (`name`, `+name`, `-name`, comma-separated) as (property, ascending) pairs;
    FilterError naming a property that is not a queryable or cannot be ordered."""
    order = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        ascending = not part.startswith("-")
        name = part.lstrip("+- ").strip()
        if name.endswith((" A", " D")):  # OGC API Records style `name A`/`name D`
            ascending, name = name.endswith(" A"), name[:-2].strip()
        if name not in types:
            known = sorted(n for n, t in types.items() if t != "geometry")
            raise FilterError(f"unknown property {name[:40]!r}: sort by one of "
                              f"{', '.join(known)}")
        if types[name] == "geometry":
            raise FilterError(f"{name} is a geometry and has no order")
        order.append((name, ascending))
    if not order:
        raise FilterError("name a property to sort by, e.g. sortby=-official_area_km2")
    return order

"""CQL2 filters (OGC API - Features Part 3) on the store's tables, without evaluating text.

A filter is parsed by pygeofilter (`cql2-text` or `cql2-json`) into its syntax tree, checked
against the table's queryables (every property it names must be one, and compared with a
value of its type), and evaluated by a small visitor into a boolean mask over the rows:
pandas comparisons for values, shapely predicates for geometry. The tree is the
backend-neutral form: layers.pgstore.cql_sql translates the same tree to a WHERE clause.
Both evaluators derive from `layers.cql_check.CheckedEvaluator`, which holds what they
share (the queryables check, the values' type checks and conversions, geometries, LIKE
patterns), so the two accept and refuse the same filters.

- `queryables(frame) -> dict[name, type]`: `string`, `number`, `integer`, `boolean`,
  `date` (ISO dates stored as text) and `geometry`;
- `parse(text, lang) -> Filter` (FilterError saying where it cannot be read);
- `mask(frame, filter) -> numpy bool array` (FilterError for an unknown property or a
  comparison of a property with a value of another type);
- `sort_order(text, queryables)`: `sortby` (`+name,-official_area_km2`) as (column, ascending).

The tree is read by `layers.cql_tree` and evaluated by `layers.cql_mask`, which import
pygeofilter; `parse` and `mask` import them when a first filter comes, so a starting
service (which lists queryables and reads `sortby` here) loads none of it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from layers.cql_error import FilterError

__all__ = ["DRAFT_LANGS", "LANGS", "MAX_LENGTH", "Filter", "FilterError", "column_type",
           "mask", "parse", "queryables", "sort_order"]

LANGS = ("cql2-text", "cql2-json")
# Names older clients send for the same languages (the Part 3 drafts: GDAL 3.6, QGIS 3.22).
DRAFT_LANGS = {"cql-text": "cql2-text", "cql-json": "cql2-json"}
MAX_LENGTH = 4000  # characters of filter text: bounds the parse and the evaluation
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Filter:
    """A parsed filter: its syntax tree and the text it came from."""

    tree: Any
    text: str
    lang: str


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
    present = series.dropna()
    present = present[present.astype(str) != ""]
    if len(present) and present.astype(str).str.match(_DATE).all():
        return "date"
    return "string"


def queryables(frame: pd.DataFrame, id_name: str = "id") -> dict[str, str]:
    """Every filterable property of a table: its index (as `id_name`) and its columns."""
    out = {id_name: "string"}
    for name in frame.columns:
        out[str(name)] = column_type(frame[name])
    return out


# --- parsing ------------------------------------------------------------------------------

def parse(text: str, lang: str = "cql2-text") -> Filter:
    """The filter `text` in `lang` parsed, or FilterError saying where it cannot be read."""
    lang = DRAFT_LANGS.get(lang, lang)
    if lang not in LANGS:
        raise FilterError(f"filter-lang must be one of {', '.join(LANGS)}")
    if not text or not text.strip():
        raise FilterError("the filter is empty")
    if len(text) > MAX_LENGTH:
        raise FilterError(f"the filter is longer than {MAX_LENGTH} characters")
    # pygeofilter (its tree, ~60 dataclasses) and the evaluator are imported by the first
    # filter read or applied, not by every start of the service: most requests have none.
    from layers.cql_tree import read_tree

    return Filter(tree=read_tree(text, lang), text=text, lang=lang)


# --- evaluation to a mask -------------------------------------------------------------------

def mask(frame: pd.DataFrame, filter: Filter, id_name: str = "id",
         types: dict[str, str] | None = None) -> np.ndarray:
    """Which rows of `frame` the filter keeps (FilterError for an unknown property, a
    comparison across types or an unsupported operation). `types`: the queryables of the
    whole table `frame` was selected from (a few rows may not show a column's type)."""
    types = types if types is not None else queryables(frame, id_name)
    from layers.cql_check import Column
    from layers.cql_mask import evaluate

    result = evaluate(frame, filter.tree, types, id_name)
    if isinstance(result, Column) and result.type == "boolean":
        result = result.values.fillna(False).to_numpy(dtype=bool)
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

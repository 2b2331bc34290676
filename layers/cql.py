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
"""

from __future__ import annotations

import json
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle

from layers.cql_check import CheckedEvaluator, Column, FilterError, like_tokens

LANGS = ("cql2-text", "cql2-json")
# Names older clients send for the same languages (the Part 3 drafts: GDAL 3.6, QGIS 3.22).
DRAFT_LANGS = {"cql-text": "cql2-text", "cql-json": "cql2-json"}
MAX_LENGTH = 4000  # characters of filter text: bounds the parse and the evaluation
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


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
    try:
        tree = _parse_text(text) if lang == "cql2-text" else _parse_json(text)
    except FilterError:
        raise
    except RecursionError:
        raise FilterError("the filter is nested too deeply") from None
    if not isinstance(tree, ast.Node):
        raise FilterError("the filter is not a condition")
    return Filter(tree=tree, text=text, lang=lang)


def _parse_text(text: str) -> Any:
    # Imported here: the CQL2 text grammar takes ~0.3 s to build, which no start should pay.
    from pygeofilter.parsers.cql2_text import parse as parse_text

    try:
        return parse_text(text)
    except Exception as error:  # lark's errors, and pygeofilter's on odd literals
        where = _position(error)
        token = getattr(error, "token", None) or getattr(error, "char", None)
        found = f" at {str(token)[:30]!r}" if token else ""
        raise FilterError(f"cannot read the CQL2 text{where}{found}") from None


def _position(error: Exception) -> str:
    column = getattr(error, "column", None)
    if isinstance(column, int) and column > 0:
        return f" at character {column}"
    return ""


def _parse_json(text: str) -> Any:
    from pygeofilter.parsers.cql2_json import parse as parse_json  # with the text grammar

    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise FilterError(f"not JSON: {error.msg} at character {error.pos + 1}") from None
    if not isinstance(document, dict):
        raise FilterError("a CQL2 JSON filter is an object with `op` and `args`")
    try:
        return parse_json(_bbox_as_polygon(document))
    except RecursionError:
        raise
    except Exception as error:  # pygeofilter raises KeyError, TypeError... on bad trees
        raise FilterError(f"not a CQL2 JSON filter: {type(error).__name__} {error}"[:200]) \
            from None


def _bbox_as_polygon(node: Any) -> Any:
    """CQL2 JSON `{"bbox": [minx, miny, maxx, maxy]}` as a GeoJSON polygon (pygeofilter 0.4
    reads a JSON bbox's numbers in the wrong order)."""
    if isinstance(node, list):
        return [_bbox_as_polygon(item) for item in node]
    if not isinstance(node, dict):
        return node
    box = node.get("bbox")
    if len(node) == 1 and isinstance(box, list) and len(box) == 4 and \
            all(isinstance(v, (int, float)) for v in box):
        return shapely.geometry.mapping(shapely.box(*box))
    return {key: _bbox_as_polygon(value) for key, value in node.items()}


# --- evaluation to a mask -------------------------------------------------------------------

def mask(frame: pd.DataFrame, filter: Filter, id_name: str = "id",
         types: dict[str, str] | None = None) -> np.ndarray:
    """Which rows of `frame` the filter keeps (FilterError for an unknown property, a
    comparison across types or an unsupported operation). `types`: the queryables of the
    whole table `frame` was selected from (a few rows may not show a column's type)."""
    types = types if types is not None else queryables(frame, id_name)
    result = _Visitor(frame, types, id_name).run(filter.tree)
    if isinstance(result, Column) and result.type == "boolean":
        result = result.values.fillna(False).to_numpy(dtype=bool)
    if not isinstance(result, np.ndarray) or result.dtype != bool:
        raise FilterError("the filter is not a condition (compare a property with a value)")
    return result


def _mask(values: Any) -> np.ndarray:
    series = pd.Series(values)
    return series.fillna(False).to_numpy(dtype=bool)


class _Visitor(CheckedEvaluator):
    """Evaluates a pygeofilter tree over a table: masks, columns, literals and geometries."""

    def __init__(self, frame: pd.DataFrame, types: dict[str, str], id_name: str):
        super().__init__(types, id_name)
        self.frame = frame

    def column_values(self, name: str, kind: str) -> Any:
        if name == self.id_name and name not in self.frame.columns:
            series = pd.Series(self.frame.index.astype(str), index=self.frame.index)
        else:
            series = self.frame[name]
        if kind == "date":
            series = pd.to_datetime(series.where(series.astype(str) != ""), errors="coerce")
        return series

    def lower_values(self, values: Any) -> Any:
        return values.str.lower()

    @handle(ast.Include)
    def include(self, node):
        return np.full(len(self.frame), not node.not_)

    @handle(ast.Not)
    def not_(self, node, sub):
        return ~self._condition(sub)

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        lhs, rhs = self._condition(lhs), self._condition(rhs)
        return (lhs & rhs) if isinstance(node, ast.And) else (lhs | rhs)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        lhs, rhs, op = self.swapped(lhs, rhs, node.op.value)
        column, value = self.column_and_value(lhs, rhs, op)
        return _mask(_COMPARE[op](column.values, value) & column.values.notna())

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        column, low = self.column_and_value(lhs, low, "BETWEEN")
        _, high = self.column_and_value(lhs, high, "BETWEEN")
        inside = _mask(column.values.between(low, high))
        return ~inside & column.values.notna().to_numpy() if node.not_ else inside

    @handle(ast.Like)
    def like(self, node, lhs):
        column, pattern = self.like_pattern(node, lhs)
        regex = _like_regex(pattern, node.wildcard, node.singlechar, node.escapechar)
        text = column.values.astype("string")
        found = _mask(text.str.fullmatch(regex, case=not node.nocase, flags=re.DOTALL))
        return ~found & text.notna().to_numpy() if node.not_ else found

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        column = self.column(lhs, "IN", None)
        checked = [self.column_and_value(column, option, "IN")[1] for option in options]
        found = _mask(column.values.isin(checked))
        return ~found & column.values.notna().to_numpy() if node.not_ else found

    @handle(ast.IsNull)
    def null(self, node, lhs):
        column = self.column(lhs, "IS NULL", None)
        empty = column.values.isna()
        if column.type == "string":
            empty = empty | (column.values.astype(str) == "")
        found = _mask(empty)
        return ~found if node.not_ else found

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        column, shape, method = self.spatial_operands(node, lhs, rhs)
        return _mask(getattr(column.values, method)(shape))

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        column = self.column(lhs, "BBOX", ("geometry",))
        return _mask(column.values.intersects(
            shapely.box(node.minx, node.miny, node.maxx, node.maxy)))

    def _condition(self, value: Any) -> np.ndarray:
        if isinstance(value, Column) and value.type == "boolean":
            return value.values.fillna(False).to_numpy(dtype=bool)
        if not isinstance(value, np.ndarray):
            raise FilterError("AND, OR and NOT combine conditions, not values")
        return value


def _like_regex(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A LIKE pattern as a regular expression matching the whole value (with re.DOTALL, so
    that the wildcards match line breaks too, as SQL's do)."""
    parts = {"any": ".*", "one": "."}
    return "".join(parts.get(kind) or re.escape(char)
                   for kind, char in like_tokens(pattern, wildcard, single, escape))


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

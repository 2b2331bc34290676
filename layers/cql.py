"""CQL2 filters (OGC API - Features Part 3) on the store's tables, without evaluating text.

A filter is parsed by pygeofilter (`cql2-text` or `cql2-json`) into its syntax tree, checked
against the table's queryables (every property it names must be one, and compared with a
value of its type), and evaluated by a small visitor into a boolean mask over the rows:
pandas comparisons for values, shapely predicates for geometry. The tree is the
backend-neutral form: layers.pgstore.cql_sql translates the same tree to a WHERE clause.
Both evaluators derive from `CheckedEvaluator`, which holds what they share (the
queryables check, the values' type checks and conversions, geometries, `like_tokens`),
so the two accept and refuse the same filters.

- `queryables(frame) -> dict[name, type]`: `string`, `number`, `integer`, `boolean`,
  `date` (ISO dates stored as text) and `geometry`;
- `parse(text, lang) -> Filter` (FilterError saying where it cannot be read);
- `mask(frame, filter) -> numpy bool array` (FilterError for an unknown property or a
  comparison of a property with a value of another type);
- `sort_order(text, queryables)`: `sortby` (`+name,-official_area_km2`) as (column, ascending).
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import re
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse as parse_text

LANGS = ("cql2-text", "cql2-json")
# Names older clients send for the same languages (the Part 3 drafts: GDAL 3.6, QGIS 3.22).
DRAFT_LANGS = {"cql-text": "cql2-text", "cql-json": "cql2-json"}
MAX_LENGTH = 4000  # characters of filter text: bounds the parse and the evaluation
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_QUOTED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T(00:00(:00)?Z?)?)?$")
_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
_SPATIAL = {"INTERSECTS": "intersects", "DISJOINT": "disjoint", "CONTAINS": "contains",
            "WITHIN": "within", "TOUCHES": "touches", "CROSSES": "crosses",
            "OVERLAPS": "overlaps", "EQUALS": "geom_equals"}


class FilterError(ValueError):
    """A filter that cannot be read or applied; the message says where and why."""


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


# --- checking: what every evaluator of a tree shares ----------------------------------------

@dataclass(frozen=True)
class Column:
    """A property in a tree being evaluated: its name, queryable type and the evaluator's
    form of its values (a Series or GeoSeries for the mask, a SQL expression for SQL)."""

    name: str
    type: str
    values: Any


class CheckedEvaluator(Evaluator):
    """The part of evaluating a filter that does not depend on where the rows are: every
    property must be a queryable, values are checked against its type (and turned into the
    form both backends compare: numbers, booleans, text, naive UTC timestamps for dates),
    geometries are read into shapely. Subclasses give a column's values (`column_values`)
    and its lower-cased form (`lower_values`), and handle the operators; so the pandas mask
    and the SQL translation accept and refuse exactly the same filters."""

    def __init__(self, types: dict[str, str], id_name: str = "id"):
        self.types = types
        self.id_name = id_name

    def run(self, tree: Any) -> Any:
        """The tree evaluated; FilterError for a tree too deep or one pygeofilter accepted
        but that makes no sense (a LIKE pattern that is a number, a geometry GEOS cannot
        use): the user's filter, not the server, is wrong."""
        try:
            return self.evaluate(tree)
        except RecursionError:
            raise FilterError("the filter is nested too deeply") from None
        except (TypeError, ValueError, AttributeError, KeyError, IndexError,
                shapely.errors.GEOSException) as error:
            if isinstance(error, FilterError):
                raise
            raise FilterError(f"the filter cannot be applied ({type(error).__name__}): "
                              "check the types of its values") from None

    def column_values(self, name: str, kind: str) -> Any:
        raise NotImplementedError

    def lower_values(self, values: Any) -> Any:
        raise NotImplementedError

    def adopt(self, node, *sub_args):
        name = type(node).__name__
        raise FilterError(f"{name} is not supported here (comparisons, LIKE, IN, BETWEEN, "
                          "IS NULL, AND/OR/NOT, S_INTERSECTS and the other S_ predicates are)")

    @handle(ast.Attribute)
    def attribute(self, node):
        name = node.name
        if name not in self.types:
            known = ", ".join(sorted(self.types))
            raise FilterError(f"unknown property {name!r}: the queryables are {known}")
        kind = self.types[name]
        return Column(name, kind, self.column_values(name, kind))

    @handle(*values.LITERALS)
    def literal(self, node):
        return node

    @handle(values.Geometry)
    def geometry(self, node):
        try:
            return shapely.geometry.shape(node.geometry)
        except Exception:
            raise FilterError("a geometry in the filter cannot be read") from None

    @handle(values.Envelope)
    def envelope(self, node):
        return shapely.box(node.x1, node.y1, node.x2, node.y2)

    @handle(ast.Function)
    def function(self, node, *arguments):
        name = node.name.lower()
        if name == "bbox" and len(arguments) in (4, 6) and \
                all(isinstance(a, (int, float)) for a in arguments):
            half = len(arguments) // 2
            return shapely.box(arguments[0], arguments[1], arguments[half], arguments[half + 1])
        if name == "lower" and len(arguments) == 1 and isinstance(arguments[0], str):
            return arguments[0].lower()
        if name == "lower" and len(arguments) == 1 and isinstance(arguments[0], Column) \
                and arguments[0].type == "string":
            column = arguments[0]
            return Column(column.name, "string", self.lower_values(column.values))
        raise FilterError(f"function {node.name}() is not supported (BBOX and CASEI are)")

    def swapped(self, lhs: Any, rhs: Any, op: str) -> tuple[Any, Any, str]:
        """`value op property` as `property op' value` (the property on the left)."""
        if not isinstance(lhs, Column) and isinstance(rhs, Column):
            return rhs, lhs, {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        return lhs, rhs, op

    def spatial_operands(self, node, lhs: Any, rhs: Any) -> tuple[Column, Any, str]:
        """The geometry property, the geometry and the shapely predicate of an S_ node."""
        method = _SPATIAL[node.op.name]
        if not isinstance(lhs, Column) and isinstance(rhs, Column):
            lhs, rhs = rhs, lhs
            method = {"within": "contains", "contains": "within"}.get(method, method)
        column = self.column(lhs, f"S_{node.op.name}", ("geometry",))
        if not isinstance(rhs, shapely.Geometry):
            raise FilterError(f"S_{node.op.name} compares {column.name} with a geometry "
                              "(POINT(...), POLYGON(...), BBOX(...))")
        return column, rhs, method

    def like_pattern(self, node, lhs: Any) -> tuple[Column, str]:
        column = self.column(lhs, "LIKE", ("string", "date"))
        if not isinstance(node.pattern, str):
            raise FilterError(f"LIKE compares {column.name} with a 'quoted' pattern")
        _check_text(node.pattern)
        return column, node.pattern

    def column(self, value: Any, op: str, types: tuple[str, ...] | None) -> Column:
        """`value` if it is a property (of one of `types`), else FilterError."""
        if not isinstance(value, Column):
            raise FilterError(f"{op} needs a property on one side")
        if types and value.type not in types:
            raise FilterError(f"{op} does not apply to {value.name} (a {value.type})")
        return value

    def column_and_value(self, lhs: Any, rhs: Any, op: str) -> tuple[Column, Any]:
        """The property and the value it is compared with, checked to be of its type; a
        date becomes a naive (UTC) pandas Timestamp."""
        column = self.column(lhs, op, None)
        if isinstance(rhs, Column):
            raise FilterError(f"{op} compares a property with a value, not with {rhs.name}")
        kind = column.type
        if kind == "geometry":
            raise FilterError(f"{column.name} is a geometry: use S_INTERSECTS and the other "
                              "spatial predicates")
        if kind in ("number", "integer") and isinstance(rhs, (int, float)) and \
                not isinstance(rhs, bool):
            return column, rhs
        if kind == "boolean" and isinstance(rhs, bool):
            return column, rhs
        if kind == "date" and isinstance(rhs, str) and _QUOTED_DATE.match(rhs):
            # Clients of the draft quote dates: GDAL 3.6 sends '2014-01-01T'.
            rhs = dt.date.fromisoformat(rhs[:10])
        if kind == "date" and isinstance(rhs, (dt.date, dt.datetime)):
            stamp = pd.Timestamp(rhs)
            return column, stamp.tz_convert(None) if stamp.tzinfo else stamp
        if kind == "string" and isinstance(rhs, str):
            return column, _check_text(rhs)
        wanted = {"date": "a date, DATE('2014-01-01')", "number": "a number",
                  "integer": "a number", "boolean": "TRUE or FALSE",
                  "string": "a 'quoted' text"}[kind]
        raise FilterError(f"{column.name} is a {kind}: compare it with {wanted}, "
                          f"not {rhs!r}"[:200])


def _check_text(text: str) -> str:
    # No stored text holds a NUL, and PostgreSQL cannot carry one: refused on both backends.
    if "\x00" in text:
        raise FilterError("a text in the filter contains a NUL character")
    return text


def like_tokens(pattern: str, wildcard: str, single: str, escape: str,
                ) -> list[tuple[str, str]]:
    """A LIKE pattern as tokens: ("any", "") for the wildcard, ("one", "") for the single
    character, ("char", c) for a character matched as itself (an escaped one, or the escape
    character when nothing follows it)."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == escape and i + 1 < len(pattern):
            out.append(("char", pattern[i + 1]))
            i += 2
            continue
        out.append(("any", "") if char == wildcard else ("one", "") if char == single
                   else ("char", char))
        i += 1
    return out


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

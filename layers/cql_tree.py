"""CQL2 filters through pygeofilter: text or JSON to a syntax tree, a tree to a row mask.

The heavy half of layers.cql (pygeofilter's lark grammar and dateparser), imported by it
only when a filter is parsed or applied. The visitor evaluates a tree into a boolean mask
over a table's rows: pandas comparisons for values, shapely predicates for geometry.
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

from layers.cql_model import FilterError

_QUOTED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T(00:00(:00)?Z?)?)?$")
_COMPARE = {"=": operator.eq, "<>": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}
_SPATIAL = {"INTERSECTS": "intersects", "DISJOINT": "disjoint", "CONTAINS": "contains",
            "WITHIN": "within", "TOUCHES": "touches", "CROSSES": "crosses",
            "OVERLAPS": "overlaps", "EQUALS": "geom_equals"}


def tree(text: str, lang: str) -> Any:
    """The syntax tree of a filter in `lang` (cql2-text or cql2-json), or FilterError."""
    result = _parse_text(text) if lang == "cql2-text" else _parse_json(text)
    if not isinstance(result, ast.Node):
        raise FilterError("the filter is not a condition")
    return result


def evaluate(frame: pd.DataFrame, node: Any, types: dict[str, str], id_name: str) -> Any:
    """What a tree evaluates to over `frame`: a bool array for a condition."""
    try:
        result = _Visitor(frame, types, id_name).evaluate(node)
    except (TypeError, ValueError, AttributeError, KeyError, IndexError,
            shapely.errors.GEOSException) as error:
        if isinstance(error, FilterError):
            raise
        # A tree pygeofilter accepted but that makes no sense (a LIKE pattern that is a
        # number, a geometry GEOS cannot use): the user's filter, not the server, is wrong.
        raise FilterError(f"the filter cannot be applied ({type(error).__name__}): check "
                          "the types of its values") from None
    if isinstance(result, _Column) and result.type == "boolean":
        result = result.values.fillna(False).to_numpy(dtype=bool)
    return result


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


@dataclass(frozen=True)
class _Column:
    name: str
    type: str
    values: Any  # a Series (dates as datetime64) or a GeoSeries


def _mask(values: Any) -> np.ndarray:
    series = pd.Series(values)
    return series.fillna(False).to_numpy(dtype=bool)


class _Visitor(Evaluator):
    """Evaluates a pygeofilter tree over a table: masks, columns, literals and geometries."""

    def __init__(self, frame: pd.DataFrame, types: dict[str, str], id_name: str):
        self.frame = frame
        self.types = types
        self.id_name = id_name

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
        if name == self.id_name and name not in self.frame.columns:
            series = pd.Series(self.frame.index.astype(str), index=self.frame.index)
        else:
            series = self.frame[name]
        if kind == "date":
            series = pd.to_datetime(series.where(series.astype(str) != ""), errors="coerce")
        return _Column(name, kind, series)

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
        if name == "lower" and len(arguments) == 1 and isinstance(arguments[0], _Column) \
                and arguments[0].type == "string":
            column = arguments[0]
            return _Column(column.name, "string", column.values.str.lower())
        raise FilterError(f"function {node.name}() is not supported (BBOX and CASEI are)")

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
        op = node.op.value
        if not isinstance(lhs, _Column) and isinstance(rhs, _Column):
            lhs, rhs = rhs, lhs
            op = {"<": ">", "<=": ">=", ">": "<", ">=": "<="}.get(op, op)
        column, value = self._column_and_value(lhs, rhs, op)
        return _mask(_COMPARE[op](column.values, value) & column.values.notna())

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        column, low = self._column_and_value(lhs, low, "BETWEEN")
        _, high = self._column_and_value(lhs, high, "BETWEEN")
        inside = _mask(column.values.between(low, high))
        return ~inside & column.values.notna().to_numpy() if node.not_ else inside

    @handle(ast.Like)
    def like(self, node, lhs):
        column = self._column(lhs, "LIKE", ("string", "date"))
        if not isinstance(node.pattern, str):
            raise FilterError(f"LIKE compares {column.name} with a 'quoted' pattern")
        pattern = _like_regex(node.pattern, node.wildcard, node.singlechar, node.escapechar)
        text = column.values.astype("string")
        found = _mask(text.str.fullmatch(pattern, case=not node.nocase))
        return ~found & text.notna().to_numpy() if node.not_ else found

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        column = self._column(lhs, "IN", None)
        checked = [self._column_and_value(column, option, "IN")[1] for option in options]
        found = _mask(column.values.isin(checked))
        return ~found & column.values.notna().to_numpy() if node.not_ else found

    @handle(ast.IsNull)
    def null(self, node, lhs):
        column = self._column(lhs, "IS NULL", None)
        empty = column.values.isna()
        if column.type == "string":
            empty = empty | (column.values.astype(str) == "")
        found = _mask(empty)
        return ~found if node.not_ else found

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        method = _SPATIAL[node.op.name]
        if not isinstance(lhs, _Column) and isinstance(rhs, _Column):
            lhs, rhs = rhs, lhs
            method = {"within": "contains", "contains": "within"}.get(method, method)
        column = self._column(lhs, f"S_{node.op.name}", ("geometry",))
        if not isinstance(rhs, shapely.Geometry):
            raise FilterError(f"S_{node.op.name} compares {column.name} with a geometry "
                              "(POINT(...), POLYGON(...), BBOX(...))")
        return _mask(getattr(column.values, method)(rhs))

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        column = self._column(lhs, "BBOX", ("geometry",))
        return _mask(column.values.intersects(
            shapely.box(node.minx, node.miny, node.maxx, node.maxy)))

    # --- checks ---

    def _condition(self, value: Any) -> np.ndarray:
        if isinstance(value, _Column) and value.type == "boolean":
            return value.values.fillna(False).to_numpy(dtype=bool)
        if not isinstance(value, np.ndarray):
            raise FilterError("AND, OR and NOT combine conditions, not values")
        return value

    def _column(self, value: Any, op: str, types: tuple[str, ...] | None) -> _Column:
        if not isinstance(value, _Column):
            raise FilterError(f"{op} needs a property on one side")
        if types and value.type not in types:
            raise FilterError(f"{op} does not apply to {value.name} (a {value.type})")
        return value

    def _column_and_value(self, lhs: Any, rhs: Any, op: str) -> tuple[_Column, Any]:
        column = self._column(lhs, op, None)
        if isinstance(rhs, _Column):
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
            return column, rhs
        wanted = {"date": "a date, DATE('2014-01-01')", "number": "a number",
                  "integer": "a number", "boolean": "TRUE or FALSE",
                  "string": "a 'quoted' text"}[kind]
        raise FilterError(f"{column.name} is a {kind}: compare it with {wanted}, "
                          f"not {rhs!r}"[:200])


def _like_regex(pattern: str, wildcard: str, single: str, escape: str) -> str:
    """A LIKE pattern as a regular expression matching the whole value."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if char == escape and i + 1 < len(pattern):
            out.append(re.escape(pattern[i + 1]))
            i += 2
            continue
        out.append(".*" if char == wildcard else "." if char == single else re.escape(char))
        i += 1
    return "".join(out)

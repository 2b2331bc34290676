"""The checks every evaluator of a CQL2 filter tree makes, whatever it evaluates to.

`CheckedEvaluator` (a pygeofilter Evaluator) holds what `layers.cql.mask` (pandas and
shapely) and `layers.pgstore.cql_sql.where` (SQL) share: every property must be a
queryable, a value must be of its property's type (and becomes the form both compare:
numbers, booleans, text, naive UTC timestamps for dates), geometries are read into
shapely, CASEI and BBOX() are the only functions. So the two accept and refuse the same
filters, with the same messages. `like_tokens` reads a LIKE pattern for both.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import pandas as pd
import shapely
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle

from layers.cql_error import FilterError

# Dates as clients of the draft quote them (GDAL 3.6 sends '2014-01-01T').
_QUOTED_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}(T(00:00(:00)?Z?)?)?$")
_SPATIAL = {"INTERSECTS": "intersects", "DISJOINT": "disjoint", "CONTAINS": "contains",
            "WITHIN": "within", "TOUCHES": "touches", "CROSSES": "crosses",
            "OVERLAPS": "overlaps", "EQUALS": "geom_equals"}


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

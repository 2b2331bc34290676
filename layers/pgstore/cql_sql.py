"""CQL2 filters and sortby as SQL on the PostGIS store, meaning what they mean on the
GeoPackage store.

The tree `layers.cql.parse` makes is checked by the same code as `cql.mask` (the
queryables, the values' types: `cql.CheckedEvaluator`) and translated to a WHERE
expression that keeps exactly the rows the mask keeps; `order_by` orders them as
`query.apply_sortby` does. Every value goes in as a `sql.Literal` (quoted by psycopg,
never formatted into the text), every name as a `sql.Identifier`.

- `where(filter, types, id_column="id", geometry_column="geom", srid=4326)`;
- `order_by(order, types, id_column="id", fid_column="fid")`: the keys after ORDER BY.

How the mask's semantics are kept:
- Empty values: a pandas comparison with NaN is False, SQL's with NULL is NULL. A WHERE
  keeps a row only when its condition is TRUE, so NULL may stand for False everywhere but
  under NOT, which therefore negates `COALESCE(…, false)`. Conditions outside a NOT stay
  plain, so `id = …` and `ST_Intersects(geom, …)` can use their indexes.
- Text compares in code point order, as Python compares strings (`COLLATE "C"` on <, >,
  BETWEEN and sorting). IS NULL on a text is also true for ''.
- Dates are ISO text; the mask reads them with pandas, so a value that is not a calendar
  date (or '') counts as empty. Here a nested CASE (never a failing cast) does the same.
- LIKE: pygeofilter's pattern (wildcard `%`, one character `.`, escape `\\`) is read by
  `cql.like_tokens` and written in PostgreSQL's (`%`, `_`, `\\`); both match line breaks.
- Geometries: the very shapely geometry the mask uses, as WKB in SRID `srid`, with the
  PostGIS predicate of the same name (S_EQUALS: ST_Equals); BBOX(...) is an envelope.
"""

from __future__ import annotations

from typing import Any

import shapely
from psycopg import sql
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle

from layers import cql
from layers.pgstore.schema import GEOMETRY_COLUMN

_OPS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PREDICATES = {"intersects": "ST_Intersects", "disjoint": "ST_Disjoint",
               "contains": "ST_Contains", "within": "ST_Within", "touches": "ST_Touches",
               "crosses": "ST_Crosses", "overlaps": "ST_Overlaps", "geom_equals": "ST_Equals"}
_C = sql.SQL(' COLLATE "C"')
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"


class _Condition:
    """A SQL boolean expression that is TRUE exactly where the mask is True (NULL or
    FALSE elsewhere)."""

    def __init__(self, text: sql.Composable):
        self.sql = text


def where(filter: cql.Filter, types: dict[str, str], id_column: str | sql.Composable = "id",
          geometry_column: str = GEOMETRY_COLUMN, srid: int = 4326) -> sql.Composable:
    """The WHERE expression (without `WHERE`) keeping the rows `cql.mask` keeps, on a
    table whose columns are named as the queryables `types`, except the property `id`
    (`id_column`: a column name, or an expression such as links'
    `unit_id || '@' || place_id`) and the geometry (`geometry_column`). FilterError as
    the mask's: an unknown property, a comparison across types, an unsupported operation."""
    visitor = _SqlVisitor(types, _name(id_column), sql.Identifier(geometry_column), srid)
    result = visitor.run(filter.tree)
    if isinstance(result, cql.Column) and result.type == "boolean":
        return result.values
    if not isinstance(result, _Condition):
        raise cql.FilterError("the filter is not a condition (compare a property with a value)")
    return result.sql


def order_by(order: list[tuple[str, bool]], types: dict[str, str],
             id_column: str | sql.Composable = "id", fid_column: str = "fid",
             ) -> sql.Composable:
    """The keys (without `ORDER BY`) ordering rows as `query.apply_sortby` does for
    `order` (`cql.sort_order`'s (property, ascending) pairs): empty values ('' and NULL)
    last in either direction, text in code point order, ties in table order (`fid`)."""
    keys = []
    for name, ascending in order:
        kind = types.get(name)
        if kind is None or kind == "geometry":
            raise cql.FilterError(f"{name[:40]!r} cannot be sorted by")
        column = _name(id_column) if name == "id" else sql.Identifier(name)
        if kind in ("string", "date"):
            column = sql.SQL("NULLIF({}, '')").format(column) + _C
        keys.append(column + sql.SQL(" ASC NULLS LAST" if ascending else " DESC NULLS LAST"))
    keys.append(sql.Identifier(fid_column) + sql.SQL(" ASC"))
    return sql.SQL(", ").join(keys)


def _name(column: str | sql.Composable) -> sql.Composable:
    return sql.Identifier(column) if isinstance(column, str) else column


def _date_text(column: sql.Composable) -> sql.Composable:
    """The ISO date text of a column, NULL where it is not a calendar date (the CASEs run
    in order, so no cast ever fails)."""
    year, month, day = (sql.SQL("substr({}, {}, {})::int").format(column, sql.Literal(a),
                                                                  sql.Literal(b))
                        for a, b in ((1, 4), (6, 2), (9, 2)))
    days = sql.SQL(
        "CASE WHEN {m} = 2 THEN CASE WHEN ({y} % 4 = 0 AND {y} % 100 <> 0) OR {y} % 400 = 0 "
        "THEN 29 ELSE 28 END WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END").format(
        y=year, m=month)
    return sql.SQL(
        "(CASE WHEN {c} ~ {iso} THEN CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 AND "
        "{d} BETWEEN 1 AND {days} THEN {c} END END)").format(
        c=column, iso=sql.Literal(_ISO_DATE), y=year, m=month, d=day, days=days)


def _value(value: Any) -> sql.Composable:
    """A checked value as a literal (a date as a naive timestamp, as the mask has it)."""
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    return sql.Literal(value)


class _SqlVisitor(cql.CheckedEvaluator):
    """Translates a checked pygeofilter tree to SQL: conditions, columns, literals."""

    def __init__(self, types: dict[str, str], id_column: sql.Composable,
                 geometry_column: sql.Composable, srid: int):
        super().__init__(types, "id")
        self.id_column = id_column
        self.geometry_column = geometry_column
        self.srid = srid

    def column_values(self, name: str, kind: str) -> sql.Composable:
        if name == self.id_name:
            return self.id_column
        if kind == "geometry":
            return self.geometry_column
        return sql.Identifier(name)

    def lower_values(self, values: sql.Composable) -> sql.Composable:
        return sql.SQL("lower({})").format(values)

    def _comparable(self, column: cql.Column) -> sql.Composable:
        """The column as it is compared: a date as a date (NULL where not one)."""
        if column.type == "date":
            return sql.SQL("{}::date").format(_date_text(column.values))
        return column.values

    def _geometry(self, shape: shapely.Geometry) -> sql.Composable:
        return sql.SQL("ST_GeomFromWKB({}, {})").format(
            sql.Literal(shapely.to_wkb(shape)), sql.Literal(self.srid))

    @handle(ast.Include)
    def include(self, node):
        return _Condition(sql.SQL("FALSE" if node.not_ else "TRUE"))

    @handle(ast.Not)
    def not_(self, node, sub):
        return _Condition(sql.SQL("NOT COALESCE({}, false)").format(self._condition(sub)))

    @handle(ast.And, ast.Or)
    def combination(self, node, lhs, rhs):
        joint = sql.SQL(" AND " if isinstance(node, ast.And) else " OR ")
        return _Condition(sql.SQL("({})").format(joint.join(
            [self._condition(lhs), self._condition(rhs)])))

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node, lhs, rhs):
        lhs, rhs, op = self.swapped(lhs, rhs, node.op.value)
        column, value = self.column_and_value(lhs, rhs, op)
        left = self._comparable(column)
        if column.type == "string" and op not in ("=", "<>"):
            left = left + _C
        return _Condition(sql.SQL("{} {} {}").format(left, sql.SQL(_OPS[op]), _value(value)))

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        column, low = self.column_and_value(lhs, low, "BETWEEN")
        _, high = self.column_and_value(lhs, high, "BETWEEN")
        left = self._comparable(column)
        if column.type == "string":
            left = left + _C
        return _Condition(sql.SQL("{} {}BETWEEN {} AND {}").format(
            left, sql.SQL("NOT " if node.not_ else ""), _value(low), _value(high)))

    @handle(ast.Like)
    def like(self, node, lhs):
        column, pattern = self.like_pattern(node, lhs)
        text = _date_text(column.values) if column.type == "date" else column.values
        return _Condition(sql.SQL("{} {}{} {} ESCAPE {}").format(
            text, sql.SQL("NOT " if node.not_ else ""),
            sql.SQL("ILIKE" if node.nocase else "LIKE"), sql.Literal(_like(pattern, node)),
            sql.Literal("\\")))

    @handle(ast.In)
    def in_(self, node, lhs, *options):
        column = self.column(lhs, "IN", None)
        checked = [self.column_and_value(column, option, "IN")[1] for option in options]
        left = self._comparable(column)
        if not checked:  # only from CQL2 JSON: nothing is in an empty list
            return _Condition(sql.SQL("{} IS NOT NULL").format(left) if node.not_
                              else sql.SQL("FALSE"))
        return _Condition(sql.SQL("{} {}IN ({})").format(
            left, sql.SQL("NOT " if node.not_ else ""),
            sql.SQL(", ").join(_value(v) for v in checked)))

    @handle(ast.IsNull)
    def null(self, node, lhs):
        column = self.column(lhs, "IS NULL", None)
        if column.type == "string":
            empty = sql.SQL("({v} IS NULL OR {v} = '')").format(v=column.values)
        elif column.type == "date":
            empty = sql.SQL("{} IS NULL").format(_date_text(column.values))
        else:
            empty = sql.SQL("{} IS NULL").format(column.values)
        return _Condition(sql.SQL("NOT {}").format(empty) if node.not_ else empty)

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node, lhs, rhs):
        column, shape, method = self.spatial_operands(node, lhs, rhs)
        return _Condition(sql.SQL("{}({}, {})").format(
            sql.SQL(_PREDICATES[method]), column.values, self._geometry(shape)))

    @handle(ast.BBox)
    def bbox(self, node, lhs):
        column = self.column(lhs, "BBOX", ("geometry",))
        box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
        return _Condition(sql.SQL("ST_Intersects({}, {})").format(
            column.values, self._geometry(box)))

    def _condition(self, value: Any) -> sql.Composable:
        if isinstance(value, cql.Column) and value.type == "boolean":
            return value.values
        if not isinstance(value, _Condition):
            raise cql.FilterError("AND, OR and NOT combine conditions, not values")
        return value.sql


def _like(pattern: str, node: Any) -> str:
    """A LIKE pattern of pygeofilter's (its wildcards in `node`) in PostgreSQL's, with `\\`
    escaping the characters that are themselves."""
    out = []
    for kind, char in cql.like_tokens(pattern, node.wildcard, node.singlechar,
                                      node.escapechar):
        if kind == "any":
            out.append("%")
        elif kind == "one":
            out.append("_")
        else:
            out.append("\\" + char if char in "%_\\" else char)
    return "".join(out)

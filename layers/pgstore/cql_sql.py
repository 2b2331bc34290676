"""CQL2 filters and sortby as SQL on the PostGIS store, meaning what they mean on the
GeoPackage store.

The tree `layers.cql.parse` makes is checked by the same code as `cql.mask` (the
queryables, the values' types: `layers.cql_check.CheckedEvaluator`) and translated to a WHERE
expression that keeps exactly the rows the mask keeps; `order_by` orders them as
`query.apply_sortby` does. Every value goes in as a `sql.Literal` (quoted by psycopg,
never formatted into the text), every name as a `sql.Identifier`; the SQL made here holds
no `%` (a text's `%` is `chr(37)`), so it can be composed into queries that have
parameters (`%s`) of their own.

- `queryables(conn, table, schema="xinqu") -> dict[name, type]`: a table's queryables,
  as `cql.queryables` gives them for the same table of the GeoPackage store;
- `where(filter, types, id_column="id", geometry_column="geom", srid=4326)`: the
  expression after WHERE;
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
  `cql_check.like_tokens` and written in PostgreSQL's (`%`, `_`, `\\`); both match line breaks.
- Geometries: the very shapely geometry the mask uses, as WKB in SRID `srid`, with the
  PostGIS predicate of the same name (S_EQUALS: ST_Equals); BBOX(...) is an envelope.
"""

from __future__ import annotations

from typing import Any

import psycopg
import shapely
from psycopg import sql
from pygeofilter import ast
from pygeofilter.backends.evaluator import handle

from layers import cql
from layers.cql_check import CheckedEvaluator, Column, FilterError, like_tokens
from layers.pgstore.connection import SCHEMA
from layers.pgstore.schema import GEOMETRY_COLUMN

_OPS = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_PREDICATES = {"intersects": "ST_Intersects", "disjoint": "ST_Disjoint",
               "contains": "ST_Contains", "within": "ST_Within", "touches": "ST_Touches",
               "crosses": "ST_Crosses", "overlaps": "ST_Overlaps", "geom_equals": "ST_Equals"}
_ISO_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
# PostgreSQL type -> queryable type (text is a string or, when every value is one, a date).
_TYPES = {"float8": "number", "float4": "number", "numeric": "number", "int8": "integer",
          "int4": "integer", "int2": "integer", "bool": "boolean", "geometry": "geometry"}
# Columns of the PostGIS tables that are no properties of the features (layers.pgstore.schema).
_NOT_PROPERTIES = ("fid",)


class _Condition:
    """A SQL boolean expression that is TRUE exactly where the mask is True (NULL or
    FALSE elsewhere)."""

    def __init__(self, text: sql.Composable):
        self.sql = text


def queryables(conn: psycopg.Connection, table: str, schema: str = SCHEMA,
               id_name: str = "id") -> dict[str, str]:
    """Every filterable property of a loaded table with its type, as `cql.queryables`
    reads them from the GeoPackage store: `id_name` first, the columns in order, the
    geometry as `geometry`; a text column whose present values ('' is absent) are all ISO
    dates is a `date`, an integer column with NULLs a `number` (pandas reads it as floats).
    A boolean column with NULLs stays `boolean` (pandas: `number`; no store table has
    one). One query; a text column is scanned only up to its first value that is not a
    date. An empty dict for a table that does not exist."""
    columns = conn.execute(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE a.attrelid = to_regclass(format('%%I.%%I', %s::text, %s::text)) "
        "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum", (schema, table)).fetchall()
    source = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(table))
    checks = {}
    for name, kind in columns:
        if name == id_name or name in _NOT_PROPERTIES:
            continue
        column = sql.Identifier(name)
        if kind == "text":  # a date?
            checks[name] = sql.SQL(
                "EXISTS (SELECT 1 FROM {t} WHERE {c} <> '') AND NOT EXISTS "
                "(SELECT 1 FROM {t} WHERE {c} <> '' AND {c} !~ {iso})").format(
                t=source, c=column, iso=sql.Literal(_ISO_DATE))
        elif _TYPES.get(kind) == "integer":  # GDAL gives pandas integers with nulls as floats
            checks[name] = sql.SQL("EXISTS (SELECT 1 FROM {} WHERE {} IS NULL)").format(
                source, column)
    found = set()
    if checks:
        row = conn.execute(sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(checks.values()))).fetchone()
        found = {name for name, yes in zip(checks, row, strict=True) if yes}
    if not conn.autocommit:
        conn.rollback()  # leave no transaction open behind a read of the layout
    if not columns:
        return {}
    out = {id_name: "string"}
    for name, kind in columns:
        if name == id_name or name in _NOT_PROPERTIES:
            continue
        if name == GEOMETRY_COLUMN and kind == "geometry":
            out["geometry"] = "geometry"
        elif name in found:
            out[name] = "date" if kind == "text" else "number"
        else:
            out[name] = _TYPES.get(kind, "string")
    return out


def where(filter: cql.Filter, types: dict[str, str], id_column: str | sql.Composable = "id",
          geometry_column: str | sql.Composable = GEOMETRY_COLUMN, srid: int = 4326,
          table: str | None = None) -> sql.Composable:
    """The WHERE expression (without `WHERE`) keeping the rows `cql.mask` keeps, on a
    table whose columns are named as the queryables `types`, except the property `id`
    (`id_column`: a column name, or an expression such as links'
    `unit_id || '@' || place_id`) and the geometry (`geometry_column`, in SRID `srid`).
    `table`: a name or alias the columns are qualified with (`"t"."name_en"`), for
    queries that join. FilterError as the mask's: an unknown property, a comparison
    across types, an unsupported operation."""
    visitor = _SqlVisitor(types, _name(id_column, table), _name(geometry_column, table),
                          srid, table)
    result = visitor.run(filter.tree)
    if isinstance(result, Column) and result.type == "boolean":
        return result.values
    if not isinstance(result, _Condition):
        raise FilterError("the filter is not a condition (compare a property with a value)")
    return result.sql


def order_by(order: list[tuple[str, bool]], types: dict[str, str],
             id_column: str | sql.Composable = "id", fid_column: str | sql.Composable = "fid",
             table: str | None = None) -> sql.Composable:
    """The keys (without `ORDER BY`) ordering rows as `query.apply_sortby` does for
    `order` (`cql.sort_order`'s (property, ascending) pairs): empty values ('' and NULL)
    last in either direction, text in code point order, ties in table order (`fid`).
    `types`: the queryables (text is ordered by code point, and '' counts as empty, only
    where they say text or date). `table` qualifies the columns, as in `where`."""
    keys = []
    for name, ascending in order:
        kind = types.get(name)
        if kind is None or kind == "geometry":
            raise FilterError(f"{name[:40]!r} cannot be sorted by")
        column = _name(id_column if name == "id" else name, table)
        if kind in ("string", "date"):
            column = _collated(sql.SQL("NULLIF({}, '')").format(column))
        keys.append(column + sql.SQL(" ASC NULLS LAST" if ascending else " DESC NULLS LAST"))
    keys.append(_name(fid_column, table) + sql.SQL(" ASC"))
    return sql.SQL(", ").join(keys)


def _collated(text: sql.Composable) -> sql.Composable:
    """A text compared and sorted by code point, as Python compares strings."""
    return sql.SQL('({}) COLLATE "C"').format(text)


def _name(column: str | sql.Composable, table: str | None = None) -> sql.Composable:
    """A column name as an identifier (qualified by `table`); an expression in brackets."""
    if not isinstance(column, str):
        return sql.SQL("({})").format(column)
    return sql.Identifier(table, column) if table else sql.Identifier(column)


def _date_text(column: sql.Composable) -> sql.Composable:
    """The ISO date text of a column, NULL where it is not a calendar date (the CASEs run
    in order, so no cast ever fails)."""
    year, month, day = (sql.SQL("substr({}, {}, {})::int").format(column, sql.Literal(a),
                                                                  sql.Literal(b))
                        for a, b in ((1, 4), (6, 2), (9, 2)))
    days = sql.SQL(
        "CASE WHEN {m} = 2 THEN CASE WHEN (mod({y}, 4) = 0 AND mod({y}, 100) <> 0) "
        "OR mod({y}, 400) = 0 "
        "THEN 29 ELSE 28 END WHEN {m} IN (4, 6, 9, 11) THEN 30 ELSE 31 END").format(
        y=year, m=month)
    return sql.SQL(
        "(CASE WHEN {c} ~ {iso} THEN CASE WHEN {y} >= 1 AND {m} BETWEEN 1 AND 12 AND "
        "{d} BETWEEN 1 AND {days} THEN {c} END END)").format(
        c=column, iso=sql.Literal(_ISO_DATE), y=year, m=month, d=day, days=days)


def _value(value: Any) -> sql.Composable:
    """A checked value as a literal (a date as a naive timestamp, as the mask has it)."""
    if isinstance(value, str):
        return _text(value)
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    return sql.Literal(value)


def _text(value: str) -> sql.Composable:
    """A text literal with no `%` in the SQL: `'100' || chr(37) || ' x'` for '100% x'
    (a constant, folded when the query is planned). psycopg reads a `%` in the query as a
    placeholder when the query has parameters, so the expressions made here can go into
    queries with or without them."""
    parts = value.split("%")
    if len(parts) == 1:
        return sql.Literal(value)
    return sql.SQL("({})").format(sql.SQL(" || chr(37) || ").join(map(sql.Literal, parts)))


class _SqlVisitor(CheckedEvaluator):
    """Translates a checked pygeofilter tree to SQL: conditions, columns, literals."""

    def __init__(self, types: dict[str, str], id_column: sql.Composable,
                 geometry_column: sql.Composable, srid: int, table: str | None):
        super().__init__(types, "id")
        self.id_column = id_column
        self.geometry_column = geometry_column
        self.srid = srid
        self.table = table

    def column_values(self, name: str, kind: str) -> sql.Composable:
        if name == self.id_name:
            return self.id_column
        if kind == "geometry":
            return self.geometry_column
        return _name(name, self.table)

    def lower_values(self, values: sql.Composable) -> sql.Composable:
        return sql.SQL("lower({})").format(values)

    def _comparable(self, column: Column) -> sql.Composable:
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
            left = _collated(left)
        return _Condition(sql.SQL("{} {} {}").format(left, sql.SQL(_OPS[op]), _value(value)))

    @handle(ast.Between)
    def between(self, node, lhs, low, high):
        column, low = self.column_and_value(lhs, low, "BETWEEN")
        _, high = self.column_and_value(lhs, high, "BETWEEN")
        left = self._comparable(column)
        if column.type == "string":
            left = _collated(left)
        return _Condition(sql.SQL("{} {}BETWEEN {} AND {}").format(
            left, sql.SQL("NOT " if node.not_ else ""), _value(low), _value(high)))

    @handle(ast.Like)
    def like(self, node, lhs):
        column, pattern = self.like_pattern(node, lhs)
        text = _date_text(column.values) if column.type == "date" else column.values
        return _Condition(sql.SQL("{} {}{} {} ESCAPE {}").format(
            text, sql.SQL("NOT " if node.not_ else ""),
            sql.SQL("ILIKE" if node.nocase else "LIKE"), _text(_like(pattern, node)),
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
        if isinstance(value, Column) and value.type == "boolean":
            return value.values
        if not isinstance(value, _Condition):
            raise FilterError("AND, OR and NOT combine conditions, not values")
        return value.sql


def _like(pattern: str, node: Any) -> str:
    """A LIKE pattern of pygeofilter's (its wildcards in `node`) in PostgreSQL's, with `\\`
    escaping the characters that are themselves."""
    out = []
    for kind, char in like_tokens(pattern, node.wildcard, node.singlechar,
                                      node.escapechar):
        if kind == "any":
            out.append("%")
        elif kind == "one":
            out.append("_")
        else:
            out.append("\\" + char if char in "%_\\" else char)
    return "".join(out)

"""The PostGIS tables of a store, described from the built GeoPackage.

Every GeoPackage table becomes a table of the same name (`new-areas`, `new-areas-display`,
`basemap`, `units`, …) with the same columns and types, plus `fid` (the GeoPackage row
number, the primary key, so rows keep their order) and, in spatial tables, `geom`
(geometry of the layer's type in the layer's SRID). `unit_search` (UNIT_SEARCH) holds per
unit (same `fid`, `id`) its `search_key`, its titles and texts in every language in the
matching form (layers.textnorm.normalize, case folded), which a pg_trgm index serves for
search in Chinese without spaces, and its `id_key`, its id as search compares ids
(layers.query.search.search_key), trigram-indexed too; a table of its own, narrow, so a
search reads few pages. Its `search_grams` and `id_grams` hold the one- and
two-character substrings of both keys (layers.pgstore.grams), GIN-indexed, for needles too
short for trigrams. The indexes are listed here, so what the readers can rely on is
written in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg import sql

from layers.pgstore.connection import PgStoreError

GEOMETRY_COLUMN = "geom"
SEARCH_KEY_COLUMN = "search_key"
ID_KEY_COLUMN = "id_key"
SEARCH_GRAMS_COLUMN = "search_grams"
ID_GRAMS_COLUMN = "id_grams"

# OGR field type (and subtype) -> PostgreSQL type, as COPY's binary dumper knows it.
_FIELD_TYPES = {
    ("OFTString", "OFSTNone"): "text",
    ("OFTString", "OFSTJSON"): "text",
    ("OFTString", "OFSTUUID"): "text",
    ("OFTReal", "OFSTNone"): "float8",
    ("OFTReal", "OFSTFloat32"): "float8",
    ("OFTInteger64", "OFSTNone"): "int8",
    ("OFTInteger", "OFSTNone"): "int4",
    ("OFTInteger", "OFSTInt16"): "int4",
    ("OFTInteger", "OFSTBoolean"): "bool",
}
_GEOMETRY_TYPES = {"Point", "LineString", "Polygon", "MultiPoint", "MultiLineString",
                   "MultiPolygon", "GeometryCollection"}

# B-tree indexes on the joins the readers make (beyond primary keys and ids).
JOIN_INDEXES = {
    "links": ("unit_id", "place_id"),
    "mentions": ("unit_id", "place_id"),
    "units": ("document",),
}


# pg_trgm GIN indexes (search by a needle inside the text).
TRIGRAM_INDEXES = {"unit_search": (SEARCH_KEY_COLUMN, ID_KEY_COLUMN)}
# GIN indexes on text[] columns of short substrings (layers.pgstore.grams).
GRAM_INDEXES = {"unit_search": (SEARCH_GRAMS_COLUMN, ID_GRAMS_COLUMN)}


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # a PostgreSQL type name: text, text[], float8, int8, int4, bool


@dataclass(frozen=True)
class Table:
    """One store table: its name, attribute columns, and geometry type and SRID (None for
    attribute tables)."""

    name: str
    columns: tuple[Column, ...]
    geometry_type: str | None = None
    srid: int | None = None

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


UNIT_SEARCH = Table("unit_search", (Column("id", "text"), Column(SEARCH_KEY_COLUMN, "text"),
                                    Column(ID_KEY_COLUMN, "text"),
                                    Column(SEARCH_GRAMS_COLUMN, "text[]"),
                                    Column(ID_GRAMS_COLUMN, "text[]")))


def table_from_meta(name: str, meta: dict, geometry_type: str | None) -> Table:
    """The Table of GeoPackage table `name` from pyogrio's metadata (`raw.read`'s meta)."""
    columns = []
    for field, ogr_type, subtype in zip(meta["fields"], meta["ogr_types"],
                                        meta["ogr_subtypes"], strict=True):
        pg_type = _FIELD_TYPES.get((ogr_type, subtype))
        if pg_type is None:
            raise PgStoreError(f"table {name!r}: column {field!r} has type {ogr_type} "
                               f"({subtype}), which the PostGIS store does not carry")
        if field in ("fid", GEOMETRY_COLUMN):
            raise PgStoreError(f"table {name!r}: column name {field!r} is reserved")
        columns.append(Column(str(field), pg_type))
    if geometry_type is None:
        return Table(name, tuple(columns))
    return Table(name, tuple(columns), _postgis_type(geometry_type), _srid(name, meta["crs"]))


def _postgis_type(ogr_name: str) -> str:
    """PostGIS's geometry type for pyogrio's name ('Unknown' or a mixed one: Geometry)."""
    return ogr_name if ogr_name in _GEOMETRY_TYPES else "Geometry"


def _srid(name: str, crs: str | None) -> int:
    if crs and crs.upper().startswith("EPSG:") and crs[5:].isdigit():
        return int(crs[5:])
    raise PgStoreError(f"table {name!r}: CRS {crs!r} is not an EPSG code")


def create_table(schema: str, table: Table) -> sql.Composed:
    """CREATE TABLE for `table` in `schema`."""
    parts = [sql.SQL("fid int8 PRIMARY KEY")]
    parts += [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type))
              for c in table.columns]
    if table.geometry_type:
        parts.append(sql.SQL("{} geometry({}, {})").format(
            sql.Identifier(GEOMETRY_COLUMN), sql.SQL(table.geometry_type),
            sql.Literal(table.srid)))
    return sql.SQL("CREATE TABLE {}.{} ({})").format(
        sql.Identifier(schema), sql.Identifier(table.name), sql.SQL(", ").join(parts))


def copy_columns(table: Table) -> tuple[list[str], list[str]]:
    """The columns COPY writes, in order, and their types for the binary dumper (geometry
    travels as WKB in a bytea, which PostGIS's receive function reads)."""
    names, types = ["fid"], ["int8"]
    names += table.column_names
    types += [c.type for c in table.columns]
    if table.geometry_type:
        names.append(GEOMETRY_COLUMN)
        types.append("bytea")
    return names, types


def index_statements(schema: str, table: Table) -> list[sql.Composed]:
    """The indexes of `table`: unique B-tree on `id`, B-tree on the join columns, GiST on
    the geometry, pg_trgm GIN on the search keys, GIN on their short substrings."""
    statements = []

    def index(suffix: str, body: sql.Composable, unique: bool = False) -> None:
        statements.append(sql.SQL("CREATE {}INDEX {} ON {}.{} {}").format(
            sql.SQL("UNIQUE " if unique else ""), sql.Identifier(_index_name(table.name, suffix)),
            sql.Identifier(schema), sql.Identifier(table.name), body))

    if "id" in table.column_names:
        index("id", sql.SQL("(id)"), unique=True)
    for column in JOIN_INDEXES.get(table.name, ()):
        if column in table.column_names:
            index(column, sql.SQL("({})").format(sql.Identifier(column)))
    if table.geometry_type:
        index("geom", sql.SQL("USING gist ({})").format(sql.Identifier(GEOMETRY_COLUMN)))
    for column in TRIGRAM_INDEXES.get(table.name, ()):
        index(column, sql.SQL("USING gin ({} gin_trgm_ops)").format(sql.Identifier(column)))
    for column in GRAM_INDEXES.get(table.name, ()):
        index(column, sql.SQL("USING gin ({})").format(sql.Identifier(column)))
    return statements


def _index_name(table: str, suffix: str) -> str:
    return f"{table}_{suffix}"[:63]

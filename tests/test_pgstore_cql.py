"""CQL2 filters and sortby as SQL (layers.pgstore.cql_sql) select and order the same rows
on the PostGIS store as cql.mask and query.apply_sortby do on the GeoPackage store.

The real built store is loaded once into a scratch database (schema `xinqu`), beside a
variant of it written for these tests (schema `variant`): empty and NULL texts and
dates, a date that is no calendar date, texts with a line break, a quote, a semicolon
and a backslash, a NULL integer and a boolean column. Each filter's ids from SQL (in
table order) are compared with the ids the mask keeps on the same layer or table of the
GeoPackage store opened with `Store.open`; each sortby's ordered ids likewise.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import psycopg
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from psycopg import sql
from pygeofilter import ast

from layers import cql, query
from layers import table_collections as tables
from layers.pgstore.connection import fresh_database
from layers.pgstore.cql_sql import order_by, queryables, where
from layers.pgstore.load import load
from layers.store import Store

pytest_plugins = ["pg_fixtures"]

TEST_DB = "xinqu_cql_test"
TRICKY = "O'Neil; DROP TABLE units; --\\"

# Changes to a copy of the built store (SQL on the GeoPackage, a SQLite file).
VARIANT = [
    """UPDATE "new-areas" SET approved = '' WHERE id = 'binhai'""",
    """UPDATE "new-areas" SET approved = NULL, name_en = NULL WHERE id = 'liangjiang'""",
    """UPDATE "new-areas" SET approved = '2014-02-30' WHERE id = 'zhoushan'""",
    """UPDATE "new-areas" SET approved = '2000-02-29' WHERE id = 'lanzhou'""",
    """UPDATE "new-areas" SET name_en = 'O''Neil; DROP TABLE units; --\\' WHERE id = 'tianfu'""",
    """UPDATE "new-areas" SET name_en = 'line one' || char(10) || 'line two'
       WHERE id = 'xiangjiang'""",
    """UPDATE "new-areas" SET name_en = '100% _real_' WHERE id = 'jiangbei'""",
    """UPDATE "new-areas" SET official_area_km2 = NULL, name_en = '' WHERE id = 'xixian'""",
    """UPDATE "new-areas" SET name_en = 'ÉCOLE Straße Ωmega' WHERE id = 'fuzhou'""",
    "ALTER TABLE units ADD COLUMN flag BOOLEAN",
    """UPDATE units SET flag = ("order" % 3 = 0)""",
    """UPDATE units SET "order" = NULL WHERE id = 'ndrc-2024:3'""",
]


def _variant(store_path: Path, path: Path) -> Path:
    """A copy of the built store changed by VARIANT. GDAL's triggers on the layers need
    SpatiaLite's functions: they are set aside while attributes change (the geometries, and
    so the spatial index, stay as they are)."""
    shutil.copyfile(store_path, path)
    with sqlite3.connect(path) as db:
        triggers = db.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
        for name, _ in triggers:
            db.execute(f'DROP TRIGGER "{name}"')
        for statement in VARIANT:
            db.execute(statement)
        for _, statement in triggers:
            db.execute(statement)
    return path


@pytest.fixture(scope="module")
def pg(pg_cluster, store_path, tmp_path_factory):
    """A connection to the scratch database with the real store in schema `xinqu` and the
    variant in schema `variant`, and the two GeoPackage stores by schema."""
    url = fresh_database(TEST_DB, pg_cluster)
    variant = _variant(store_path, tmp_path_factory.mktemp("cql") / "variant.gpkg")
    load(store_path, url)
    load(variant, url, schema="variant")
    stores = {"xinqu": Store.open(store_path), "variant": Store.open(variant)}
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn, stores


def _frame_and_types(store, name: str):
    if tables.is_table(name):
        return tables.frame(store, name), tables.queryables(store, name)
    return store.layers[name], query.queryables(store, name)


def _id_column(name: str) -> sql.Composable:
    """The SQL of a row's id: `id`, or the key columns joined as table_collections does."""
    key = tables.tables()[name].key if tables.is_table(name) else ("id",)
    joint = sql.SQL(" || ") + sql.Literal(tables.KEY_SEPARATOR) + sql.SQL(" || ")
    expression = sql.Identifier(key[0])
    for column in key[1:]:
        expression = expression + joint + sql.Identifier(column)
    return expression


def _sql_ids(conn, schema: str, name: str, condition: sql.Composable | None = None,
             order: sql.Composable | None = None) -> list[str]:
    """The ids a WHERE and ORDER BY select, in a query with a parameter of its own (as a
    reader's page query has: the filter's SQL must not hold a `%` that psycopg would read
    as a placeholder)."""
    statement = sql.SQL("SELECT {} FROM {}.{} WHERE {} ORDER BY {} LIMIT %s").format(
        _id_column(name), sql.Identifier(schema), sql.Identifier(name),
        condition if condition is not None else sql.SQL("TRUE"),
        order if order is not None else sql.SQL("fid"))
    return [row[0] for row in conn.execute(statement, (100_000,))]


def _both(pg, schema: str, name: str, text: str, lang: str = "cql2-text",
          ) -> tuple[list[str], list[str]]:
    """The ids the mask keeps and the ids SQL selects, for one filter."""
    conn, stores = pg
    frame, types = _frame_and_types(stores[schema], name)
    parsed = cql.parse(text, lang)
    kept = [str(i) for i in frame.index[cql.mask(frame, parsed, types=types)]]
    return kept, _sql_ids(conn, schema, name, where(parsed, types, _id_column(name)))


def _json(op: str, *args) -> str:
    return json.dumps({"op": op, "args": list(args)})


# --- queryables ------------------------------------------------------------------------------

def test_queryables_are_the_geopackage_stores(pg):
    """Every layer and attribute table, in both stores: the same names, in the same order,
    with the same types (dates found in text, an integer column with NULLs a number)."""
    conn, stores = pg
    for schema, store in stores.items():
        names = [*store.layers, *tables.tables()]
        for name in names:
            expected = _frame_and_types(store, name)[1]
            found = queryables(conn, name, schema)
            assert list(found.items()) == list(expected.items()), (schema, name)
    assert queryables(conn, "new-areas", "variant")["approved"] == "date"
    assert queryables(conn, "units", "variant")["order"] == "number"
    assert queryables(conn, "units", "xinqu")["order"] == "integer"
    assert queryables(conn, "nothing", "xinqu") == {}


# --- filters on the real store ---------------------------------------------------------------

PUDONG_CROSSING = "LINESTRING(121.3 31.2, 122.0 31.25)"
BOWTIE = "POLYGON((110 20, 125 40, 125 20, 110 40, 110 20))"
REAL = [
    ("new-areas", "approved >= DATE('2014-01-01')"),
    ("new-areas", "approved < TIMESTAMP('2014-01-01T00:00:00Z')"),
    ("new-areas", "approved = '2014-01-06'"),
    ("new-areas", "approved > '2015-01-01T'"),
    ("new-areas", "approved BETWEEN DATE('2012-01-01') AND DATE('2014-06-03')"),
    ("new-areas", "official_area_km2 > 1000"),
    ("new-areas", "official_area_km2 > 1000 AND approved >= DATE('2014-01-01')"),
    ("new-areas", "NOT (official_area_km2 > 1000) OR approved >= DATE('2014-01-01')"),
    ("new-areas", "official_area_km2 BETWEEN 800 AND 1500"),
    ("new-areas", "official_area_km2 NOT BETWEEN 800 AND 1500"),
    ("new-areas", "id IN ('xiongan','pudong')"),
    ("new-areas", "id NOT IN ('xiongan','pudong')"),
    ("new-areas", "id < 'j'"),
    ("new-areas", "name_zh_hans LIKE '%浦东%'"),
    ("new-areas", "name_en LIKE '%New Area'"),
    ("new-areas", "name_en NOT LIKE '%New Area'"),
    ("new-areas", "name_en LIKE 'Harbin.New%'"),
    ("new-areas", "CASEI(name_en) = CASEI('SHANGHAI PUDONG NEW AREA')"),
    ("new-areas", "CASEI(name_en) LIKE '%new area'"),
    ("new-areas", "strategy_regions IS NULL"),
    ("new-areas", "corridors IS NOT NULL AND NOT (province = '上海市')"),
    ("new-areas", "official_area_note IS NULL OR area_ratio > 2"),
    ("new-areas", "S_INTERSECTS(geometry, BBOX(120.5,30.5,122.5,32))"),
    ("new-areas", "S_INTERSECTS(geometry, POINT(121.5 31.2))"),
    ("new-areas", "BBOX(geometry, 100, 20, 115, 40)"),
    ("new-areas", "S_WITHIN(geometry, POLYGON((100 20, 125 20, 125 35, 100 35, 100 20)))"),
    ("new-areas", "S_CONTAINS(geometry, POINT(121.5 31.2))"),
    ("new-areas", "S_DISJOINT(geometry, BBOX(110, 25, 125, 35))"),
    ("new-areas", f"S_CROSSES(geometry, {PUDONG_CROSSING})"),
    ("new-areas", "S_OVERLAPS(geometry, POLYGON((121.5 31.0, 123 31.0, 123 32, 121.5 32, "
                  "121.5 31.0)))"),
    ("new-areas", "NOT S_INTERSECTS(geometry, BBOX(100, 20, 125, 35))"),
    ("new-areas", "S_INTERSECTS(geometry, MULTIPOINT((121.5 31.2), (116.4 39.9)))"),
    ("new-areas", "S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(121.5 31.2), "
                  "LINESTRING(110 30, 120 35)))"),
    ("new-areas", f"S_WITHIN(geometry, {BOWTIE})"),  # a literal that is no valid polygon
    ("new-areas", f"S_DISJOINT(geometry, {BOWTIE})"),
    ("new-areas", _json("s_intersects", {"property": "geometry"},
                        {"bbox": [120.5, 30.5, 122.5, 32]})),
    ("new-areas", _json("s_intersects", {"property": "geometry"},
                        {"type": "Point", "coordinates": [121.5, 31.2]})),
    ("new-areas", _json("and", {"op": ">", "args": [{"property": "official_area_km2"}, 1000]},
                        {"op": ">=", "args": [{"property": "approved"},
                                              {"date": "2014-01-01"}]})),
    ("new-areas", _json("in", {"property": "id"}, [])),
    ("new-areas", _json("not", {"op": "in", "args": [{"property": "id"}, []]})),
    ("ports", "S_INTERSECTS(geometry, BBOX(100,0,140,30))"),
    ("ports", "S_EQUALS(geometry, POINT(121.6 31.345))"),
    ("ports", "S_WITHIN(geometry, POLYGON((121 31, 122 31, 122 32, 121 32, 121 31)))"),
    ("ports", "S_TOUCHES(geometry, POLYGON((121.6 31.345, 122 31.345, 122 32, 121.6 32, "
              "121.6 31.345)))"),
    ("corridors", f"S_INTERSECTS(geometry, {PUDONG_CROSSING})"),
    ("corridors", "length_km > 100 AND via IS NULL"),
    ("sites", "new_area = 'pudong' OR kind LIKE '%port%'"),
    ("sites", "venue_en IS NULL"),
    ("units", "document = 'xixian-2023'"),
    ("units", "order BETWEEN 3 AND 10"),
    ("units", "order NOT BETWEEN 3 AND 10 AND kind = 'measure'"),
    ("units", "chapter_number IS NULL"),
    ("units", "chapter_number IS NOT NULL AND NOT (kind = 'measure')"),
    ("units", "kind IN ('measure', 'section')"),
    ("units", "title_en IS NULL"),
    ("units", "text_zh_hans LIKE '%新区%'"),
    ("units", "text_zh_hans NOT LIKE '%新区%'"),
    ("units", "CASEI(title_en) LIKE '%trade%'"),
    ("units", "order > 5 AND order < 20 OR kind = 'preamble'"),
    ("units", "id LIKE 'ndrc-2024:1.'"),
    ("units", "id LIKE 'ndrc-2024:1_'"),
    ("links", "relation = 'via' AND place_id = 'pudong'"),
    ("links", "relation = 'via' AND place_id = 'xixian'"),
    ("links", "id = 'ndrc-2024:13@pudong'"),
    ("links", "id LIKE '%@pudong'"),
    ("links", "via_place_id IS NOT NULL"),
    ("links", "NOT (relation <> 'named')"),
    ("documents", "date >= '2024'"),
    ("documents", "date LIKE '20__'"),
]


@pytest.mark.parametrize(("name", "text"), REAL)
def test_sql_keeps_the_rows_the_mask_keeps(pg, name, text):
    lang = "cql2-json" if text.startswith("{") else "cql2-text"
    kept, selected = _both(pg, "xinqu", name, text, lang)
    assert selected == kept


def test_the_filters_are_not_trivial(pg):
    """Most filters above keep some rows and drop some (else they could not tell)."""
    _, stores = pg
    between = 0
    for name, text in REAL:
        kept, _ = _both(pg, "xinqu", name, text,
                        "cql2-json" if text.startswith("{") else "cql2-text")
        between += 0 < len(kept) < len(_frame_and_types(stores["xinqu"], name)[0])
    assert between >= 0.85 * len(REAL)


# --- nulls, empty texts, odd dates and texts: the variant --------------------------------------

VARIANT_FILTERS = [
    ("new-areas", "approved IS NULL"),
    ("new-areas", "approved IS NOT NULL"),
    ("new-areas", "approved >= DATE('2014-01-01')"),
    ("new-areas", "NOT (approved >= DATE('2014-01-01'))"),
    ("new-areas", "approved <> DATE('2014-01-06')"),
    ("new-areas", "NOT (approved = DATE('2014-01-06'))"),
    ("new-areas", "approved < TIMESTAMP('2014-01-06T12:00:00Z')"),
    ("new-areas", "approved = TIMESTAMP('2014-01-06T08:00:00+08:00')"),
    ("new-areas", "approved = DATE('2000-02-29')"),
    ("new-areas", "approved BETWEEN DATE('2000-01-01') AND DATE('2014-12-31')"),
    ("new-areas", "approved NOT BETWEEN DATE('2000-01-01') AND DATE('2014-12-31')"),
    ("new-areas", "approved IN (DATE('2014-01-06'), DATE('1992-10-11'))"),
    ("new-areas", "approved NOT IN (DATE('2014-01-06'), DATE('1992-10-11'))"),
    ("new-areas", "approved LIKE '2014%'"),
    ("new-areas", "approved NOT LIKE '2014%'"),
    ("new-areas", "NOT (approved LIKE '2014%')"),
    ("new-areas", "name_en IS NULL"),
    ("new-areas", "NOT (name_en IS NULL)"),
    ("new-areas", "name_en = ''"),
    ("new-areas", "name_en <> 'Harbin New Area'"),
    ("new-areas", "NOT (name_en = 'Harbin New Area')"),
    ("new-areas", "name_en < 'H'"),
    ("new-areas", "name_en >= 'line'"),
    ("new-areas", "name_en BETWEEN 'A' AND 'Z'"),
    ("new-areas", "name_en LIKE 'line%'"),
    ("new-areas", "name_en LIKE '%two'"),
    ("new-areas", "name_en LIKE 'line.one%'"),
    ("new-areas", "name_en LIKE '%;%'"),
    ("new-areas", "name_en LIKE '%\\'"),
    ("new-areas", "name_en LIKE '100\\% \\_%'"),
    ("new-areas", "name_en LIKE '100% %'"),
    ("new-areas", "name_en NOT LIKE '%New Area'"),
    ("new-areas", "NOT (name_en LIKE '%New Area')"),
    ("new-areas", "CASEI(name_en) LIKE '%new area'"),
    ("new-areas", "CASEI(name_en) = CASEI('école STRASSE ωMEGA')"),
    ("new-areas", "CASEI(name_en) = CASEI('école STRAßE ΩMEGA')"),
    ("new-areas", "CASEI(name_en) LIKE '%ωmega'"),
    ("new-areas", "name_en IN ('', 'Harbin New Area')"),
    ("new-areas", "name_en NOT IN ('', 'Harbin New Area')"),
    ("new-areas", "official_area_km2 IS NULL"),
    ("new-areas", "official_area_km2 <> 882"),
    ("new-areas", "NOT (official_area_km2 > 1000)"),
    ("new-areas", "name_en IS NULL OR official_area_km2 > 2000"),
    # NOT of an AND or an OR (pygeofilter's CQL2 text grammar cannot read `NOT (a AND b)`)
    ("new-areas", _json("not", {"op": "and", "args": [
        {"op": "like", "args": [{"property": "name_en"}, "%Area"]},
        {"op": ">", "args": [{"property": "official_area_km2"}, 1000]}]})),
    ("new-areas", _json("not", {"op": "or", "args": [
        {"op": "not", "args": [{"op": ">", "args": [{"property": "official_area_km2"}, 1000]}]},
        {"op": "like", "args": [{"property": "name_en"}, "line%"]}]})),
    ("new-areas", _json("=", {"property": "name_en"}, TRICKY)),
    ("new-areas", _json("like", {"property": "name_en"}, "O'Neil;%")),
    ("units", "order IS NULL"),
    ("units", "order > 10"),
    ("units", "NOT (order > 10)"),
    ("units", "flag = TRUE"),
    ("units", "flag = FALSE AND kind = 'measure'"),
    ("units", json.dumps({"property": "flag"})),
    ("units", _json("not", {"property": "flag"})),
    ("units", _json("or", {"property": "flag"}, {"op": "<", "args": [
        {"property": "order"}, 3]})),
]


@pytest.mark.parametrize(("name", "text"), VARIANT_FILTERS)
def test_empty_values_and_odd_texts_are_kept_alike(pg, name, text):
    lang = "cql2-json" if text.startswith("{") else "cql2-text"
    kept, selected = _both(pg, "variant", name, text, lang)
    assert selected == kept


def test_the_variant_has_what_it_is_for(pg):
    """The variant's odd values are there, on both stores, for the filters to meet."""
    conn, stores = pg
    frame = stores["variant"].layers["new-areas"]
    assert query.queryables(stores["variant"], "new-areas")["approved"] == "date"
    assert tables.queryables(stores["variant"], "units")["flag"] == "boolean"
    assert frame.at["tianfu", "name_en"] == TRICKY
    assert conn.execute("""SELECT approved, name_en FROM variant."new-areas"
                           WHERE id = 'zhoushan'""").fetchone()[0] == "2014-02-30"
    assert _both(pg, "variant", "new-areas", _json("=", {"property": "name_en"}, TRICKY),
                 "cql2-json") == (["tianfu"], ["tianfu"])
    assert _both(pg, "variant", "new-areas", "approved IS NULL")[1] == [
        "binhai", "liangjiang", "zhoushan"]


def test_quotes_semicolons_and_backslashes_are_values(pg):
    """A value with a quote, a semicolon and a backslash reaches the database as a value:
    it selects the one row that holds it, and every table is still there. In CQL2 text a
    quote cannot be inside a value: such a filter is refused before any SQL."""
    conn, _ = pg
    before = conn.execute("SELECT count(*) FROM variant.units").fetchone()[0]
    text = _json("or", {"op": "=", "args": [{"property": "name_en"}, TRICKY]},
                 {"op": "like", "args": [{"property": "name_en"}, "%'; DROP TABLE units%"]})
    assert _both(pg, "variant", "new-areas", text, "cql2-json") == (["tianfu"], ["tianfu"])
    with pytest.raises(cql.FilterError):
        cql.parse("name_en = 'x'; DROP TABLE units; --'")
    assert conn.execute("SELECT count(*) FROM variant.units").fetchone()[0] == before > 0


@pytest.mark.parametrize(("text", "lang"), [
    ("nope = 1", "cql2-text"),
    ("official_area_km2 = 'x'", "cql2-text"),
    ("approved = 3", "cql2-text"),
    ("geometry = 'x'", "cql2-text"),
    ("ENVELOPE(110 120 35 30) = geometry", "cql2-text"),
    ("S_INTERSECTS(name_en, POINT(0 0))", "cql2-text"),
    ("official_area_km2 + 1 > 2", "cql2-text"),
    ("approved T_AFTER TIMESTAMP('2014-01-01T00:00:00Z')", "cql2-text"),
    ("official_area_km2 LIKE '1%'", "cql2-text"),
    ('{"op": "like", "args": [{"property": "name_en"}, 5]}', "cql2-json"),
    ('{"op": "=", "args": [{"property": "name_en"}, {"property": "id"}]}', "cql2-json"),
    ('{"op": "=", "args": [{"property": "name_en"}, "a\\u0000b"]}', "cql2-json"),
    ('{"property": "name_en"}', "cql2-json"),
    ('{"op": "and", "args": [{"property": "name_en"}, {"op": "=", "args": [1, 1]}]}',
     "cql2-json"),
])
def test_refused_alike_with_the_same_message(pg, text, lang):
    _, stores = pg
    frame, types = _frame_and_types(stores["xinqu"], "new-areas")
    parsed = cql.parse(text, lang)
    with pytest.raises(cql.FilterError) as by_mask:
        cql.mask(frame, parsed, types=types)
    with pytest.raises(cql.FilterError) as by_sql:
        where(parsed, types)
    assert str(by_sql.value) == str(by_mask.value)


def test_positive_conditions_keep_their_indexes(pg):
    """Outside a NOT nothing wraps a condition, so the planner can use the GiST index of
    the geometry and the B-tree of the id."""
    conn, stores = pg
    types = query.queryables(stores["xinqu"], "new-areas")
    for text, index in [("S_INTERSECTS(geometry, BBOX(120.5,30.5,122.5,32))", "new-areas_geom"),
                        ("id = 'pudong' OR id = 'xiongan'", "new-areas_id")]:
        with conn.transaction():
            conn.execute("SET LOCAL enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.execute(sql.SQL(
                'EXPLAIN SELECT id FROM xinqu."new-areas" WHERE {}').format(
                where(cql.parse(text), types))))
        assert index in plan, plan


# --- generated filters: the same rows or the same refusal ------------------------------------

def _prop(name: str) -> dict:
    return {"property": name}


TEXTS = st.one_of(st.sampled_from(["", "Harbin New Area", "Fuzhou New Area", TRICKY, "H",
                                   "line", "M", "pudong", "xiongan", "binhai", "tianfu",
                                   "Shanghai", "Guangdong", "Sichuan", "N"]),
                  st.text(max_size=3))
NUMBERS = st.one_of(st.sampled_from([882, 1000, 1210.0, 1500.5, 800, 2000]),
                    st.integers(400, 2500), st.floats(400, 2500))
DATES = st.one_of(
    st.sampled_from(["1992-10-11", "2000-02-29", "2014-01-06", "2015-06-27"]).map(
        lambda d: {"date": d}),
    st.sampled_from(["2014-01-06T00:00:00Z", "2014-01-06T12:00:00Z",
                     "2014-01-06T08:00:00+08:00"]).map(lambda t: {"timestamp": t}))
PATTERNS = st.sampled_from(["%", "%Area", "line%", "%New%", "H%", "_%", "%\\", "%;%",
                            "%.%", "2014%", "20.4-%", "%-0.", "x", ""])
GEOMETRIES = st.sampled_from([
    {"bbox": [120.5, 30.5, 122.5, 32]}, {"bbox": [100, 20, 115, 40]},
    {"type": "Point", "coordinates": [121.5, 31.2]},
    {"type": "LineString", "coordinates": [[121.3, 31.2], [122.0, 31.25]]},
    {"type": "Polygon", "coordinates": [[[100, 20], [125, 20], [125, 35], [100, 35],
                                         [100, 20]]]}])
# Each property of the variant's new areas with values of its type; now and then a value
# of another type, so the refusals are compared too.
KINDS = {"id": TEXTS, "name_en": TEXTS, "province": TEXTS, "approved": DATES,
         "official_area_km2": NUMBERS}
OTHER = st.one_of(st.booleans(), st.integers(-5, 5), TEXTS, DATES)
PROPERTY = st.sampled_from(list(KINDS))


def _valued(build):
    """A leaf from a property and values drawn for its type (or now and then another)."""
    return PROPERTY.flatmap(lambda name: build(name, st.integers(0, 11).flatmap(
        lambda draw: OTHER if draw == 11 else KINDS[name])))


def _side(name: str):
    """The property, or CASEI of it when it is a text."""
    if KINDS[name] is not TEXTS:
        return st.just(_prop(name))
    return st.one_of(st.just(_prop(name)), st.just({"op": "casei", "args": [_prop(name)]}))


LEAVES = st.one_of(
    _valued(lambda name, values: st.builds(
        lambda op, value, flip: {"op": op, "args": [value, _prop(name)] if flip
                                 else [_prop(name), value]},
        st.sampled_from(["=", "<>", "<", "<=", ">", ">="]), values, st.booleans())),
    _valued(lambda name, values: st.builds(
        lambda low, high: {"op": "between", "args": [_prop(name), [low, high]]},
        values, values)),
    _valued(lambda name, values: st.builds(
        lambda options: {"op": "in", "args": [_prop(name), options]},
        st.lists(values, max_size=3))),
    st.sampled_from(["id", "name_en", "province", "approved"]).flatmap(
        lambda name: st.builds(lambda side, pattern: {"op": "like", "args": [side, pattern]},
                               _side(name), PATTERNS)),
    st.sampled_from([*KINDS, "geometry"]).map(lambda name: {"op": "isNull",
                                                           "args": [_prop(name)]}),
    st.builds(lambda op, shape, flip: {"op": op, "args": [shape, _prop("geometry")] if flip
                                       else [_prop("geometry"), shape]},
              st.sampled_from(["s_intersects", "s_within", "s_contains", "s_disjoint",
                               "s_crosses", "s_overlaps", "s_touches", "s_equals"]),
              GEOMETRIES, st.booleans()))
CONDITIONS = st.recursive(LEAVES, lambda inner: st.one_of(
    st.builds(lambda op, args: {"op": op, "args": args}, st.sampled_from(["and", "or"]),
              st.lists(inner, min_size=2, max_size=3)),
    inner.map(lambda sub: {"op": "not", "args": [sub]})), max_leaves=6)

# Any tree at all: mostly refused, by both alike.
NAMES = ["id", "name_en", "approved", "official_area_km2", "geometry", "nope"]
OPS = ["and", "or", "not", "=", "<", "like", "between", "in", "isNull", "s_intersects",
       "casei", "t_after", "+"]
TREES = st.recursive(st.one_of(
    st.sampled_from(NAMES).map(_prop), st.integers(-5, 3000),
    st.floats(allow_nan=False, width=32), TEXTS, st.booleans(), st.none(), DATES,
    GEOMETRIES), lambda inner: st.one_of(
    st.builds(lambda op, args: {"op": op, "args": args}, st.sampled_from(OPS),
              st.lists(inner, min_size=1, max_size=3)),
    st.lists(inner, max_size=3)), max_leaves=8)


def _same_rows_or_refusal(pg, tree) -> str:
    """Whether the mask and SQL keep the same rows of the variant's new areas (or refuse
    the tree with the same message); what happened, for the tallies."""
    conn, stores = pg
    frame, types = _frame_and_types(stores["variant"], "new-areas")
    try:
        parsed = cql.parse(json.dumps(tree), "cql2-json")
    except cql.FilterError:
        return "unread"
    try:
        kept = list(frame.index[cql.mask(frame, parsed, types=types)])
    except cql.FilterError as error:
        with pytest.raises(cql.FilterError) as refused:
            where(parsed, types)
        assert str(refused.value) == str(error)
        return "refused"
    assert _sql_ids(conn, "variant", "new-areas", where(parsed, types)) == kept
    return "some" if 0 < len(kept) < len(frame) else "none or all"


def test_generated_filters_keep_the_same_rows(pg):
    """400 generated filters: the same rows (or the same refusal); and most are read and
    applied, a quarter at least keeping some rows but not all (so they could tell; the
    layers' many mostly empty columns, e.g. the short names, make the rest trivial)."""
    tally: dict[str, int] = {}

    @settings(max_examples=400, deadline=None, derandomize=True)
    @given(tree=CONDITIONS)
    def check(tree):
        outcome = _same_rows_or_refusal(pg, tree)
        tally[outcome] = tally.get(outcome, 0) + 1

    check()
    assert sum(tally.values()) >= 400
    assert tally.get("some", 0) >= 0.25 * sum(tally.values()), tally
    assert 10 <= tally.get("refused", 0) <= 0.2 * sum(tally.values()), tally


@settings(max_examples=150, deadline=None, derandomize=True)
@given(tree=TREES)
def test_any_tree_gives_the_same_rows_or_the_same_refusal(pg, tree):
    _same_rows_or_refusal(pg, tree)


# --- sortby ----------------------------------------------------------------------------------

SORTS = [
    ("xinqu", "new-areas", "-official_area_km2,id"),
    ("xinqu", "new-areas", "name_en"),
    ("xinqu", "new-areas", "-name_en"),
    ("xinqu", "new-areas", "approved"),
    ("xinqu", "new-areas", "-approved"),
    ("xinqu", "new-areas", "province,-name_en"),
    ("xinqu", "new-areas", "+nearest_port_km"),
    ("xinqu", "new-areas", "-nearest_port_km"),
    ("xinqu", "new-areas", "strategy_regions"),
    ("xinqu", "new-areas", "-strategy_regions,official_area_km2"),
    ("xinqu", "new-areas", "name_zh_hans D"),
    ("xinqu", "sites", "kind,-id"),
    ("xinqu", "sites", "-venue_en"),
    ("xinqu", "corridors", "-via"),
    ("xinqu", "units", "-order"),
    ("xinqu", "units", "document,-chapter_number"),
    ("xinqu", "units", "-chapter_number"),
    ("xinqu", "units", "kind"),
    ("xinqu", "units", "-title_en"),
    ("xinqu", "links", "relation,-place_id"),
    ("xinqu", "links", "-via_place_id"),
    ("xinqu", "links", "-id"),
    ("xinqu", "documents", "-date"),
    ("variant", "new-areas", "approved"),
    ("variant", "new-areas", "-approved"),
    ("variant", "new-areas", "name_en"),
    ("variant", "new-areas", "-name_en,id"),
    ("variant", "new-areas", "-official_area_km2"),
    ("variant", "units", "-flag,order"),
    ("variant", "units", "order"),
    ("variant", "units", "-order"),
]


@pytest.mark.parametrize(("schema", "name", "sortby"), SORTS)
def test_sql_orders_as_apply_sortby(pg, schema, name, sortby):
    conn, stores = pg
    frame, types = _frame_and_types(stores[schema], name)
    expected = [str(i) for i in query.apply_sortby(frame, sortby, types=types).index]
    ordered = _sql_ids(conn, schema, name,
                       order=order_by(cql.sort_order(sortby, types), types, _id_column(name)))
    assert ordered == expected


def test_the_sorts_are_not_trivial(pg):
    """Most sorts above change the table's order (else they could not tell)."""
    conn, stores = pg
    changed = sum(
        [str(i) for i in query.apply_sortby(*_frame_and_types(stores[schema], name)[:1],
                                            sortby, types=_frame_and_types(
                                                stores[schema], name)[1]).index]
        != _sql_ids(conn, schema, name) for schema, name, sortby in SORTS)
    assert changed >= 0.8 * len(SORTS)


def test_filter_and_sortby_together(pg):
    conn, stores = pg
    frame, types = _frame_and_types(stores["variant"], "new-areas")
    parsed = cql.parse("official_area_km2 > 500 OR approved IS NULL")
    expected = query.apply_sortby(frame[cql.mask(frame, parsed, types=types)],
                                  "-approved,name_en", types=types)
    ordered = _sql_ids(conn, "variant", "new-areas", where(parsed, types),
                       order_by(cql.sort_order("-approved,name_en", types), types))
    assert ordered == list(expected.index) and 0 < len(ordered) < len(frame)


def test_order_by_refuses_what_sort_order_refuses(pg):
    _, stores = pg
    types = query.queryables(stores["xinqu"], "new-areas")
    for bad in ([("geometry", True)], [("nothing", False)]):
        with pytest.raises(cql.FilterError):
            order_by(bad, types)


def test_a_point_on_a_boundary_is_decided_alike(pg):
    """A point on a new area's boundary: S_INTERSECTS keeps it, S_WITHIN's mirror
    S_CONTAINS does not, on both stores."""
    _, stores = pg
    frame, _ = _frame_and_types(stores["xinqu"], "new-areas")
    x, y = map(float, shapely.get_coordinates(frame.at["pudong", "geometry"].boundary)[0])
    for text in (f"S_INTERSECTS(geometry, POINT({x!r} {y!r}))",
                 f"S_CONTAINS(geometry, POINT({x!r} {y!r}))",
                 f"S_TOUCHES(geometry, POINT({x!r} {y!r}))"):
        kept, selected = _both(pg, "xinqu", "new-areas", text)
        assert selected == kept
    assert "pudong" in _both(pg, "xinqu", "new-areas",
                             f"S_TOUCHES(geometry, POINT({x!r} {y!r}))")[0]


def test_text_compares_in_code_point_order_whatever_the_collation(pg):
    """Python compares strings by code point; a database or column may collate otherwise
    (ICU puts 'line…' among the L's). A copy of the variant's names in ICU's collation is
    filtered and sorted as the mask and apply_sortby do all the same."""
    conn, stores = pg
    frame, types = _frame_and_types(stores["variant"], "new-areas")
    conn.execute('DROP TABLE IF EXISTS variant.icu')
    conn.execute('CREATE TABLE variant.icu AS SELECT fid, id, name_en COLLATE "und-x-icu" '
                 'AS name_en FROM variant."new-areas"')
    icu = [r[0] for r in conn.execute("SELECT id FROM variant.icu ORDER BY name_en, fid")]
    expected = [str(i) for i in query.apply_sortby(frame, "name_en", types=types).index]
    assert icu != expected  # the collation does differ
    for sortby in ("name_en", "-name_en"):
        assert _sql_ids(conn, "variant", "icu", order=order_by(
            cql.sort_order(sortby, types), types)) == [
            str(i) for i in query.apply_sortby(frame, sortby, types=types).index]
    for text in ("name_en >= 'line'", "name_en < 'a'", "name_en BETWEEN 'L' AND 'm'"):
        parsed = cql.parse(text)
        kept = [str(i) for i in frame.index[cql.mask(frame, parsed, types=types)]]
        assert _sql_ids(conn, "variant", "icu", where(parsed, types)) == kept


def test_columns_qualified_for_a_join(pg):
    """In a query joining a layer to its display copy (the same column names), `table`
    qualifies every column: the same rows and order as the mask and apply_sortby."""
    conn, stores = pg
    frame, types = _frame_and_types(stores["variant"], "new-areas")
    parsed = cql.parse("S_INTERSECTS(geometry, BBOX(100,20,125,35)) AND (name_en LIKE "
                       "'%Area' OR approved IS NULL) AND id <> 'pudong'")
    order = "-approved,name_en"
    statement = sql.SQL(
        'SELECT t.id FROM variant."new-areas" t JOIN variant."new-areas-display" d '
        "ON d.id = t.id WHERE {} ORDER BY {} LIMIT %s").format(
        where(parsed, types, table="t"),
        order_by(cql.sort_order(order, types), types, table="t"))
    expected = query.apply_sortby(frame[cql.mask(frame, parsed, types=types)], order,
                                  types=types)
    found = [r[0] for r in conn.execute(statement, (1000,))]
    assert found == list(expected.index) and 0 < len(found) < len(frame)
    with pytest.raises(psycopg.errors.AmbiguousColumn):
        conn.execute(sql.SQL('SELECT t.id FROM variant."new-areas" t JOIN '
                             'variant."new-areas-display" d ON d.id = t.id WHERE {}').format(
            where(parsed, types)))



@pytest.mark.parametrize("not_", [False, True])
def test_a_case_insensitive_like_tree(pg, not_):
    """pygeofilter's parsers never set LIKE's `nocase`, but a tree may: ILIKE then, as the
    mask's case-insensitive match."""
    conn, stores = pg
    frame, types = _frame_and_types(stores["variant"], "new-areas")
    tree = ast.Like(ast.Attribute("name_en"), "%new.AREA", True, "%", ".", "\\", not_)
    parsed = cql.Filter(tree=tree, text="", lang="cql2-text")
    kept = list(frame.index[cql.mask(frame, parsed, types=types)])
    assert _sql_ids(conn, "variant", "new-areas", where(parsed, types)) == kept
    assert 0 < len(kept) < len(frame)

"""The PostGIS store: the project's own cluster, loading the real built store, the swap,
and the one-line errors.

The session fixture `pg_cluster` (tests/pg_fixtures.py) starts the project's cluster and
stops it at the end if it started it. Loads go into a scratch database `xinqu_test`, so a
developer's `xinqu` database is left alone.
"""

from __future__ import annotations

import math
import shutil
import socket
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pyogrio
import pytest
import shapely
from psycopg import sql

from layers.pgstore import lookups
from layers.pgstore.connection import (
    DEFAULT_URL,
    SCHEMA_VERSION,
    PgStoreError,
    check_schema,
    connect,
)
from layers.pgstore.load import load, store_tables
from layers.pgstore.reader import PgStore
from layers.query import units as query_units
from layers.store import START_UP_TABLES
from layers.textnorm import normalize

pytest_plugins = ["pg_fixtures"]

REPO = Path(__file__).resolve().parent.parent
TEST_DB = "xinqu_test"  # the scratch database of pg_fixtures


@pytest.fixture()
def conn(pg_url):
    with psycopg.connect(pg_url, autocommit=True) as connection:
        yield connection


def _rows(conn, table: str, columns: list[str]) -> list[tuple]:
    return conn.execute(sql.SQL("SELECT {} FROM xinqu.{} ORDER BY fid").format(
        sql.SQL(", ").join(sql.SQL(c) if "(" in c else sql.Identifier(c) for c in columns),
        sql.Identifier(table))).fetchall()


def _same(a, b) -> bool:
    """Equal values, a GeoPackage null (None, or NaN in a float column) equal to NULL."""
    a_null = a is None or (isinstance(a, float) and math.isnan(a))
    b_null = b is None or (isinstance(b, float) and math.isnan(b))
    return a_null == b_null and (a_null or a == b)


# --- loading the real store -----------------------------------------------------------------

def test_every_table_is_loaded_with_its_row_count(loaded, conn, store_path):
    names = [name for name, _ in store_tables(store_path)]
    assert {name for name, _ in pyogrio.list_layers(store_path)} == {*names, *START_UP_TABLES}
    in_db = {r[0] for r in conn.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'xinqu'")}
    assert in_db == {*names, *lookups.TABLES, "unit_search", "schema_version"}
    for name in names:
        expected = pyogrio.read_info(store_path, layer=name)["features"]
        count = conn.execute(sql.SQL("SELECT count(*) FROM xinqu.{}").format(
            sql.Identifier(name))).fetchone()[0]
        assert count == expected == loaded.rows[name], name


def test_every_value_matches_the_geopackage(loaded, conn, store_path):
    """Table by table, column by column, row by row (in GeoPackage order)."""
    for name, _ in store_tables(store_path):
        frame = pyogrio.read_dataframe(store_path, layer=name, fid_as_index=True,
                                       read_geometry=False)
        columns = [str(c) for c in frame.columns]
        rows = _rows(conn, name, ["fid", *columns])
        assert [r[0] for r in rows] == frame.index.tolist(), name
        for i, column in enumerate(columns, start=1):
            ours = [r[i] for r in rows]
            theirs = frame[column].tolist()
            bad = [(a, b) for a, b in zip(ours, theirs, strict=True) if not _same(a, b)]
            assert not bad, f"{name}.{column}: {bad[:3]}"


def test_geometries_are_exactly_the_stores(loaded, conn, store):
    """ST_AsBinary of every full and display geometry equals the store's shapely one,
    coordinate for coordinate, in EPSG:4326."""
    frames = {**store.layers, **{f"{k}-display": v for k, v in store.display.items()},
              "basemap": store.basemap}
    for name, frame in frames.items():
        rows = _rows(conn, name, ["ST_AsBinary(geom)", "ST_SRID(geom)"])
        ours = shapely.from_wkb([r[0] for r in rows])
        assert {r[1] for r in rows} == {4326}, name
        assert len(ours) == len(frame), name
        same = shapely.equals_exact(ours, frame.geometry.values, tolerance=0)
        assert same.all(), f"{name}: {list(frame.index[~same])[:5]}"


def test_ids_names_and_areas(loaded, conn, store):
    pudong = conn.execute('SELECT name_zh_hans, name_en, geometry_area_km2, '
                          'ST_Area(geom::geography) / 1e6 FROM xinqu."new-areas" '
                          "WHERE id = 'pudong'").fetchone()
    row = store.layers["new-areas"].loc["pudong"]
    assert pudong[:3] == (row["name_zh_hans"], row["name_en"], row["geometry_area_km2"])
    # PostGIS's geodesic area agrees with the build's geodesic area.
    assert pudong[3] == pytest.approx(row["geometry_area_km2"], rel=1e-3)
    assert [r[0] for r in conn.execute("SELECT id FROM xinqu.units ORDER BY fid")] == \
        list(store.units.index)
    info = dict(conn.execute("SELECT key, value FROM xinqu.build_info").fetchall())
    assert info == store.build_info
    first = store.units.iloc[0]
    assert conn.execute("SELECT title_zh_hant, text_en FROM xinqu.units WHERE id = %s",
                        (first.name,)).fetchone() == (first["title_zh_hant"], first["text_en"])


def test_indexes(loaded, conn, store_path):
    indexes = {(r[0], r[1]): r[2] for r in conn.execute(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'xinqu'")}
    for name, geometry_type in store_tables(store_path):
        if geometry_type is not None:
            assert "USING gist (geom)" in indexes[(name, f"{name}_geom")]
        if name not in ("mentions", "links", "build_info", "basemap"):
            assert "UNIQUE INDEX" in indexes[(name, f"{name}_id")]
    for table, column in [("links", "unit_id"), ("links", "place_id"),
                          ("mentions", "unit_id")]:
        assert f"btree ({column})" in indexes[(table, f"{table}_{column}")]
    for column in ("search_key", "id_key"):
        assert f"USING gin ({column} gin_trgm_ops)" in indexes[("unit_search",
                                                                 f"unit_search_{column}")]
    for table in ("place_search", "document_search"):
        assert "USING gin (key gin_trgm_ops)" in indexes[(table, f"{table}_index")]
    for table, column in [("unit_search", "search_grams"), ("unit_search", "id_grams"),
                          ("place_search", "grams")]:
        assert f"USING gin ({column})" in indexes[(table, f"{table}_{column}")]


def test_short_needles_go_by_their_grams(loaded, conn, pg_url):
    """A needle of one or two characters (too short for trigrams) is looked up in the gram
    index, and finds exactly the rows LIKE finds: Chinese, Latin, a space, a LIKE
    wildcard taken literally."""
    store = PgStore(pg_url)
    texts = [r[0] for r in conn.execute(
        "SELECT search_key FROM xinqu.unit_search ORDER BY fid LIMIT 40")]
    needles = {"浦东", "新", "e ", "%", "_", "zz", "5g"}
    needles.update(text[i:i + 2] for text in texts[::7] for i in range(0, len(text) - 1, 97))
    found_any = 0
    for needle in sorted(needles):
        pattern = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        expected = [r[0] for r in conn.execute(
            "SELECT id FROM xinqu.unit_search WHERE search_key LIKE %s ORDER BY fid",
            (f"%{pattern}%",))]
        assert store.units_containing(needle) == expected, needle
        found_any += bool(expected)
    assert found_any > 5
    conn.execute("SET enable_seqscan = off")  # the test store is small: show the index serves
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT id FROM xinqu.unit_search t WHERE t.search_grams @> ARRAY['浦东']"))
    assert "unit_search_search_grams" in plan


@pytest.mark.parametrize("q", ["浦東新區", "浦东新区", "Support New", "產業布局"])
def test_unit_search_key_finds_what_unit_search_finds(loaded, conn, store, q):
    """`search_key LIKE %needle%` (needle in the matching form) selects the units that
    layers.query.units(q=…) selects, in any script, through the trigram index."""
    needle = normalize(q, "zh-Hant").casefold()
    found = [r[0] for r in conn.execute(
        "SELECT id FROM xinqu.unit_search WHERE search_key LIKE %s ORDER BY fid",
        (f"%{needle}%",))]
    assert found == [u["id"] for u in query_units(store, q=q)]
    assert found, q
    with conn.transaction():
        conn.execute("SET LOCAL enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.execute(
            "EXPLAIN SELECT id FROM xinqu.unit_search WHERE search_key LIKE %s",
            (f"%{needle}%",)))
    assert "unit_search_search_key" in plan


def test_schema_version(loaded, conn):
    assert check_schema(conn) == SCHEMA_VERSION
    with pytest.raises(PgStoreError, match="no xinqu store in schema 'elsewhere'"):
        check_schema(conn, "elsewhere")
    with conn.transaction(force_rollback=True):
        conn.execute("UPDATE xinqu.schema_version SET version = version - 1")
        with pytest.raises(PgStoreError, match="from an older xinqu") as error:
            check_schema(conn)
    assert "\n" not in str(error.value)
    assert check_schema(conn) == SCHEMA_VERSION


# --- the swap -------------------------------------------------------------------------------

def _variant(store_path: Path, folder: Path, name: str, statements: list[str]) -> Path:
    """A copy of the built store changed by SQL on the GeoPackage (a SQLite file)."""
    path = folder / f"{name}.gpkg"
    shutil.copyfile(store_path, path)
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    return path


COUNTED = ["units", "links", "mentions", "new-areas", "sites-display"]


def _counts(conn) -> tuple:
    return conn.execute(sql.SQL("SELECT {}").format(sql.SQL(", ").join(
        sql.SQL("(SELECT count(*) FROM xinqu.{})").format(sql.Identifier(t))
        for t in COUNTED))).fetchone()


def test_readers_see_one_whole_store_or_the_other(loaded, pg_url, store_path, tmp_path):
    """While loads alternate between the real store and a smaller one, a reader polling
    the tables sees the row counts of one store or the other, never a mix or an error."""
    smaller = _variant(store_path, tmp_path, "smaller", [
        "DELETE FROM links WHERE fid % 2 = 0", "DELETE FROM mentions WHERE fid % 3 = 0",
        "DELETE FROM units WHERE fid > 50"])
    with psycopg.connect(pg_url, autocommit=True) as reader:
        full = _counts(reader)
        load(smaller, pg_url)
        small = _counts(reader)
        assert small != full and small[3:] == full[3:]
        seen: list = []
        stop = threading.Event()

        def poll():
            with psycopg.connect(pg_url, autocommit=True) as c:
                while not stop.is_set():
                    try:
                        seen.append(_counts(c))
                    except psycopg.Error as error:
                        seen.append(error)

        thread = threading.Thread(target=poll)
        thread.start()
        try:
            for path in (store_path, smaller, store_path):
                load(path, pg_url)
        finally:
            stop.set()
            thread.join(timeout=60)
        assert len(seen) > 10
        assert {s if isinstance(s, tuple) else repr(s) for s in seen} == {full, small}
        assert _counts(reader) == full


def test_a_failed_load_leaves_the_previous_store(loaded, pg_url, store_path, tmp_path, conn):
    """A store that fails half-way (a duplicate unit id breaks the unique index after
    several tables went in) changes nothing and leaves no half-built schema."""
    before = _counts(conn)
    loaded_at = conn.execute("SELECT loaded_at FROM xinqu.schema_version").fetchone()
    broken = _variant(store_path, tmp_path, "broken", [
        "UPDATE units SET id = (SELECT id FROM units WHERE fid = 1) WHERE fid = 2"])
    with pytest.raises(PgStoreError, match=r"previous store is unchanged.*units_id") as error:
        load(broken, pg_url)
    assert "\n" not in str(error.value)
    assert _counts(conn) == before
    assert conn.execute("SELECT loaded_at FROM xinqu.schema_version").fetchone() == loaded_at
    schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace")}
    assert "xinqu" in schemas and not {"xinqu_new", "xinqu_old"} & schemas


@pytest.mark.parametrize("table", ["mentions", "layers", "sites-display"])
def test_an_incomplete_store_is_refused(pg_url, store_path, tmp_path, table):
    partial = _variant(store_path, tmp_path, "partial", [
        f'DROP TABLE "{table}"', f"DELETE FROM gpkg_contents WHERE table_name = '{table}'",
        f"DELETE FROM gpkg_geometry_columns WHERE table_name = '{table}'"])
    with pytest.raises(PgStoreError, match=rf"incomplete store, missing tables \['{table}'\]"):
        load(partial, pg_url)


def test_a_file_that_is_not_a_store_is_refused(pg_url, tmp_path):
    text = tmp_path / "notes.gpkg"
    text.write_text("not a GeoPackage")
    with pytest.raises(PgStoreError, match=r"notes\.gpkg: not a GeoPackage"):
        load(text, pg_url)
    with pytest.raises(PgStoreError, match="no built store"):
        load(tmp_path / "missing.gpkg", pg_url)


# --- errors ---------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("url, message", [
    ("mysql://xinqu:xinqu@127.0.0.1/xinqu", "is not a PostgreSQL URL"),
    ("postgresql://xinqu:xinqu@127.0.0.1:{port}", "names no database"),
    ("postgresql://xinqu:xinqu@127.0.0.1:port/xinqu", "port that is not a number"),
    ("postgresql://xinqu:secret@127.0.0.1:{free}/xinqu",
     r"no PostgreSQL server at 127\.0\.0\.1:\d+ \(connection refused\)"),
    ("postgresql://xinqu:secret@127.0.0.1:{port}/xinqu", "refused user 'xinqu': wrong"),
    ("postgresql://xinqu:xinqu@127.0.0.1:{port}/nothing_here", "has no database 'nothing_here'"),
    ("postgresql://xinqu:xinqu@127.0.0.1:{port}/postgres",
     "database 'postgres' at 127.0.0.1:{port} has no PostGIS"),
])
def test_connection_errors_are_one_line(pg_cluster, url, message):
    port = urlsplit(DEFAULT_URL).port  # the project's cluster ($XINQU_PGPORT)
    url = url.replace("{free}", str(_free_port())).replace("{port}", str(port))
    with pytest.raises(PgStoreError, match=message.replace("{port}", str(port))) as error:
        connect(url)
    text = str(error.value)
    assert "\n" not in text and "secret" not in text


def test_connect_defaults_to_xinqu_store_when_it_is_a_postgresql_url(pg_url, monkeypatch):
    monkeypatch.setenv("XINQU_STORE", pg_url)
    with connect() as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == TEST_DB
    monkeypatch.setenv("XINQU_STORE", "data/build/xinqu.gpkg")  # a GeoPackage: not ours
    with connect() as conn:
        assert conn.execute("SELECT current_database()").fetchone()[0] == "xinqu"


def test_cli_loads_and_reports_errors_in_one_line(loaded, pg_url, store_path):
    ok = subprocess.run([sys.executable, "-m", "layers.pgstore", "load", "--store",
                         str(store_path), pg_url], capture_output=True, text=True, cwd=REPO,
                        timeout=300)
    assert ok.returncode == 0, ok.stderr
    assert f"loaded {len(store_tables(store_path))} tables" in ok.stdout
    assert "xinqu:***@" in ok.stdout
    down = f"postgresql://xinqu:xinqu@127.0.0.1:{_free_port()}/xinqu"
    bad = subprocess.run([sys.executable, "-m", "layers.pgstore", "load", "--store",
                          str(store_path), down], capture_output=True, text=True, cwd=REPO,
                         timeout=300)
    assert bad.returncode == 1 and bad.stdout == ""
    lines = [line for line in bad.stderr.splitlines() if not line.startswith("Warning 1:")]
    assert len(lines) == 1 and "no PostgreSQL server at" in lines[0]


# --- the synthetic corpus -------------------------------------------------------------------

SCALED = ("documents", "units", "mentions", "links", "new-areas", "new-areas-display",
          "corridors", "ports", "science-cities", "sites", "sites-display")
FIXED = ("partners", "partners-display", "strategy-regions", "basemap", "layers")


def test_synthetic_corpus_loads_whole_with_every_reference_resolved(pg_url, store_path,
                                                                     tmp_path):
    """benchmarks/synthetic_corpus.py at 3×: three times the corpus's tables, the same
    reference tables, every link and mention pointing at a unit and a place that exist,
    every geometry valid; loaded into a schema of its own beside `xinqu`."""
    out = tmp_path / "corpus-3.gpkg"
    subprocess.run([sys.executable, str(REPO / "benchmarks" / "synthetic_corpus.py"),
                    "--scale", "3", "--out", str(out)], check=True, cwd=REPO,
                   capture_output=True, timeout=600)
    report = load(out, pg_url, schema="corpus")
    base = {name: pyogrio.read_info(store_path, layer=name)["features"]
            for name, _ in store_tables(store_path)}
    assert set(report.rows) == set(base)
    for name in SCALED:
        assert report.rows[name] == 3 * base[name], name
    for name in FIXED:
        assert report.rows[name] == base[name], name
    layer_tables = [n for n in base if f"{n}-display" in base]
    places = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT id FROM corpus.{}").format(sql.Identifier(n)) for n in layer_tables)
    with psycopg.connect(pg_url) as conn:
        for table in ("links", "mentions"):
            dangling = conn.execute(sql.SQL(
                "SELECT count(*) FROM corpus.{t} r WHERE NOT EXISTS (SELECT 1 FROM ({p}) p "
                "WHERE p.id = r.place_id) OR NOT EXISTS (SELECT 1 FROM corpus.units u "
                "WHERE u.id = r.unit_id)").format(t=sql.Identifier(table), p=places)
            ).fetchone()[0]
            assert dangling == 0, table
        for name in layer_tables:
            invalid = conn.execute(sql.SQL(
                "SELECT count(*) FROM corpus.{} WHERE NOT ST_IsValid(geom)").format(
                sql.Identifier(name))).fetchone()[0]
            assert invalid == 0, name
        assert check_schema(conn, "corpus") == SCHEMA_VERSION

"""layers.cql on a small table written for the tests: parsing, every operator, the errors."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from layers import cql

ROWS = gpd.GeoDataFrame(
    {"name": ["Alpha_1", "beta", "Gamma%", ""],
     "area": [10.0, 250.5, np.nan, 1000.0],
     "count": [1, 2, 3, 4],
     "since": ["1992-10-11", "2014-01-01", "2017-04-01", ""],
     "geometry": [shapely.box(0, 0, 1, 1), shapely.Point(5, 5),
                  shapely.LineString([(0, 8), (3, 8)]), shapely.box(10, 10, 11, 11)]},
    index=pd.Index(["a", "b", "c", "d"], name="id"), crs="EPSG:4326")


def kept(text: str, lang: str = "cql2-text") -> list[str]:
    return list(ROWS.index[cql.mask(ROWS, cql.parse(text, lang))])


def test_queryable_types_from_the_columns():
    assert cql.queryables(ROWS) == {"id": "string", "name": "string", "area": "number",
                                    "count": "integer", "since": "date",
                                    "geometry": "geometry"}


@pytest.mark.parametrize(("text", "expected"), [
    ("area > 100", ["b", "d"]),
    ("area <> 10", ["b", "d"]),  # an empty value is neither equal nor unequal
    ("count BETWEEN 2 AND 3", ["b", "c"]),
    ("count NOT BETWEEN 2 AND 3", ["a", "d"]),
    ("since >= DATE('2014-01-01')", ["b", "c"]),
    ("since < TIMESTAMP('2014-01-01T00:00:00Z')", ["a"]),
    ("since = '2014-01-01'", ["b"]),
    ("name LIKE 'Alpha\\_%'", ["a"]),
    ("name LIKE 'Gamma\\%'", ["c"]),
    ("name NOT LIKE '%a%'", ["d"]),
    ("CASEI(name) = 'beta'", ["b"]),
    ("id IN ('a', 'c')", ["a", "c"]),
    ("id NOT IN ('a', 'c')", ["b", "d"]),
    ("area IS NULL", ["c"]),
    ("name IS NULL", ["d"]),
    ("area IS NOT NULL AND NOT (count = 4)", ["a", "b"]),
    ("S_INTERSECTS(geometry, BBOX(0.5, 0.5, 6, 6))", ["a", "b"]),
    ("S_INTERSECTS(geometry, POINT(1 8))", ["c"]),
    ("S_WITHIN(geometry, POLYGON((-1 -1, 20 -1, 20 20, -1 20, -1 -1)))", ["a", "b", "c", "d"]),
    ("S_DISJOINT(geometry, BBOX(0, 0, 1, 1))", ["b", "c", "d"]),
    ("S_CONTAINS(geometry, POINT(0.5 0.5))", ["a"]),
    ("INCLUDE", ["a", "b", "c", "d"]),
    ("EXCLUDE", []),
])
def test_operators(text, expected):
    assert kept(text) == expected


def test_cql2_json_with_a_bbox_in_its_own_order():
    document = {"op": "and", "args": [
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [0.5, 0.5, 6, 6]}]},
        {"op": ">=", "args": [{"property": "since"}, {"date": "2014-01-01"}]}]}
    assert kept(json.dumps(document), "cql2-json") == ["b"]


@pytest.mark.parametrize(("text", "lang", "says"), [
    ("area >", "cql2-text", "cannot read the CQL2 text at character"),
    ("nope = 1", "cql2-text", "unknown property 'nope'"),
    ("area = 'x'", "cql2-text", "area is a number"),
    ("since = 3", "cql2-text", "since is a date"),
    ("geometry = 'x'", "cql2-text", "geometry is a geometry"),
    ("S_INTERSECTS(name, POINT(0 0))", "cql2-text", "does not apply to name"),
    ("area + 1 > 2", "cql2-text", "not supported"),
    ("x", "sql", "filter-lang"),
    ("[1, 2]", "cql2-json", "object"),
    ('{"op": "zz", "args": []}', "cql2-json", "not a CQL2 JSON filter"),
    ("{", "cql2-json", "not JSON"),
    ('{"op": "like", "args": [{"property": "name"}, 5]}', "cql2-json", "pattern"),
    ('{"op": "not", "args": []}', "cql2-json", "not a CQL2 JSON filter"),
    ('{"op": "=", "args": [{"property": "name"}, {"op": "=", "args": [1, 2]}]}', "cql2-json",
     "property"),
    ("", "cql2-text", "empty"),
    ("NOT " * 1500 + "area > 1", "cql2-text", "longer than"),
])
def test_errors_say_what_and_where(text, lang, says):
    with pytest.raises(cql.FilterError) as raised:
        kept(text, lang)
    assert says in str(raised.value)


@pytest.mark.parametrize("depth", [500, 1990])
def test_deep_nesting_is_read_or_refused_never_a_crash(depth):
    text = "(" * depth + "area > 100" + ")" * depth
    try:
        assert kept(text) == ["b", "d"]
    except cql.FilterError as error:
        assert "nested too deeply" in str(error)


def test_sort_order():
    types = cql.queryables(ROWS)
    assert cql.sort_order("-area,+name, id", types) == [("area", False), ("name", True),
                                                        ("id", True)]
    for bad in ("nothing", "geometry", " , "):
        with pytest.raises(cql.FilterError):
            cql.sort_order(bad, types)


def test_types_come_from_the_whole_table_not_the_rows_left():
    only_empty = ROWS.loc[["d"]]  # its `since` is empty: alone it would look like text
    date_filter = cql.parse("since >= DATE('2014-01-01')")
    with pytest.raises(cql.FilterError):
        cql.mask(only_empty, date_filter)
    assert not cql.mask(only_empty, date_filter, types=cql.queryables(ROWS)).any()


OPS = ["and", "or", "not", "=", "<>", "<", "<=", ">", ">=", "like", "between", "in",
       "isNull", "s_intersects", "s_within", "s_contains", "casei", "t_after", "+", "zz"]
VALUES = st.one_of(
    st.sampled_from(["name", "area", "count", "since", "geometry", "id", "nope"]).map(
        lambda name: {"property": name}),
    st.integers(-5, 5), st.floats(allow_nan=False), st.text(max_size=5), st.booleans(),
    st.none(), st.just({"date": "2014-01-01"}), st.just({"bbox": [0, 0, 1, 1]}),
    st.just({"type": "Point", "coordinates": [0.5, 0.5]}))
TREES = st.recursive(VALUES, lambda inner: st.one_of(
    st.builds(lambda op, args: {"op": op, "args": args}, st.sampled_from(OPS),
              st.lists(inner, max_size=3)),
    st.lists(inner, max_size=3)), max_leaves=8)


@settings(max_examples=300, deadline=None, derandomize=True)
@given(tree=TREES)
def test_any_cql2_json_tree_is_applied_or_refused_with_filter_error(tree):
    try:
        rows = cql.mask(ROWS, cql.parse(json.dumps(tree), "cql2-json"))
    except cql.FilterError:
        return
    assert rows.dtype == bool and len(rows) == len(ROWS)

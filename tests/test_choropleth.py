"""Choropleth of the new areas by the units that name them (issue 7), on the built store."""

from __future__ import annotations

from collections import defaultdict

import pandas as pd
import pytest

from layers.choropleth import MODES, choropleth, classify, counts
from layers.query import QueryError
from webapp.app import create_app


@pytest.fixture(scope="module")
def client(store):
    app = create_app({"STORE": store, "TESTING": True})
    if "planner" not in app.blueprints:  # until create_app registers webapp.planner itself
        from webapp import planner

        app.register_blueprint(planner.blueprint)
    return app.test_client()


def counted_by_hand(store, relations) -> dict[str, int]:
    """Distinct units per new area, counted row by row from the links table."""
    units = defaultdict(set)
    for row in store.links.itertuples(index=False):
        if row.relation in relations:
            units[row.place_id].add(row.unit_id)
    return {area: len(units[area]) for area in store.layers["new-areas"].index}


@pytest.mark.parametrize("mode", list(MODES))
def test_counts_equal_an_independent_count_of_the_links(store, mode):
    relations = {"named": {"named"}, "reach": {"named", "via"}}[mode]
    got = counts(store.links, store.layers["new-areas"].index, mode)
    assert got.to_dict() == counted_by_hand(store, relations)
    assert len(got) == 19


def test_reach_counts_at_least_named_and_more_somewhere(store):
    areas = store.layers["new-areas"].index
    named = counts(store.links, areas, "named")
    reach = counts(store.links, areas, "reach")
    assert (reach >= named).all()
    assert (reach > named).any()  # e.g. a measure naming Zhangjiang reaches Pudong


def test_units_for_all_new_areas_are_not_counted(store):
    links = store.links
    general_only = set(links.loc[links["relation"] == "general", "unit_id"]) - set(
        links.loc[links["relation"] != "general", "unit_id"])
    assert general_only, "the store has units addressed to all new areas only"
    chosen = links[links["unit_id"].isin(general_only)]
    assert counts(chosen, store.layers["new-areas"].index, "reach").sum() == 0


@pytest.mark.parametrize("mode", list(MODES))
def test_each_class_is_consistent_with_its_count_and_the_breaks(store, mode):
    result = choropleth(store, mode)
    breaks = result["breaks"]
    assert breaks == sorted(set(breaks)), "breaks strictly ascending"
    assert 1 <= result["k"] == len(breaks) == len(result["classes"]) <= 5
    by_hand = counted_by_hand(store, set(result["relations"]))
    for area in result["areas"]:
        number, count = area["class"], area["count"]
        assert count == by_hand[area["id"]]
        assert count <= breaks[number]
        assert number == 0 or count > breaks[number - 1]
        assert area["color"] == result["classes"][number]["color"]
        assert result["classes"][number]["lower"] <= count <= result["classes"][number]["upper"]
    for entry in result["classes"]:
        members = [a for a in result["areas"] if a["class"] == entry["class"]]
        assert entry["areas"] == len(members) >= 1, "no empty class"
    assert len({entry["color"] for entry in result["classes"]}) == len(result["classes"])
    assert breaks[-1] == max(by_hand.values())


def test_few_distinct_values_make_one_class_each():
    values = pd.Series([0] * 10 + [1] * 5 + [3] * 4, index=[f"a{i}" for i in range(19)])
    result = classify(values, k=5)
    assert result.method == "UniqueValues"
    assert result.breaks == [0, 1, 3]
    assert result.classes.tolist() == [0] * 10 + [1] * 5 + [2] * 4
    assert len(result.colors) == 3


def test_all_equal_counts_make_a_single_class():
    values = pd.Series([2] * 19, index=[f"a{i}" for i in range(19)])
    result = classify(values, k=5)
    assert result.breaks == [2]
    assert set(result.classes) == {0}


def test_natural_breaks_are_deterministic_and_fill_every_class():
    values = pd.Series([0, 0, 0, 1, 1, 2, 2, 3, 4, 5, 5, 5, 6, 8, 9, 12, 20, 21, 22],
                       index=[f"a{i}" for i in range(19)])
    first, second = classify(values, k=5), classify(values, k=5)
    assert first.method == "FisherJenks"
    assert first.breaks == second.breaks
    assert len(first.breaks) == 5
    assert sorted(set(first.classes)) == [0, 1, 2, 3, 4]
    # zeros share the lowest class here, so that class is shaded like the others
    assert first.colors[0] != "#f0f0f0"


def test_unknown_mode_is_a_query_error(store):
    with pytest.raises(QueryError) as error:
        choropleth(store, "everything")
    assert error.value.param == "mode"


def test_endpoint_returns_counts_breaks_classes_and_colours(client, store):
    for mode in MODES:
        response = client.get(f"/choropleth?mode={mode}")
        assert response.status_code == 200
        assert response.content_type.startswith("application/json")
        assert response.get_json() == choropleth(store, mode)
    default = client.get("/choropleth").get_json()
    assert default["mode"] == "named"


def test_endpoint_names_a_bad_mode(client):
    response = client.get("/choropleth?mode=all")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "mode"
    assert "named" in body["description"]

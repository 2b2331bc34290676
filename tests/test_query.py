"""layers.query on the real built store: one meaning per filter, clear errors."""

from __future__ import annotations

import pytest
import shapely

from layers import query

pytest_plugins = ["web_fixtures"]

PORTS = {"port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
         "port-qingdao", "port-guangzhou"}


def test_items_pages_through_a_layer_in_order(web_store):
    first = query.items(web_store, "new-areas", limit=5)
    rest = query.items(web_store, "new-areas", limit=100, offset=5)
    assert first.number_matched == rest.number_matched == 19
    assert first.number_returned == 5 and rest.number_returned == 14
    assert first.ids + rest.ids == list(web_store.layers["new-areas"].index)


def test_bbox_keeps_only_places_whose_geometry_meets_it(web_store):
    # a box round the Yangtze delta
    box = (120.5, 30.5, 122.5, 32.0)
    result = query.items(web_store, "new-areas", bbox=box, limit=100)
    frame = web_store.layers["new-areas"]
    expected = {i for i, g in frame.geometry.items() if g.intersects(shapely.box(*box))}
    assert set(result.ids) == expected
    assert "pudong" in expected and "xiongan" not in expected


def test_bbox_across_the_antimeridian_is_two_boxes(web_store):
    across = query.items(web_store, "partners", bbox=(170, -50, 110, 60), limit=100)
    west = query.items(web_store, "partners", bbox=(-180, -50, 110, 60), limit=100)
    assert set(across.ids) == set(west.ids)


def test_unit_filter_selects_the_places_it_names_or_reaches(web_store):
    assert set(query.items(web_store, "ports", unit="ndrc-2024:13").ids) == PORTS
    via = set(query.items(web_store, "new-areas", unit="ndrc-2024:13").ids)
    links = web_store.links
    expected = set(links.loc[(links.unit_id == "ndrc-2024:13") & (links.relation == "via"),
                             "place_id"])
    assert via == expected and "pudong" in via


def test_document_filter_selects_places_linked_to_any_of_its_units(web_store):
    ids = set(query.items(web_store, "new-areas", document="xixian-2023", limit=100).ids)
    assert {"xixian", "zhoushan", "guian", "liangjiang", "tianfu"} <= ids


@pytest.mark.parametrize(("kwargs", "param"), [
    ({"bbox": (1, 2, 3)}, "bbox"),
    ({"bbox": (0, 60, 10, 50)}, "bbox"),
    ({"bbox": (0, 0, 200, 10)}, "bbox"),
    ({"bbox": (0, 0, float("nan"), 10)}, "bbox"),
    ({"limit": 0}, "limit"),
    ({"limit": 10001}, "limit"),
    ({"limit": -5}, "limit"),
    ({"offset": -1}, "offset"),
    ({"unit": "ndrc-2024:99"}, "unit"),
    ({"document": "nope"}, "document"),
])
def test_bad_parameters_name_themselves(web_store, kwargs, param):
    with pytest.raises(query.QueryError) as caught:
        query.items(web_store, "new-areas", **kwargs)
    assert caught.value.param == param


def test_unknown_ids_raise_not_found(web_store):
    with pytest.raises(query.NotFound):
        query.items(web_store, "no-such-layer")
    with pytest.raises(query.NotFound):
        query.place(web_store, "atlantis")
    with pytest.raises(query.NotFound):
        query.unit(web_store, "ndrc-2024:99")


def test_place_lists_named_via_and_general_units(web_store):
    pudong = query.place(web_store, "pudong")
    assert pudong["layer"] == "new-areas"
    assert pudong["names"]["zh-Hans"] == "上海浦东新区"
    named = [u["id"] for u in pudong["named"]]
    assert "ndrc-2024:5" in named
    via = {u["id"]: [p["id"] for p in u["via"]] for u in pudong["via"]}
    assert via.get("ndrc-2024:13") == ["port-shanghai"]
    links = web_store.links
    general = links.loc[(links.place_id == "pudong") & (links.relation == "general"), "unit_id"]
    assert pudong["general"] and set(pudong["general"]) == set(general)
    assert pudong["attributes"]["extent"] == "exact"


def test_unit_has_texts_mentions_and_places(web_store):
    unit = query.unit(web_store, "ndrc-2024:13")
    assert set(unit["text"]) == {"zh-Hans", "zh-Hant", "en"}
    for m in unit["mentions"]:
        assert unit["text"][m["lang"]][m["start"]:m["end"]] == m["surface"]
    named = {p["id"] for p in unit["places"] if p["relation"] == "named"}
    assert named == PORTS


def test_text_query_matches_across_scripts(web_store):
    simplified = {u["id"] for u in query.units(web_store, q="浦东")}
    traditional = {u["id"] for u in query.units(web_store, q="浦東")}
    assert simplified and simplified == traditional
    english = {u["id"] for u in query.units(web_store, q="pudong")}
    assert "ndrc-2024:5" in simplified & english


def test_units_filter_by_document_and_place(web_store):
    xixian = query.units(web_store, document="xixian-2023")
    assert xixian and all(u["document"] == "xixian-2023" for u in xixian)
    at_pudong = {u["id"] for u in query.units(web_store, place="pudong")}
    assert {"ndrc-2024:5", "ndrc-2024:13"} <= at_pudong
    with pytest.raises(query.QueryError):
        query.units(web_store, q="   ")


def test_a_unit_reaching_a_new_area_through_two_places_lists_both(store):
    """xixian-2023:2.4 names Xi'an West Railway Station and Xi'an Xianyang airport, both
    inside Xixian: the new area's page says it is reached through each."""
    inside = set(query.id_list(store.layers["new-areas"].loc["xixian", "places_inside"]))
    via = {u["id"]: [p["id"] for p in u["via"]] for u in query.place(store, "xixian")["via"]}
    assert set(via["xixian-2023:2.4"]) == {"xian-west-station", "xian-xianyang-airport"}
    assert all(set(places) <= inside for places in via.values())

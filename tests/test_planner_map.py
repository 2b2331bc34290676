"""The map's planner data on the real built store: filters (unit, document, chapter, kind)
through the JSON the map uses, search in any script, strategy regions, spatial facts in the
popup and on the place page, and bad parameters answered 400 naming themselves."""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd
import pytest

from layers import query
from layers.textnorm import normalize

pytest_plugins = ["web_fixtures"]

PORTS = {"port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
         "port-qingdao", "port-guangzhou"}
XIXIAN_REPORT_AREAS = {"zhoushan", "guian", "liangjiang", "tianfu", "xixian"}


def _json(response):
    assert response.mimetype.endswith("json"), response.mimetype
    return json.loads(response.get_data(as_text=True))


def _selection(client, **filters) -> dict:
    response = client.get("/map/selection", query_string=filters)
    assert response.status_code == 200, response.get_data(as_text=True)
    return _json(response)


def _relations(selection: dict) -> dict[str, dict[str, str]]:
    return {layer: {p["id"]: p["relation"] for p in places}
            for layer, places in selection["places"].items()}


def _links(store, units, relations=query.LINKED) -> pd.DataFrame:
    links = store.links
    return links[links.unit_id.isin(list(units)) & links.relation.isin(relations)]


# --- the must-hold filters ----------------------------------------------------------------

def test_unit_13_shows_the_six_ports_and_no_new_area_as_named(client, web_store):
    selection = _selection(client, unit="ndrc-2024:13")
    relations = _relations(selection)
    assert relations["ports"] == {port: "named" for port in PORTS}
    areas = relations.get("new-areas", {})
    assert "named" not in areas.values()
    # the new areas it reaches through a port inside them, as the links table says
    via = set(_links(web_store, ["ndrc-2024:13"], ("via",)).place_id)
    assert set(areas) == via and "pudong" in via
    assert [u["id"] for u in selection["units"]] == ["ndrc-2024:13"]
    assert set(selection["units"][0]["places"]) == PORTS | via
    assert selection["counts"] == {"named": len(PORTS), "via": len(via)}


def test_xixian_report_names_five_new_areas_among_others(client, web_store):
    selection = _selection(client, document="xixian-2023")
    named = {pid for pid, rel in _relations(selection)["new-areas"].items() if rel == "named"}
    assert named >= XIXIAN_REPORT_AREAS
    units = web_store.units.index[web_store.units.document == "xixian-2023"]
    assert named == set(_links(web_store, units, ("named",)).place_id) & set(
        web_store.layers["new-areas"].index)
    assert [u["id"] for u in selection["units"]] == list(units)


@pytest.mark.parametrize("filters", [
    {"unit": "ndrc-2024:13"}, {"unit": "ndrc-2024:14"}, {"document": "xixian-2023"},
    {"document": "ndrc-2024", "chapter": "3"}, {"document": "mofcom-2025", "chapter": "2"},
])
def test_selection_means_what_the_items_filter_means(client, filters):
    """One meaning of "linked" everywhere: the map's selection is the API's items filter."""
    relations = _relations(_selection(client, **filters))
    for layer in query.layer_ids(client.application.extensions["xinqu"].store):
        items = _json(client.get(f"/collections/{layer}/items",
                                 query_string={"f": "json", "limit": 10000, **filters}))
        assert {f["id"] for f in items["features"]} == set(relations.get(layer, {})), layer


def test_selection_units_are_the_units_filter(client):
    for filters in ({"document": "ndrc-2024", "chapter": "2"}, {"kind": "ports"},
                    {"document": "xixian-2023", "kind": "new-areas"}):
        listed = _json(client.get("/units", query_string={"f": "json", **filters}))
        selected = _selection(client, **filters)
        assert [u["id"] for u in listed["units"]] == [u["id"] for u in selected["units"]]


# --- chapter and kind in layers.query ------------------------------------------------------

def test_chapter_filter_keeps_the_units_of_one_chapter(web_store):
    units = web_store.units
    for document in sorted(set(units.document)):
        chapters = query.chapters(web_store, document)
        assert [c["number"] for c in chapters] == sorted(
            set(units.loc[units.document == document, "chapter_number"].dropna().astype(int)))
        covered = []
        for chapter in chapters:
            found = query.units(web_store, document=document, chapter=chapter["number"])
            assert [u["id"] for u in found] == chapter["units"]
            assert {u["chapter_number"] for u in found} == {chapter["number"]}
            covered += chapter["units"]
            linked = query.places_linked(web_store, document=document, chapter=chapter["number"])
            assert linked == set(_links(web_store, chapter["units"]).place_id)
            assert linked <= query.places_linked(web_store, document=document)
        outside = units.index[(units.document == document) & units.chapter_number.isna()]
        assert sorted(covered + list(outside)) == sorted(units.index[units.document == document])


def test_chapter_filter_on_items(web_store):
    ports = query.items(web_store, "ports", document="ndrc-2024", chapter=3)
    assert set(ports.ids) == PORTS  # measure 13 is in chapter three
    assert query.items(web_store, "ports", document="ndrc-2024", chapter=2).ids == []


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"chapter": 3}, "needs a document"),
    ({"document": "ndrc-2024", "chapter": 9}, "no chapter 9"),
    ({"document": "ndrc-2024", "chapter": "three"}, "whole number"),
    ({"document": "ndrc-2024", "chapter": True}, "whole number"),
])
def test_bad_chapters_name_the_parameter(web_store, kwargs, message):
    for call in (lambda: query.items(web_store, "ports", **kwargs),
                 lambda: query.units(web_store, **kwargs),
                 lambda: query.selection(web_store, **kwargs)):
        with pytest.raises(query.QueryError) as caught:
            call()
        assert caught.value.param == "chapter" and message in caught.value.message


def test_kind_filter_lists_the_units_linked_to_a_place_of_that_kind(client, web_store):
    selection = _selection(client, kind="ports")
    assert set(selection["places"]) == {"ports"}
    expected = set(_links(web_store, web_store.units.index)
                   .loc[lambda f: f.place_id.isin(web_store.layers["ports"].index), "unit_id"])
    assert {u["id"] for u in selection["units"]} == expected
    assert "ndrc-2024:13" in expected
    with pytest.raises(query.QueryError) as caught:
        query.units(web_store, kind="volcanoes")
    assert caught.value.param == "kind"


# --- bad parameters -----------------------------------------------------------------------

@pytest.mark.parametrize(("url", "param"), [
    ("/map/selection?unit=ndrc-2024:99", "unit"),
    ("/map/selection?unit=nothing", "unit"),
    ("/map/selection?document=nope", "document"),
    ("/map/selection?chapter=2", "chapter"),
    ("/map/selection?document=ndrc-2024&chapter=12", "chapter"),
    ("/map/selection?document=ndrc-2024&chapter=x", "chapter"),
    ("/map/selection?kind=volcanoes", "kind"),
    ("/map/selection?f=html", "f"),
    ("/map/selection?lang=fr", "lang"),
    ("/map/options?lang=fr", "lang"),
    ("/search", "q"),
    ("/search?q=%20%20", "q"),
    ("/search?q=" + "x" * 201, "q"),
    ("/search?q=%E2%80%94", "q"),
    ("/choropleth?mode=loud", "mode"),
    ("/collections/ports/items?document=ndrc-2024&chapter=0", "chapter"),
    ("/collections/ports/items?chapter=1", "chapter"),
    ("/units?f=json&document=xixian-2023&chapter=4", "chapter"),
    ("/units?f=json&kind=volcanoes", "kind"),
])
def test_bad_parameters_answer_400_naming_them(client, url, param):
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = _json(response)
    assert body["parameter"] == param and param in body["description"]


# --- search -------------------------------------------------------------------------------

def _search(client, q: str) -> dict:
    response = client.get("/search", query_string={"q": q})
    assert response.status_code == 200
    return _json(response)


@pytest.mark.parametrize("q", ["浦东", "浦東", "Pudong", "pudong", "ＰＵＤＯＮＧ"])
def test_search_finds_pudong_in_any_script(client, q):
    found = _search(client, q)
    assert found["places"][0]["id"] == "pudong"
    assert "ndrc-2024:5" in [u["id"] for u in found["units"]]


def test_search_finds_units_by_text_and_kinds_by_description(client, web_store):
    ports = _search(client, "港口")
    assert "ports" in [k["id"] for k in ports["kinds"]]
    expected = {uid for uid, row in web_store.units.iterrows()
                if any("港口" in normalize(row[f"text_{s}"], lang)
                       for s, lang in (("zh_hans", "zh-Hans"), ("zh_hant", "zh-Hant"))
                       if isinstance(row[f"text_{s}"], str))}
    assert expected and {u["id"] for u in ports["units"]} == expected
    lingang = _search(client, "Lingang")
    assert "ndrc-2024:13" in [u["id"] for u in lingang["units"]]
    assert _search(client, "ndrc-2024:13")["units"][0]["id"] == "ndrc-2024:13"


def test_search_folds_apostrophes_and_finds_aliases_the_documents_use(client, web_store):
    keys = [[p["id"] for p in _search(client, q)["places"]] for q in ("Gui'an", "Gui’an", "guian")]
    assert keys[0] == keys[1] == keys[2] and keys[0][0] == "guian"
    # a form only the documents use (a mention's surface, not a gazetteer name) finds it too
    mentions = web_store.mentions
    names = {n for layer in web_store.layers.values()
             for col in ("name_zh_hans", "name_zh_hant", "name_en") for n in layer[col]}
    alias = next(m for m in mentions.itertuples() if m.surface not in names
                 and len(m.surface) >= 3 and m.place_id == "zhoushan")
    assert "zhoushan" in [p["id"] for p in _search(client, alias.surface)["places"]]


def test_search_results_carry_names_for_the_interface(client):
    found = _search(client, "长三角")
    region = found["places"][0]
    assert region["id"] == "yangtze-river-delta" and region["layer"] == "strategy-regions"
    assert region["names"]["en"] == "Yangtze River Delta"
    assert found["documents"] == [] and _search(client, "xixian-2023")["documents"][0][
        "id"] == "xixian-2023"


def test_search_cuts_documents_to_the_limit_and_counts_them(client, web_store):
    """Documents, like places and units, come at most `limit` long with the number matched
    (a corpus of a thousand copies of a plan would otherwise list them all)."""
    every = query.search(web_store, "20", limit=50)  # every document's id holds its year
    assert every["documentsMatched"] == len(every["documents"]) == len(web_store.documents) > 2
    two = query.search(web_store, "20", limit=2)
    assert two["documentsMatched"] == every["documentsMatched"]
    assert [d["id"] for d in two["documents"]] == [d["id"] for d in every["documents"]][:2]
    assert _search(client, "xixian")["documentsMatched"] == 1


# --- options: the controls and the strategy regions --------------------------------------

def test_options_list_documents_chapters_units_kinds_and_regions(client, web_store):
    options = _json(client.get("/map/options?lang=en"))
    assert [d["id"] for d in options["documents"]] == list(web_store.documents.index)
    assert [u["id"] for u in options["units"]] == list(web_store.units.index)
    assert [k["id"] for k in options["kinds"]] == query.layer_ids(web_store)
    assert options["modes"] == ["named", "reach"]
    areas = web_store.layers["new-areas"]
    regions = {r["id"]: r for r in options["regions"]}
    assert set(regions) == set(web_store.layers["strategy-regions"].index)
    for region_id, region in regions.items():
        inside = {a for a, ids in areas["strategy_regions"].items()
                  if region_id in query.id_list(ids)}
        assert {a["id"] for a in region["inside"]} == inside
        assert all(a["names"]["zh-Hans"] for a in region["inside"])
        named = _links(web_store, web_store.units.index)
        assert region["units"] == [u for u in web_store.units.index
                                   if u in set(named.loc[named.place_id == region_id, "unit_id"])]
    assert "pudong" in {a["id"] for a in regions["yangtze-river-delta"]["inside"]}
    assert "nansha" in {a["id"] for a in regions["greater-bay-area"]["inside"]}


def test_openapi_lists_the_planner_endpoints(client):
    paths = _json(client.get("/openapi?f=json"))
    assert {"/map/options", "/map/selection", "/search"} <= set(paths["paths"])
    selection = paths["paths"]["/map/selection"]["get"]
    assert {"unit", "document", "chapter", "kind"} <= {p["name"] for p in selection["parameters"]}


# --- spatial facts in the popup and on the place page -----------------------------------

def _facts_html(html: str) -> dict[str, list[str]]:
    """dd class -> the place ids its links point to."""
    out = {}
    for cls, body in re.findall(r'<dd class="([\w-]+)">(.*?)</dd>', html, re.S):
        out[cls] = re.findall(r'data-place="([^"]+)"', body)
    return out


def test_every_new_area_popup_shows_its_spatial_facts(client, web_store):
    areas = web_store.layers["new-areas"]
    for area_id, row in areas.iterrows():
        html = client.get(f"/places/{area_id}/popup?lang=en").get_data(as_text=True)
        facts = _facts_html(html)
        for column, cls in (("strategy_regions", "strategy-regions"),
                            ("strategy_regions_touching", "strategy-regions-touching"),
                            ("corridors", "corridors"), ("corridors_via", "corridors-via"),
                            ("places_inside", "places-inside")):
            assert facts.get(cls, []) == query.id_list(row[column]), (area_id, column)
        assert facts["nearest-port"] == [row["nearest_port"]]
        km = float(re.search(r'data-km="([\d.]+)"', html).group(1))
        assert km == pytest.approx(row["nearest_port_km"], abs=0.001)
        for pid in (pid for ids in facts.values() for pid in ids):
            assert f'href="/places/{pid}?lang=en"' in html


def test_facts_name_places_in_the_interface_language(client):
    zh = client.get("/places/pudong?lang=zh").get_data(as_text=True)
    en = client.get("/places/pudong?lang=en").get_data(as_text=True)
    assert ">长三角</a>" in zh and ">上海港</a>" in zh and "位于新区内" in zh
    assert ">Yangtze River Delta</a>" in en and ">Shanghai Port</a>" in en
    lanzhou = client.get("/places/lanzhou/popup?lang=en").get_data(as_text=True)
    assert "from the area&#39;s core point" in lanzhou or "from the area's core point" in lanzhou
    assert client.get("/places/port-shanghai/popup?lang=en").get_data(
        as_text=True).count("spatial-facts") == 0


def test_place_json_resolves_the_facts(client, web_store):
    data = _json(client.get("/places/zhoushan?f=json"))
    facts = data["spatial_facts"]
    assert facts["nearest_port"]["id"] == web_store.layers["new-areas"].at["zhoushan",
                                                                          "nearest_port"]
    assert facts["nearest_port"]["names"]["en"]
    assert [p["id"] for p in facts["places_inside"]] == query.id_list(
        web_store.layers["new-areas"].at["zhoushan", "places_inside"])


@pytest.fixture(scope="module")
def hostile_client(gpkg_store, as_browser):
    """The app with a strategy region's and a unit's names made hostile."""
    from webapp import create_app

    regions = gpkg_store.layers["strategy-regions"].copy()
    regions.loc["yangtze-river-delta", "name_en"] = '<img src=x onerror="alert(1)">YRD'
    units = gpkg_store.units.copy()
    units.loc["ndrc-2024:13", "title_en"] = '<script>alert("t")</script>'
    store = dataclasses.replace(gpkg_store, units=units,
                                layers={**gpkg_store.layers, "strategy-regions": regions})
    return as_browser(create_app({"STORE": store, "TESTING": True}))


@pytest.mark.parametrize("url", ["/places/pudong/popup?lang=en", "/places/pudong?lang=en"])
def test_hostile_names_in_facts_are_escaped(hostile_client, url):
    html = hostile_client.get(url).get_data(as_text=True)
    assert "<img src=x" not in html and "&lt;img src=x" in html


def test_json_carries_hostile_text_as_data_only(hostile_client):
    body = hostile_client.get("/map/selection?unit=ndrc-2024:13").get_data(as_text=True)
    assert json.loads(body)["units"][0]["title"]["en"] == '<script>alert("t")</script>'
    assert hostile_client.get("/map/selection?unit=ndrc-2024:13").mimetype == "application/json"

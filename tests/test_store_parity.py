"""The same request gives the same answer from the GeoPackage store and the PostGIS store.

One app reads the tests' built GeoPackage, the other the same store loaded into PostGIS
(layers.pgstore.reader, every question answered by SQL). Each request below, with the
filters, paging, sorting, CQL2 filters, search and errors the API and pages take, is asked
of both; the JSON bodies must be equal (apart from `timeStamp`, when each app started),
and every other body byte for byte.
"""

from __future__ import annotations

import json

import pytest

from layers import query
from layers.query.search import search_key

pytest_plugins = ["web_fixtures", "pg_fixtures"]


@pytest.fixture(scope="module")
def pg_app(pg_store):
    from webapp import create_app

    return create_app({"STORE": pg_store, "TESTING": True})


@pytest.fixture(scope="module")
def ids(web_store):
    """Ids of the real store to ask about: a unit with a chapter per document, the first
    place of every layer (in layer order)."""
    chapters = query.chapters(web_store)
    first = {}
    for chapter in chapters:
        first.setdefault(chapter["document"], chapter)
    return {"chapters": list(first.values()),
            "units": [c["units"][0] for c in first.values()],
            "places": [query.items(web_store, layer, limit=1).ids[0]
                       for layer in query.layer_ids(web_store)]}


def _urls(ids) -> list[str]:
    urls = ["/collections", "/conformance", "/openapi?f=json", "/documents?f=json",
            "/units?f=json", "/units?f=json&q=浦東", "/units?f=json&kind=ports",
            "/search?f=json&q=浦东", "/search?f=json&q=port", "/search?f=json&q=ndrc",
            "/search?f=json&q=一带一路", "/new-areas?f=json", "/map/options?f=json"]
    for layer in ("new-areas", "sites", "ports", "corridors", "partners"):
        base = f"/collections/{layer}"
        urls += [base, f"{base}/queryables", f"{base}/items", f"{base}/items?display=1",
                 f"{base}/items?limit=3&offset=2", f"{base}/items?offset=500",
                 f"{base}/items?bbox=110,20,125,35", f"{base}/items?bbox=170,-10,-170,10",
                 f"{base}/items?sortby=-name_en", f"{base}/items?sortby=name_zh_hans,-id",
                 f"{base}/items?properties=name_en,units",
                 f"{base}/items?crs=http://www.opengis.net/def/crs/EPSG/0/4326"]
    for chapter in ids["chapters"]:
        doc, number = chapter["document"], chapter["number"]
        urls += [f"/collections/new-areas/items?document={doc}",
                 f"/collections/new-areas/items?document={doc}&chapter={number}",
                 f"/units?f=json&document={doc}&chapter={number}",
                 f"/map/selection?f=json&document={doc}"]
    for unit in ids["units"]:
        urls += [f"/units/{unit}?f=json", f"/collections/sites/items?unit={unit}"]
    for place in ids["places"]:
        urls += [f"/places/{place}?f=json", f"/units?f=json&place={place}"]
    for layer, place in zip(("partners", "strategy-regions", "new-areas"), ids["places"],
                            strict=False):
        urls.append(f"/collections/{layer}/items/{place}")
    return urls


BAD = ["/collections/nowhere/items", "/collections/new-areas/items/nowhere",
       "/collections/new-areas/items?unit=nowhere", "/collections/new-areas/items?chapter=3",
       "/collections/new-areas/items?document=ndrc-2024&chapter=999",
       "/collections/new-areas/items?bbox=1,2,3", "/collections/new-areas/items?limit=0",
       "/collections/new-areas/items?sortby=nothing", "/units/nowhere?f=json",
       "/places/nowhere?f=json", "/search?f=json&q=", "/units?f=json&kind=nothing"]


def _body(response):
    if response.mimetype.endswith("json"):
        data = json.loads(response.get_data(as_text=True))
        if isinstance(data, dict):
            data.pop("timeStamp", None)
        return data
    return response.get_data()


def _compare(app, pg_app, url: str):
    ours = app.test_client().get(url)
    theirs = pg_app.test_client().get(url)
    assert theirs.status_code == ours.status_code, url
    assert _body(theirs) == _body(ours), url
    return ours


def test_every_question_has_the_same_answer(app, pg_app, ids):
    urls = _urls(ids)
    for url in urls:
        response = _compare(app, pg_app, url)
        assert response.status_code == 200, url
    assert len(urls) > 80


@pytest.mark.parametrize("url", BAD)
def test_bad_requests_get_the_same_error(app, pg_app, url):
    response = _compare(app, pg_app, url)
    assert 400 <= response.status_code < 500


@pytest.mark.parametrize("cql", [
    "name_en LIKE '%Pudong%'", "official_area_km2 > 1000", "province = '上海市'",
    "approved >= DATE('2010-01-01')", "NOT (official_area_km2 < 500)",
    "S_INTERSECTS(geometry, BBOX(110, 20, 125, 35))", "name_en = 'O''Brien; DROP TABLE x'",
])
def test_cql2_filters_select_the_same_places(app, pg_app, cql):
    response = _compare(app, pg_app, f"/collections/new-areas/items?filter={cql}")
    assert response.status_code in (200, 400)


def test_exports_and_pages_are_the_same_bytes(app, pg_app, ids):
    doc = ids["chapters"][0]["document"]
    for url in ["/export/new-areas.geojson", "/export/ports.csv",
                f"/export/new-areas.geojson?document={doc}", "/?lang=en", "/places/pudong",
                f"/units/{ids['units'][0]}", "/new-areas", "/about", "/basemap",
                "/compare?places=pudong,binhai&f=json"]:
        response = _compare(app, pg_app, url)
        assert response.status_code == 200, url


def _needles(store) -> list[str]:
    """Search texts that match many keys at once: the first one and two characters of every
    place's and document's names in every language, and every document id's first letters
    (so that ranking, ties and the limit decide what comes back)."""
    texts = [name for ref in query.place_refs(store, _all_places(store))
             for name in ref["names"].values() if name]
    texts += [t for d in query.documents(store) for t in (d["id"], *d["title"].values()) if t]
    pieces = {t[i:i + n] for t in texts for n in (1, 2) for i in (0, 1)}
    return sorted(p for p in pieces if search_key(p))


def _all_places(store) -> list[str]:
    return [p for layer in query.layer_ids(store) for p in query.items(store, layer).ids]


def test_search_ranks_and_counts_alike(gpkg_store, pg_store):
    needles = _needles(gpkg_store)
    assert len(needles) > 100
    several = 0
    for needle in needles:
        mine, theirs = (query.search(s, needle, limit=3) for s in (gpkg_store, pg_store))
        assert mine == theirs, needle
        several += mine["placesMatched"] > 3 and mine["unitsMatched"] > 3
    assert several > 10  # the limit cut long lists, so their order was compared


def test_units_read_together_are_each_read_alone(gpkg_store, pg_store):
    # query.units_in_full reads many units' rows, links and places at once (a document's
    # page, a page of /units): each must be what it is read alone, with its own places,
    # relations and general flag, on both stores; without mentions it lacks only them.
    for store in (gpkg_store, pg_store):
        ids = [u["id"] for u in query.units(store)]
        together = query.units_in_full(store, ids)
        assert together == [query.units_in_full(store, [id])[0] for id in ids]
        assert sum(bool(u["places"]) for u in together) > 20
        assert any(u["general"] for u in together) and not all(u["general"] for u in together)
        assert len({p["relation"] for u in together for p in u["places"]}) > 1
        bare = query.units_in_full(store, ids[::-1], mentions=False)
        assert bare == [{k: v for k, v in u.items() if k != "mentions"} for u in together[::-1]]
    with pytest.raises(query.NotFound):
        query.units_in_full(gpkg_store, [ids[0], "no-such-unit"])

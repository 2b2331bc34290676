"""OGC API - Features Part 2 (CRS) and Part 3 (queryables, CQL2 filters, sortby,
properties) in-process, checked against the built store and pyproj, and the request-free
core called without Flask."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pytest
import shapely
from pyproj import Transformer

from webapp import core

pytest_plugins = ["web_fixtures"]

EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def _items(client, layer="new-areas", **args):
    query = "&".join(f"{k.replace('_', '-')}={quote(str(v))}" for k, v in args.items())
    return client.get(f"/collections/{layer}/items?f=json&limit=1000&{query}")


def _ids(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [f["id"] for f in response.get_json()["features"]]


# --- conformance, queryables ---------------------------------------------------------------

def test_conformance_declares_crs_filter_and_cql2(program_client):
    classes = program_client.get("/conformance").get_json()["conformsTo"]
    for needed in ("ogcapi-features-2/1.0/conf/crs", "ogcapi-features-3/1.0/conf/filter",
                   "ogcapi-features-3/1.0/conf/features-filter",
                   "ogcapi-features-3/1.0/conf/queryables", "cql2/1.0/conf/cql2-text",
                   "cql2/1.0/conf/cql2-json", "cql2/1.0/conf/basic-spatial-functions"):
        assert any(c.endswith(needed) for c in classes), needed


def test_queryables_give_every_column_with_its_type(program_client, web_store):
    response = program_client.get("/collections/new-areas/queryables")
    assert response.status_code == 200 and response.mimetype == "application/schema+json"
    schema = response.get_json()
    properties = schema["properties"]
    assert set(properties) == {"id", *map(str, web_store.layers["new-areas"].columns)}
    assert properties["approved"] == {"title": "approved", "type": "string", "format": "date"}
    assert properties["official_area_km2"]["type"] == "number"
    assert properties["name_zh_hans"]["type"] == "string"
    assert properties["geometry"]["x-ogc-role"] == "primary-geometry"
    assert properties["geometry"]["format"] == "geometry-polygon-or-multipolygon"
    ports = program_client.get("/collections/ports/queryables").get_json()
    assert ports["properties"]["geometry"]["format"] == "geometry-point-or-multipoint"
    links = program_client.get("/collections/new-areas").get_json()["links"]
    assert any(link["rel"].endswith("/queryables") for link in links)


def test_unknown_collection_queryables_is_404(program_client):
    assert program_client.get("/collections/nowhere/queryables").status_code == 404


# --- filters --------------------------------------------------------------------------------

def test_date_and_number_comparisons(program_client, web_store):
    frame = web_store.layers["new-areas"]
    since = _ids(_items(program_client, filter="approved >= DATE('2014-01-01')"))
    assert since == [i for i in frame.index if frame.at[i, "approved"] >= "2014-01-01"]
    assert 0 < len(since) < 19
    big = _ids(_items(program_client, filter="official_area_km2 > 1000"))
    assert big == [i for i in frame.index if frame.at[i, "official_area_km2"] > 1000]
    both = _ids(_items(program_client, filter="official_area_km2 > 1000 AND "
                                              "approved >= DATE('2014-01-01')"))
    assert both == [i for i in big if i in since]
    either = _ids(_items(program_client, filter="NOT (official_area_km2 > 1000) OR "
                                                "approved >= DATE('2014-01-01')"))
    assert set(either) == set(frame.index) - (set(big) - set(since))


def test_text_like_in_and_casei(program_client, web_store):
    frame = web_store.layers["new-areas"]
    assert _ids(_items(program_client, filter="id IN ('xiongan','pudong')")) == \
        [i for i in frame.index if i in ("xiongan", "pudong")]
    like = _ids(_items(program_client, filter="name_zh_hans LIKE '%浦东%'"))
    assert like == ["pudong"]
    casei = _ids(_items(program_client,
                        filter="CASEI(name_en) = CASEI('SHANGHAI PUDONG NEW AREA')"))
    assert casei == [i for i in frame.index
                     if frame.at[i, "name_en"].lower() == "shanghai pudong new area"]
    assert casei == ["pudong"]


def test_cql2_json_means_the_same_as_text(program_client):
    text = _ids(_items(program_client, filter="official_area_km2 > 1000 AND "
                                              "approved >= DATE('2014-01-01')"))
    document = {"op": "and", "args": [
        {"op": ">", "args": [{"property": "official_area_km2"}, 1000]},
        {"op": ">=", "args": [{"property": "approved"}, {"date": "2014-01-01"}]}]}
    assert _ids(_items(program_client, filter=json.dumps(document),
                       filter_lang="cql2-json")) == text


def test_s_intersects_agrees_with_bbox(program_client, web_store):
    box = "120.5,30.5,122.5,32"
    by_bbox = _ids(_items(program_client, bbox=box))
    assert _ids(_items(program_client, filter=f"S_INTERSECTS(geometry, BBOX({box}))")) == by_bbox
    document = {"op": "s_intersects", "args": [{"property": "geometry"},
                                               {"bbox": [120.5, 30.5, 122.5, 32]}]}
    assert _ids(_items(program_client, filter=json.dumps(document),
                       filter_lang="cql2-json")) == by_bbox
    point = shapely.Point(121.5, 31.2)  # in Pudong
    hits = _ids(_items(program_client, filter="S_INTERSECTS(geometry, POINT(121.5 31.2))"))
    assert hits == [i for i, g in web_store.layers["new-areas"].geometry.items()
                    if g.intersects(point)] == ["pudong"]


def test_filter_combines_with_the_unit_filter_and_paging(program_client):
    linked = _ids(_items(program_client, layer="ports", unit="ndrc-2024:13"))
    south = _ids(_items(program_client, layer="ports", unit="ndrc-2024:13",
                        filter="S_INTERSECTS(geometry, BBOX(100,0,140,30))"))
    assert set(south) < set(linked)
    page = program_client.get("/collections/new-areas/items?filter=official_area_km2>1000"
                              "&limit=2").get_json()
    assert page["numberReturned"] == 2 and page["numberMatched"] > 2
    nxt = next(link["href"] for link in page["links"] if link["rel"] == "next")
    assert "filter=official_area_km2" in nxt


@pytest.mark.parametrize(("filter", "lang", "says"), [
    ("official_area_km2 >> 1", None, "character 20"),
    ("area > 1", None, "'area'"),
    ("official_area_km2 > 'big'", None, "number"),
    ("approved > 2014", None, "date"),
    ("name_en", None, "character"),
    ("S_INTERSECTS(name_en, POINT(1 1))", None, "name_en"),
    ('{"op": ">", "args": [{"property": "nope"}, 1]}', "cql2-json", "'nope'"),
    ('{"op": ">", "args": ', "cql2-json", "JSON"),
    ("__import__('os').system('true')", None, "character"),
    ("(" * 3000 + "official_area_km2 > 1" + ")" * 3000, None, "4000"),
])
def test_bad_filters_are_400_saying_where(program_client, filter, lang, says):
    response = _items(program_client, filter=filter, **({"filter_lang": lang} if lang else {}))
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "filter" and says in body["description"]


def test_bad_filter_lang_sortby_and_properties_are_400(program_client):
    for args, name in [({"filter": "id = 'x'", "filter_lang": "sql"}, "filter-lang"),
                       ({"sortby": "-nothing"}, "sortby"), ({"sortby": "geometry"}, "sortby"),
                       ({"filter": "id = 'x'", "filter_crs": EPSG.format(4490)}, "filter-crs"),
                       ({"properties": "name_en,secret"}, "properties")]:
        response = _items(program_client, **args)
        assert response.status_code == 400 and response.get_json()["parameter"] == name


def test_sortby_orders_and_properties_select(program_client, web_store):
    frame = web_store.layers["new-areas"]
    ids = _ids(_items(program_client, sortby="-official_area_km2,id"))
    areas = [frame.at[i, "official_area_km2"] for i in ids]
    present = [a for a in areas if not np.isnan(a)]
    assert present == sorted(present, reverse=True) and len(ids) == 19
    assert all(np.isnan(a) for a in areas[len(present):])  # empty values last
    named = _ids(_items(program_client, sortby="name_en"))
    assert named == sorted(frame.index, key=lambda i: frame.at[i, "name_en"])
    page = _items(program_client, properties="name_zh_hans,official_area_km2").get_json()
    assert all(set(f["properties"]) == {"name_zh_hans", "official_area_km2"}
               for f in page["features"])
    one = program_client.get("/collections/new-areas/items/pudong?properties=units").get_json()
    assert set(one["properties"]) == {"units"} and one["id"] == "pudong"


# --- CRS --------------------------------------------------------------------------------------

def test_collections_declare_their_crs(program_client):
    listed = {c["id"]: c for c in program_client.get("/collections").get_json()["collections"]}
    areas = listed["new-areas"]
    assert areas["storageCrs"] == CRS84 and areas["crs"][0] == CRS84
    for code in (4326, 4490, 3857, 4528, 4499):  # Shanghai's 3° and 6° zones
        assert EPSG.format(code) in areas["crs"]
    assert EPSG.format(4513) not in areas["crs"]  # zone 25 (75°E) is far from every new area
    assert not any(EPSG.format(c) in listed["partners"]["crs"] for c in range(4491, 4534))


def _coordinates(feature) -> np.ndarray:
    return shapely.get_coordinates(shapely.geometry.shape(feature["geometry"]))


@pytest.mark.parametrize("code", [4490, 4326, 4528, 4499, 3857])
def test_coordinates_agree_with_pyproj_within_a_centimetre(program_client, code):
    plain = program_client.get("/collections/new-areas/items/pudong").get_json()
    response = program_client.get(f"/collections/new-areas/items/pudong?crs={EPSG.format(code)}")
    assert response.status_code == 200
    assert response.headers["Content-Crs"] == f"<{EPSG.format(code)}>"
    moved = _coordinates(response.get_json())
    lonlat = _coordinates(plain)
    # pyproj in the CRS's own axis order (always_xy=False): lat/lon, northing/easting.
    first, second = Transformer.from_crs("OGC:CRS84", f"EPSG:{code}").transform(
        lonlat[:, 0], lonlat[:, 1])
    expected = np.column_stack([first, second])
    if code in (4490, 4326):
        assert np.allclose(moved[:, 0], lonlat[:, 1])  # latitude first
        tolerance = 0.01 / 111_320  # 1 cm in degrees
    else:
        tolerance = 0.01
    assert np.abs(moved - expected).max() <= tolerance
    if code == 4528:  # zone 40: northing first, easting with the zone number in front
        assert moved[:, 0].min() > 3.4e6 and 40.3e6 < moved[:, 1].min() < 40.7e6


def test_items_in_a_crs_and_default_content_crs(program_client):
    page = _items(program_client, crs=EPSG.format(4490), limit=3)
    assert page.status_code == 200 and page.headers["Content-Crs"] == f"<{EPSG.format(4490)}>"
    assert _items(program_client).headers["Content-Crs"] == f"<{CRS84}>"
    self_link = next(link["href"] for link in page.get_json()["links"] if link["rel"] == "self")
    assert "crs=http" in self_link


@pytest.mark.parametrize(("name", "value"), [
    ("crs", EPSG.format(4513)), ("crs", "EPSG:99999"), ("crs", "not a crs"),
    ("bbox-crs", EPSG.format(2000)), ("crs", EPSG.format(4528))])
def test_crs_not_offered_is_400_naming_the_parameter(program_client, name, value):
    layer = "partners" if value == EPSG.format(4528) else "new-areas"
    response = program_client.get(f"/collections/{layer}/items?{name}={quote(value)}&bbox=1,1,2,2")
    assert response.status_code == 400
    assert response.get_json()["parameter"] == name


def test_bbox_crs_in_its_own_axis_order(program_client):
    plain = _ids(_items(program_client, bbox="120.5,30.5,122.5,32"))
    latlon = _ids(_items(program_client, bbox="30.5,120.5,32,122.5", bbox_crs=EPSG.format(4326)))
    assert latlon == plain
    to_gk = Transformer.from_crs("OGC:CRS84", "EPSG:4528", always_xy=True)
    east, north = to_gk.transform([121.4, 121.6], [31.1, 31.3])
    gk = _ids(_items(program_client, bbox=f"{north[0]},{east[0]},{north[1]},{east[1]}",
                     bbox_crs=EPSG.format(4528)))
    assert gk == ["pudong"]


def test_display_copy_only_in_crs84(program_client):
    response = _items(program_client, display=1, crs=EPSG.format(4490))
    assert response.status_code == 400 and response.get_json()["parameter"] == "display"


# --- the request-free core and the one error renderer ------------------------------------------

def test_core_answers_without_flask(app):
    service = app.extensions["xinqu"]
    answer = core.items(service, core.ApiRequest(
        args={"filter": "official_area_km2 > 1000", "crs": EPSG.format(4490)},
        headers={"Accept": "*/*"}, base="http://example.test"), "new-areas")
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/geo+json"
    assert answer.headers["Content-Crs"] == f"<{EPSG.format(4490)}>"
    page = json.loads(answer.body)
    assert page["numberMatched"] == len(page["features"]) > 0
    assert page["links"][0]["href"].startswith("http://example.test/collections/new-areas/items")
    html = core.conformance(service, core.ApiRequest(headers={"Accept": "text/html"}))
    assert html.format == "html" and "conformsTo" in html.context["document"]
    with pytest.raises(ValueError) as raised:  # the core raises, the one renderer answers
        core.items(service, core.ApiRequest(args={"limit": "0"}), "new-areas")
    failed = core.answer_error(raised.value)
    assert failed.status == 400 and json.loads(failed.body)["parameter"] == "limit"


def test_one_error_body_for_the_api_and_the_exports(program_client):
    api = program_client.get("/collections/new-areas/items?limit=0").get_json()
    export = program_client.get("/export/new-areas.gpkg?limit=0&bbox=x").get_json()
    assert set(api) == {"code", "description", "status", "parameter"}
    assert set(export) == {"code", "description", "status", "parameter"}
    missing = program_client.get("/export/nowhere.gpkg")
    assert missing.status_code == 404 and {"code", "description", "status"} <= set(
        missing.get_json())


def test_blueprints_do_not_import_the_app_factory():
    """The blueprints read the service from webapp.service: importing them does not load
    webapp.app (which imports them), so there is no import cycle to hide."""
    code = ("import sys, webapp.views.ogc, webapp.views.pages, webapp.exports, "
            "webapp.planner, webapp.planner_map, webapp.core; "
            "print('webapp.app' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"

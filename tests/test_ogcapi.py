"""OGC API - Features: the documents in-process, and GDAL's own client against `xinqu serve`."""

from __future__ import annotations

import json
import subprocess
import urllib.request

import pyogrio
import pytest
from openapi_spec_validator import validate

pytest_plugins = ["web_fixtures"]

LAYERS = ["partners", "strategy-regions", "new-areas", "corridors", "ports", "science-cities",
          "sites"]
# The attribute tables served as collections without geometry (data/tables.yaml).
TABLES = ["units", "links", "documents"]


def _json(response):
    return json.loads(response.get_data(as_text=True))


def _rels(document) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for link in document["links"]:
        out.setdefault(link["rel"], []).append(link)
    return out


def test_landing_page_links_the_required_resources(client):
    response = client.get("/?f=json")
    assert response.mimetype == "application/json"
    rels = _rels(_json(response))
    for rel in ("self", "service-desc", "service-doc", "conformance", "data"):
        assert rel in rels, rel
    assert rels["service-desc"][0]["type"].startswith("application/vnd.oai.openapi+json")


def test_landing_page_by_accept_header(client):
    response = client.get("/", headers={"Accept": "application/json"})
    assert response.mimetype == "application/json" and "links" in _json(response)
    assert client.get("/", headers={"Accept": "text/html"}).mimetype == "text/html"


def test_conformance_declares_core_geojson_html_oas30(client):
    classes = _json(client.get("/conformance?f=json"))["conformsTo"]
    for part in ("core", "geojson", "html", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/{part}" in classes


def test_collections_list_the_seven_layers_with_extent_and_crs84(client, web_store):
    document = _json(client.get("/collections?f=json"))
    ids = [c["id"] for c in document["collections"]]
    assert sorted(ids) == sorted(LAYERS + TABLES)
    for c in document["collections"]:
        if c["id"] in TABLES:  # attribute tables: no geometry, no extent
            assert "extent" not in c and "items" in _rels(c)
            continue
        bbox = c["extent"]["spatial"]["bbox"][0]
        expected = web_store.layers[c["id"]].total_bounds
        assert bbox == pytest.approx(list(expected), abs=1e-5)
        assert c["extent"]["spatial"]["crs"].endswith("/OGC/1.3/CRS84")
        assert "items" in _rels(c)
    one = _json(client.get("/collections/new-areas?f=json&lang=en"))
    assert one["id"] == "new-areas" and one["title"] == "National-level new areas"


def test_items_are_geojson_with_paging_links_and_counts(client):
    response = client.get("/collections/new-areas/items?f=json&limit=5&offset=5")
    assert response.mimetype == "application/geo+json"
    page = _json(response)
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == 19 and page["numberReturned"] == 5
    assert page["timeStamp"].endswith("Z")
    rels = _rels(page)
    assert "offset=10" in rels["next"][0]["href"] and "limit=5" in rels["next"][0]["href"]
    assert "offset" not in rels["prev"][0]["href"]  # back to the first page
    assert rels["alternate"][0]["type"] == "text/html" and "collection" in rels
    feature = page["features"][0]
    assert feature["id"] == feature["properties"]["id"]
    assert isinstance(feature["properties"]["units"], list)


def test_default_limit_is_100_and_last_page_has_no_next(client):
    page = _json(client.get("/collections/new-areas/items?f=json"))
    assert page["numberReturned"] == 19 and "next" not in _rels(page)
    assert "limit=100" in _rels(page)["self"][0]["href"]


def test_items_carry_linked_units_and_filter_by_unit(client):
    page = _json(client.get("/collections/ports/items?f=json&unit=ndrc-2024:13"))
    assert page["numberMatched"] == 6
    for feature in page["features"]:
        assert "ndrc-2024:13" in feature["properties"]["units"]
    rels = _rels(page)
    assert "unit=ndrc-2024" in rels["self"][0]["href"]


def test_items_filter_by_bbox(client):
    page = _json(client.get("/collections/new-areas/items?f=json&bbox=120.5,30.5,122.5,32"))
    ids = {f["id"] for f in page["features"]}
    assert "pudong" in ids and "xiongan" not in ids


def test_full_resolution_for_the_api_and_simplified_for_the_map(client, web_store):
    full = _json(client.get("/collections/partners/items/asean?f=json"))
    display = _json(client.get("/collections/partners/items/asean?f=json&display=1"))

    def count(geometry):
        return len(json.dumps(geometry["coordinates"]))

    assert count(display["geometry"]) < count(full["geometry"])
    assert full["properties"]["name_en"] == "ASEAN"
    assert {"self", "alternate", "collection"} <= set(_rels(full))


def test_html_views_of_collections_and_items(client):
    assert "new-areas" in client.get("/collections?f=html").get_data(as_text=True)
    html = client.get("/collections/new-areas/items?f=html&lang=en").get_data(as_text=True)
    assert "上海浦东新区" in html and "/places/pudong" in html
    place = client.get("/collections/new-areas/items/pudong?f=html&lang=en")
    assert place.mimetype == "text/html" and "Shanghai Pudong New Area" in place.get_data(
        as_text=True)


def test_openapi_describes_every_endpoint(client, app):
    response = client.get("/openapi?f=json")
    assert response.mimetype == "application/vnd.oai.openapi+json"
    document = _json(response)
    assert document["openapi"].startswith("3.")
    paths = set(document["paths"])
    path_names = {"<layer>": "{collectionId}", "/items/<id>": "/items/{featureId}",
                  "/units/<id>": "/units/{unitId}", "/places/<id>": "/places/{placeId}",
                  "<name>": "{name}", "/documents/<id>": "/documents/{documentId}"}
    served = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule
        for flask_name, openapi_name in path_names.items():
            path = path.replace(flask_name, openapi_name)
        served.add(path)
    assert served == paths  # every route described, nothing described that is not served
    assert {"/export/{name}", "/map.png", "/choropleth", "/search"} <= served
    items = document["paths"]["/collections/{collectionId}/items"]["get"]
    names = {p["name"] for p in items["parameters"]}
    assert {"bbox", "limit", "offset", "unit", "document", "f"} <= names
    assert {"crs", "bbox-crs", "filter", "filter-lang", "sortby", "properties"} <= names
    item = document["paths"]["/collections/{collectionId}/items/{featureId}"]["get"]
    assert {"crs", "properties"} <= {p["name"] for p in item["parameters"]}
    assert "Content-Crs" in item["responses"]["200"]["headers"]
    assert "/collections/{collectionId}/queryables" in paths
    limit = next(p for p in items["parameters"] if p["name"] == "limit")
    assert limit["schema"]["maximum"] == 10000 and limit["schema"]["default"] == 100
    assert "text/html" in client.get("/openapi?f=html").mimetype


def test_openapi_document_is_valid_openapi_3(client):
    document = _json(client.get("/openapi?f=json"))
    validate(document)  # raises, naming the offending part, if it breaks the OpenAPI 3 schema


# --- GDAL's OGC API client against the real server ---------------------------------------

def test_ogrinfo_lists_the_seven_layers_and_the_tables(live_server):
    result = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = [line.split(":", 1)[1].split()[0] for line in result.stdout.splitlines()
              if ":" in line and line.split(":", 1)[0].strip().isdigit()]
    assert sorted(listed) == sorted(LAYERS + TABLES)


def test_ogr2ogr_copies_new_areas_with_readable_names(live_server, tmp_path):
    target = tmp_path / "new-areas.gpkg"
    result = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server}/",
                             "new-areas"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    frame = pyogrio.read_dataframe(target, layer="new-areas")
    assert len(frame) == 19
    names = dict(zip(frame["id"], frame["name_zh_hans"], strict=True))
    assert names["pudong"] == "上海浦东新区" and names["xiongan"] == "河北雄安新区"
    english = dict(zip(frame["id"], frame["name_en"], strict=True))
    assert english["guian"].startswith("Guizhou Gui")
    assert frame.crs.to_epsg() == 4326
    assert frame.geometry.notna().all() and frame.geometry.is_valid.all()


def test_live_server_answers_304_and_compresses(live_server):
    url = f"{live_server}/collections/new-areas/items?f=json&display=1&limit=10000"
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=30) as response:
        etag = response.headers["ETag"]
        assert response.headers["Content-Encoding"] == "gzip"
    again = urllib.request.Request(url, headers={"Accept-Encoding": "gzip",
                                                 "If-None-Match": etag})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(again, timeout=30)
    assert caught.value.code == 304

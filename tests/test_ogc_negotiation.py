"""Content negotiation as pygeoapi does it: `f=` wins; HTML only for clients that prefer
text/html (browsers); JSON for everything else, `*/*` and no Accept header included."""

from __future__ import annotations

import pytest

pytest_plugins = ["web_fixtures"]

# Every resource that answers both HTML and JSON.
RESOURCES = ["/", "/conformance", "/collections", "/collections/new-areas",
             "/collections/new-areas/items", "/collections/new-areas/items/pudong",
             "/collections/new-areas/queryables", "/collections/units/items",
             "/units", "/units/ndrc-2024:13", "/places/pudong", "/openapi"]
JSON_TYPES = {"application/json", "application/geo+json", "application/vnd.oai.openapi+json",
              "application/schema+json"}
BROWSERS = [
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
]
PROGRAMS = [None, "*/*", "application/json", "application/geo+json",
            "application/json, text/html;q=0.5", "text/*;q=0.9, */*", "image/png"]


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("accept", PROGRAMS)
def test_programs_get_json(program_client, path, accept):
    headers = {"Accept": accept} if accept else {}
    response = program_client.get(path, headers=headers)
    assert response.status_code == 200
    assert response.mimetype in JSON_TYPES
    assert response.get_json() is not None
    assert "Accept" in response.vary


@pytest.mark.parametrize("path", RESOURCES)
@pytest.mark.parametrize("accept", BROWSERS)
def test_browsers_get_html(program_client, path, accept):
    response = program_client.get(path, headers={"Accept": accept})
    assert response.status_code == 200 and response.mimetype == "text/html"


@pytest.mark.parametrize("path", RESOURCES)
def test_f_wins_over_accept(program_client, path):
    sep = "&" if "?" in path else "?"
    as_json = program_client.get(f"{path}{sep}f=json", headers={"Accept": BROWSERS[0]})
    assert as_json.mimetype in JSON_TYPES
    as_html = program_client.get(f"{path}{sep}f=html", headers={"Accept": "application/json"})
    assert as_html.mimetype == "text/html"


def test_unknown_f_is_a_400_naming_it(program_client):
    response = program_client.get("/collections?f=xml")
    assert response.status_code == 400
    body = response.get_json()
    assert body["parameter"] == "f" and body["status"] == 400 and "json" in body["description"]


def test_json_only_and_html_only_resources_keep_their_format(program_client):
    assert program_client.get("/map/options").mimetype == "application/json"
    popup = program_client.get("/places/pudong/popup", headers={"Accept": "*/*"})
    assert popup.mimetype == "text/html"


def test_warming_renders_the_map_html_in_every_language(web_store):
    from webapp import create_app
    from webapp.app import warm

    fresh = create_app({"STORE": web_store, "TESTING": True})
    warm(fresh)  # asks for the map page without a browser's Accept header: f=html
    service = fresh.extensions["xinqu"]
    assert all(("map", lang) in service.cache for lang in service.strings.languages)

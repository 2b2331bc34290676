"""The web service in-process (Flask test client) on the real built store."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest
from markupsafe import Markup, escape

from layers.paths import DATA_DIR
from webapp.highlight import highlight

pytest_plugins = ["web_fixtures"]


def _json(response):
    return json.loads(response.get_data(as_text=True))


# --- the pages ----------------------------------------------------------------------------

def test_map_page_loads_layers_from_the_api_not_embedded(client):
    page = client.get("/?lang=en")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    for layer in ("new-areas", "ports", "science-cities", "strategy-regions", "corridors",
                  "sites", "partners"):
        assert f"/collections/{layer}/items?f=json" in html
    assert len(page.data) < 60_000  # geometry is fetched, not inlined
    # the only address outside the service: the optional online tile layer (off by default)
    outside = set(re.findall(r"https?://([^/\"']+)", html))
    assert outside <= {"tile.openstreetmap.org", "www.openstreetmap.org"}, outside


def test_map_assets_are_all_local(client):
    html = client.get("/?lang=zh").get_data(as_text=True)
    assets = re.findall(r'(?:src|href)="(/static/[^"]+)"', html)
    assert any("leaflet.js" in a for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_language_from_parameter_and_accept_language(client):
    zh = client.get("/units", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    en = client.get("/units", headers={"Accept-Language": "en-GB,en;q=0.8"})
    assert "政策条目" in zh.get_data(as_text=True)
    assert "Policy units" in en.get_data(as_text=True)
    forced = client.get("/units?lang=en", headers={"Accept-Language": "zh-CN"})
    assert "Policy units" in forced.get_data(as_text=True)


def test_unit_page_highlights_the_six_ports_in_every_version(client):
    html = client.get("/units/ndrc-2024:13?lang=en").get_data(as_text=True)
    for port in ("port-shanghai", "port-ningbo-zhoushan", "port-dalian", "port-tianjin",
                 "port-qingdao", "port-guangzhou"):
        assert html.count(f'<mark class="place" data-place="{port}">') == 3, port
        assert f'href="/places/{port}' in html
    assert 'lang="zh-Hant"' in html and "Shanghai Port" in html


def test_units_filter_by_text_in_any_script(client):
    simplified = _json(client.get("/units?f=json&q=浦东"))
    traditional = _json(client.get("/units?f=json&q=浦東"))
    ids = [u["id"] for u in simplified["units"]]
    assert ids and ids == [u["id"] for u in traditional["units"]]
    assert all("text" in u and "mentions" in u and "places" in u for u in simplified["units"])
    html = client.get("/units?q=浦東&lang=zh").get_data(as_text=True)
    assert "ndrc-2024:5" in html


def test_units_come_a_page_at_a_time(client, web_store):
    """/units is paged as items are (limit, offset, next and prev links), at most
    FULL_PAGE_MAX units in full to a page: a corpus of thousands is not sent at once."""
    every = [u for u in web_store.units.index]
    first = _json(client.get("/units?f=json&limit=7"))
    assert first["numberMatched"] == len(every) > 14 and first["numberReturned"] == 7
    assert [u["id"] for u in first["units"]] == every[:7]
    walked, url = [], "/units?f=json&limit=7"
    while url:
        page = _json(client.get(url))
        walked += [u["id"] for u in page["units"]]
        rels = {link["rel"]: link["href"] for link in page["links"]}
        assert ("prev" in rels) == bool(walked[:-len(page["units"])])
        url = rels.get("next", "").replace("http://localhost", "")
    assert walked == every
    filtered = _json(client.get("/units?f=json&q=浦東&limit=1&offset=1"))
    assert filtered["numberMatched"] > 2 and filtered["numberReturned"] == 1
    assert "q=%E6%B5%A6%E6%9D%B1" in {link["rel"]: link["href"]
                                      for link in filtered["links"]}["next"]
    for bad in ("limit=501", "limit=0", "offset=-1", "limit=two"):
        answer = client.get(f"/units?f=json&{bad}")
        assert answer.status_code == 400 and _json(answer)["parameter"] == bad.split("=")[0]
    html = client.get("/units?f=html&lang=en&limit=7&offset=7").get_data(as_text=True)
    assert html.count("<li>") == 7 and 'start="8"' in html and every[7] in html
    assert 'rel="next"' in html and 'rel="prev"' in html and f"{len(every)} units" in html


def test_documents_come_a_page_at_a_time(client, web_store):
    """/documents is paged as /units is; a page's documents are those of the whole list,
    places and all."""
    every = [str(id) for id in web_store.documents.index]
    whole = _json(client.get("/documents?f=json"))["documents"]
    assert [d["id"] for d in whole] == every and len(every) >= 3
    page = _json(client.get("/documents?f=json&limit=1&offset=1"))
    assert page["numberMatched"] == len(every) and page["numberReturned"] == 1
    assert page["documents"] == whole[1:2] and any(d["places"] for d in whole)
    for offset, document in enumerate(whole):  # each page's places are the whole list's
        assert _json(client.get(f"/documents?f=json&limit=1&offset={offset}"))[
            "documents"] == [document]
    rels = {link["rel"]: link["href"] for link in page["links"]}
    assert "offset=2" in rels["next"] and "prev" in rels
    last = _json(client.get(f"/documents?f=json&limit=2&offset={len(every) - 1}"))
    assert [d["id"] for d in last["documents"]] == every[-1:]
    assert "next" not in {link["rel"] for link in last["links"]}
    assert client.get("/documents?f=json&limit=501").status_code == 400
    html = client.get("/documents?f=html&lang=en&limit=2").get_data(as_text=True)
    assert html.count('<tr id="doc-') == 2 and 'rel="next"' in html and every[1] in html


def test_place_page_groups_units_by_document(client):
    html = client.get("/places/pudong?lang=en").get_data(as_text=True)
    assert "Shanghai Pudong New Area" in html and "上海浦东新区" in html
    assert "ndrc-2024:5" in html and "Units that reach it through places inside it" in html
    data = _json(client.get("/places/pudong?f=json"))
    assert data["layer"] == "new-areas" and data["attributes"]["province"]


def test_place_page_lists_units_for_all_new_areas_with_their_titles(client, web_store):
    from layers import query

    data = _json(client.get("/places/lanzhou?f=json"))
    assert data["general"], "some units address all new areas without naming Lanzhou"
    html = client.get("/places/lanzhou?lang=en").get_data(as_text=True)
    section = html.split("Units addressed to all new areas", 1)[1]
    for uid in data["general"]:
        title = query.unit_summary(web_store, uid)["title"]["en"]
        assert f'href="/units/{uid}?lang=en"' in section and escape(title) in section, uid


def test_unit_page_says_when_it_addresses_all_new_areas(client):
    general = _json(client.get("/units/ndrc-2024:6?f=json"))
    named_only = _json(client.get("/units/xixian-2023:2.4?f=json"))
    assert general["general"] and not named_only["general"]
    sentence = "also addresses new areas in general"
    assert sentence in client.get("/units/ndrc-2024:6?lang=en").get_data(as_text=True)
    assert sentence not in client.get("/units/xixian-2023:2.4?lang=en").get_data(as_text=True)


def test_popup_has_names_facts_units_and_general_count(client):
    html = client.get("/places/xixian/popup?lang=en").get_data(as_text=True)
    assert "陕西西咸新区" in html and "Shaanxi Xixian New Area" in html
    assert "approximate" in html and "1,000" not in html
    assert "/units/xixian-2023:" in html
    assert "units addressed to all new areas" in html


# --- errors -------------------------------------------------------------------------------

@pytest.mark.parametrize("url", [
    "/collections/no-such-layer", "/collections/no-such-layer/items",
    "/collections/new-areas/items/atlantis", "/collections/ports/items/pudong",
    "/places/atlantis", "/places/atlantis/popup", "/units/ndrc-2024:99",
    "/units/nothing", "/no/such/page",
])
def test_unknown_things_are_404_with_json(client, url):
    response = client.get(url)
    assert response.status_code == 404
    assert response.mimetype == "application/json"
    assert _json(response)["code"] == "NotFound"


@pytest.mark.parametrize(("url", "param"), [
    ("/collections/new-areas/items?bbox=1,2,3", "bbox"),
    ("/collections/new-areas/items?bbox=a,b,c,d", "bbox"),
    ("/collections/new-areas/items?bbox=0,60,10,50", "bbox"),
    ("/collections/new-areas/items?bbox=0,0,999,10", "bbox"),
    ("/collections/new-areas/items?limit=-1", "limit"),
    ("/collections/new-areas/items?limit=10001", "limit"),
    ("/collections/new-areas/items?limit=99999999999999999999", "limit"),
    ("/collections/new-areas/items?limit=ten", "limit"),
    ("/collections/new-areas/items?offset=-3", "offset"),
    ("/collections/new-areas/items?f=xml", "f"),
    ("/collections/new-areas/items?unit=ndrc-2024:99", "unit"),
    ("/collections/new-areas/items?document=nope", "document"),
    ("/collections/new-areas/items?display=maybe", "display"),
    ("/collections?f=pdf", "f"),
    ("/units?lang=fr", "lang"),
    ("/?lang=de", "lang"),
    ("/units?place=atlantis", "place"),
    ("/units/ndrc-2024:13?f=yaml", "f"),
])
def test_bad_parameters_are_400_naming_the_parameter(client, url, param):
    response = client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = _json(response)
    assert body["parameter"] == param
    assert param in body["description"]


def test_a_method_not_allowed_says_which_are(client):
    response = client.delete("/collections/new-areas/items")
    assert response.status_code == 405 and response.mimetype == "application/json"
    assert "GET" in response.headers["Allow"]
    assert _json(response)["code"] == "MethodNotAllowed"


def test_unexpected_errors_answer_json_without_traceback(web_store):
    from webapp import create_app

    app = create_app({"STORE": web_store})

    @app.get("/_boom_for_test")
    def boom():
        raise RuntimeError("secret internals")

    response = app.test_client().get("/_boom_for_test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert response.mimetype == "application/json"
    assert "Traceback" not in body and "secret internals" not in body


def test_basemap_carries_the_cities_as_points_named_in_three_scripts(client, store):
    """/basemap gives the basemap table's rows unchanged: the cities as Point features with
    their names (the map draws them as dots with labels, never as shapes)."""
    response = client.get("/basemap")
    features = _json(response)["features"]
    cities = [f for f in features if f["properties"]["kind"] == "city"]
    expected = store.basemap[store.basemap["kind"] == "city"]
    assert [f["id"] for f in cities] == list(expected["code"])
    for feature in cities:
        assert feature["geometry"]["type"] == "Point"
        assert all(feature["properties"][c] for c in ("name_zh_hans", "name_zh_hant", "name_en"))
    kinds = {f["properties"]["kind"] for f in features}
    assert {"province", "country", "neighbour", "maritime-boundary", "city"} == kinds


# --- caching ------------------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/collections/new-areas/items?f=json", "/units/ndrc-2024:13",
                                 "/?lang=en", "/basemap"])
def test_etag_and_conditional_requests(client, url):
    first = client.get(url, headers={"Accept-Encoding": "identity"})
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "max-age" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "identity"})
    assert again.status_code == 304 and not again.data


def test_compressed_responses_keep_working_etags(client):
    url = "/collections/new-areas/items?f=json&display=1&limit=10000"
    first = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert first.headers["Content-Encoding"] == "gzip"
    again = client.get(url, headers={"Accept-Encoding": "gzip",
                                     "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


# --- escaping -----------------------------------------------------------------------------

HOSTILE_TEXT = 'Before <script>alert("x")</script> 上海港 <img src=x onerror="alert(1)"> after'


@pytest.fixture(scope="module")
def hostile_client(gpkg_store, as_browser):
    """The app on the real store with one unit's text and one place's name made hostile."""
    from webapp import create_app

    units = gpkg_store.units.copy()
    unit_id = "ndrc-2024:13"
    for column in ("text_zh_hans", "text_zh_hant", "text_en", "title_en"):
        units.loc[unit_id, column] = HOSTILE_TEXT
    start = HOSTILE_TEXT.index("上海港")
    mentions = gpkg_store.mentions[gpkg_store.mentions.unit_id != unit_id].copy()
    extra = [{"unit_id": unit_id, "place_id": "port-shanghai", "lang": lang, "start": start,
              "end": start + 3, "surface": "上海港"} for lang in ("zh-Hans", "zh-Hant", "en")]
    mentions = pd.concat([mentions, pd.DataFrame(extra)], ignore_index=True)
    ports = gpkg_store.layers["ports"].copy()
    ports.loc["port-shanghai", "name_en"] = '<b onmouseover="alert(2)">Shanghai Port</b>'
    store = dataclasses.replace(gpkg_store, units=units, mentions=mentions,
                                layers={**gpkg_store.layers, "ports": ports})
    return as_browser(create_app({"STORE": store, "TESTING": True}))


@pytest.mark.parametrize("url", ["/units/ndrc-2024:13?lang=en", "/units?lang=en",
                                 "/places/port-shanghai?lang=en",
                                 "/places/port-shanghai/popup?lang=en",
                                 "/places/pudong/popup?lang=en",
                                 "/collections/ports/items?f=html&lang=en",
                                 "/units?lang=en&q=alert"])
def test_document_text_and_names_render_as_text(hostile_client, url):
    html = hostile_client.get(url).get_data(as_text=True)
    assert "<script>alert" not in html
    assert "<img src=x" not in html and 'onerror="alert' not in html
    assert "<b onmouseover" not in html


def test_hostile_unit_text_shows_escaped_with_its_mention(hostile_client):
    html = hostile_client.get("/units/ndrc-2024:13?lang=en").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;" in html
    assert '<mark class="place" data-place="port-shanghai">' in html


def test_highlight_escapes_every_piece():
    text = "<b>上海港</b>&"
    out = highlight(text, [(3, 6, 'x"><script>')], lambda p: f"/places/{p}")
    assert isinstance(out, Markup)
    assert out.startswith("&lt;b&gt;<mark")
    assert "<script>" not in out and "&#34;&gt;&lt;script&gt;" in out
    assert out.endswith("&lt;/b&gt;&amp;")


def test_highlight_skips_overlaps_and_bad_offsets():
    out = highlight("粤港澳大湾区", [(0, 6, "gba"), (1, 2, "hong-kong"), (4, 99, "bad")],
                    lambda p: "/places/" + p)
    assert out.count("<mark") == 1 and 'data-place="gba"' in out


# --- serve --------------------------------------------------------------------------------

def test_serve_without_a_store_says_so_in_one_line(tmp_path):
    """A data folder like the repository's, but never built."""
    for entry in DATA_DIR.iterdir():
        if entry.name != "build":
            (tmp_path / entry.name).symlink_to(entry)
    result = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "serve", "--port", "1"],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "XINQU_DATA": str(tmp_path), "XINQU_HOME": str(tmp_path / "home")})
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "no built data at" in lines[0] and "xinqu build" in lines[0]
    assert "Traceback" not in result.stderr


def test_serve_on_a_taken_port_says_so_in_one_line(web_store):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "webapp.cli", "serve", "--port", str(port)],
            capture_output=True, text=True, timeout=180)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        f"xinqu serve: cannot listen on 127.0.0.1:{port}: Address already in use")

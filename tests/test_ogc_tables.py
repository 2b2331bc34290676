"""Units, links and documents as OGC API collections without geometry."""

from __future__ import annotations

from urllib.parse import quote

import pytest

pytest_plugins = ["web_fixtures"]


@pytest.mark.parametrize(("table", "key"), [("units", None), ("documents", None),
                                            ("links", ("unit_id", "place_id"))])
def test_every_row_is_a_feature_without_geometry(program_client, web_store, table, key):
    rows = getattr(web_store, table)
    page = program_client.get(f"/collections/{table}/items?limit=10000").get_json()
    assert page["numberMatched"] == len(rows) == len(page["features"])
    assert all(f["geometry"] is None for f in page["features"])
    ids = [f["id"] for f in page["features"]]
    expected = (list(rows.index) if key is None else
                [f"{u}@{p}" for u, p in zip(rows[key[0]], rows[key[1]], strict=True)])
    assert ids == expected
    meta = program_client.get(f"/collections/{table}").get_json()
    assert meta["id"] == table and "extent" not in meta


def test_tables_filter_sort_and_select(program_client, web_store):
    units = web_store.units
    url = ("/collections/units/items?limit=1000&properties=document,order&sortby=-order"
           "&filter=" + quote("document = 'xixian-2023'"))
    page = program_client.get(url).get_json()
    expected = units[units.document == "xixian-2023"].sort_values("order", ascending=False)
    assert [f["id"] for f in page["features"]] == list(expected.index)
    assert all(set(f["properties"]) == {"document", "order"} for f in page["features"])
    via = program_client.get("/collections/links/items?filter=" + quote(
        "relation = 'via' AND place_id = 'xixian'")).get_json()
    links = web_store.links
    assert sorted(f["properties"]["unit_id"] for f in via["features"]) == sorted(
        links[(links.relation == "via") & (links.place_id == "xixian")].unit_id)
    schema = program_client.get("/collections/units/queryables").get_json()
    assert schema["properties"]["order"]["type"] == "integer"
    assert schema["properties"]["text_zh_hans"]["type"] == "string"


def test_one_row_and_its_errors(program_client):
    unit = program_client.get("/collections/units/items/ndrc-2024:13").get_json()
    assert unit["id"] == "ndrc-2024:13" and unit["geometry"] is None
    assert unit["properties"]["document"] == "ndrc-2024"
    assert program_client.get("/collections/units/items/ndrc-2024:999").status_code == 404
    for args, name in [("bbox=1,1,2,2", "bbox"), ("unit=ndrc-2024:13", "unit"),
                       ("crs=http://www.opengis.net/def/crs/EPSG/0/4490", "crs"),
                       ("filter=nothing%3D1", "filter")]:
        response = program_client.get(f"/collections/units/items?{args}")
        assert response.status_code == 400 and response.get_json()["parameter"] == name


def test_tables_as_html(client):
    page = client.get("/collections/units?lang=en").get_data(as_text=True)
    assert "Policy units" in page and "/units/ndrc-2024:13" in page
    links = client.get("/collections/links/items?limit=5&lang=en")
    assert links.mimetype == "text/html" and "place_id" in links.get_data(as_text=True)

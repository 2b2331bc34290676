"""Standard OGC API clients against the real `xinqu serve` (gunicorn): OWSLib, GDAL, QGIS.

None of them sends special headers: they rely on the service answering JSON to programs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path

import pyogrio
import pytest
from owslib.ogcapi.features import Features

from layers import table_collections

pytest_plugins = ["web_fixtures"]

EPSG_4490 = "http://www.opengis.net/def/crs/EPSG/0/4490"
# PyQGIS comes with Debian's python3 (qgis, python3-qgis), not with the venv.
DEBIAN_PYTHON = "/usr/bin/python3"
LAYERS = ["partners", "strategy-regions", "new-areas", "corridors", "ports", "science-cities",
          "sites"]


@pytest.fixture(scope="module")
def owslib(live_server):
    return Features(f"{live_server}/")


def test_owslib_reads_conformance_and_collections(owslib):
    classes = owslib.conformance()["conformsTo"]
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in classes
    ids = [c["id"] for c in owslib.collections()["collections"]]
    assert set(LAYERS) <= set(ids)
    assert owslib.collection("new-areas")["id"] == "new-areas"


def test_owslib_reads_items_of_every_collection(owslib, web_store):
    collections = [c["id"] for c in owslib.collections()["collections"]]
    assert collections == LAYERS + list(table_collections.tables())
    for id in collections:
        page = owslib.collection_items(id, limit=10000)
        assert page["type"] == "FeatureCollection"
        rows = web_store.layers[id] if id in LAYERS else table_collections.frame(web_store, id)
        assert page["numberMatched"] == len(rows) == len(page["features"])
        assert [f["id"] for f in page["features"]] == list(map(str, rows.index))
        if id not in LAYERS:  # a table: features without geometry
            assert all(f["geometry"] is None for f in page["features"])


def test_owslib_filters_a_table(owslib, web_store):
    page = owslib.collection_items("links", filter="relation = 'via' AND place_id = 'pudong'")
    links = web_store.links
    expected = links[(links.relation == "via") & (links.place_id == "pudong")]
    assert sorted(f["properties"]["unit_id"] for f in page["features"]) == \
        sorted(expected.unit_id) and len(expected) > 0


def test_owslib_reads_one_item(owslib):
    feature = owslib.collection_item("new-areas", "pudong")
    assert feature["id"] == "pudong"
    assert feature["properties"]["name_zh_hans"] == "上海浦东新区"


def test_owslib_reads_queryables(owslib):
    schema = owslib.collection_queryables("new-areas")
    assert schema["properties"]["official_area_km2"]["type"] == "number"
    assert schema["properties"]["approved"]["format"] == "date"


def test_owslib_cql2_filter_returns_some_new_areas(owslib, web_store):
    frame = web_store.layers["new-areas"]
    page = owslib.collection_items("new-areas", filter="official_area_km2 > 1000 AND "
                                                       "approved >= DATE('2014-01-01')")
    ids = [f["id"] for f in page["features"]]
    expected = [i for i in frame.index if frame.at[i, "official_area_km2"] > 1000
                and frame.at[i, "approved"] >= "2014-01-01"]
    assert ids == expected and 0 < len(ids) < 19


def test_owslib_items_in_cgcs2000(owslib, web_store):
    page = owslib.collection_items("new-areas", crs=EPSG_4490, limit=100)
    assert owslib.response_headers["Content-Crs"] == f"<{EPSG_4490}>"
    pudong = next(f for f in page["features"] if f["id"] == "pudong")
    lat, lon = pudong["geometry"]["coordinates"][0][0][0]  # latitude first in EPSG:4490
    bounds = web_store.layers["new-areas"].geometry["pudong"].bounds
    assert bounds[0] <= lon <= bounds[2] and bounds[1] <= lat <= bounds[3]


# --- GDAL --------------------------------------------------------------------------------------

def _ogr_ids(url: str, *args: str) -> tuple[list[str], str]:
    """ids ogrinfo reads from new-areas (with CPL_DEBUG, to see what GDAL asked the server)."""
    result = subprocess.run(["ogrinfo", "-ro", "-q", "--config", "CPL_DEBUG", "ON",
                             f"OAPIF:{url}/", "new-areas", *args],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    ids = re.findall(r"^\s+id \(String\) = (\S+)$", result.stdout, re.MULTILINE)
    return ids, result.stderr


def _server_ids(url: str, **params: str) -> list[str]:
    query = urllib.parse.urlencode({"limit": 1000, **params})
    with urllib.request.urlopen(f"{url}/collections/new-areas/items?{query}",
                                timeout=60) as response:
        return [f["id"] for f in json.load(response)["features"]]


def test_ogrinfo_lists_every_collection(live_server, program_client):
    result = subprocess.run(["ogrinfo", "-ro", "-q", f"OAPIF:{live_server}/"],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    listed = re.findall(r"^\d+: (\S+)", result.stdout, re.MULTILINE)
    served = [c["id"] for c in program_client.get("/collections").get_json()["collections"]]
    assert listed == served


def test_ogr_where_is_pushed_down_and_agrees_with_the_server_filter(live_server):
    ids, log = _ogr_ids(live_server, "-where",
                        "official_area_km2 > 1000 AND approved >= '2014-01-01'")
    assert "filter=" in log and "client side" not in log  # GDAL let the server filter
    expected = _server_ids(live_server, filter="official_area_km2 > 1000 AND "
                                               "approved >= DATE('2014-01-01')")
    assert sorted(ids) == sorted(expected) and 0 < len(ids) < 19


def test_ogr2ogr_where_copies_the_same_features(live_server, tmp_path):
    target = tmp_path / "big.gpkg"
    result = subprocess.run(["ogr2ogr", "-f", "GPKG", str(target), f"OAPIF:{live_server}/",
                             "new-areas", "-where", "official_area_km2 > 1000"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    copied = pyogrio.read_dataframe(target)
    assert sorted(copied["id"]) == sorted(_server_ids(live_server,
                                                      filter="official_area_km2 > 1000"))


def test_ogr_spat_agrees_with_the_server_bbox(live_server):
    ids, _ = _ogr_ids(live_server, "-spat", "120.5", "30.5", "122.5", "32")
    assert sorted(ids) == sorted(_server_ids(live_server, bbox="120.5,30.5,122.5,32"))
    assert "pudong" in ids and "xiongan" not in ids


# --- QGIS ----------------------------------------------------------------------------------------

def test_qgis_loads_new_areas_through_its_oapif_provider(live_server, web_store):
    script = Path(__file__).with_name("qgis_oapif_client.py")
    result = subprocess.run(
        [DEBIAN_PYTHON, str(script), live_server, "all|", "big|official_area_km2 > 1000"],
        capture_output=True, text=True, timeout=600,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert lines, f"PyQGIS printed nothing (install qgis python3-qgis): {result.stderr[-2000:]}"
    read = json.loads(lines[-1])
    every = read["all"]
    assert every["valid"] and every["provider"] == "OAPIF"
    frame = web_store.layers["new-areas"]
    assert sorted(every["ids"]) == sorted(frame.index) and len(every["ids"]) == 19
    assert every["names"] == dict(zip(frame.index, frame["name_zh_hans"], strict=True))
    assert every["names"]["pudong"] == "上海浦东新区"
    big = read["big"]
    assert big["valid"] and big["subset_accepted"]
    expected = [i for i in frame.index if frame.at[i, "official_area_km2"] > 1000]
    assert sorted(big["ids"]) == sorted(expected) and 0 < len(big["ids"]) < 19

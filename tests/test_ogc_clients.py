"""Standard OGC API clients against the real `xinqu serve` (gunicorn): OWSLib, GDAL, QGIS.

None of them sends special headers: they rely on the service answering JSON to programs.
"""

from __future__ import annotations

import pytest
from owslib.ogcapi.features import Features

pytest_plugins = ["web_fixtures"]

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
    for layer in LAYERS:
        page = owslib.collection_items(layer, limit=1000)
        assert page["type"] == "FeatureCollection"
        assert page["numberMatched"] == len(web_store.layers[layer]) == len(page["features"])


def test_owslib_reads_one_item(owslib):
    feature = owslib.collection_item("new-areas", "pudong")
    assert feature["id"] == "pudong"
    assert feature["properties"]["name_zh_hans"] == "上海浦东新区"

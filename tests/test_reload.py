"""The service follows its store file: a document added, replaced or removed shows on the
next request, each request keeps one state, and a broken replacement keeps the old one.

In-process (the Flask app on a copy of the real store in a temporary instance folder);
tests/test_documents_add_web.py checks the same on the real server with two workers.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from layers.userdocs.intake import Options, add_documents, remove_document
from webapp import create_app
from webapp.app import current_service

TEXT = """关于支持浦东新区开放发展的若干措施

为推动国家级新区高质量发展，制定本措施。

一、总体要求

（一）支持浦东新区建设国际航运中心。发挥上海港的枢纽作用，扩大高水平开放。
"""


@pytest.fixture()
def app(home):
    return create_app({"STORE_PATH": home / "xinqu.gpkg", "TESTING": True})


def add(home: Path, tmp_path: Path, doc_id: str = "plan-r", text: str = TEXT, **kw) -> None:
    source = tmp_path / f"{doc_id}.txt"
    source.write_text(text, encoding="utf-8")
    add_documents([(source, source.name)], Options(id=doc_id), home=home, **kw)


def test_next_request_sees_an_added_and_a_removed_document(app, home, tmp_path):
    client = app.test_client()
    assert client.get("/units/plan-r:1?f=json").status_code == 404
    # an unknown document is a 400 naming it, as on items (issue 17: one error for one value)
    assert client.get("/map.svg?document=plan-r").status_code == 400
    first = app.extensions["xinqu"]
    add(home, tmp_path)
    reply = client.get("/units/plan-r:1?f=json")
    assert reply.status_code == 200
    assert "pudong" in {p["id"] for p in reply.get_json()["places"]}
    second = app.extensions["xinqu"]
    assert second.store is not first.store
    # only the documents changed: the geometry and its serialised GeoJSON are kept
    assert second.store.layers is first.store.layers and second.catalogue is first.catalogue
    assert second.cache is not first.cache  # pages rendered from the old state are dropped
    place = client.get("/places/pudong?f=json").get_json()
    assert "plan-r:1" in {u["id"] for u in place["named"]}
    image = client.get("/map.svg?document=plan-r")  # the image renderer follows the store
    assert image.status_code == 200 and image.mimetype == "image/svg+xml"

    remove_document("plan-r", home=home)
    assert client.get("/units/plan-r:1?f=json").status_code == 404
    place = client.get("/places/pudong?f=json").get_json()
    assert "plan-r:1" not in {u["id"] for u in place["named"]}


def test_a_request_keeps_the_state_it_started_with(app, home, tmp_path):
    with app.test_request_context("/units"):
        before = current_service()
        add(home, tmp_path)
        assert current_service() is before  # pinned for the whole request
        assert "plan-r:1" not in before.store.units.index
    with app.test_request_context("/units"):
        assert "plan-r:1" in current_service().store.units.index


def test_a_broken_replacement_keeps_the_previous_store(app, home, caplog):
    client = app.test_client()
    assert client.get("/units/ndrc-2024:13?f=json").status_code == 200
    broken = home / "broken.gpkg"
    broken.write_bytes(b"not a geopackage")
    good = home / "good.gpkg"
    shutil.copyfile(home / "xinqu.gpkg", good)
    os.replace(broken, home / "xinqu.gpkg")
    reply = client.get("/units/ndrc-2024:13?f=json")
    assert reply.status_code == 200  # still the previous state, not a 500
    assert "cannot be opened" in caplog.text
    os.replace(good, home / "xinqu.gpkg")
    assert client.get("/units/ndrc-2024:13?f=json").status_code == 200


def test_a_store_handed_in_is_not_followed(store):
    app = create_app({"STORE": store, "TESTING": True})
    with app.test_request_context("/"):
        assert current_service().store is store

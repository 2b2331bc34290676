"""`xinqu serve --store postgresql://…`: the real gunicorn server on the PostGIS store.

The server reaches the database through a relay on loopback (tests/tcp_relay.py), so the
test can take the database away and bring it back without stopping the project's cluster.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tcp_relay import Relay

from layers.pgstore.connection import fresh_database
from layers.pgstore.load import load

pytest_plugins = ["web_fixtures", "pg_fixtures"]
REPO = Path(__file__).resolve().parent.parent
SERVE_DB = "xinqu_serve"


def _get(url: str, timeout: float = 30) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def relayed(pg_cluster, store_path):
    """A database of its own with the real store, and a relay in front of it: (the URL
    through the relay, the relay)."""
    direct = fresh_database(SERVE_DB, pg_cluster)
    load(store_path, direct)
    port = int(direct.rsplit(":", 1)[1].split("/")[0])
    relay = Relay(port)
    relay.start()
    yield direct.replace(f":{port}/", f":{relay.port}/"), relay
    relay.stop()


@pytest.fixture(scope="module")
def pg_server(relayed, pg_home, tmp_path_factory):
    url, _ = relayed
    env = {**os.environ, "XINQU_HOME": str(pg_home)}
    log = tmp_path_factory.mktemp("pgserve") / "serve.log"
    from web_fixtures import serving

    with serving(env, log, "--store", url) as base:
        yield base


@pytest.fixture(scope="module")
def pg_home(tmp_path_factory, store_path):
    """An instance folder of this module with a copy of the store (document adds write
    it; conftest's `home` is made afresh for each test)."""
    import shutil

    folder = tmp_path_factory.mktemp("pghome")
    shutil.copyfile(store_path, folder / "xinqu.gpkg")
    return folder


def test_the_server_answers_from_the_database(pg_server, app):
    status, _headers, body = _get(f"{pg_server}/collections/new-areas/items?limit=5")
    assert status == 200
    ours = app.test_client().get("/collections/new-areas/items?limit=5")
    data, expected = json.loads(body), ours.get_json()
    assert data["features"] == expected["features"]
    assert data["numberMatched"] == expected["numberMatched"]


def test_503_while_the_database_is_away_and_recovery_without_restart(pg_server, relayed):
    _, relay = relayed
    relay.stop()
    try:
        started = time.monotonic()
        status, headers, body = _get(f"{pg_server}/collections/sites/items?bbox=110,20,125,35")
        assert status == 503
        error = json.loads(body)
        assert error["code"] == "ServiceUnavailable" and "database" in error["description"]
        assert headers.get("Retry-After")
        assert time.monotonic() - started < 15  # bounded: the pool gives up, never hangs
        status, _, _ = _get(f"{pg_server}/units/nowhere?f=json")
        assert status == 503
    finally:
        relay.start()
    deadline = time.monotonic() + 30
    while True:
        status, _, body = _get(f"{pg_server}/collections/sites/items?bbox=110,20,125,35")
        if status == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert status == 200
    assert json.loads(body)["numberReturned"] > 0


def test_a_document_added_is_served_without_restart(pg_server, relayed, pg_home, tmp_path):
    url, _ = relayed
    text = tmp_path / "note.txt"
    text.write_text("浦东新区试点说明\n\n一、支持浦东新区建设国际航运中心。\n", encoding="utf-8")
    added = subprocess.run(
        [sys.executable, "-m", "webapp.cli", "documents", "add", str(text), "--id",
         "pg-note", "--store", url],
        cwd=REPO, env={**os.environ, "XINQU_HOME": str(pg_home)}, capture_output=True,
        text=True, timeout=300)
    assert added.returncode == 0, added.stderr
    deadline = time.monotonic() + 20
    ids: list[str] = []
    while time.monotonic() < deadline:
        status, _, body = _get(f"{pg_server}/documents?f=json")
        ids = [d["id"] for d in json.loads(body)["documents"]] if status == 200 else []
        if "pg-note" in ids:
            break
        time.sleep(0.5)
    assert "pg-note" in ids
    status, _, body = _get(f"{pg_server}/units?f=json&document=pg-note")
    assert status == 200 and json.loads(body)


def test_cli_names_a_database_that_is_away_in_one_line(relayed):
    url, relay = relayed
    relay.stop()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "webapp.cli", "serve", "--port", "1", "--store", url],
            cwd=REPO, capture_output=True, text=True, timeout=60)
    finally:
        relay.start()
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "PostgreSQL" in result.stderr

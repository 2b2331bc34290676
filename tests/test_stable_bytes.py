"""The same inputs give the same bytes (issue 15): exports in every format, through the
real server and the CLI, and the build; so export ETags are stable and a repeat with
If-None-Match gets 304.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import sqlite3
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import pytest

from layers.build import build, data_date
from layers.export import export_time

pytest_plugins = ["web_fixtures"]

REPO = Path(__file__).resolve().parent.parent
# One request per format; the filter keeps the files small. `all` is GeoPackage only.
REQUESTS = {
    "gpkg": "all.gpkg?document=xixian-2023",
    "shp.zip": "new-areas.shp.zip?crs=EPSG:4490",
    "geojson": "new-areas.geojson?unit=ndrc-2024:6",
    "kml": "ports.kml",
    "csv": "sites.csv?crs=EPSG:4548",
}


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@pytest.fixture(scope="module")
def web_exports(store_path, live_server) -> dict[str, list[tuple[int, dict, bytes]]]:
    """Each request fetched twice from the real server, more than two seconds apart (zip
    dates count in steps of two seconds; the server's two workers may each answer one)."""
    first = {fmt: fetch(f"{live_server}/export/{path}") for fmt, path in REQUESTS.items()}
    time.sleep(2.1)
    return {fmt: [first[fmt], fetch(f"{live_server}/export/{path}")]
            for fmt, path in REQUESTS.items()}


@pytest.mark.parametrize("fmt", REQUESTS)
def test_two_web_exports_are_byte_identical(web_exports, fmt):
    (status_a, headers_a, body_a), (status_b, headers_b, body_b) = web_exports[fmt]
    assert status_a == status_b == 200
    assert len(body_a) > 100
    assert body_a == body_b
    assert headers_a["ETag"] == headers_b["ETag"]


@pytest.mark.parametrize("fmt", REQUESTS)
def test_a_repeat_with_if_none_match_gets_304(web_exports, live_server, fmt):
    (_, headers, _), _ = web_exports[fmt]
    status, _, body = fetch(f"{live_server}/export/{REQUESTS[fmt]}",
                            {"If-None-Match": headers["ETag"]})
    assert status == 304 and body == b""
    status, _, _ = fetch(f"{live_server}/export/{REQUESTS[fmt]}",
                         {"If-None-Match": '"not-this-one"'})
    assert status == 200


@pytest.mark.parametrize("fmt", REQUESTS)
def test_the_cli_writes_the_bytes_the_server_answers(web_exports, tmp_path, fmt):
    """Another process, another day's clock reading, another path: the same bytes."""
    layer, _, query = REQUESTS[fmt].partition(".")
    args = ["--layer", layer, "--format", fmt]
    for pair in query.partition("?")[2].split("&"):
        if pair:
            name, value = pair.split("=")
            args += [f"--{name}", value]
    out = tmp_path / f"export.{fmt}"
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "export", *args, "--out",
                             str(out)], cwd=REPO, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "CI": "true"})
    assert result.returncode == 0, result.stderr
    assert out.read_bytes() == web_exports[fmt][0][2]


def test_dates_in_the_files_are_the_stores_data_date(web_exports, store, tmp_path):
    """Every date written is the store's, not the time of the export."""
    when = export_time(store)
    assert when == dt.datetime.fromisoformat(store.build_info["data_date"])
    gpkg = tmp_path / "export.gpkg"
    gpkg.write_bytes(web_exports["gpkg"][0][2])
    with contextlib.closing(sqlite3.connect(gpkg)) as db:
        changes = {row[0] for row in db.execute("SELECT last_change FROM gpkg_contents")}
    assert changes == {when.strftime("%Y-%m-%dT%H:%M:%S.000Z")}
    archive = zipfile.ZipFile(io.BytesIO(web_exports["shp.zip"][0][2]))
    assert {info.date_time for info in archive.infolist()} == {when.timetuple()[:6]}
    dbf = archive.read("new_areas.dbf")
    year, month, day = struct.unpack("<3B", dbf[1:4])
    assert (1900 + year, month, day) == (when.year, when.month, when.day)


def test_build_date_is_source_date_epoch_else_the_newest_document(monkeypatch, store):
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    newest = max(store.documents["date"].astype(str))
    assert data_date(store.documents["date"]).date().isoformat().startswith(newest)
    assert data_date(["2023", "2024-03", "2024-03-18"]) == dt.datetime(2024, 3, 18,
                                                                     tzinfo=dt.UTC)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    assert data_date(["2024-03-18"]) == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.UTC)


def test_two_builds_into_different_paths_are_byte_identical(store_path, data_dir, tmp_path):
    """The session's store and a new build of the same data elsewhere, later."""
    again = build(data_dir=data_dir, store_path=tmp_path / "elsewhere" / "xinqu.gpkg")
    assert again.path.read_bytes() == Path(store_path).read_bytes()

"""Hostile load against the real `xinqu serve` (gunicorn, default worker model): parallel
big responses with Chrome's Accept-Encoding, idle and half-sent keep-alive sockets, and
the headers on the wire.

A small request made while the others run must be answered: the bound (10 s) only tells
starvation (the old sync workers made a third client wait 61 s) from a busy machine.
"""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from urllib.parse import urlsplit

import brotli
import pytest
import yaml
from web_fixtures import BROWSER_ACCEPT, serving

from webapp.commands.serve import GRACEFUL_TIMEOUT
from webapp.serve_worker import HEAD_TIMEOUT

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

pytest_plugins = ["web_fixtures"]

CHROME = {"Accept-Encoding": "gzip, deflate, br, zstd", "Accept": BROWSER_ACCEPT,
          "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36"}
SMALL = "/conformance?f=json"
STARVED = 10.0  # seconds: far beyond a prompt answer on a busy machine


def _connection(base: str, timeout: float = 120) -> http.client.HTTPConnection:
    parts = urlsplit(base)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)


def _get(base: str, path: str, headers: dict | None = None, timeout: float = 120):
    """(status, headers, decoded body) of one GET on a fresh connection."""
    connection = _connection(base, timeout)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        body = response.read()
        encoding = response.getheader("Content-Encoding")
        if encoding == "zstd":
            body = zstd.decompress(body)
        elif encoding == "br":
            body = brotli.decompress(body)
        elif encoding == "gzip":
            body = gzip.decompress(body)
        return response.status, dict(response.getheaders()), body
    finally:
        connection.close()


def _timed_small(base: str) -> float:
    started = time.monotonic()
    status, _, body = _get(base, SMALL, CHROME, timeout=STARVED)
    assert status == 200 and json.loads(body)["conformsTo"]
    return time.monotonic() - started


def test_parallel_big_responses_do_not_starve_a_small_one(live_server):
    # A filter: whole-layer exports are answered from the export cache, no longer heavy.
    big = [f"/export/partners.geojson?bbox=-180,-90,180,90&v={i}" for i in range(8)]
    big += [f"/collections/partners/items?f=json&limit={n}" for n in range(1, 8)]
    big += [f"/collections/new-areas/items?f=json&limit={n}" for n in (3, 7, 11, 19)]
    results: dict[str, tuple] = {}

    refused = []

    def fetch(path: str) -> None:
        try:
            for _ in range(60):  # a worker busy with exports says when to come back
                status, headers, body = _get(live_server, path, CHROME, timeout=300)
                if status != 503:
                    break
                refused.append((path, headers, body))
                time.sleep(int(headers["Retry-After"]))
            results[path] = (status, headers, body, time.monotonic())
        except Exception as error:  # recorded, asserted below
            results[path] = (error, None, None, time.monotonic())

    threads = [threading.Thread(target=fetch, args=(p,)) for p in big]
    for thread in threads:
        thread.start()
    time.sleep(1.0)  # the big ones are being answered
    small_took = _timed_small(live_server)
    small_done = time.monotonic()
    for thread in threads:
        thread.join(timeout=300)

    assert small_took < STARVED
    assert any(done > small_done for *_, done in results.values()), \
        "every big response finished before the small request: nothing was tested"
    for path, _headers, body in refused:
        assert "export" in path and json.loads(body)["code"] == "ServiceUnavailable"
    for path in big:
        status, headers, body, _ = results[path]
        assert status == 200, (path, status)
        assert headers["Content-Encoding"] == "zstd"
        document = json.loads(body)
        expected = 7 if "export" in path else int(path.rsplit("=", 1)[1])
        assert len(document["features"]) == min(expected, 19 if "new-areas" in path else 7)


def _idle_sockets(base: str, count: int) -> list[socket.socket]:
    """count connections: a third connected and silent, a third half-way through their
    request headers, a third after one full keep-alive request, all left open."""
    parts = urlsplit(base)
    sockets = []
    for i in range(count):
        s = socket.create_connection((parts.hostname, parts.port), timeout=30)
        if i % 3 == 1:
            s.sendall(b"GET /conformance?f=json HTTP/1.1\r\nHost: x\r\n")
        elif i % 3 == 2:
            s.sendall(b"GET /conformance?f=json HTTP/1.1\r\nHost: x\r\n"
                      b"Connection: keep-alive\r\n\r\n")
            assert s.recv(65536).startswith(b"HTTP/1.1 200")
        sockets.append(s)
    return sockets


def test_idle_keep_alive_sockets_do_not_starve_another_client(live_server):
    # More than the 2 workers x 8 threads; gunicorn's plain gthread gave each new
    # connection a thread, so the 8 half-sent ones, when they landed in one worker, left it
    # none for the requests below.
    sockets = _idle_sockets(live_server, 24)
    try:
        for _ in range(3):
            assert _timed_small(live_server) < STARVED
        status, _, body = _get(live_server, "/static/xinqu/map.js", CHROME, timeout=STARVED)
        assert status == 200 and b"xinqu" in body
    finally:
        for s in sockets:
            s.close()


def _answer(s: socket.socket) -> bytes:
    """What the server sends on `s` until one whole response is in (or it closes)."""
    data = b""
    while True:
        head, end, body = data.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
        if end and length and len(body) >= int(length.group(1)):
            return data
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk


def test_stalled_request_heads_hold_no_thread_and_are_closed_in_time(tmp_path):
    """One worker with two threads: six clients stopped half-way through their request
    head and three silent ones must leave the threads to the others, a head that comes
    in pieces is still read whole, a stalled head is dropped after HEAD_TIMEOUT, and
    one does not hold up the server's stop."""
    log = tmp_path / "serve.log"
    request = b"GET /conformance?f=json HTTP/1.1\r\nHost: x\r\n"
    with serving(dict(os.environ), log, "--workers", "1", "--threads", "2") as base:
        parts = urlsplit(base)
        address = (parts.hostname, parts.port)
        stalled = []
        opened = time.monotonic()
        for i in range(9):
            s = socket.create_connection(address, timeout=HEAD_TIMEOUT + 10)
            if i % 3:
                s.sendall(request)
            stalled.append(s)
        try:
            for _ in range(3):
                assert _timed_small(base) < STARVED
            with socket.create_connection(address, timeout=STARVED) as s:
                for piece in (request[:5], request[5:], b"Connection: keep-alive\r\n\r\n"):
                    s.sendall(piece)
                    time.sleep(0.3)
                assert _answer(s).startswith(b"HTTP/1.1 200")
                s.sendall(request)  # the next request on the kept-alive connection,
                time.sleep(0.3)  # again in two pieces
                s.sendall(b"\r\n")
                assert _answer(s).startswith(b"HTTP/1.1 200")
                # Two pipelined requests in one packet: both answered, then closed.
                s.sendall(request + b"\r\n" + request + b"Connection: close\r\n\r\n")
                answers = b""
                while chunk := s.recv(65536):
                    answers += chunk
                assert answers.count(b"HTTP/1.1 200") == 2
            for s in stalled:  # the server closes each stalled connection, in time
                assert s.recv(65536) == b""
            assert time.monotonic() - opened < HEAD_TIMEOUT + STARVED
        finally:
            for s in stalled:
                s.close()
        lingering = socket.create_connection(address, timeout=STARVED)
        lingering.sendall(request)  # one more as the server stops:
        stopping = time.monotonic()
    # it waits for that head only briefly (plain gthread: the whole graceful timeout)
    assert time.monotonic() - stopping < GRACEFUL_TIMEOUT / 2
    lingering.close()
    assert "Traceback" not in log.read_text(errors="replace")


@pytest.mark.parametrize("path", ["/?lang=en", "/units/ndrc-2024:13", SMALL,
                                  "/static/xinqu/site.css", "/no-such-page",
                                  "/collections/new-areas/items?limit=abc"])
def test_the_wire_carries_security_headers_and_no_server_name(live_server, path):
    _, headers, _ = _get(live_server, path, CHROME)
    names = {name.lower() for name in headers}
    assert "server" not in names
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


def test_gunicorn_answers_a_broken_request_without_its_name(live_server):
    parts = urlsplit(live_server)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as s:
        s.sendall(b"NOT HTTP AT ALL\r\n\r\n")
        head = s.recv(65536).split(b"\r\n\r\n")[0].decode("latin-1").lower()
    assert head.startswith("http/1.1 400")
    assert "\r\nserver:" not in head


def test_the_map_page_and_its_assets_come_compressed_and_cacheable(live_server):
    status, headers, body = _get(live_server, "/?lang=en", CHROME)
    assert status == 200 and headers["Content-Encoding"] == "zstd"
    assert "Accept-Encoding" in headers["Vary"]
    html = body.decode("utf-8")
    assets = [u.replace("&amp;", "&") for u in
              re.findall(r'"(/static/[^"]+\?v=[0-9a-f]+)"', html)]
    assert assets
    for url in assets:
        status, headers, _ = _get(live_server, url, CHROME)
        assert status == 200
        assert headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert headers["ETag"]


@pytest.mark.parametrize("option", [["--threads", "0"], ["--threads", "many"],
                                    ["--cache-mb", "0"], ["--workers", "65"]])
def test_serve_refuses_bad_worker_settings_in_one_line(option):
    result = subprocess.run([sys.executable, "-m", "webapp.cli", "serve", *option],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert option[0] in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("xinqu serve: error:")


def test_the_maps_layers_come_compressed_at_the_strong_level_from_the_server(live_server):
    """warm() asks for the layers at the server's own address: their bodies carry absolute
    links, so the bodies it compressed are the ones a browser at that address gets. A
    body no earlier start kept (each test run has its own port, so the layers' links are
    new) is sent at the cheap level until the background process has made the strong
    one, within seconds of the start."""
    from webapp.app import HTTP_SETTINGS

    levels = yaml.safe_load(HTTP_SETTINGS.read_text(encoding="utf-8"))["compression"]
    page = _get(live_server, "/?lang=en", CHROME)[2].decode()
    urls = {u.replace("\\u0026", "&") for u in re.findall(r'"(/collections/[^"]+)"', page)}
    assert len(urls) == 7
    for url in urls:
        _, _, plain = _get(live_server, url, {"Accept": "application/geo+json"})
        strong = zstd.compress(plain, levels["fixed"]["zstd"])
        cheap = zstd.compress(plain, levels["per_request"]["zstd"])
        deadline = time.monotonic() + 60
        while True:
            connection = _connection(live_server)
            try:
                connection.request("GET", url, headers={"Accept": "application/geo+json",
                                                        "Accept-Encoding": "zstd"})
                packed = connection.getresponse().read()
            finally:
                connection.close()
            if packed == strong or time.monotonic() > deadline:
                break
            assert packed == cheap, url
            time.sleep(0.5)
        assert packed == strong, url

"""Compression, caching and security headers of the app (Flask's test client, real store).

Fixed bodies come compressed at the strong levels warm() used, everything else at the
cheap levels of data/http.yaml; the compressed-body cache stays within its bytes; static
files are fingerprinted; every response carries the security headers.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import re
import sys

import brotli
import pytest
import yaml
from web_fixtures import browser_client

from webapp.app import HTTP_SETTINGS, STATIC_DIR, warm
from webapp.compression import CompressedBodies

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

pytest_plugins = ["web_fixtures"]

SETTINGS = yaml.safe_load(HTTP_SETTINGS.read_text(encoding="utf-8"))
FIXED = SETTINGS["compression"]["fixed"]
CHEAP = SETTINGS["compression"]["per_request"]
CHROME = "gzip, deflate, br, zstd"
LAYER = "/collections/new-areas/items?f=json&display=1&limit=10000"


def _compress(body: bytes, encoding: str, level: int) -> bytes:
    if encoding == "zstd":
        return zstd.compress(body, level)
    if encoding == "br":
        return brotli.compress(body, quality=level)
    return gzip.compress(body, level, mtime=0)


def _decompress(body: bytes, encoding: str) -> bytes:
    return {"zstd": zstd.decompress, "br": brotli.decompress,
            "gzip": gzip.decompress}[encoding](body)


@pytest.fixture(scope="module")
def warmed(web_store):
    from webapp import create_app

    app = create_app({"STORE": web_store, "TESTING": True})
    warm(app)
    return app


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
@pytest.mark.parametrize("url", [LAYER, "/basemap", "/?lang=en"])
def test_fixed_bodies_come_precompressed_at_the_strong_level(warmed, url, encoding):
    """What is fixed from start is compressed at the strong level, before any request: the
    map pages, /basemap, and the layers of a store held in memory (a database store's
    layers are read per request, so they get the cheap level)."""
    client = browser_client(warmed)
    fixed = url != LAYER or warmed.extensions["xinqu"].store.holds_features
    plain = client.get(url, headers={"Accept-Encoding": "identity"})
    assert "Content-Encoding" not in plain.headers
    packed = client.get(url, headers={"Accept-Encoding": encoding})
    assert packed.headers["Content-Encoding"] == encoding
    assert _decompress(packed.data, encoding) == plain.data
    level = (FIXED if fixed else CHEAP)[encoding]
    assert packed.data == _compress(plain.data, encoding, level)
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + f'-{encoding}"'


@pytest.mark.parametrize("encoding", ["zstd", "br", "gzip"])
def test_per_request_bodies_use_the_cheap_level(warmed, encoding):
    client = browser_client(warmed)
    url = "/collections/partners/items?f=json&limit=7"
    plain = client.get(url, headers={"Accept-Encoding": "identity"}).data
    packed = client.get(url, headers={"Accept-Encoding": encoding}).data
    assert packed == _compress(plain, encoding, CHEAP[encoding])


def test_chrome_gets_zstd_and_a_client_preference_wins(warmed):
    client = browser_client(warmed)
    assert client.get(LAYER, headers={"Accept-Encoding": CHROME}
                      ).headers["Content-Encoding"] == "zstd"
    assert client.get(LAYER, headers={"Accept-Encoding": "zstd;q=0.5, gzip"}
                      ).headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in client.get(
        LAYER, headers={"Accept-Encoding": "zstd;q=0, deflate"}).headers


def test_vary_names_accept_encoding_even_when_not_compressed(warmed):
    response = browser_client(warmed).get(LAYER, headers={"Accept-Encoding": "identity"})
    assert "Accept-Encoding" in response.headers["Vary"]
    assert {"Accept", "Accept-Language"} <= set(re.split(r",\s*", response.headers["Vary"]))


def test_a_304_answers_any_coding_of_the_same_body(warmed):
    client = browser_client(warmed)
    etag = client.get(LAYER, headers={"Accept-Encoding": "gzip"}).headers["ETag"]
    again = client.get(LAYER, headers={"Accept-Encoding": "zstd", "If-None-Match": etag})
    assert again.status_code == 304 and not again.data
    assert again.headers["ETag"].endswith('-zstd"')
    assert "Accept-Encoding" in again.headers["Vary"]
    other = client.get("/basemap", headers={"Accept-Encoding": "gzip", "If-None-Match": etag})
    assert other.status_code == 200


def test_the_cache_stays_within_its_bytes(web_store):
    from webapp import create_app

    limit = 200_000
    app = create_app({"STORE": web_store, "TESTING": True, "XINQU_CACHE_BYTES": limit})
    bodies = app.extensions["xinqu"].compressor.bodies
    client = app.test_client()
    seen = 0
    for limit_param in range(1, 60):
        for encoding in ("gzip", "br", "zstd"):
            response = client.get(f"/collections/sites/items?f=json&limit={limit_param}",
                                  headers={"Accept-Encoding": encoding})
            seen += len(response.data)
            assert bodies.size <= limit
    assert seen > limit  # the cache had to let go of some bodies
    assert bodies.recent  # and still keeps the most recent ones


def test_compressed_bodies_evict_oldest_and_keep_fixed():
    cache = CompressedBodies(limit_bytes=100, max_entry=40)
    assert cache.put(("a", "gzip"), b"x" * 50, fixed=True)
    assert cache.put(("b", "gzip"), b"x" * 30)
    assert cache.put(("c", "gzip"), b"x" * 30)  # 110 > 100: b goes
    assert cache.get(("b", "gzip")) is None and cache.get(("c", "gzip")) is not None
    assert not cache.put(("d", "gzip"), b"x" * 41)  # larger than one entry may be
    assert not cache.put(("e", "gzip"), b"x" * 60, fixed=True)  # the fixed share is full
    assert cache.get(("a", "gzip")) == b"x" * 50 and cache.size <= 100


def _static_urls(html: str) -> list[str]:
    return re.findall(r'"(/static/[^"]+)"', html)


def test_static_urls_carry_the_hash_of_their_file(warmed):
    client = browser_client(warmed)
    urls = _static_urls(client.get("/?lang=en").get_data(as_text=True))
    assert len(urls) >= 5
    for url in urls:
        path, version = re.fullmatch(r"/static/([^?]+)\?v=([0-9a-f]+)", url).groups()
        digest = hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest()
        assert digest.startswith(version)
        response = client.get(url, headers={"Accept-Encoding": "identity"})
        assert response.data == (STATIC_DIR / path).read_bytes()
        assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
        assert response.headers["ETag"] == f'"{version}"'
        again = client.get(url, headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304


def test_static_without_or_with_a_stale_hash_is_cached_a_day(warmed):
    client = browser_client(warmed)
    for url in ("/static/xinqu/map.js", "/static/xinqu/map.js?v=0000"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Cache-Control"] == "public, max-age=86400"
    missing = client.get("/static/xinqu/nothing.js")
    assert missing.status_code == 404 and missing.mimetype == "application/json"


# --- security headers -------------------------------------------------------------------

@pytest.mark.parametrize("url", ["/?lang=en", "/units/ndrc-2024:13?lang=en", "/places/xixian",
                                 "/collections?f=json", LAYER, "/static/xinqu/map.js",
                                 "/units/no-such-unit", "/collections/new-areas/items?limit=0"])
def test_every_response_carries_the_security_headers(warmed, url):
    response = browser_client(warmed).get(url)
    for name, value in SETTINGS["security"]["headers"].items():
        assert response.headers[name] == value
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy
    script_src = re.search(r"script-src ([^;]*)", policy).group(1).split()
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


@pytest.mark.parametrize("url", ["/?lang=en", "/?lang=zh", "/units/ndrc-2024:13?lang=en",
                                 "/places/xixian?lang=zh"])
def test_csp_allows_exactly_the_pages_own_inline_scripts(warmed, url):
    response = browser_client(warmed).get(url)
    html = response.get_data(as_text=True)
    inline = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert inline  # folium's map script, at least
    script_src = re.search(r"script-src ([^;]*)",
                           response.headers["Content-Security-Policy"]).group(1).split()
    hashes = {s for s in script_src if s.startswith("'sha256-")}
    expected = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
                + "'" for s in inline}
    assert hashes == expected
    # the JSON data block is not a script the browser runs: no hash needed
    config = re.search(r'<script type="application/json" id="xinqu-config">(.*?)</script>',
                       html, re.S)
    if config:
        json.loads(config.group(1))


def test_a_script_in_document_text_is_not_allowed_by_the_csp(gpkg_store):
    """A unit text carrying a script renders escaped, and its hash is not in the policy."""
    import dataclasses

    from webapp import create_app

    script = "alert(1)"
    units = gpkg_store.units.copy()
    units.loc["ndrc-2024:13", "text_en"] = f"<script>{script}</script>"
    app = create_app({"STORE": dataclasses.replace(gpkg_store, units=units), "TESTING": True})
    response = browser_client(app).get("/units/ndrc-2024:13?lang=en")
    assert f"<script>{script}</script>" not in response.get_data(as_text=True)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    assert digest not in response.headers["Content-Security-Policy"]


def test_exports_beyond_the_heavy_slots_are_refused_at_once_with_retry_after(web_store):
    """One slot, three exports at once: the others are told when to come back."""
    from concurrent.futures import ThreadPoolExecutor

    from webapp import create_app

    app = create_app({"STORE": web_store, "TESTING": True, "XINQU_HEAVY_SLOTS": 1})
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda i: app.test_client().get(
            f"/export/partners.geojson?n={i}"), range(3)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses[0] == 200 and statuses[-1] == 503
    for answer in answers:
        if answer.status_code == 503:
            assert answer.headers["Retry-After"] == str(SETTINGS["limits"]["retry_after"])
            assert answer.get_json()["code"] == "ServiceUnavailable"
    # the slot is free again afterwards, and pages never needed one
    assert app.test_client().get("/export/partners.geojson").status_code == 200
    assert app.test_client().get("/conformance?f=json").status_code == 200


@pytest.mark.parametrize("url", ["/?lang=en", "/units/ndrc-2024:13?lang=zh",
                                 "/places/xixian?lang=en"])
def test_pages_with_a_map_are_the_same_bytes_from_every_process(warmed, app, url):
    """Two apps (as two workers, or before and after a restart) answer the same page with
    the same bytes, ETag and CSP, so a browser's If-None-Match works across them."""
    first = browser_client(warmed).get(url, headers={"Accept-Encoding": "identity"})
    second = browser_client(app).get(url, headers={"Accept-Encoding": "identity"})
    assert first.data == second.data
    assert first.headers["ETag"] == second.headers["ETag"]
    assert (first.headers["Content-Security-Policy"]
            == second.headers["Content-Security-Policy"])


def test_a_small_body_is_sent_plain_with_the_same_etag_on_200_and_304(warmed):
    client = browser_client(warmed)
    url = "/search?q=xx"  # a JSON body under the compression threshold
    first = client.get(url, headers={"Accept-Encoding": "zstd"})
    assert len(first.data) < SETTINGS["compression"]["min_size"]
    assert "Content-Encoding" not in first.headers
    again = client.get(url, headers={"Accept-Encoding": "zstd",
                                     "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.headers["ETag"] == first.headers["ETag"]


def test_worker_tokens_are_shared_across_processes_and_freed_by_a_kill(tmp_path):
    """A process holding the one token keeps others out until it is killed."""
    import signal
    import subprocess

    from webapp.limits import WorkerTokens

    tokens = WorkerTokens(tmp_path, 1)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from pathlib import Path; "
         "from webapp.limits import WorkerTokens; "
         f"t = WorkerTokens(Path({str(tmp_path)!r}), 1); assert t.acquire(); "
         "print('held', flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert not tokens.acquire()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert tokens.acquire()
        other = WorkerTokens(tmp_path, 1)
        assert not other.acquire()
        tokens.release()
        assert other.acquire()
        other.release()
    finally:
        holder.kill()
        holder.wait()


def _warmed_over(web_store, folder):
    from webapp import create_app

    app = create_app({"STORE": web_store, "TESTING": True, "XINQU_COMPRESSED_DIR": folder})
    warm(app)
    return app, app.extensions["xinqu"].compressor.files


def test_a_restart_reads_the_strong_compressions_kept_on_disk(store_path, tmp_path):
    from layers.store import open_stable

    folder = tmp_path / "compressed"
    first, files = _warmed_over(open_stable(store_path), folder)
    assert files.hits == 0 and files.writes > 0
    assert len(list(folder.glob("*.body"))) == files.writes
    second, again = _warmed_over(open_stable(store_path), folder)
    # The same store gives the same bodies (the items' timeStamp is the store file's time):
    # nothing is compressed again.
    assert again.writes == 0 and again.hits == files.writes
    for url in ("/basemap", "/?lang=zh-Hant", LAYER):
        plain = browser_client(second).get(url, headers={"Accept-Encoding": "identity"})
        before = browser_client(first).get(url, headers={"Accept-Encoding": "identity"})
        assert plain.headers["ETag"] == before.headers["ETag"]
        for encoding in ("zstd", "br", "gzip"):
            packed = browser_client(second).get(url, headers={"Accept-Encoding": encoding})
            assert packed.headers["Content-Encoding"] == encoding
            assert packed.data == _compress(plain.data, encoding, FIXED[encoding])


def test_a_damaged_kept_compression_is_ignored_and_written_anew(web_store, tmp_path):
    folder = tmp_path / "compressed"
    app, _ = _warmed_over(web_store, folder)
    plain = browser_client(app).get("/basemap", headers={"Accept-Encoding": "identity"}).data
    kept = app.extensions["xinqu"].compressor.files.path(plain, "zstd", FIXED["zstd"])
    kept.write_bytes(kept.read_bytes()[:-100])  # cut short, as a full disk would leave it
    app, files = _warmed_over(web_store, folder)
    packed = browser_client(app).get("/basemap", headers={"Accept-Encoding": "zstd"}).data
    assert packed == _compress(plain, "zstd", FIXED["zstd"])
    assert kept.read_bytes() == packed and files.writes >= 1


def test_kept_compressions_stay_within_their_bytes(tmp_path):
    from webapp.compressed_files import CompressedFiles

    files = CompressedFiles(tmp_path, limit_bytes=20_000)
    # 6.4 kB each that do not compress: three fit
    bodies = [b"".join(hashlib.sha256(bytes([n, i])).digest() for i in range(200))
              for n in range(7)]
    for body in bodies:
        files.put(body, "gzip", 6, gzip.compress(body, 6, mtime=0))
    files.get(bodies[0], "gzip", 6)  # used now: the most recent of all
    files.prune()
    left = sorted(tmp_path.glob("*.body"))
    assert 0 < len(left) < len(bodies)
    assert sum(f.stat().st_size for f in left) <= 20_000
    assert files.path(bodies[0], "gzip", 6) in left


def test_a_folder_that_cannot_be_written_only_costs_the_compression(web_store, tmp_path,
                                                                       caplog):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    app, files = _warmed_over(web_store, blocked / "compressed")
    assert files.writes == 0 and not files.writable
    assert sum("cannot keep compressed bodies" in r.message for r in caplog.records) == 1
    packed = browser_client(app).get("/basemap", headers={"Accept-Encoding": "br"})
    plain = browser_client(app).get("/basemap", headers={"Accept-Encoding": "identity"}).data
    assert packed.data == _compress(plain, "br", FIXED["br"])


def test_a_first_start_that_does_not_wait_serves_cheap_then_strong(store_path, tmp_path):
    """warm(wait=False), as `xinqu serve` runs it: the bodies no earlier start kept are
    answered at the cheap level at first, a background process (a real fork) writes their
    strong compressions, and then the same app answers those, with the same ETag."""
    import os
    import time

    from layers.store import open_stable
    from webapp import compression, create_app

    folder = tmp_path / "compressed"
    app = create_app({"STORE": open_stable(store_path), "TESTING": True,
                      "XINQU_COMPRESSED_DIR": folder})
    compressor = app.extensions["xinqu"].compressor
    forked = []
    real = compressor.compress_later
    compressor.compress_later = lambda jobs: forked.append(real(jobs)) or forked[-1]
    warm(app, wait=False)
    assert len(forked) == 1 and forked[0] and compressor.pending
    client = browser_client(app)
    plain = client.get(LAYER, headers={"Accept-Encoding": "identity"})
    cheap = client.get(LAYER, headers={"Accept-Encoding": "br"})
    assert cheap.data == _compress(plain.data, "br", CHEAP["br"])
    _, status = os.waitpid(forked[0], 0)
    assert os.waitstatus_to_exitcode(status) == 0
    time.sleep(compression.PENDING_CHECK_S)
    for encoding in ("zstd", "br", "gzip"):
        strong = client.get(LAYER, headers={"Accept-Encoding": encoding})
        assert strong.data == _compress(plain.data, encoding, FIXED[encoding])
        assert strong.headers["ETag"] == cheap.headers["ETag"].replace("-br", f"-{encoding}")
    etag = plain.headers["ETag"].strip('"')
    assert not [key for key in compressor.pending if key[0] == etag]
    # the next start finds every strong compression on disk and waits for none
    again = create_app({"STORE": open_stable(store_path), "TESTING": True,
                        "XINQU_COMPRESSED_DIR": folder})
    warm(again, wait=False)
    assert not again.extensions["xinqu"].compressor.pending

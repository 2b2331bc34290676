"""Time to first byte and bytes on the wire with Chrome's Accept-Encoding, against the real
server (`xinqu serve`, default workers and threads, on a free loopback port).

Prints, per URL, the median over a few requests of the time to the response's headers
(TTFB), the time to the last byte, the encoding and the size; and the start-up cost of
warm() (the precompression) measured in this process. Fixed bodies (the map page, its
static files and layers, /basemap) come precompressed; the others (items pages with
varying parameters, an export, a unit page) are compressed while the client waits.
"""

from __future__ import annotations

import http.client
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from layers import progress  # noqa: E402

CHROME = {"Accept-Encoding": "gzip, deflate, br, zstd",
          "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
          "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) Chrome/131.0.0.0 Safari/537.36"}
REPEATS = 3
URLS = [
    "/?lang=en",
    "/static/vendor/leaflet/leaflet.js",
    "/collections/new-areas/items?f=json&display=1&limit=10000",
    "/collections/partners/items?f=json&display=1&limit=10000",
    "/basemap",
    "/units/ndrc-2024:13?lang=en",
    # per-request bodies: a new query string each time (so no cached body is reused)
    "/collections/new-areas/items?f=json&limit={n}",
    "/collections/partners/items?f=json&bbox=70,{n},140,55",
    "/export/partners.geojson?run={n}",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fetch(port: int, path: str) -> tuple[float, float, str, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        start = time.perf_counter()
        connection.request("GET", path, headers=CHROME)
        response = connection.getresponse()
        first = time.perf_counter() - start
        body = response.read()
        total = time.perf_counter() - start
        return first, total, response.getheader("Content-Encoding") or "-", len(body)
    finally:
        connection.close()


def _burst(port: int, count: int = 30, parallel: int = 8) -> None:
    """The issue's case: `count` items requests with different `limit` values (every body
    new, so every one is compressed while its client waits), `parallel` at a time."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [f"/collections/partners/items?f=json&limit={1 + i % 7}&offset={i // 7}"
             for i in range(count)]
    start = time.perf_counter()
    with ThreadPoolExecutor(parallel) as pool:
        runs = list(pool.map(lambda path: _fetch(port, path), paths))
    wall = time.perf_counter() - start
    slowest = max(r[1] for r in runs)
    print(f"{count} partners items requests, different limit/offset, {parallel} at a time: "
          f"{wall:.2f} s in all, slowest {slowest:.2f} s, "
          f"{sum(r[3] for r in runs) / 1e6:.1f} MB compressed")


def _warm_cost() -> None:
    from webapp import create_app
    from webapp.app import warm

    start = time.perf_counter()
    app = create_app()
    loaded = time.perf_counter() - start
    start, cpu = time.perf_counter(), time.process_time()
    warm(app)
    warmed, cpu = time.perf_counter() - start, time.process_time() - cpu
    bodies = app.extensions["xinqu"].compressor.bodies
    print(f"create_app: {loaded:.2f} s; warm() (render + precompress): {warmed:.2f} s "
          f"({cpu:.2f} s of CPU); {len(bodies.fixed)} precompressed bodies, "
          f"{bodies.fixed_bytes / 1e6:.2f} MB")


def main() -> None:
    _warm_cost()
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "webapp.cli", "serve", "--port", str(port)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "PYTHONPATH": str(REPO)})
    try:
        started = time.perf_counter()
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/conformance?f=json", timeout=2)
                break
            except OSError:
                if server.poll() is not None or time.perf_counter() - started > 180:
                    raise SystemExit("the server did not start") from None
                time.sleep(0.2)
        print(f"xinqu serve: answering after {time.perf_counter() - started:.1f} s")
        print(f"{'TTFB ms':>8} {'total ms':>9} {'enc':>5} {'bytes':>10}  url")
        for template in URLS:
            progress.step(f"fetching {template}")
            runs = [_fetch(port, template.format(n=20 + i)) for i in range(REPEATS)]
            first = statistics.median(r[0] for r in runs) * 1e3
            total = statistics.median(r[1] for r in runs) * 1e3
            print(f"{first:8.1f} {total:9.1f} {runs[-1][2]:>5} {runs[-1][3]:10d}  {template}")
        _burst(port)
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()

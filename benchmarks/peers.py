"""xinqu beside pygeoapi 0.21 on the same GeoPackage and worker count: cold start,
throughput per request type, and a long load at many connections.

- Peer: pygeoapi 0.21 with its OGR provider (benchmarks/pygeoapi-config.yml), in its own
  virtual environment under benchmarks/.peers/ (git-ignored), created on first run on the
  system Python with --system-site-packages for GDAL's bindings (Debian python3-gdal).
  It is never a dependency of the project.
- Cold start: from starting the process to the first 200 of /collections?f=json, for
  `xinqu serve` and `gunicorn pygeoapi.flask_app:APP`, interleaved, median of --starts;
  xinqu both on a restart (its instance folder as the previous start left it) and on the
  first start after a build (a fresh instance folder holding a new copy of the store, the
  snapshot of it that `xinqu build` keeps, and the instance's kept compressions, as a
  build leaves them: the store's new time changes the layers' bodies, so only the static
  files' compressions are found).
- Throughput: wrk (Debian) with a Lua script that sends the request headers Chrome sends
  (Accept-Encoding: gzip, deflate, br, zstd) and varies the request: items pages, one
  feature (ids in turn), bbox pages (a random box in China per request) and the map page
  (xinqu's `/`, pygeoapi's HTML items page, its map of a layer). Runs are interleaved
  A, B, A, B; the ratio is of the summed requests per second.
- Load: --load seconds at --load-connections connections on a mix of pages and items
  against xinqu (and pygeoapi with --load-peer): requests/s, errors, p50 and p99.

Whatever `xinqu serve` is (its compression, its worker model) is what is measured.
Run: .venv/bin/python benchmarks/peers.py [--duration 10] [--rounds 2] [--load 60]
     [--cold-only]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from layers.paths import HOME_DIR, STORE_PATH
from layers.progress import step

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
PEERS = HERE / ".peers"
PEER_VENV = PEERS / "pygeoapi-venv"
PEER_VERSION = "0.21.0"
SYSTEM_PYTHON = "/usr/bin/python3"  # Debian's, which python3-gdal belongs to
READY_PATH = "/collections?f=json"

# What Chrome sends when a user opens a URL (its navigation request headers).
CHROME_HEADERS = {
    "User-Agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/131.0.0.0 Safari/537.36",
    "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
              "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7",
    "Accept-Encoding": "gzip, deflate, br, zstd",
    "Accept-Language": "en-US,en;q=0.9",
    "Sec-Fetch-Dest": "document",
    "Sec-Fetch-Mode": "navigate",
    "Sec-Fetch-Site": "none",
    "Upgrade-Insecure-Requests": "1",
}
# A box inside this one (lon, lat) is drawn for every bbox request.
CHINA = (73.0, 18.0, 135.0, 53.0)


@dataclass
class Server:
    name: str
    command: list[str]
    env: dict[str, str]
    port: int
    cwd: Path
    process: subprocess.Popen | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_peer() -> None:
    """pygeoapi in its own virtual environment, created once."""
    python = PEER_VENV / "bin" / "python"
    if python.exists() and subprocess.run(
            [str(python), "-c", f"import pygeoapi, sys; sys.exit(pygeoapi.__version__ != "
                                f"{PEER_VERSION!r})"], capture_output=True).returncode == 0:
        return
    step(f"creating the peer's environment (pygeoapi {PEER_VERSION}) in {PEER_VENV}")
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", "--system-site-packages", str(PEER_VENV)],
                   check=True)
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                    f"pygeoapi=={PEER_VERSION}", "gunicorn"], check=True)


def peer_config(store: Path) -> tuple[Path, Path]:
    """The peer's configuration over `store`, and its OpenAPI document."""
    config = PEERS / "pygeoapi-config.yml"
    openapi = PEERS / "pygeoapi-openapi.yml"
    text = (HERE / "pygeoapi-config.yml").read_text(encoding="utf-8")
    config.write_text(text.replace("STORE_PATH", str(store)), encoding="utf-8")
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi)}
    subprocess.run([str(PEER_VENV / "bin" / "pygeoapi"), "openapi", "generate", str(config),
                    "--output-file", str(openapi)], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return config, openapi


def xinqu_server(workers: int, home: Path | None = None) -> Server:
    """`xinqu serve` over the instance folder (or over `home`, another one)."""
    port = free_port()
    env = dict(os.environ)
    if home is not None:
        env["XINQU_HOME"] = str(home)
    env.pop("XINQU_STORE", None)
    return Server("xinqu", [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1",
                            "--port", str(port), "--workers", str(workers)],
                  env, port, REPO)


@contextmanager
def built_home():
    """A fresh instance folder as a build leaves it: a new copy of the store (a new file
    time, so the layers' bodies are new), its snapshot and the instance's kept
    compressions."""
    with tempfile.TemporaryDirectory(prefix="xinqu-cold-") as folder:
        home = Path(folder)
        shutil.copyfile(STORE_PATH, home / STORE_PATH.name)
        kept = HOME_DIR / "cache"
        if kept.is_dir():
            shutil.copytree(kept, home / "cache")
        # what `xinqu build` leaves besides: the snapshot of the store it wrote
        subprocess.run([sys.executable, "-c", "import sys\nfrom layers import stores\n"
                        "from layers.store import open_stable\n"
                        "stores.keep(open_stable(sys.argv[1]))", str(home / STORE_PATH.name)],
                       cwd=REPO, check=True, capture_output=True)
        yield home


def peer_server(workers: int) -> Server | None:
    """pygeoapi over the store, set up first if needed; None (and why) when it cannot be."""
    try:
        PEERS.mkdir(exist_ok=True)
        ensure_peer()
        config, openapi = peer_config(STORE_PATH.resolve())
    except (OSError, subprocess.CalledProcessError) as error:
        print(f"pygeoapi could not be set up ({error}); measuring xinqu alone",
              file=sys.stderr)
        return None
    port = free_port()
    env = {**os.environ, "PYGEOAPI_CONFIG": str(config), "PYGEOAPI_OPENAPI": str(openapi),
           "PYTHONPATH": ""}
    return Server("pygeoapi", [str(PEER_VENV / "bin" / "gunicorn"), "--workers", str(workers),
                               "--bind", f"127.0.0.1:{port}", "--log-level", "error",
                               "pygeoapi.flask_app:APP"], env, port, PEERS)


def start(server: Server, timeout: float = 300) -> float:
    """Start the server; seconds until it first answers READY_PATH with a 200."""
    began = time.perf_counter()
    server.process = subprocess.Popen(server.command, env=server.env, cwd=server.cwd,
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                      start_new_session=True)
    while time.perf_counter() - began < timeout:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.name} exited with {server.process.returncode}")
        try:
            with urllib.request.urlopen(server.base + READY_PATH, timeout=5) as answer:
                if answer.status == 200:
                    return time.perf_counter() - began
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.02)
    stop(server)
    raise RuntimeError(f"{server.name} did not answer within {timeout:.0f} s")


def settle(server: Server, workers: int, timeout: float = 300) -> None:
    """Wait until every worker is free: wrk stops sending at the end of a run, but the
    requests still being answered would otherwise slow the next run down."""
    def ready(_: int) -> None:
        with urllib.request.urlopen(server.base + READY_PATH, timeout=timeout) as answer:
            answer.read()

    with ThreadPoolExecutor(2 * workers) as pool:
        list(pool.map(ready, range(2 * workers)))


def stop(server: Server) -> None:
    """Stop the server's process group (the process this script started, and its workers)."""
    if server.process is None:
        return
    if server.process.poll() is None:
        os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait()
    server.process = None


@contextmanager
def running(*started: Server):
    try:
        yield started
    finally:
        for server in started:
            stop(server)


def fetch_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=60) as answer:
        return json.load(answer)


# --- wrk ---------------------------------------------------------------------------------

LUA = r"""
local paths = {PATHS}
local kind = "{KIND}"
local box = {BOX}
local headers = {HEADERS}
local n = 0
function setup(thread)
  thread:set("seed", math.random(1, 1000000))
end
function init(args)
  math.randomseed(seed or os.time())
  n = math.random(0, #paths - 1)
end
function request()
  n = n + 1
  local path = paths[(n % #paths) + 1]
  if kind == "bbox" then
    local w = 0.5 + math.random() * 8
    local h = 0.5 + math.random() * 6
    local x = box[1] + math.random() * (box[3] - box[1] - w)
    local y = box[2] + math.random() * (box[4] - box[2] - h)
    path = path .. string.format("&bbox=%.4f,%.4f,%.4f,%.4f", x, y, x + w, y + h)
  end
  return wrk.format("GET", path, headers)
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '\nRESULT {"requests":%d,"duration_us":%d,"bytes":%d,"connect":%d,"read":%d,' ..
    '"write":%d,"status":%d,"timeout":%d,"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def lua_script(paths: list[str], kind: str) -> str:
    table = "{" + ", ".join(json.dumps(p) for p in paths) + "}"
    headers = "{" + ", ".join(f'[{json.dumps(k)}] = {json.dumps(v)}'
                              for k, v in CHROME_HEADERS.items()) + "}"
    return (LUA.replace("{PATHS}", table).replace("{KIND}", kind)
            .replace("{BOX}", "{" + ", ".join(map(str, CHINA)) + "}").replace("{HEADERS}", headers))


def wrk(server: Server, paths: list[str], kind: str, seconds: float, connections: int,
        threads: int = 2) -> dict:
    """One wrk run; its figures (requests/s, errors, latency percentiles in ms)."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua_script(paths, kind))
    try:
        out = subprocess.run(
            ["wrk", "--latency", "-t", str(min(threads, connections)), "-c", str(connections),
             "-d", f"{seconds:g}s", "--timeout", "30s", "-s", script.name, server.base],
            capture_output=True, text=True, check=True).stdout
    finally:
        os.unlink(script.name)
    line = next(x for x in out.splitlines() if x.startswith("RESULT "))
    r = json.loads(line[len("RESULT "):])
    seconds = r["duration_us"] / 1e6
    return {"requests": r["requests"], "rps": r["requests"] / seconds,
            "mb_s": r["bytes"] / seconds / 1e6,
            "errors": r["connect"] + r["read"] + r["write"] + r["status"] + r["timeout"],
            "non_2xx": r["status"], "timeouts": r["timeout"],
            "p50_ms": r["p50_us"] / 1e3, "p99_ms": r["p99_us"] / 1e3, "max_ms": r["max_us"] / 1e3}


# --- the requests ------------------------------------------------------------------------

def request_types(xinqu: Server) -> dict[str, dict[str, tuple[list[str], str]]]:
    """Per request type, per server: the paths wrk takes in turn, and how it varies them."""
    ports = [f["id"] for f in fetch_json(
        xinqu.base + "/collections/ports/items?f=json&limit=100")["features"]]
    areas = [f["id"] for f in fetch_json(
        xinqu.base + "/collections/new-areas/items?f=json&limit=100")["features"]]
    items = [f"/collections/new-areas/items?f=json&limit={n}" for n in (1, 2, 5, 10)]
    one = [f"/collections/ports/items/{i}?f=json" for i in ports] + [
        f"/collections/new-areas/items/{i}?f=json" for i in areas[:5]]
    bbox = ["/collections/new-areas/items?f=json&limit=10"]
    return {
        "items (new areas, limit 1-10)": {"xinqu": (items, "plain"), "pygeoapi": (items, "plain")},
        "one feature (ports, new areas)": {"xinqu": (one, "plain"), "pygeoapi": (one, "plain")},
        "bbox pages (random box in China)": {"xinqu": (bbox, "bbox"),
                                             "pygeoapi": (bbox, "bbox")},
        "map page (xinqu /, pygeoapi items HTML)": {
            "xinqu": (["/?lang=en"], "plain"),
            "pygeoapi": (["/collections/new-areas/items?f=html"], "plain")},
    }


def load_mix() -> list[str]:
    return ["/?lang=en", "/collections/new-areas/items?f=json&limit=10",
            "/collections/ports/items?f=json", "/units?f=html", "/collections?f=json",
            "/collections/sites/items?f=json&limit=10"]


def fill_kept(server: Server) -> None:
    """What a server that has run a while leaves in its instance folder: the snapshot of
    the opened store and the strong compressions of its fixed bodies at its address (its
    background process makes those after a first start; a server stopped at once, as here,
    kills it), so that the next starts are restarts."""
    code = ("import sys\nfrom layers import stores\nfrom webapp.app import create_app, warm\n"
            "app = create_app()\nstores.keep(app.extensions['xinqu'].store)\n"
            "warm(app, sys.argv[1])")
    subprocess.run([sys.executable, "-c", code, server.base], cwd=server.cwd, env=server.env,
                   check=True, capture_output=True)


def cold_starts(sides: list[Server], times: int, workers: int) -> None:
    """Each server started `times` times in turn; the median time to its first answer.
    xinqu twice per turn: a restart, and a first start after a build (built_home)."""
    step("cold starts")
    fill_kept(sides[0])
    seconds: dict[str, list[float]] = {server.name: [] for server in sides}
    seconds["xinqu after a build"] = []
    for _ in range(times):
        for server in sides:
            with running(server):
                seconds[server.name].append(start(server))
        with built_home() as home:
            fresh = xinqu_server(workers, home)
            with running(fresh):
                seconds["xinqu after a build"].append(start(fresh))
    medians = {name: statistics.median(values) for name, values in seconds.items()}
    print(f"\ncold start to first answer (median of {times}; each start):")
    for name, values in seconds.items():
        print(f"  {name:<22} {medians[name]:6.2f} s  ({', '.join(f'{v:.2f}' for v in values)})")
    if "pygeoapi" in medians:
        peer = medians["pygeoapi"]
        print(f"xinqu takes {medians['xinqu'] / peer:.2f}× pygeoapi's on a restart, "
              f"{medians['xinqu after a build'] / peer:.2f}× on the first start after a "
              f"build (aim ≤ 1×)")


def throughput(sides: list[Server], kinds: dict, rounds: int, seconds: float,
               connections: int, workers: int) -> None:
    """wrk on each request type, the servers interleaved A, B, A, B."""
    print(f"\nthroughput: {rounds} interleaved rounds of {seconds:g} s at {connections} "
          f"connections per server and request type")
    print(f"{'request':<42}{'server':<10}{'req/s':>9}{'MB/s':>8}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'errors':>8}")
    ratios = {}
    for kind, by_server in kinds.items():
        totals: dict[str, float] = {server.name: 0.0 for server in sides}
        for _ in range(rounds):
            for server in sides:
                step(f"{kind}: {server.name}")
                paths, how = by_server[server.name]
                r = wrk(server, paths, how, seconds, connections)
                settle(server, workers)
                totals[server.name] += r["rps"]
                print(f"{kind:<42}{server.name:<10}{r['rps']:>9.1f}{r['mb_s']:>8.2f}"
                      f"{r['p50_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}", flush=True)
        if "pygeoapi" in totals:
            ratios[kind] = (totals["xinqu"], totals["pygeoapi"])
    print()
    for kind, (ours, theirs) in ratios.items():
        ratio = f"{ours / theirs:.2f}×" if theirs else "n/a (pygeoapi answered none) ×"
        print(f"{kind}: xinqu {ratio} pygeoapi's throughput (aim ≥ 3×)")


def load(sides: list[Server], seconds: float, connections: int, workers: int) -> None:
    """A long load on a mix of requests: throughput, errors and tail latency."""
    print(f"\nload: {seconds:g} s at {connections} connections, a mix of pages and items: "
          f"{', '.join(load_mix())}")
    for server in sides:
        step(f"load: {server.name}")
        paths = load_mix() if server.name == "xinqu" else [
            p for p in load_mix() if p.startswith("/collections")]
        r = wrk(server, paths, "plain", seconds, connections, threads=2)
        settle(server, workers)
        print(f"{server.name}: {r['rps']:.1f} req/s, {r['requests']} requests, {r['errors']} "
              f"errors ({r['non_2xx']} not 2xx/3xx, {r['timeouts']} timeouts), p50 "
              f"{r['p50_ms']:.0f} ms, p99 {r['p99_ms']:.0f} ms, max {r['max_ms']:.0f} ms "
              f"(aim: 0 errors, p99 < 1000 ms)", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2, help="worker processes on both sides")
    parser.add_argument("--duration", type=float, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument("--rounds", type=int, default=2, help="A/B rounds per request type")
    parser.add_argument("--starts", type=int, default=3, help="cold starts of each server")
    parser.add_argument("--load", type=float, default=60, help="seconds of the long load (0: none)")
    parser.add_argument("--load-connections", type=int, default=64)
    parser.add_argument("--load-peer", action="store_true", help="load pygeoapi as well")
    parser.add_argument("--cold-only", action="store_true", help="measure cold starts only")
    args = parser.parse_args(argv)

    if not STORE_PATH.exists():
        print(f"no built store at {STORE_PATH}: run `xinqu build` first", file=sys.stderr)
        return 1
    try:
        subprocess.run(["wrk", "--version"], capture_output=True)
    except FileNotFoundError:
        print("wrk is missing: run scripts/install-system-deps.sh", file=sys.stderr)
        return 1
    xinqu = xinqu_server(args.workers)
    peer = peer_server(args.workers)
    sides = [xinqu] if peer is None else [xinqu, peer]
    print(f"xinqu{'' if peer is None else f' vs pygeoapi {PEER_VERSION}'}, {args.workers} "
          f"workers each, same GeoPackage; wrk with Chrome's request headers "
          f"(Accept-Encoding: {CHROME_HEADERS['Accept-Encoding']})")
    cold_starts(sides, args.starts, args.workers)
    if args.cold_only:
        return 0
    with running(*sides):
        for server in sides:
            start(server)
        throughput(sides, request_types(xinqu), args.rounds, args.duration, args.connections,
                   args.workers)
        if args.load > 0:
            load(sides if args.load_peer else [xinqu], args.load, args.load_connections,
                 args.workers)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The two stores as the corpus grows: load, start-up, memory and request latency.

For each scale (default 1× and 100×) the synthetic corpus (benchmarks/synthetic_corpus.py)
is written once as a GeoPackage, and for each backend:

- GeoPackage: `xinqu serve --store PATH` (the file as the instance folder's store when
  `serve` has no `--store`);
- PostGIS: the GeoPackage loaded with `layers.pgstore.load` into a scratch database
  `xinqu_scale` on the project's cluster (timed: read, COPY, indexes, ANALYZE), then
  `xinqu serve --store postgresql://…` with an empty instance folder, so nothing can come
  from a file. The cluster is started with scripts/db.sh if nothing answers on its
  address, and stopped again after.

Each server is the real `xinqu serve` (gunicorn, --workers 2, as users run it) on
loopback. Measured: start-up (from starting the process to its first 200 of
/collections?f=json), RSS per worker (VmRSS from /proc of the master's children, averaged
over the workers, after a warm-up and again after the load; it counts pages still shared
with the master since the fork), and with wrk (benchmarks/peers.py: Chrome's request
headers, a Lua script that takes the paths in turn) p50, p99 and requests/s of:

- bbox: `/collections/sites/items?f=json&limit=100&bbox=…`, square boxes of the size that
  holds 100 sites on average at that scale (found from the sites' coordinates), placed at
  random within the sites' extent from a fixed seed (at 1× there are fewer than 100
  sites: the box is their whole extent);
- unit: `/units/<id>?f=json`, units drawn from every copy (fixed seed);
- place: `/places/<id>?f=json`, places of the corpus's own layers from every copy;
- search: `/search?q=…`, the new areas' and ports' names in zh-Hans and English.

    python benchmarks/store_scale.py                   # 1× and 100×: about 10 minutes
    python benchmarks/store_scale.py --scale 1000      # long: generating the 1000×
        # GeoPackage and loading it take many minutes each, and the GeoPackage backend
        # reads every feature into every worker
    python benchmarks/store_scale.py --backend postgis --duration 5
    python benchmarks/store_scale.py --scale 1000 --corpus-dir corpora   # keep, reuse

A server that cannot start (or `xinqu serve` without `--store` for PostGIS) is reported
on its row and the others are still measured.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
import pyogrio
from peers import CHROME_HEADERS, Server, free_port, settle, start, stop, wrk
from psycopg import sql
from synthetic_corpus import SCALED_LAYERS, generate

from layers.pgstore import load
from layers.pgstore.connection import DEFAULT_URL, fresh_database
from layers.progress import step

REPO = Path(__file__).resolve().parent.parent
DATABASE = "xinqu_scale"
SEED = 14
BBOX_TARGET = 100  # sites per bbox page
BOXES = 200  # distinct boxes (and ids, and queries at most) per request type
KINDS = ("bbox", "unit", "place", "search")


@dataclass
class Workload:
    """The paths wrk takes in turn for each request type, and what the boxes hold."""
    paths: dict[str, list[str]]
    box_deg: float
    box_sites: tuple[float, int, int]  # mean, min, max sites in a box (from the data)


@dataclass
class Row:
    scale: int
    backend: str
    load_s: float | None = None
    start_s: float | None = None
    rss_warm_mb: float | None = None
    rss_load_mb: float | None = None
    runs: dict[str, dict] = field(default_factory=dict)
    note: str = ""


# --- the workload, from the data ---------------------------------------------------------

def workload(store: Path, seed: int = SEED) -> Workload:
    """Per request type, the paths to ask for, drawn from the corpus at `store`."""
    rng = np.random.default_rng(seed)
    sites = pyogrio.read_dataframe(store, layer="sites", columns=["id"])
    xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    side, corners = _boxes(xy, rng)
    counts = np.array([_count(xy, x, y, side) for x, y in corners])
    bbox = [f"/collections/sites/items?f=json&limit={BBOX_TARGET}&bbox="
            f"{x:.4f},{y:.4f},{x + side:.4f},{y + side:.4f}" for x, y in corners]

    units = pyogrio.read_dataframe(store, layer="units", columns=["id"],
                                   read_geometry=False)["id"].to_numpy()
    places = np.concatenate([
        pyogrio.read_dataframe(store, layer=layer, columns=["id"],
                               read_geometry=False)["id"].to_numpy()
        for layer in SCALED_LAYERS if layer in pyogrio.list_layers(store)[:, 0]])
    names = []
    for layer in ("new-areas", "ports"):
        frame = pyogrio.read_dataframe(store, layer=layer, read_geometry=False,
                                       columns=["id", "name_zh_hans", "name_en"])
        real = frame[~frame["id"].str.contains(r"-s\d+$", regex=True)]  # copy 0
        names += [n for column in ("name_zh_hans", "name_en") for n in real[column] if n]

    def sample(values: np.ndarray) -> list[str]:
        return [str(v) for v in rng.choice(values, size=min(BOXES, len(values)),
                                           replace=False)]

    quote = urllib.parse.quote
    return Workload(
        paths={"bbox": bbox,
               "unit": [f"/units/{quote(u, safe=':')}?f=json" for u in sample(units)],
               "place": [f"/places/{quote(p)}?f=json" for p in sample(places)],
               "search": [f"/search?q={quote(n)}" for n in dict.fromkeys(names)]},
        box_deg=side, box_sites=(float(counts.mean()), int(counts.min()), int(counts.max())))


def _count(xy: np.ndarray, x: float, y: float, side: float) -> int:
    inside = (xy[:, 0] >= x) & (xy[:, 0] <= x + side) & (xy[:, 1] >= y) & (xy[:, 1] <= y + side)
    return int(inside.sum())


def _boxes(xy: np.ndarray, rng: np.random.Generator) -> tuple[float, list[tuple[float, float]]]:
    """The side (degrees) of a square holding BBOX_TARGET sites on average over BOXES
    random placements within the sites' extent, and those placements' lower-left corners.
    With fewer sites than that, the one box that holds them all."""
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    whole = max(x1 - x0, y1 - y0) + 1e-6
    if len(xy) <= BBOX_TARGET:
        return whole, [(float(x0), float(y0))]
    spots = rng.uniform(size=(BOXES, 2))

    def corners(side: float) -> list[tuple[float, float]]:
        return [(x0 + u * max(x1 - x0 - side, 0), y0 + v * max(y1 - y0 - side, 0))
                for u, v in spots]

    low, high = 0.0, whole
    for _ in range(30):  # bisection on the mean count, which grows with the side
        side = (low + high) / 2
        mean = np.mean([_count(xy, x, y, side) for x, y in corners(side)])
        low, high = (side, high) if mean < BBOX_TARGET else (low, side)
    side = (low + high) / 2
    return side, corners(side)


# --- servers, memory ---------------------------------------------------------------------

def serve_has_store_option() -> bool:
    """Whether this xinqu's `serve` takes --store (the PostGIS reader is in)."""
    helptext = subprocess.run([sys.executable, "-m", "webapp.cli", "serve", "--help"],
                              cwd=REPO, capture_output=True, text=True).stdout
    return "--store" in helptext


def server(store: str, home: Path, workers: int, store_option: bool) -> Server:
    """`xinqu serve` over `store` (a GeoPackage path or a postgresql:// URL)."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "XINQU_STORE"}
    env["XINQU_HOME"] = str(home)
    command = [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers)]
    if store_option:
        command += ["--store", store]
    return Server("xinqu", command, env, port, REPO)


def workers_rss_mb(master: int) -> tuple[float, int]:
    """Mean VmRSS (MB) of the processes whose parent is `master`, and how many there are."""
    sizes = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            if int(stat.rpartition(")")[2].split()[1]) != master:
                continue
            status = (entry / "status").read_text()
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
        kb = next((int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:")), 0)
        sizes.append(kb / 1024)
    return (sum(sizes) / len(sizes) if sizes else float("nan")), len(sizes)


def check_answers(srv: Server, load_: Workload) -> str:
    """Ask once for the first few paths of each type; a note naming any that is not 200,
    and the sites the server's first bbox pages held."""
    bad, features = [], []
    for kind, paths in load_.paths.items():
        for path in paths[:5]:
            request = urllib.request.Request(srv.base + path,
                                             headers={"Accept": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=120) as answer:
                    body = json.load(answer)
            except urllib.error.HTTPError as error:
                bad.append(f"{kind} {error.code}")
                continue
            if kind == "bbox":
                features.append(len(body.get("features", [])))
    note = f"bbox pages held {np.mean(features):.0f} sites" if features else ""
    return "; ".join([note, *(f"not 200: {', '.join(bad)}" if bad else [])]).strip("; ")


def measure(row: Row, srv: Server, load_: Workload, seconds: float, connections: int,
            workers: int, timeout: float) -> None:
    """Start `srv`, warm it, measure every request type with wrk, stop it."""
    try:
        step(f"{row.scale}×, {row.backend}: starting xinqu serve")
        row.start_s = start(srv, timeout=timeout)
        row.note = check_answers(srv, load_)
        step(f"{row.scale}×, {row.backend}: warming up")
        mix = [p for paths in load_.paths.values() for p in paths]
        wrk(srv, mix, "plain", min(seconds, 5), connections)
        settle(srv, workers)
        row.rss_warm_mb, _ = workers_rss_mb(srv.process.pid)
        for kind in KINDS:
            step(f"{row.scale}×, {row.backend}: {kind} ({seconds:g} s)")
            row.runs[kind] = wrk(srv, load_.paths[kind], "plain", seconds, connections)
            settle(srv, workers)
        row.rss_load_mb, _ = workers_rss_mb(srv.process.pid)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        row.note = f"{row.note}; failed: {error}".strip("; ")
    finally:
        stop(srv)


# --- the database --------------------------------------------------------------------------

def database_answers() -> bool:
    """Whether the project's cluster (or another server on its address) answers."""
    try:
        with psycopg.connect(f"{DEFAULT_URL.rsplit('/', 1)[0]}/postgres", connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def drop_database(name: str) -> None:
    server_url = DEFAULT_URL.rsplit("/", 1)[0]
    with psycopg.connect(f"{server_url}/postgres", autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


# --- the table ---------------------------------------------------------------------------

def header() -> str:
    top = f"{'':6} {'':9} {'load':>6} {'start':>6} {'RSS/worker MB':>13}"
    sub = f"{'scale':>6} {'backend':<9} {'s':>6} {'s':>6} {'warm':>6} {'load':>6}"
    for kind in KINDS:
        top += f" | {kind + ': p50 / p99 ms, req/s':<23}"
        sub += f" | {'p50':>7} {'p99':>7} {'req/s':>7}"
    return f"{top}\n{sub}"


def line(row: Row) -> str:
    def num(value: float | None, width: int, digits: int = 1) -> str:
        return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"

    text = (f"{row.scale:>5}× {row.backend:<9} {num(row.load_s, 6)} {num(row.start_s, 6)} "
            f"{num(row.rss_warm_mb, 6, 0)} {num(row.rss_load_mb, 6, 0)}")
    for kind in KINDS:
        run = row.runs.get(kind)
        text += (f" | {num(run['p50_ms'], 7)} {num(run['p99_ms'], 7)} {num(run['rps'], 7)}"
                 if run else f" | {'-':>7} {'-':>7} {'-':>7}")
    errors = {k: r["errors"] for k, r in row.runs.items() if r["errors"]}
    notes = [row.note] if row.note else []
    if errors:
        notes.append("wrk errors (non-2xx, timeouts): " + ", ".join(
            f"{k} {n}" for k, n in errors.items()))
    return text + ("".join(f"\n{'':16}{n}" for n in notes))


# --- main ----------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, action="append",
                        help="corpus scale (repeatable; default 1 and 100; 1000 takes long)")
    parser.add_argument("--backend", choices=("gpkg", "postgis"), action="append",
                        help="store to measure (repeatable; default both)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--duration", type=float, default=10,
                        help="seconds of wrk per request type (default 10)")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    parser.add_argument("--corpus-dir", type=Path,
                        help="keep the corpus GeoPackages here and reuse them in later runs")
    parser.add_argument("--start-timeout", type=float, default=1800,
                        help="seconds a server may take to answer first (default 1800)")
    args = parser.parse_args(argv)
    scales = args.scale or [1, 100]
    backends = args.backend or ["gpkg", "postgis"]
    try:
        subprocess.run(["wrk", "--version"], capture_output=True)
    except FileNotFoundError:
        print("wrk is missing: run scripts/install-system-deps.sh", file=sys.stderr)
        return 1
    if args.corpus_dir:
        args.corpus_dir.mkdir(parents=True, exist_ok=True)
    store_option = serve_has_store_option()
    db = ["bash", str(REPO / "scripts" / "db.sh")]
    started_db = "postgis" in backends and not database_answers()
    if started_db:
        step("starting the project's PostgreSQL cluster")
        subprocess.run([*db, "start"], check=True, capture_output=True)
    print(f"xinqu serve, {args.workers} workers, on 127.0.0.1; wrk {args.duration:g} s per "
          f"request type at {args.connections} connections with Chrome's headers "
          f"(Accept-Encoding: {CHROME_HEADERS['Accept-Encoding']})")
    if not store_option:
        print("this xinqu's serve has no --store: the GeoPackage is served as the instance "
              "folder's store, PostGIS only loaded")
    rows: list[Row] = []
    began_load = os.getloadavg()[0]
    try:
        url = fresh_database(DATABASE) if "postgis" in backends else ""
        with tempfile.TemporaryDirectory(prefix="xinqu-scale-") as tmp:
            for scale in scales:
                rows += run_scale(scale, Path(tmp), url, backends, store_option, args)
    finally:
        if "postgis" in backends:
            drop_database(DATABASE)
        if started_db:
            subprocess.run([*db, "stop"], capture_output=True)
    print(f"\nload average (1 min) {began_load:.1f} at the start, {os.getloadavg()[0]:.1f} at "
          f"the end on {os.cpu_count()} CPUs: other work on the machine slows every figure")
    print(header())
    for row in rows:
        print(line(row))
    return 0


def run_scale(scale: int, tmp: Path, url: str, backends: list[str], store_option: bool,
              args) -> list[Row]:
    """Every backend at one scale. The GeoPackage is written once, in a temporary folder
    (removed after), or kept in --corpus-dir and reused from there by later runs."""
    home = tmp / f"home-{scale}"
    empty = tmp / f"empty-{scale}"
    home.mkdir()
    empty.mkdir()
    kept = args.corpus_dir / f"corpus-{scale}.gpkg" if args.corpus_dir else None
    path = kept or home / "xinqu.gpkg"
    if kept and kept.exists():
        made = f"reused from {kept}"
    else:
        step(f"{scale}×: generating the corpus")
        began = time.perf_counter()
        generate(scale, path)
        made = f"written in {time.perf_counter() - began:.1f} s"
    if kept:
        (home / "xinqu.gpkg").symlink_to(kept.resolve())
    load_ = workload(path)
    print(f"\n{scale}×: GeoPackage {path.stat().st_size / 1e6:.0f} MB {made}; bbox "
          f"{load_.box_deg:.2f}° square, {load_.box_sites[0]:.0f} sites on average "
          f"({load_.box_sites[1]}-{load_.box_sites[2]}) over {len(load_.paths['bbox'])} boxes",
          flush=True)
    rows = []
    for backend in backends:
        row = Row(scale, backend)
        if backend == "gpkg":
            srv = server(str(path), home, args.workers, store_option)
        else:
            step(f"{scale}×: loading into PostGIS")
            began = time.perf_counter()
            load(path, url)
            row.load_s = time.perf_counter() - began
            if not store_option:
                row.note = "not served: xinqu serve has no --store"
                rows.append(row)
                continue
            srv = server(url, empty, args.workers, store_option)
        measure(row, srv, load_, args.duration, args.connections, args.workers,
                args.start_timeout)
        rows.append(row)
    if not kept:
        path.unlink()
    return rows


if __name__ == "__main__":
    sys.exit(main())

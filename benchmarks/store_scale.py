"""The two stores as the corpus grows: load, start-up, memory and request latency.

For each scale (default 1× and 100×) the synthetic corpus (benchmarks/synthetic_corpus.py)
is written once as a GeoPackage, and for each backend:

- GeoPackage: `xinqu serve --store PATH`;
- PostGIS: the GeoPackage loaded with `layers.pgstore.load` into a scratch database
  `xinqu_scale` on the project's cluster (timed: read, COPY, indexes, ANALYZE), then
  `xinqu serve --store postgresql://…`. The cluster is started with scripts/db.sh if
  nothing answers on its address, and stopped again after.

Both servers get an empty instance folder (XINQU_HOME), so each reads only the store it
is given.

Each server is the real `xinqu serve` (gunicorn, --workers 2, as users run it) on
loopback. Measured: start-up (from starting the process to its first 200 of
/collections?f=json), RSS per worker (VmRSS from /proc of the master's children, averaged
over the workers, after a warm-up and again after the load; it counts pages still shared
with the master since the fork), and with wrk (benchmarks/peers.py: Chrome's request
headers, a Lua script that takes the paths in turn) p50, p99 and requests/s of a bbox
items page of ~100 sites, a unit page, a place page and a search (the paths are drawn from
the corpus by benchmarks/store_workload.py), at each number of connections asked for:
by default as many as workers (each request has a worker: its latency) and four times as
many (requests queue for the workers and the cores: p99 is mostly the queue).

    python benchmarks/store_scale.py                   # 1× and 100×: about 5 minutes
    python benchmarks/store_scale.py --scale 1000      # long: on 2 busy cores, generating
        # the 1000× GeoPackage took 75 s, loading it into PostGIS 3 minutes, and the
        # GeoPackage server 7.5 minutes to start (it reads every feature)
    python benchmarks/store_scale.py --backend postgis --duration 5
    python benchmarks/store_scale.py --scale 1000 --corpus-dir corpora   # keep, reuse

A server that cannot start is reported on its row and the others are still measured.
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
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import psycopg
from peers import CHROME_HEADERS, Server, free_port, settle, start, stop, wrk
from psycopg import sql
from store_workload import Workload, workload
from synthetic_corpus import generate

from layers.pgstore.connection import DEFAULT_URL, SCHEMA, fresh_database
from layers.pgstore.load import load
from layers.progress import step

REPO = Path(__file__).resolve().parent.parent
DATABASE = "xinqu_scale"
KINDS = ("bbox", "unit", "place", "search")


@dataclass
class Row:
    scale: int
    backend: str
    load_s: float | None = None
    start_s: float | None = None
    rss_warm_mb: float | None = None
    rss_load_mb: float | None = None
    settle_s: float | None = None  # VACUUM (ANALYZE) after the load, before measuring
    runs: dict[int, dict[str, dict]] = field(default_factory=dict)  # connections -> kind -> run
    note: str = ""


# --- servers, memory ---------------------------------------------------------------------

def server(store: str, home: Path, workers: int) -> Server:
    """`xinqu serve --store STORE` (a GeoPackage path or a postgresql:// URL), with `home`
    as its instance folder."""
    env = {k: v for k, v in os.environ.items() if k != "XINQU_STORE"}
    env["XINQU_HOME"] = str(home)
    port = free_port()
    return Server("xinqu", [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1",
                            "--port", str(port), "--workers", str(workers), "--store", store],
                  env, port, REPO)


def _children(master: int) -> list[Path]:
    """The /proc entries of the processes whose parent is `master`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if int((entry / "stat").read_text().rpartition(")")[2].split()[1]) == master:
                found.append(entry)
        except (OSError, ValueError, IndexError):
            continue  # gone meanwhile
    return found


def only_workers_left(master: int, workers: int, timeout: float = 300) -> None:
    """Wait until `master` has no child but its workers: on a first start the strong
    compressions are made by a background child (webapp.compression), which would
    otherwise share the cores with the first request types measured."""
    deadline = time.monotonic() + timeout
    while len(_children(master)) > workers and time.monotonic() < deadline:
        time.sleep(0.2)


def workers_rss_mb(master: int) -> float:
    """Mean VmRSS (MB) of the processes whose parent is `master` (gunicorn's workers)."""
    sizes = []
    for entry in _children(master):
        try:
            status = (entry / "status").read_text()
        except OSError:
            continue  # gone meanwhile
        kb = next((int(line.split()[1]) for line in status.splitlines()
                   if line.startswith("VmRSS:")), 0)
        sizes.append(kb / 1024)
    return sum(sizes) / len(sizes) if sizes else float("nan")


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


def measure(row: Row, srv: Server, load_: Workload, seconds: float, connections: list[int],
            workers: int, timeout: float) -> None:
    """Start `srv`, warm it, measure every request type with wrk at each number of
    connections, stop it."""
    try:
        step(f"{row.scale}×, {row.backend}: starting xinqu serve")
        row.start_s = start(srv, timeout=timeout)
        row.note = check_answers(srv, load_)
        step(f"{row.scale}×, {row.backend}: warming up")
        mix = [p for paths in load_.paths.values() for p in paths]
        wrk(srv, mix, "plain", min(seconds, 5), max(connections))
        settle(srv, workers)
        only_workers_left(srv.process.pid, workers)
        row.rss_warm_mb = workers_rss_mb(srv.process.pid)
        for count in connections:
            runs = row.runs.setdefault(count, {})
            for kind in KINDS:
                step(f"{row.scale}×, {row.backend}: {kind} at {count} connections "
                     f"({seconds:g} s)")
                runs[kind] = {**wrk(srv, load_.paths[kind], "plain", seconds, count),
                              "seconds": seconds}
                settle(srv, workers)
        row.rss_load_mb = workers_rss_mb(srv.process.pid)
    except (RuntimeError, subprocess.CalledProcessError, OSError) as error:
        row.note = (f"{row.note}; failed: {error} (to see why: XINQU_HOME={srv.env['XINQU_HOME']} "
                    f"{' '.join(srv.command)})").strip("; ")
    finally:
        stop(srv)


# --- the database --------------------------------------------------------------------------

def settle_database(url: str) -> float:
    """VACUUM (ANALYZE) the loaded store, as autovacuum would within its next minute (its
    counters see every loaded row as new, so it would analyse every table again, tens of
    seconds at 1000×, while the service is measured); the seconds it took."""
    began = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        tables = [r[0] for r in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = %s", (SCHEMA,))]
        for table in tables:
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}.{}").format(sql.Identifier(SCHEMA),
                                                                  sql.Identifier(table)))
    return time.perf_counter() - began


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
    top = f"{'':6} {'':9} {'load':>6} {'start':>6} {'RSS/worker MB':>13} {'wrk':>5}"
    sub = f"{'scale':>6} {'backend':<9} {'s':>6} {'s':>6} {'warm':>6} {'load':>6} {'conns':>5}"
    for kind in KINDS:
        top += f" | {kind + ': p50 / p99 ms, req/s':<23}"
        sub += f" | {'p50':>7} {'p99':>7} {'req/s':>7}"
    return f"{top}\n{sub}"


def line(row: Row) -> str:
    def num(value: float | None, width: int, digits: int = 1) -> str:
        return f"{value:>{width}.{digits}f}" if value is not None else f"{'-':>{width}}"

    head = (f"{row.scale:>5}× {row.backend:<9} {num(row.load_s, 6)} {num(row.start_s, 6)} "
            f"{num(row.rss_warm_mb, 6, 0)} {num(row.rss_load_mb, 6, 0)}")
    lines = []
    for count, runs in (row.runs or {0: {}}).items():
        text = (head if not lines else " " * len(head)) + f" {count or '-':>5}"
        for kind in KINDS:
            run = runs.get(kind)
            text += (f" | {num(run['p50_ms'], 7)} {num(run['p99_ms'], 7)} {num(run['rps'], 7)}"
                     if run and run["requests"] else f" | {'-':>7} {'-':>7} {'-':>7}")
        lines.append(text)
    every = [(f"{kind} at {count}", run) for count, runs in row.runs.items()
             for kind, run in runs.items()]
    errors = {k: r["errors"] for k, r in every if r["errors"]}
    notes = [row.note] if row.note else []
    if row.settle_s is not None:
        notes.append(f"VACUUM (ANALYZE) after the load, before measuring (what autovacuum "
                     f"would do meanwhile): {row.settle_s:.0f} s")
    notes += [f"{kind}: no answer within the {run['seconds']:g} s run"
              for kind, run in every if not run["requests"]]
    if errors:
        notes.append("wrk errors (non-2xx, timeouts): " + ", ".join(
            f"{k} {n}" for k, n in errors.items()))
    return "\n".join(lines) + ("".join(f"\n{'':16}{n}" for n in notes))


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
    parser.add_argument("--connections", type=int, action="append",
                        help="wrk connections (repeatable; default the workers and 4x them)")
    parser.add_argument("--corpus-dir", type=Path,
                        help="keep the corpus GeoPackages here and reuse them in later runs")
    parser.add_argument("--start-timeout", type=float, default=1800,
                        help="seconds a server may take to answer first (default 1800)")
    args = parser.parse_args(argv)
    scales = args.scale or [1, 100]
    args.connections = args.connections or [args.workers, 4 * args.workers]
    backends = args.backend or ["gpkg", "postgis"]
    try:
        subprocess.run(["wrk", "--version"], capture_output=True)
    except FileNotFoundError:
        print("wrk is missing: run scripts/install-system-deps.sh", file=sys.stderr)
        return 1
    if args.corpus_dir:
        args.corpus_dir.mkdir(parents=True, exist_ok=True)
    db = ["bash", str(REPO / "scripts" / "db.sh")]
    started_db = "postgis" in backends and not database_answers()
    if started_db:
        step("starting the project's PostgreSQL cluster")
        subprocess.run([*db, "start"], check=True, capture_output=True)
    print(f"xinqu serve, {args.workers} workers, on 127.0.0.1; wrk {args.duration:g} s per "
          f"request type at {' and '.join(map(str, args.connections))} connections with "
          f"Chrome's headers "
          f"(Accept-Encoding: {CHROME_HEADERS['Accept-Encoding']})")
    rows: list[Row] = []
    began_load = os.getloadavg()[0]
    try:
        url = fresh_database(DATABASE) if "postgis" in backends else ""
        with tempfile.TemporaryDirectory(prefix="xinqu-scale-") as tmp:
            for scale in scales:
                rows += run_scale(scale, Path(tmp), url, backends, args)
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


def run_scale(scale: int, tmp: Path, url: str, backends: list[str], args) -> list[Row]:
    """Every backend at one scale. The GeoPackage is written once, in a temporary folder
    (removed after), or kept in --corpus-dir and reused from there by later runs."""
    home = tmp / f"home-{scale}"  # the servers' instance folder: empty, nothing read there
    home.mkdir()
    kept = args.corpus_dir / f"corpus-{scale}.gpkg" if args.corpus_dir else None
    path = kept or tmp / f"corpus-{scale}.gpkg"
    if kept and kept.exists():
        made = f"reused from {kept}"
    else:
        step(f"{scale}×: generating the corpus")
        began = time.perf_counter()
        generate(scale, path)
        made = f"written in {time.perf_counter() - began:.1f} s"
    load_ = workload(path)
    print(f"\n{scale}×: GeoPackage {path.stat().st_size / 1e6:.0f} MB {made}; bbox "
          f"{load_.box_deg:.2f}° square, {load_.box_sites[0]:.0f} sites on average "
          f"({load_.box_sites[1]}-{load_.box_sites[2]}) over {len(load_.paths['bbox'])} boxes",
          flush=True)
    rows = []
    for backend in backends:
        row = Row(scale, backend)
        if backend == "gpkg":
            srv = server(str(path), home, args.workers)
        else:
            step(f"{scale}×: loading into PostGIS")
            began = time.perf_counter()
            load(path, url)
            row.load_s = time.perf_counter() - began
            step(f"{scale}×: VACUUM (ANALYZE) after the load")
            row.settle_s = settle_database(url)
            srv = server(url, home, args.workers)
        measure(row, srv, load_, args.duration, args.connections, args.workers,
                args.start_timeout)
        rows.append(row)
    if not kept:
        path.unlink()
    return rows


if __name__ == "__main__":
    sys.exit(main())

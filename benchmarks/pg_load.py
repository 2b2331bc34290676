"""Load time of the store into PostGIS, per corpus scale.

For each scale, writes the synthetic corpus (benchmarks/synthetic_corpus.py) to a
temporary GeoPackage, loads it with layers.pgstore.load into a scratch database
`xinqu_bench` on the project's cluster (started with scripts/db.sh if it is not running,
and stopped again after), and prints the rows, the GeoPackage's size, the load's
wall-clock time (and within it, reading + COPY, and index builds + ANALYZE) and the size
of the loaded schema with its indexes.

    python benchmarks/pg_load.py                 # 1× and 100×
    python benchmarks/pg_load.py --scale 1000    # any scales, repeatable

1000× takes several minutes to generate and to load on a 2-core machine, so it is not in
the default run.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from synthetic_corpus import generate

from layers.pgstore.connection import fresh_database
from layers.pgstore.load import load

REPO = Path(__file__).resolve().parent.parent
DATABASE = "xinqu_bench"


def schema_mb(url: str) -> float:
    with psycopg.connect(url) as conn:
        return float(conn.execute(
            "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'xinqu' AND c.relkind = 'r'").fetchone()[0]) / 1e6


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, action="append",
                        help="corpus scale (repeatable; default 1 and 100)")
    scales = parser.parse_args(argv).scale or [1, 100]
    db = ["bash", str(REPO / "scripts" / "db.sh")]
    started = subprocess.run([*db, "status"], capture_output=True).returncode != 0
    if started:
        subprocess.run([*db, "start"], check=True, capture_output=True)
    try:
        url = fresh_database(DATABASE)
        print(f"{'scale':>6} {'units':>7} {'places':>8} {'links':>8} {'rows':>9} "
              f"{'gpkg MB':>8} {'generate s':>10} {'load s':>7} {'copy s':>7} {'index s':>8} "
              f"{'PostGIS MB':>10}")
        with tempfile.TemporaryDirectory(prefix="xinqu-pgload-") as tmp:
            for scale in scales:
                path = Path(tmp) / f"corpus-{scale}.gpkg"
                begun = time.perf_counter()
                generate(scale, path)
                generated = time.perf_counter() - begun
                report = load(path, url)
                rows = report.rows
                places = sum(n for t, n in rows.items() if t in _layer_ids(rows))
                print(f"{scale:6d} {rows['units']:7d} {places:8d} {rows['links']:8d} "
                      f"{sum(rows.values()):9d} {path.stat().st_size / 1e6:8.1f} "
                      f"{generated:10.1f} {report.seconds:7.1f} {report.copy_seconds:7.1f} "
                      f"{report.index_seconds:8.1f} {schema_mb(url):10.1f}",
                      flush=True)
                path.unlink()
    finally:
        if started:
            subprocess.run([*db, "stop"], capture_output=True)
    return 0


def _layer_ids(rows: dict[str, int]) -> set[str]:
    """The full-resolution layer tables (those with a -display twin)."""
    return {t for t in rows if f"{t}-display" in rows}


if __name__ == "__main__":
    sys.exit(main())

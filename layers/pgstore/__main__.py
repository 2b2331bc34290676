"""Load the built store into PostGIS from the command line:

    python -m layers.pgstore load [--store PATH] [URL]

URL defaults to $XINQU_STORE when it is a PostgreSQL URL, else the project's cluster
(`make db`). A problem prints one line and exits with status 1.
"""

from __future__ import annotations

import argparse
import sys

from layers.paths import STORE_PATH
from layers.pgstore.connection import DEFAULT_URL, SCHEMA, PgStoreError, safe_url
from layers.pgstore.load import load


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m layers.pgstore",
                                     description="The PostGIS store of xinqu.")
    commands = parser.add_subparsers(dest="command", required=True)
    loading = commands.add_parser("load", help="copy the built GeoPackage store into PostGIS")
    loading.add_argument("url", nargs="?", default=None,
                         help=f"postgresql:// URL (default: $XINQU_STORE, else {DEFAULT_URL})")
    loading.add_argument("--store", default=str(STORE_PATH), help="the built GeoPackage")
    loading.add_argument("--schema", default=SCHEMA, help="schema to (re)place")
    args = parser.parse_args(argv)
    try:
        report = load(args.store, args.url, schema=args.schema)
    except PgStoreError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    rows = sum(report.rows.values())
    where = safe_url(args.url) if args.url else "the default database"
    print(f"loaded {len(report.rows)} tables, {rows} rows into schema {report.schema!r} of "
          f"{where} in {report.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

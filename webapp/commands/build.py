"""`xinqu build`: build the data store ($XINQU_HOME/xinqu.gpkg) from the sources and facts."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from layers import paths, store_place
from webapp.commands import store_option
from webapp.commands.export import keep_ahead


def register(sub) -> None:
    p = sub.add_parser(
        "build", help="build the data store from the sources, the gazetteer and the links",
        description="Read the documents (shipped and added), the gazetteer and the "
                    "boundaries, link them and write one GeoPackage atomically (a failed "
                    "build keeps the old one).")
    p.add_argument("--data", type=Path, default=paths.DATA_DIR,
                   help="data folder to build from: its facts, sources and document registry "
                        "(default: %(default)s or $XINQU_DATA)")
    p.add_argument("--home", type=Path, default=paths.HOME_DIR,
                   help="instance folder whose added documents go in too "
                        "(default: %(default)s or $XINQU_HOME)")
    p.add_argument("--output", type=Path, default=None,
                   help="GeoPackage to write (default: <home>/xinqu.gpkg, the store the "
                        "service reads)")
    p.add_argument("--store", metavar="PATH_OR_URL", default=None,
                   help="also load the built store into this PostgreSQL database "
                        "(postgresql://user:password@host:port/db; default: $XINQU_STORE "
                        "when it is one); a path is the same as --output")
    p.set_defaults(func=run)


def run(args) -> int:
    from layers.build import BuildError, build
    from layers.userdocs.intake import instance_lock

    started = time.monotonic()
    url = store_option.database_url(args)
    output = args.output or (Path(args.store) if args.store and url is None else None) \
        or Path(args.home) / paths.STORE_PATH.name
    try:
        with instance_lock(args.home):  # no document is added while the store is rebuilt
            report = build(data_dir=args.data, store_path=output, home=args.home)
    except BuildError as error:
        print(f"xinqu build: {error}", file=sys.stderr)
        return 1
    if report.path == Path(args.home) / paths.STORE_PATH.name:  # the store the service reads
        from layers.store import open_stable
        from layers.stores import keep

        keep(open_stable(report.path))  # its first start reads one file (~0.06 s)
    counts = ", ".join(f"{layer} {n}" for layer, n in report.features.items())
    print(f"built {report.path} in {time.monotonic() - started:.1f}s: {counts}; "
          f"{report.units} units, {report.mentions} mentions, {report.links} links",
          flush=True)
    if url is not None:
        return _load(report.path, url)
    if _serves(report.path, Path(args.home)):
        keep_ahead(report.path, Path(args.home))
    return 0


def _serves(built: Path, home: Path) -> bool:
    """Whether `built` is the store the instance folder `home` serves (its xinqu.gpkg, or
    the store the commands read by default): only that one's exports are made ahead,
    in that folder's export cache; a GeoPackage written elsewhere is left alone."""
    served = [home / paths.STORE_PATH.name, store_place.location()]
    return any(not store_place.is_database(s) and Path(s).resolve() == built.resolve()
               for s in served)


def _load(gpkg: Path, url: str) -> int:
    """Load the built GeoPackage into the database, all or nothing."""
    from layers.pgstore.connection import PgStoreError, safe_url
    from layers.pgstore.load import load

    try:
        report = load(gpkg, url)
    except PgStoreError as error:
        print(f"xinqu build: {error}", file=sys.stderr)
        return 1
    print(f"loaded into {safe_url(url)} (schema {report.schema!r}) in {report.seconds:.1f}s")
    return 0

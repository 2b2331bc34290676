"""`xinqu build`: build the data store ($XINQU_HOME/xinqu.gpkg) from the sources and facts."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from layers import paths


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
    p.set_defaults(func=run)


def run(args) -> int:
    from layers.build import BuildError, build
    from layers.userdocs import instance_lock

    started = time.monotonic()
    output = args.output or Path(args.home) / paths.STORE_PATH.name
    try:
        with instance_lock(args.home):  # no document is added while the store is rebuilt
            report = build(data_dir=args.data, store_path=output, home=args.home)
    except BuildError as error:
        print(f"xinqu build: {error}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{layer} {n}" for layer, n in report.features.items())
    print(f"built {report.path} in {time.monotonic() - started:.1f}s: {counts}; "
          f"{report.units} units, {report.mentions} mentions, {report.links} links")
    return 0

"""The `xinqu` console script: one entry point for build, units, links, export and serve.

Each subcommand lives in its own module under webapp.commands and exposes
`register(subparsers)`, which adds its parser and sets `func` to a callable that takes
the parsed arguments and returns an exit code. Those modules import only what their
parsers need at module level (argparse, paths); each `run` imports its heavy work
(pandas, geopandas, the store, Flask) when that command runs, so `xinqu --help` and
`xinqu build --help` start in a few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import sys

from webapp.commands import build, documents, export, links, serve, units
from webapp.errors import UsageError

COMMANDS = (build, units, links, export, serve, documents)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="xinqu", description=__doc__.splitlines()[0])
    sub = top.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(sub)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except UsageError as error:
        print(f"xinqu {args.command}: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

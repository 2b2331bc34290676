"""`xinqu serve` (not built yet)."""

from webapp.errors import UsageError


def register(sub) -> None:
    p = sub.add_parser("serve", help="(not built yet)")
    p.set_defaults(func=run)


def run(args) -> int:
    raise UsageError("not built yet")

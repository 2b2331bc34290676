"""`xinqu units`: list the units the documents are parsed into, straight from the sources
(the shipped ones, then those added to the instance folder).

Useful to check a re-captured source before a build: a source that cannot be parsed
stops with one line naming the file and the problem. With `--store`, the units come from
that built store instead (a GeoPackage or a PostGIS database), as the service shows them.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import TYPE_CHECKING

from layers import paths
from webapp.commands import store_option
from webapp.commands.output import display_width, emit, table
from webapp.errors import UsageError

if TYPE_CHECKING:
    from layers.documents.model import Unit

_TITLE_WIDTH = 48


def register(sub) -> None:
    p = sub.add_parser("units", help="list the document units parsed from the sources",
                       description=__doc__.splitlines()[0])
    p.add_argument("--document", metavar="ID", help="only this document (e.g. ndrc-2024)")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="a table for reading (default) or JSON with every text")
    p.add_argument("--store", metavar="PATH_OR_URL", default=None,
                   help="list the units of this built store (a GeoPackage or a "
                        "postgresql:// URL) instead of parsing the sources")
    p.set_defaults(func=run)


def _fit(text: str, width: int) -> str:
    """`text` cut and padded to exactly `width` terminal columns."""
    out = ""
    for char in text:
        if display_width(out + char) > width - 1 and display_width(text) > width:
            out += "…"
            break
        out += char
    return out + " " * (width - display_width(out))


def _table(units: list[Unit]) -> str:
    from layers.documents.model import LANGS  # here, not at the top: it loads OpenCC

    rows = []
    for unit in units:
        titles = unit.title if any(unit.title.values()) else unit.chapter_title
        title = next((titles[lang] for lang in LANGS if titles.get(lang)), "")
        chapter = "" if unit.chapter_number is None else str(unit.chapter_number)
        rows.append((unit.id, unit.kind, chapter, ",".join(unit.langs),
                     _fit(title, _TITLE_WIDTH).rstrip()))
    return table(("ID", "KIND", "CH", "LANGS", "TITLE"), rows)


def run(args) -> int:
    if args.store:
        return _from_store(args)
    # Imported here, not at the top, to keep `xinqu --help` and the other commands light.
    from layers.documents.errors import SourceError
    from layers.documents.loading import load_units
    from layers.documents.registry import load_documents
    from layers.userdocs.registry import added_documents, load_registry

    try:
        known = [document.id for document in load_documents()]
        known += [entry.id for entry in load_registry(paths.HOME_DIR)]
        if args.document and args.document not in known:
            raise UsageError(f"unknown document {args.document!r}; known: {', '.join(known)}")
        units = load_units()
        units += [unit for _, doc_units in added_documents(paths.HOME_DIR) for unit in doc_units]
    except SourceError as error:
        raise UsageError(str(error)) from error
    if args.document:
        units = [unit for unit in units if unit.document == args.document]
    out = (json.dumps([asdict(unit) for unit in units], ensure_ascii=False, indent=1)
           if args.format == "json" else _table(units))
    emit(out)
    return 0


def _from_store(args) -> int:
    """The units of a built store, in document order: summaries as the API gives them."""
    from layers import query

    store = store_option.open_chosen(args)
    try:
        units = query.units(store, document=args.document)
    except query.QueryError as error:
        raise UsageError(error.message) from None
    if args.format == "json":
        emit(json.dumps(units, ensure_ascii=False, indent=1))
        return 0
    rows = []
    for unit in units:
        titles = unit["title"] if any(unit["title"].values()) else unit["chapter_title"]
        title = next((t for t in titles.values() if t), "")
        chapter = "" if unit["chapter_number"] is None else str(unit["chapter_number"])
        rows.append((unit["id"], unit["kind"] or "", chapter, _fit(title, _TITLE_WIDTH).rstrip()))
    emit(table(("ID", "KIND", "CH", "TITLE"), rows))
    return 0

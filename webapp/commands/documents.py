"""`xinqu documents`: add, list, show and remove documents, without a rebuild or a restart.

`add` parses and links each file and puts it in the store atomically; a running server
sees it on its next request. Added documents live in the instance folder ($XINQU_HOME).
"""

from __future__ import annotations

import json
from pathlib import Path

from layers import paths
from webapp.commands import store_option
from webapp.commands.export import keep_ahead
from webapp.commands.output import emit, table
from webapp.errors import UsageError

# The heavy modules (pandas, GDAL, the linker) are imported inside the commands that use
# them, to keep them off the start-up path of every other `xinqu` command.

_TITLE_WIDTH = 40
LANG_CODES = "zh-Hans, zh-Hant, en"


def register(sub) -> None:
    p = sub.add_parser("documents", help="add, list, show or remove documents (no rebuild)",
                       description=__doc__.splitlines()[0])
    actions = p.add_subparsers(dest="action", required=True, metavar="ACTION")

    add = actions.add_parser("add", help="parse, link and add policy text files")
    add.add_argument("files", nargs="+", type=Path, metavar="FILE")
    add.add_argument("--id", help="document id (default: made from the title)")
    add.add_argument("--lang", help=f"language version: {LANG_CODES} (default: detected)")
    add.add_argument("--title", help="title (default: from the text)")
    add.add_argument("--date", help="date, e.g. 2024-03-18")
    add.add_argument("--publisher", help="who published it")
    add.add_argument("--url", help="where it was published")
    add.add_argument("--number", help="document number (文号)")
    add.add_argument("--dry-run", action="store_true",
                     help="show the units and places it would add; save nothing")
    add.add_argument("--replace", action="store_true",
                     help="replace an added document with the same id")
    store_option.add(add)
    add.set_defaults(func=run_add)

    listing = actions.add_parser("list", help="every document, shipped and added")
    listing.add_argument("--format", choices=("table", "json"), default="table")
    store_option.add(listing)
    listing.set_defaults(func=run_list)

    show = actions.add_parser("show", help="one document with its units and places")
    show.add_argument("id")
    show.add_argument("--format", choices=("table", "json"), default="table")
    store_option.add(show)
    show.set_defaults(func=run_show)

    remove = actions.add_parser("remove", help="remove an added document")
    remove.add_argument("id")
    store_option.add(remove)
    remove.set_defaults(func=run_remove)


def _first(values: dict[str, str]) -> str:
    """The first non-empty value in the standard language order."""
    from layers.documents.model import LANGS

    return next((values[lang] for lang in LANGS if values.get(lang)), "")


def _cut(text: str, width: int = _TITLE_WIDTH) -> str:
    return text if len(text) <= width else text[:width - 1] + "…"


def _prepared_report(item, verb: str) -> str:
    doc = item.document
    rows = [(u.id, u.kind, _cut(_first(u.title) or _first(u.chapter_title)),
             ", ".join(item.places(u.id))) for u in item.units]
    head = (f"{verb} {doc.id} from {item.file_name}: {_first(doc.title)!r}, "
            f"{len(item.units)} units, {len(set(item.links['place_id']))} places")
    return head + "\n" + table(("UNIT", "KIND", "TITLE", "PLACES"), rows)


def run_add(args) -> int:
    from layers.userdocs.intake import IntakeError, Options, add_documents

    options = Options(id=args.id, lang=args.lang, title=args.title, date=args.date,
                      publisher=args.publisher, url=args.url, number=args.number)
    try:
        done = add_documents([(f, f.name) for f in args.files], options, replace=args.replace,
                             dry_run=args.dry_run, home=paths.HOME_DIR,
                             store_path=paths.STORE_PATH,
                             publish=store_option.publish(store_option.database_url(args)))
    except IntakeError as error:
        raise UsageError(str(error)) from None
    for item in done:
        verb = ("would add" if args.dry_run else "added") if not item.replaces else (
            "would replace" if args.dry_run else "replaced")
        emit(_prepared_report(item, verb))
    if args.dry_run:
        emit("dry run: nothing saved")
    elif done and not store_option.database_url(args):
        keep_ahead(paths.STORE_PATH)
    return 0


def run_list(args) -> int:
    from layers.document_queries import document_list

    documents = document_list(store_option.open_chosen(args))
    if args.format == "json":
        emit(json.dumps(documents, ensure_ascii=False, indent=1))
        return 0
    rows = [(d["id"], d["date"] or "", ", ".join(d["langs"]), str(d["units"]), d["origin"],
             _cut(_first(d["title"]))) for d in documents]
    emit(table(("ID", "DATE", "LANGS", "UNITS", "ORIGIN", "TITLE"), rows))
    return 0


def run_show(args) -> int:
    from layers.document_queries import document_detail
    from layers.query import NotFound

    try:
        doc = document_detail(store_option.open_chosen(args), args.id)
    except NotFound:
        raise UsageError(f"unknown document {args.id!r} (see `xinqu documents list`)") from None
    if args.format == "json":
        emit(json.dumps(doc, ensure_ascii=False, indent=1))
        return 0
    facts = [("id", doc["id"]), ("title", _first(doc["title"])), ("date", doc["date"] or ""),
             ("publisher", _first(doc["publisher"])), ("number", doc["number"]),
             ("url", doc["url"]), ("languages", ", ".join(doc["langs"])),
             ("origin", doc["origin"]), ("units", str(doc["units"]))]
    rows = [(u["id"], u["kind"], _cut(_first(u["title"]) or _first(u["chapter_title"])),
             ", ".join(p["id"] for p in u["places"])) for u in doc["unit_list"]]
    emit("\n".join(f"{k}: {v}" for k, v in facts) + "\n\n"
         + table(("UNIT", "KIND", "TITLE", "PLACES"), rows))
    return 0


def run_remove(args) -> int:
    from layers.userdocs.intake import IntakeError, remove_document

    try:
        entry = remove_document(args.id, home=paths.HOME_DIR, store_path=paths.STORE_PATH,
                                publish=store_option.publish(store_option.database_url(args)))
    except IntakeError as error:
        raise UsageError(str(error)) from None
    emit(f"removed {entry.id} ({entry.file})")
    if not store_option.database_url(args):
        keep_ahead(paths.STORE_PATH)
    return 0

"""`xinqu links`: which places each unit names (with the words), and which units each place has.

Reads the built store (`xinqu build` makes it). `--unit` gives one unit's places, with every
mention (language version, offsets in the display text, the words as written); `--place`
gives one place's units: named, via a place inside it, or addressed to all new areas.
"""

from __future__ import annotations

import json
import math
from typing import TYPE_CHECKING

from webapp.commands import store_option
from webapp.commands.output import emit, table
from webapp.errors import UsageError

if TYPE_CHECKING:
    import pandas as pd

    from layers.store import Store

RELATION_ORDER = {"named": 0, "via": 1, "general": 2}


def register(sub) -> None:
    p = sub.add_parser("links", help="list unit–place links and mentions from the built store",
                       description=__doc__.splitlines()[0])
    p.add_argument("--unit", metavar="ID", help="only this unit (e.g. ndrc-2024:13)")
    p.add_argument("--place", metavar="ID", help="only this place (e.g. pudong)")
    p.add_argument("--document", metavar="ID", help="only the units of this document")
    p.add_argument("--format", choices=("table", "json"), default="table",
                   help="a table for reading (default) or JSON")
    store_option.add(p)
    p.set_defaults(func=run)


def _cell(value) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _select(store: Store, unit: str | None, place: str | None,
            document: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The link and mention rows for the filters, in document order."""
    from layers.documents.model import LANGS  # here, not at the top: it loads OpenCC

    if document is not None and document not in store.documents.index:
        raise UsageError(f"unknown document {document!r} (see `xinqu documents list`)")
    if unit is not None and unit not in store.units.index:
        raise UsageError(f"unknown unit {unit!r} (see `xinqu units` for the ids)")
    if place is not None and not any(place in layer.index for layer in store.layers.values()):
        raise UsageError(f"unknown place {place!r}; places are the ids of the map layers "
                         f"({', '.join(store.layers)})")
    links, mentions = store.links, store.mentions
    if unit is not None:
        links, mentions = links[links["unit_id"] == unit], mentions[mentions["unit_id"] == unit]
    if document is not None:
        ids = store.units.index[store.units["document"] == document]
        links, mentions = links[links["unit_id"].isin(ids)], mentions[mentions["unit_id"].isin(ids)]
    if place is not None:
        links = links[links["place_id"] == place]
        mentions = mentions[mentions["place_id"] == place]
    order = {uid: i for i, uid in enumerate(store.units.index)}
    langs = {lang: i for i, lang in enumerate(LANGS)}
    links = links.assign(_u=links["unit_id"].map(order),
                         _r=links["relation"].map(RELATION_ORDER))
    links = links.sort_values(["_u", "_r", "place_id"], kind="stable").drop(columns=["_u", "_r"])
    mentions = mentions.assign(_u=mentions["unit_id"].map(order),
                               _l=mentions["lang"].map(langs))
    mentions = mentions.sort_values(["_u", "_l", "start", "place_id"], kind="stable")
    return links.reset_index(drop=True), mentions.drop(columns=["_u", "_l"]).reset_index(drop=True)


def _records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
    out = []
    for row in frame[columns].itertuples(index=False):
        record = {}
        for column, value in zip(columns, row, strict=True):
            if column in ("start", "end"):
                record[column] = int(value)
            else:
                record[column] = _cell(value) or None
        out.append(record)
    return out


def run(args) -> int:
    store = store_option.open_chosen(args)
    links, mentions = _select(store, args.unit, args.place, args.document)
    link_columns = ["unit_id", "place_id", "relation", "via_place_id"]
    mention_columns = ["unit_id", "place_id", "lang", "start", "end", "surface"]
    if args.format == "json":
        out = json.dumps({"links": _records(links, link_columns),
                          "mentions": _records(mentions, mention_columns)},
                         ensure_ascii=False, indent=1)
    else:
        link_rows = [tuple(_cell(v) for v in row)
                     for row in links[link_columns].itertuples(index=False)]
        mention_rows = [(r.unit_id, r.place_id, r.lang, f"{r.start}–{r.end}", r.surface)
                        for r in mentions.itertuples(index=False)]
        parts = [f"{len(link_rows)} links",
                 table(("UNIT", "PLACE", "RELATION", "VIA"), link_rows) if link_rows else "",
                 f"\n{len(mention_rows)} mentions",
                 table(("UNIT", "PLACE", "LANG", "SPAN", "WORDS"), mention_rows)
                 if mention_rows else ""]
        out = "\n".join(p for p in parts if p)
    emit(out)
    return 0

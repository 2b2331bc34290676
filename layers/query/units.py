"""Units: one unit with its texts and places, lists of units, and the chapters."""

from __future__ import annotations

from typing import Any

from layers.query.errors import NotFound, QueryError
from layers.query.links import LINKED, filtered_units
from layers.query.params import check_document, check_kind
from layers.query.places import find_place, place_refs
from layers.query.values import lang_fields, summary_of, whole
from layers.textnorm import normalize


def unit(store, id: str) -> dict[str, Any]:
    """A unit with its text in every language version, its mentions and the places it names."""
    return units_in_full(store, [id])[0]


def units_in_full(store, ids: list[str], mentions: bool = True) -> list[dict[str, Any]]:
    """`unit` for each of `ids`, in the order given: their rows, links, places and
    mentions (unless `mentions` is False) each read once for all."""
    rows = store.unit_rows(ids=ids)
    for id in ids:
        if id not in rows.index:
            raise NotFound("unit", id)
    links = store.links_where(units=ids)
    chosen: dict[str, dict[str, str]] = {id: {} for id in ids}  # unit -> place -> relation
    for relation in LINKED:  # the most direct relation of each place, places sorted
        of_relation = links.loc[links["relation"] == relation, ["unit_id", "place_id"]]
        for uid, pid in sorted(set(of_relation.itertuples(index=False, name=None)),
                               key=lambda pair: pair[1]):
            chosen[str(uid)].setdefault(str(pid), relation)
    refs = {ref["id"]: ref for ref in place_refs(
        store, list(dict.fromkeys(pid for places in chosen.values() for pid in places)))}
    for ref in refs.values():
        if ref["layer"] is None:
            raise NotFound("place", ref["id"])
    general = set(links.loc[links["relation"] == "general", "unit_id"].astype(str))
    said: dict[str, list[dict[str, Any]]] = {id: [] for id in ids}
    if mentions:
        for m in store.mentions_of(ids).sort_values(["unit_id", "lang", "start", "end"]
                                                    ).itertuples(index=False):
            said[str(m.unit_id)].append({"place_id": m.place_id, "lang": m.lang,
                                         "start": int(m.start), "end": int(m.end),
                                         "surface": m.surface})
    out = []
    for id in ids:
        row = rows.loc[id]
        found = {**summary_of(id, row), "text": lang_fields(row, "text")}
        if mentions:
            found["mentions"] = said[id]
        out.append({**found, "places": [{**refs[pid], "relation": relation}
                                        for pid, relation in chosen[id].items()],
                    "general": id in general})
    return out


def text_key(q: str) -> str:
    """The form unit texts are matched on: normalised (traditional to simplified,
    full-width folded) and case folded, as the stores keep the texts."""
    return normalize(q.strip(), "zh-Hant").casefold()


def units(store, document: str | None = None, place: str | None = None,
          q: str | None = None, chapter=None, kind: str | None = None) -> list[dict[str, Any]]:
    """Unit summaries in document order, filtered as `unit_ids` filters."""
    return summaries(store, unit_ids(store, document=document, place=place, q=q,
                                     chapter=chapter, kind=kind))


def unit_ids(store, document: str | None = None, place: str | None = None,
             q: str | None = None, chapter=None, kind: str | None = None) -> list[str]:
    """Unit ids in document order, filtered by document (and one of its chapters), linked
    place, linked place kind (a layer id: units linked to any place of it) and text (a
    page of them is then read, not every unit's row).

    `q` matches in any script: both sides are normalised (traditional to simplified,
    full-width folded, case folded), so 浦東 finds 浦东.
    """
    needle = None
    if q is not None:
        needle = text_key(q)
        if not needle:
            raise QueryError("q", "must not be empty")
    ids = filtered_units(store, document=document or None, chapter=chapter) \
        if needle is None or document or chapter is not None else None
    if needle is not None:  # the text index first: it narrows most
        ids = store.units_containing(needle, ids)
    if place:
        find_place(store, place)
        keep = set(store.links_where(places=[place], relations=LINKED)["unit_id"])
        ids = [u for u in ids if u in keep]
    if kind is not None:
        check_kind(store, kind)
        keep = set(store.links_where(layer=kind, relations=LINKED)["unit_id"])
        ids = [u for u in ids if u in keep]
    return list(ids)


def summaries(store, ids: list[str]) -> list[dict[str, Any]]:
    """Unit summaries of `ids`, in the order given (one read for all)."""
    if not ids:
        return []
    rows = store.unit_rows(ids=ids).to_dict("index")  # plain dicts: far cheaper than .loc
    return [summary_of(u, rows[u]) for u in ids]


def chapters(store, document: str | None = None) -> list[dict[str, Any]]:
    """The chapters of every document (or of one), in order: document, number, title per
    language and the ids of their units."""
    if document is not None:
        check_document(store, document)
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for uid, row in store.unit_rows(document=document).iterrows():
        number = whole(row.get("chapter_number"))
        doc = str(row["document"])
        if number is None:
            continue
        key = (doc, number)
        if key not in seen:
            seen[key] = {"document": doc, "number": number,
                         "title": lang_fields(row, "chapter_title"), "units": []}
            out.append(seen[key])
        seen[key]["units"].append(str(uid))
    return out


def unit_summary(store, id: str) -> dict[str, Any]:
    """A unit's id, document, key, kind, chapter and title (no text); NotFound if none."""
    rows = store.unit_rows(ids=[id])
    if id not in rows.index:
        raise NotFound("unit", id)
    return summary_of(id, rows.loc[id])

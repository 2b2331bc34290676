"""Which units link to which places: the one meaning of the unit/document/chapter filters.

"Linked" means the unit names the place, or reaches it through a place inside it. A unit
addressed to all new areas ("general") names none of them, so it selects no place by that
alone. The API, the pages, the map and the exports all select through these functions.
"""

from __future__ import annotations

from layers.query.params import check_chapter, check_document, check_unit, link_filter

RELATIONS = ("named", "via", "general")
LINKED = ("named", "via")


def filtered_units(store, unit: str | None = None, document: str | None = None,
                   chapter=None) -> list[str]:
    """Ids of the units a unit/document/chapter filter keeps, in document order (all units
    when none is given); the filters combine (a unit outside the document keeps nothing)."""
    if unit is not None:
        check_unit(store, unit)
    if document is not None:
        check_document(store, document)
    number = check_chapter(store, document, chapter)
    rows = store.unit_rows(ids=None if unit is None else [unit], document=document,
                           chapter=number)
    return [str(u) for u in rows.index]


def places_linked(store, unit: str | None = None, document: str | None = None,
                  chapter=None) -> set[str]:
    """Ids of places a unit (and/or any unit of a document, or of one of its chapters)
    names or reaches via a place."""
    linked = link_filter(store, unit, document, chapter)
    return set(store.links_where(relations=LINKED, linked=linked)["place_id"])


def units_of_places(store, ids, relations=LINKED) -> dict[str, list[str]]:
    """Place id -> ids of the units linked to it, in document order."""
    ids = [str(i) for i in ids]
    out: dict[str, list[str]] = {i: [] for i in ids}
    if not ids:
        return out
    links = store.links_where(places=ids, relations=tuple(relations))
    for place_id, unit_id in zip(links["place_id"], links["unit_id"], strict=True):
        units = out.setdefault(str(place_id), [])
        if unit_id not in units:
            units.append(str(unit_id))
    return out

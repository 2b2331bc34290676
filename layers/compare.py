"""Places side by side: each place as layers.query.place gives it, and the units that
name every one of them (the policy the places share)."""

from __future__ import annotations

from typing import Any

from layers import query

MIN_PLACES = 2
MAX_PLACES = 6  # a page of columns people can still read; bounds the work per request


def parse_places(raw: str | None) -> list[str]:
    """The place ids of `places=a,b,…`: two to MAX_PLACES distinct ids, else QueryError."""
    ids: list[str] = []
    for part in (raw or "").split(","):
        part = part.strip()
        if part and part not in ids:
            ids.append(part)
    if len(ids) < MIN_PLACES:
        raise query.QueryError("places", f"give at least {MIN_PLACES} distinct place ids, "
                                         "comma-separated (places=pudong,binhai)")
    if len(ids) > MAX_PLACES:
        raise query.QueryError("places", f"at most {MAX_PLACES} places can be compared")
    return ids


def compare(store, ids: list[str]) -> dict[str, Any]:
    """`places`: query.place of each id, in the order given; `shared`: summaries of the
    units that name all of them, in document order; `linked_shared`: those that name or
    reach (through a place inside) all of them. An unknown id is QueryError("places")."""
    places = []
    for place_id in ids:
        try:
            places.append(query.place(store, place_id))
        except query.NotFound as missing:
            raise query.QueryError("places", str(missing)) from None
    named = [{u["id"] for u in p["named"]} for p in places]
    linked = [n | {u["id"] for u in p["via"]} for n, p in zip(named, places, strict=True)]
    position = {uid: i for i, uid in enumerate(store.units.index)}  # document order

    def summaries(ids_: set[str]) -> list[dict[str, Any]]:
        return [query.unit_summary(store, uid)
                for uid in sorted(ids_, key=lambda u: (position.get(u, len(position)), u))]

    return {
        "places": places,
        "shared": summaries(set.intersection(*named)),
        "linked_shared": summaries(set.intersection(*linked) - set.intersection(*named)),
    }

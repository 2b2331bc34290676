"""Search: places, units, place kinds and documents matching a text in any script."""

from __future__ import annotations

from typing import Any

from layers.query.errors import QueryError
from layers.query.items import layer, layer_ids
from layers.query.params import LIMIT_MAX
from layers.query.places import documents, place_refs
from layers.query.units import summaries, units
from layers.textnorm import normalize

SEARCH_LIMIT = 20
Q_MAX = 200


def search_key(text: str) -> str:
    """The form a search matches on: layers.textnorm's normal form (traditional to
    simplified, full width folded), case folded, without spaces and punctuation (Gui'an,
    Gui’an and Guian are one key)."""
    folded = normalize(text, "zh-Hant").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


def rank(needle: str, key: str) -> int | None:
    """0 for the whole key, 1 for its start, 2 anywhere inside; None if absent."""
    if key == needle:
        return 0
    if key.startswith(needle):
        return 1
    if needle in key:
        return 2
    return None


def _places(store, needle: str) -> list[dict[str, Any]]:
    """Matching places, best first: by rank, then in layer and table order."""
    best: dict[str, tuple[int, int, str, str]] = {}  # place -> (rank, position, form, layer)
    order: list[str] = []
    for place_id, layer_id, key, form, position in store.place_keys_containing(needle):
        found = rank(needle, key)
        if found is None:
            continue
        if place_id not in best:
            order.append(place_id)
        hit = (found, position, form, layer_id)
        if place_id not in best or hit[:2] < best[place_id][:2]:
            best[place_id] = hit
    position_of = {p: i for i, p in enumerate(order)}
    ranked = sorted(order, key=lambda p: (best[p][0], position_of[p]))
    refs = {r["id"]: r for r in place_refs(store, ranked)}
    return [{"id": p, "layer": best[p][3], "names": refs[p]["names"], "match": best[p][2]}
            for p in ranked]


def search(store, q: str | None, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Places, units, place kinds and documents matching `q` in any script.

    Places match on their names in every language and on every form the documents name
    them by; units on their id, title and text (as `units(q=…)`); kinds (layers) on their
    title and description; documents on their id and title. Each list is best match first,
    at most `limit` long, with the number matched beside it.
    """
    if q is None or not q.strip():
        raise QueryError("q", "must not be empty")
    if len(q) > Q_MAX:
        raise QueryError("q", f"is longer than {Q_MAX} characters")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIMIT_MAX:
        raise QueryError("limit", f"must lie within 1..{LIMIT_MAX}")
    needle = search_key(q)
    if not needle:
        raise QueryError("q", "has no letters or digits to search for")

    places = _places(store, needle)
    by_text = {u["id"]: u for u in units(store, q=q)}
    by_id = [u for u in store.units_with_id_containing(needle) if u not in by_text]
    by_id = ([u for u in by_id if search_key(u).startswith(needle)]
             + [u for u in by_id if not search_key(u).startswith(needle)])
    found_units = summaries(store, by_id) + list(by_text.values())

    kinds = []
    for layer_id in layer_ids(store):
        info = layer(store, layer_id)
        texts = [*info["title"].values(), *info["description"].values(), layer_id]
        if any(needle in search_key(t) for t in texts if t):
            kinds.append({"id": layer_id, "title": info["title"]})

    docs = [d for d in documents(store)
            if any(needle in search_key(t) for t in (d["id"], *d["title"].values()) if t)]

    return {
        "q": q,
        "places": places[:limit],
        "placesMatched": len(places),
        "units": found_units[:limit],
        "unitsMatched": len(found_units),
        "kinds": kinds,
        "documents": docs,
    }

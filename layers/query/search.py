"""Search: places, units, place kinds and documents matching a text in any script."""

from __future__ import annotations

from typing import Any

from layers.query.errors import QueryError
from layers.query.items import layer, layer_ids
from layers.query.params import LIMIT_MAX
from layers.query.places import documents, place_refs
from layers.query.units import summaries, text_key
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


def _places(store, needle: str, limit: int) -> tuple[list[dict[str, Any]], int]:
    """The first `limit` places with a key holding `needle`, best first (by `rank`, then in
    layer and table order), and how many match."""
    found, matched = store.places_matching(needle, limit)
    refs = {r["id"]: r for r in place_refs(store, [place for place, _, _ in found])}
    return [{"id": place, "layer": layer_id, "names": refs[place]["names"], "match": form}
            for place, layer_id, form in found], matched


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

    places, places_matched = _places(store, needle, limit)
    # Units whose id holds the needle (those it starts first), then those whose text does.
    found, units_matched = store.units_matching(text_key(q), needle, limit)

    kinds = []
    for layer_id in layer_ids(store):
        info = layer(store, layer_id)
        texts = [*info["title"].values(), *info["description"].values(), layer_id]
        if any(needle in search_key(t) for t in texts if t):
            kinds.append({"id": layer_id, "title": info["title"]})

    document_ids, documents_matched = store.documents_matching(needle, limit)

    return {
        "q": q,
        "places": places,
        "placesMatched": places_matched,
        "units": summaries(store, found),
        "unitsMatched": units_matched,
        "kinds": kinds,
        "documents": documents(store, document_ids),
        "documentsMatched": documents_matched,
    }

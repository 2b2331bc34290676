"""Questions about whole documents (shipped and added): the list, and one with its units.

Built on layers.query, so "linked" (named, or via a place inside) means what it means for
the map's filters and the pages.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from layers import query
from layers.query import LINKED, NotFound

# Document columns shown beside the ones query.documents already gives.
EXTRA_COLUMNS = ("number", "url", "origin")


def _places_by_document(store, owners: pd.Series) -> dict[str, list[str]]:
    """Document id -> ids of the places its units are linked to, most often linked first,
    of the units in `owners` (unit id -> its document): only their links are read."""
    if owners.empty:
        return {}
    links = store.links_where(units=owners.index.tolist(), relations=LINKED)
    if links.empty:
        return {}
    frame = pd.DataFrame({"document": links["unit_id"].map(owners).to_numpy(),
                          "place_id": links["place_id"].to_numpy()}).dropna()
    counts = frame.groupby(["document", "place_id"]).size().reset_index(name="n")
    counts = counts.sort_values(["document", "n", "place_id"], ascending=[True, False, True])
    return {str(doc): list(group["place_id"]) for doc, group in counts.groupby("document")}


def _owners(store, document: str | None = None) -> pd.Series:
    """Unit id -> its document, of every unit (or of one document's)."""
    return store.unit_rows(document=document, columns=["document"])["document"]


def _extra(store, doc_id: str) -> dict[str, Any]:
    row = store.document_rows().loc[doc_id]
    out = {}
    for column in EXTRA_COLUMNS:
        value = query.scalar(row.get(column)) if column in row.index else None
        out[column] = value or ("shipped" if column == "origin" else "")
    langs = query.scalar(row.get("langs")) or ""
    out["langs"] = [part.strip() for part in str(langs).split(",") if part.strip()]
    return out


def _summary(store, doc: dict[str, Any], count: int, places: list[dict[str, Any]],
             ) -> dict[str, Any]:
    return {**doc, **_extra(store, doc["id"]), "units": count, "places": places}


def document_list(store, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
    """Every document (or `limit` of them from `offset`, in store order): id, title,
    publisher, date, number, URL, origin (shipped|added), language versions, how many
    units, and the places it is linked to."""
    ids = [str(id) for id in store.document_rows().index]
    shown = ids[offset:None if limit is None else offset + limit]
    owners = _owners(store)
    counts = owners.value_counts()
    # only the shown documents' links are read
    places = _places_by_document(store, owners[owners.isin(shown)])
    # The shown documents' places read at once (one query on a database, not one each).
    refs = {ref["id"]: ref for ref in query.place_refs(
        store, [place for id in shown for place in places.get(id, [])])}
    return [_summary(store, doc, int(counts.get(doc["id"], 0)),
                     [refs[place] for place in places.get(doc["id"], [])])
            for doc in query.documents(store, shown)]


def document_detail(store, id: str) -> dict[str, Any]:
    """One document as in the list, with its units in order, each with its linked places
    (id, layer, names, relation) and whether it addresses all new areas."""
    if id not in store.document_rows().index:
        raise NotFound("document", id)
    doc = query.documents(store, [id])[0]
    listed = query.units(store, document=id)
    units = [{**unit, "text": full["text"], "places": full["places"],
              "general": full["general"]}
             for unit, full in zip(listed, query.units_in_full(
                 store, [unit["id"] for unit in listed], mentions=False), strict=True)]
    owners = _owners(store, id)
    return {**_summary(store, doc, len(owners), query.place_refs(
        store, _places_by_document(store, owners).get(id, []))), "unit_list": units}

"""Places: one place with the units linked to it, and the places its facts name."""

from __future__ import annotations

from typing import Any

import pandas as pd

from layers.query.errors import NotFound
from layers.query.values import id_list, lang_fields, names, place_attributes, scalar, summary_of

# The spatial facts the build stores as columns of new-areas (layers.spatial_facts): list
# columns hold comma-separated place ids.
FACT_LISTS = ("strategy_regions", "strategy_regions_touching", "corridors", "corridors_via",
              "places_inside")


def find_place(store, id: str) -> tuple[str, pd.Series]:
    """(layer id, row) of a place id, searching every layer."""
    found = store.place_rows([id]).get(id)
    if found is None:
        raise NotFound("place", id)
    return found


def place_refs(store, ids: list[str]) -> list[dict[str, Any]]:
    """Places named by another one's facts: id, layer and names (an id the store lacks
    keeps its id, with no layer and no names); one read for all."""
    rows = store.place_rows(list(dict.fromkeys(ids))) if ids else {}
    out = []
    for id in ids:
        if id in rows:
            layer, row = rows[id]
            out.append({"id": id, "layer": layer, "names": names(row)})
        else:
            out.append({"id": id, "layer": None, "names": {}})
    return out


def place_ref(store, id: str) -> dict[str, Any]:
    """One place named by another one's facts (see place_refs)."""
    return place_refs(store, [id])[0]


def spatial_facts(store, row) -> dict[str, Any] | None:
    """A new area's spatial facts with every place id resolved to its layer and names:
    regions it lies in or touches, nearest hub port (km, basis), corridors it is an end of
    or passes through, places inside it. None for a place without them."""
    if "nearest_port" not in row.index and not any(c in row.index for c in FACT_LISTS):
        return None
    lists = {key: id_list(row.get(key)) for key in FACT_LISTS}
    port = scalar(row.get("nearest_port"))
    every = [i for ids in lists.values() for i in ids] + ([str(port)] if port else [])
    refs = iter(place_refs(store, every))
    facts: dict[str, Any] = {key: [next(refs) for _ in ids] for key, ids in lists.items()}
    km = scalar(row.get("nearest_port_km"))
    facts["nearest_port"] = None if not port else {
        **next(refs),
        "km": None if km is None else float(km),
        "basis": scalar(row.get("nearest_port_basis")),
    }
    return facts


def place(store, id: str) -> dict[str, Any]:
    """A place: names, layer, attributes and the units linked to it.

    `named`: units that name the place; `via`: units that reach it through a place inside it
    (with that place's id); `general`: how many units address all new areas (new areas only).
    """
    layer, row = find_place(store, id)
    links = store.links_where(places=[id])  # in document order of the units
    unit_ids = list(dict.fromkeys(links["unit_id"]))
    rows = store.unit_rows(ids=unit_ids).to_dict("index") if unit_ids else {}
    relation = links["relation"]
    named = list(dict.fromkeys(links.loc[relation == "named", "unit_id"]))
    via_rows = links[relation == "via"]
    through_of: dict[str, list[str]] = {}
    for uid, value in zip(via_rows["unit_id"], via_rows["via_place_id"], strict=True):
        through_of.setdefault(uid, [])
        through_of[uid] = sorted(set(through_of[uid]) | set(id_list(value)))
    via_ids = [u for u in through_of if u not in named]
    refs = iter(place_refs(store, [p for u in via_ids for p in through_of[u]]))
    via = [{**summary_of(u, rows[u]),
            "via": [{"id": r["id"], "names": r["names"]}
                    for r in (next(refs) for _ in through_of[u])]}
           for u in via_ids]
    general = list(dict.fromkeys(links.loc[relation == "general", "unit_id"]))
    return {
        "id": id,
        "layer": layer,
        "names": names(row),
        "attributes": place_attributes(row),
        "spatial_facts": spatial_facts(store, row),
        "named": [summary_of(u, rows[u]) for u in named],
        "via": via,
        "general": general,
    }


def documents(store, ids: list[str] | None = None) -> list[dict[str, Any]]:
    """The documents (those of `ids`, in that order, if given): id, title and publisher per
    language, date."""
    frame = store.document_rows()
    if ids is not None:
        frame = frame.loc[list(ids)]
    return [{"id": str(id), "title": lang_fields(row, "title"),
             "publisher": lang_fields(row, "publisher"), "date": scalar(row.get("date"))}
            for id, row in frame.iterrows()]

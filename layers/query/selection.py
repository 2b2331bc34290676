"""What a map filter selects, and the strategy regions with their new areas and units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from layers.query.links import LINKED, filtered_units
from layers.query.params import check_kind
from layers.query.units import units
from layers.query.values import id_list, names


@dataclass(frozen=True)
class Selection:
    """What a map filter selects.

    `units`: the chosen units, in document order; `places`: layer id -> place id ->
    `named` (one of the units names it) or `via` (reached only through a place inside
    it), in layer order; `unit_places`: unit id -> the ids of the places it selects.
    """

    units: list[str]
    places: dict[str, dict[str, str]]
    unit_places: dict[str, list[str]]


def selection(store, unit: str | None = None, document: str | None = None, chapter=None,
              kind: str | None = None) -> Selection:
    """The units a unit/document/chapter filter keeps and the places linked to them (named
    or via, as for `items`); with `kind` (a layer id) only places of that layer, and only
    the units linked to one of them."""
    ids = filtered_units(store, unit, document, chapter)
    if kind is not None:
        check_kind(store, kind)
    links = store.links_where(units=ids, relations=LINKED, layer=kind)
    if kind is not None:
        kept = set(links["unit_id"])
        ids = [u for u in ids if u in kept]
    named = set(links.loc[links["relation"] == "named", "place_id"])
    linked = list(dict.fromkeys(links["place_id"]))
    rows = store.place_rows(linked) if linked else {}
    places: dict[str, dict[str, str]] = {}
    for layer in store.layer_ids():
        mine = [p for p in linked if rows.get(p, ("",))[0] == layer]
        if mine:  # in the layer's own order
            frame = store.select_places(layer, bbox=None, linked=None, filter=None,
                                        order=None, limit=None, offset=0, ids=mine,
                                        columns=[])[0]
            places[layer] = {str(p): ("named" if p in named else "via") for p in frame.index}
    by_unit: dict[str, set[str]] = {}
    for uid, pid in zip(links["unit_id"], links["place_id"], strict=True):
        by_unit.setdefault(uid, set()).add(pid)
    return Selection(units=ids, places=places,
                     unit_places={u: sorted(by_unit.get(u, ())) for u in ids})


def strategy_regions(store) -> list[dict[str, Any]]:
    """Each strategy region: names, the new areas lying in it and those only touching it
    (the build's spatial facts), and the units linked to it, in document order."""
    if "strategy-regions" not in store.layer_ids():
        return []
    regions = store.select_places("strategy-regions", bbox=None, linked=None, filter=None,
                                  order=None, limit=None, offset=0)[0]
    areas = None
    if "new-areas" in store.layer_ids():
        areas = store.select_places("new-areas", bbox=None, linked=None, filter=None,
                                    order=None, limit=None, offset=0)[0]
    out = []
    for region_id, row in regions.iterrows():
        rid = str(region_id)
        inside, touching = [], []
        if areas is not None:
            for area_id, area in areas.iterrows():
                if rid in id_list(area.get("strategy_regions")):
                    inside.append(str(area_id))
                elif rid in id_list(area.get("strategy_regions_touching")):
                    touching.append(str(area_id))
        out.append({"id": rid, "names": names(row), "inside": inside, "touching": touching,
                    "units": [u["id"] for u in units(store, place=rid)]})
    return out

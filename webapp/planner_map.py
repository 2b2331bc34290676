"""The data the interactive map's planner tools ask for, as JSON over layers.query.

- `/map/options`: what the filter controls offer: documents, their chapters and units,
  place kinds (layers), the strategy regions with the new areas inside them and the units
  linked to them, the choropleth modes;
- `/map/selection`: what a filter (`unit`, `document`, `chapter`, `kind`) selects: the
  units, and per layer the places linked to them, `named` or `via` (layers.query.selection:
  the same meaning of "linked" as the items filters);
- `/search?q=`: places, units, kinds and documents matching a text in any script.

Bad parameters raise QueryError (400, the JSON body names the parameter), as everywhere.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, request

from layers import choropleth, query
from webapp import params
from webapp.ogcapi import (
    CHAPTER_PARAM,
    DOCUMENT_PARAM,
    JSON,
    LANG_PARAM,
    UNIT_PARAM,
    content,
    operation,
    param,
)
from webapp.views.common import json_reply, lang, service

blueprint = Blueprint("planner_map", __name__)

FILTERS = ("unit", "document", "chapter", "kind")


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()
    params.output_format(request, allowed=("json",))


def filters() -> dict[str, str | None]:
    """The filter parameters of this request (empty counts as absent)."""
    return {name: params.text(request, name) for name in FILTERS}


@blueprint.get("/map/options")
def options():
    cache = service().cache
    if "map-options" not in cache:
        cache["map-options"] = map_options(service().store)
    return json_reply(cache["map-options"])


def map_options(store) -> dict[str, Any]:
    """Everything the map's filter controls list, from layers.query."""
    regions = query.strategy_regions(store)
    sides = ("inside", "touching")
    # The new areas of every region read at once (one query on a database, not one each).
    refs = {ref["id"]: ref for ref in query.place_refs(
        store, [id for region in regions for side in sides for id in region[side]])}
    return {
        "documents": query.documents(store),
        "chapters": query.chapters(store),
        "units": [{k: v for k, v in u.items() if k != "chapter_title"}
                  for u in query.units(store)],
        "kinds": [{"id": layer, "title": query.layer(store, layer)["title"]}
                  for layer in query.layer_ids(store)],
        "regions": [{**region, **{side: [refs[id] for id in region[side]] for side in sides}}
                    for region in regions],
        "modes": list(choropleth.MODES),
    }


@blueprint.get("/map/selection")
def selection():
    store = service().store
    chosen = filters()
    found = query.selection(store, **chosen)
    relations = [r for layer in found.places.values() for r in layer.values()]
    return json_reply({
        "filters": {k: v for k, v in chosen.items() if v is not None},
        "units": [{**query.unit_summary(store, u), "places": found.unit_places[u]}
                  for u in found.units],
        "numberMatched": len(found.units),
        "places": {layer: [{"id": pid, "relation": relation,
                            "names": query.place_ref(store, pid)["names"]}
                           for pid, relation in places.items()]
                   for layer, places in found.places.items()},
        "counts": {"named": relations.count("named"), "via": relations.count("via")},
    })


@blueprint.get("/search")
def search():
    return json_reply(query.search(service().store, params.text(request, "q")))


FILTER_PARAMS = [
    UNIT_PARAM, DOCUMENT_PARAM, CHAPTER_PARAM,
    param("kind", "query", "a place kind (a layer id): only its places, and the units linked "
          "to one", {"type": "string"}),
]

openapi_paths = {
    "/map/options": operation(
        "what the map's filters offer: documents, chapters, units, kinds, strategy regions",
        [LANG_PARAM], content(JSON), "getMapOptions", ["Map"]),
    "/map/selection": operation(
        "the units a filter keeps and the places linked to them (named or via), per layer",
        [*FILTER_PARAMS, LANG_PARAM], content(JSON), "getMapSelection", ["Map"]),
    "/search": operation(
        "places, units, kinds and documents matching a text in any script",
        [param("q", "query", "the text (simplified, traditional or English)",
               {"type": "string", "maxLength": 200}, True), LANG_PARAM],
        content(JSON), "search", ["Map"]),
}

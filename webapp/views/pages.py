"""Pages for people: the map, units, places, the map popup; each also answers JSON."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING

from flask import Blueprint, current_app, request, url_for

from layers import query
from webapp import ogcapi, params
from webapp.highlight import highlight
from webapp.map_style import load_style
from webapp.views.common import (
    base_url,
    html_reply,
    json_reply,
    lang,
    pick,
    render,
    service,
    text,
    text_reply,
)

if TYPE_CHECKING:
    from webapp import map as maps

blueprint = Blueprint("pages", __name__)


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()


def _static(path: str) -> str:
    return url_for("static", filename=path)


def _layer_url(layer: str, **filters) -> str:
    """A layer's first map request: one page of the map's page size (a bigger layer then
    loads what is in view, static/xinqu/map.js); map.js keeps the filters on every request."""
    return url_for("ogc.items", layer=layer, f="json", display=1,
                   limit=current_app.config["XINQU_MAP_PAGE_LIMIT"], **filters)


def _map_layers(store, **filters) -> list[maps.MapLayer]:
    from webapp import map as maps  # folium, when a map is first drawn: off start-up

    return [maps.MapLayer(id=layer, name=pick(query.layer(store, layer)["title"]),
                          url=_layer_url(layer, **filters))
            for layer in query.layer_ids(store)]


def _map_kwargs() -> dict:
    return {"lang": lang(), "text": text, "static_url": _static,
            "basemap_url": url_for("pages.basemap"),
            "popup_url": url_for("pages.popup", id="__ID__", lang=lang())}


def _style() -> dict:
    cache = service().cache
    if "style" not in cache:
        cache["style"] = load_style()
    return cache["style"]


def _small_map(key: tuple, layers) -> maps.MapParts:
    """A unit's or place's small map, rendered by folium once per language (folium names
    its elements at random, so rendering again would also change the page's ETag)."""
    from webapp import map as maps  # folium, when a map is first drawn: off start-up

    cache = service().cache
    key = ("small-map", *key, lang())
    if key not in cache:  # two threads may both render: every request gets the first kept
        cache.setdefault(key, maps.render_parts(
            maps.small_map(layers(), _style(), **_map_kwargs())))
    return cache[key]


def map_page():
    """The full map; folium renders it once per interface language."""
    from webapp import map as maps  # folium, when a map is first drawn: off start-up

    cache = service().cache
    key = ("map", lang())
    if key not in cache:
        store = service().store
        if "province-points" not in cache:
            cache.setdefault("province-points", maps.province_points(store))
        names = maps.basemap_labels(store, lang(), cache["province-points"])
        m = maps.full_map(_map_layers(store), _style(), basemap_names=names, **_map_kwargs())
        cache.setdefault(key, maps.render_parts(m))
    return html_reply(render("map.html", parts=cache[key], layer=None, show_export_menu=True,
                             figure_min_span=_style()["image"]["min_bbox_span_deg"]))


@blueprint.get("/basemap")
def basemap():
    return text_reply(service().catalogue.basemap, "application/geo+json")


# --- units --------------------------------------------------------------------------------

def _documents() -> dict[str, dict]:
    return {d["id"]: d for d in query.documents(service().store)}


@blueprint.get("/units")
def units():
    store = service().store
    f = params.output_format(request)
    document = params.text(request, "document")
    place = params.text(request, "place")
    q = params.text(request, "q")
    chapter = params.text(request, "chapter")
    kind = params.text(request, "kind")
    unit = params.text(request, "unit")
    # A page of units (each answered in full in JSON): a corpus of thousands is not read,
    # nor sent, at once.
    limit, offset = params.page(request, query.FULL_PAGE_MAX)
    try:
        found = query.unit_ids(store, document=document, place=place, q=q, chapter=chapter,
                               kind=kind)
    except query.NotFound as missing:
        raise query.QueryError(missing.kind, str(missing)) from None
    if unit is not None:  # the map's unit filter, read as items and the map images read it
        kept = set(query.filtered_units(store, unit, document, chapter))
        found = [u for u in found if u in kept]
    shown = found[offset:offset + limit]
    filters = {"document": document, "chapter": chapter, "place": place, "kind": kind, "q": q}
    links = ogcapi.page_links(base_url(), "/units",
                              {**filters, "unit": unit, "lang": request.args.get("lang")},
                              len(found), limit, offset, f)
    if f == "json":
        return json_reply({"units": query.units_in_full(store, shown),
                           "numberMatched": len(found), "numberReturned": len(shown),
                           "links": links, "filters": {**filters, "unit": unit}})
    places = sorted(
        ((pid, query.names(row)) for layer in query.layer_ids(store)
         for pid, row in store.layers[layer].iterrows()),
        key=lambda item: pick(item[1]))
    return html_reply(render("units.html", units=query.summaries(store, shown),
                             number_matched=len(found), offset=offset, links=links,
                             documents=_documents(), places=places, filters=filters))


def _place_href(place_id: str) -> str:
    return url_for("pages.place", id=place_id, lang=request.args.get("lang"))


@blueprint.get("/units/<id>")
def unit(id: str):
    store = service().store
    data = query.unit(store, id)
    if params.output_format(request) == "json":
        return json_reply(data)
    columns = []
    for version_ in ("zh-Hans", "zh-Hant", "en"):
        body = data["text"].get(version_) or ""
        if not body:
            continue
        spans = [(m["start"], m["end"], m["place_id"]) for m in data["mentions"]
                 if m["lang"] == version_]
        columns.append({"lang": version_, "title": data["title"].get(version_, ""),
                        "html": highlight(body, spans, _place_href)})
    layers = sorted({p["layer"] for p in data["places"]}, key=query.layer_ids(store).index)
    parts = None
    if layers:
        parts = _small_map(("unit", id), lambda: [
            ml for ml in _map_layers(store, unit=id) if ml.id in layers])
    return html_reply(render("unit.html", unit=data, columns=columns, documents=_documents(),
                             parts=parts))


# --- places -------------------------------------------------------------------------------

def _grouped(units: list[dict]) -> OrderedDict:
    groups: OrderedDict = OrderedDict()
    for u in units:
        groups.setdefault(u["document"], []).append(u)
    return groups


def place_page(id: str):
    from webapp import map as maps  # folium, when a map is first drawn: off start-up

    store = service().store
    data = query.place(store, id)
    parts = _small_map(("place", id), lambda: [maps.MapLayer(
        id=data["layer"], name=data["layer"],
        url=url_for("ogc.item", layer=data["layer"], id=id, f="json", display=1))])
    general = [query.unit_summary(store, uid) for uid in data["general"]]
    return html_reply(render("place.html", place=data, named=_grouped(data["named"]),
                             via=_grouped(data["via"]), general=_grouped(general),
                             documents=_documents(),
                             info=query.layer(store, data["layer"]), parts=parts))


@blueprint.get("/places/<id>")
def place(id: str):
    if params.output_format(request) == "json":
        store = service().store
        data = query.place(store, id)
        data["links"] = [
            {"href": url_for("ogc.item", layer=data["layer"], id=id, f="json", _external=True),
             "rel": "alternate", "type": "application/geo+json", "title": "as a GeoJSON feature"},
        ]
        return json_reply(data)
    return place_page(id)


@blueprint.get("/places/<id>/popup")
def popup(id: str):
    store = service().store
    data = query.place(store, id)
    return html_reply(render("_popup.html", place=data, documents=_documents(),
                             info=query.layer(store, data["layer"])))

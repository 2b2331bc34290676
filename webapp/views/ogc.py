"""OGC API - Features endpoints: landing page, conformance, collections, items, OpenAPI."""

from __future__ import annotations

from flask import Blueprint, current_app, request

from layers import query
from webapp import ogcapi, params
from webapp.geojson import collection_json, dumps
from webapp.views import pages
from webapp.views.common import (
    base_url,
    html_reply,
    json_reply,
    lang,
    render,
    service,
    text,
    text_reply,
    version,
)

blueprint = Blueprint("ogc", __name__)


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()  # a bad ?lang= is a 400 on every endpoint


def _title() -> tuple[str, str]:
    return text("site_title"), text("site_subtitle")


@blueprint.get("/")
def landing():
    if params.output_format(request) == "json":
        return json_reply(ogcapi.landing(base_url(), *_title()))
    return pages.map_page()


@blueprint.get("/conformance")
def conformance():
    document = ogcapi.conformance()
    if params.output_format(request) == "json":
        return json_reply(document)
    return html_reply(render("conformance.html", document=document))


def _bboxes() -> dict[str, list[float]]:
    return {layer: features.bbox for layer, features in service().catalogue.layers.items()}


@blueprint.get("/collections")
def collections():
    document = ogcapi.collections(service().store, _bboxes(), base_url(), version())
    if params.output_format(request) == "json":
        return json_reply(document)
    return html_reply(render("collections.html", document=document))


@blueprint.get("/collections/<layer>")
def collection(layer: str):
    store = service().store
    document = ogcapi.collection(store, layer, _bboxes().get(layer, []), base_url(), version())
    if params.output_format(request) == "json":
        return json_reply(document)
    return html_reply(render("collection.html", document=document, layer=layer,
                             filters={}, count=query.layer(store, layer)["count"]))


@blueprint.get("/collections/<layer>/items")
def items(layer: str):
    store = service().store
    query.layer(store, layer)  # an unknown layer is a 404 before any parameter is read
    f = params.output_format(request)
    bbox = params.bbox(request)
    limit, offset = params.page(request)
    unit = params.text(request, "unit")
    document = params.text(request, "document")
    chapter = params.text(request, "chapter")
    display = params.flag(request, "display")
    result = query.items(store, layer, bbox=bbox, unit=unit, document=document, limit=limit,
                         offset=offset, chapter=chapter)
    filters = {"bbox": request.args.get("bbox"), "unit": unit, "document": document,
               "chapter": chapter, "display": "1" if display else None,
               "lang": request.args.get("lang")}
    links = ogcapi.items_links(base_url(), layer, filters, result.number_matched, limit, offset,
                               format=f)
    if f == "json":
        features = service().catalogue.layers[layer]
        texts = features.display if display else features.full
        body = collection_json([texts[i] for i in result.ids], {
            "numberMatched": result.number_matched,
            "numberReturned": result.number_returned,
            "timeStamp": service().loaded_at,
            "links": links,
        })
        return text_reply(body, ogcapi.GEOJSON)
    rows = [{"id": i, "names": query.names(result.frame.loc[i]),
             "units": result.units.get(i, [])} for i in result.ids]
    return html_reply(render("items.html", layer=layer, rows=rows, result=result, links=links,
                             filters={k: v for k, v in filters.items() if v},
                             info=query.layer(store, layer)))


@blueprint.get("/collections/<layer>/items/<id>")
def item(layer: str, id: str):
    store = service().store
    query.layer(store, layer)
    features = service().catalogue.layers[layer]
    if id not in features.full:
        raise query.NotFound("place", id)
    f = params.output_format(request)
    if f == "html":
        return pages.place_page(id)
    texts = features.display if params.flag(request, "display") else features.full
    links = dumps(ogcapi.item_links(base_url(), layer, id))
    return text_reply(f'{texts[id][:-1]},"links":{links}}}', ogcapi.GEOJSON)


@blueprint.get("/openapi")
def openapi():
    f = params.output_format(request)
    document = ogcapi.openapi(base_url(), *_title(), query.layer_ids(service().store),
                              extra_paths=_extra_paths())
    if f == "json":
        return json_reply(document, mimetype=ogcapi.OPENAPI)
    return html_reply(render("openapi.html", document=document))


def _extra_paths() -> dict:
    """OpenAPI paths the other blueprints contributed when the app registered them."""
    from webapp.app import OPENAPI_PATHS

    return current_app.extensions[OPENAPI_PATHS]

"""OGC API - Features endpoints over Flask: each view hands the request to webapp.core and
sends its answer, or renders the HTML page of the document the core returned."""

from __future__ import annotations

from flask import Blueprint, Response, request

from layers import query, table_collections
from webapp import core
from webapp.service import extra_openapi_paths
from webapp.views import pages
from webapp.views.common import base_url, html_reply, lang, render, service

blueprint = Blueprint("ogc", __name__)


@blueprint.before_request
def _check_common_parameters() -> None:
    lang()  # a bad ?lang= is a 400 on every endpoint


def api_request() -> core.ApiRequest:
    """The request as the core reads it."""
    return core.ApiRequest(args=request.args, headers=request.headers, base=base_url())


def send(answer: core.Answer) -> Response:
    """A core answer as a Flask response."""
    headers = dict(answer.headers)
    mimetype = headers.pop("Content-Type", None)
    response = Response(answer.body, status=answer.status, mimetype=mimetype)
    response.headers.update(headers)
    return response


def _page(answer: core.Answer, template: str, **context) -> Response:
    if answer.format == "html" and "rows" in answer.context and "table" in answer.context:
        return html_reply(render("table.html", **answer.context))
    if answer.format == "html":
        return html_reply(render(template, **answer.context, **context))
    return send(answer)


@blueprint.get("/")
def landing():
    answer = core.landing(service(), api_request())
    return pages.map_page() if answer.format == "html" else send(answer)


@blueprint.get("/conformance")
def conformance():
    return _page(core.conformance(service(), api_request()), "conformance.html")


@blueprint.get("/collections")
def collections():
    return _page(core.collections(service(), api_request()), "collections.html")


@blueprint.get("/collections/<layer>")
def collection(layer: str):
    answer = core.collection(service(), api_request(), layer)
    if answer.format != "html":
        return send(answer)
    if table_collections.is_table(layer):  # a table's page: its first rows
        return _page(core.table_items(service(), api_request(), layer), "table.html")
    return _page(answer, "collection.html", layer=layer, filters={},
                 count=query.layer(service().store, layer)["count"])


@blueprint.get("/collections/<layer>/queryables")
def queryables(layer: str):
    return _page(core.queryables(service(), api_request(), layer), "queryables.html",
                 layer=layer)


@blueprint.get("/collections/<layer>/items")
def items(layer: str):
    answer = core.items(service(), api_request(), layer)
    if answer.format == "html" and not table_collections.is_table(layer):
        return _page(answer, "items.html", info=query.layer(service().store, layer))
    return _page(answer, "table.html")


@blueprint.get("/collections/<layer>/items/<id>")
def item(layer: str, id: str):
    answer = core.item(service(), api_request(), layer, id)
    if answer.format == "html" and not table_collections.is_table(layer):
        return pages.place_page(id)
    return _page(answer, "table.html")


@blueprint.get("/openapi")
def openapi():
    return _page(core.openapi(service(), api_request(), extra_openapi_paths()), "openapi.html")

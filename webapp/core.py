"""The OGC API - Features core, request-free (as pygeoapi keeps its API): every function
takes the loaded service and an `ApiRequest` (query parameters, headers, base URL) and
returns an `Answer` (status, headers, body) without touching Flask.

Parameters are read and checked by webapp.params, the data chosen by layers.query, the
documents built by webapp.ogcapi; a bad parameter raises QueryError and an unknown id
NotFound, which webapp.errors.answer renders (`answer_error` does it here). When the
client asks for HTML, the answer carries `format="html"` and the document (`context`) the
Flask view renders with its template; the JSON body is only serialised for JSON.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from geo import crs as crs_lib
from layers import query, table_collections
from webapp import errors, ogcapi, params
from webapp.geojson import collection_json, dumps, feature_json, place_properties
from webapp.service import Service


@dataclass(frozen=True)
class ApiRequest:
    """What the core reads of a request."""

    args: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    base: str = ""

    def format(self, allowed: tuple[str, ...] = ("html", "json")) -> str:
        return params.output_format(self.args, allowed, headers=self.headers)

    def lang(self, service: Service) -> str:
        return params.language(self.args, service.strings.languages, headers=self.headers)


@dataclass
class Answer:
    """A response: status, headers and body; for HTML, the document the view renders."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""
    format: str = "json"
    context: dict[str, Any] = field(default_factory=dict)


def json_answer(document: Any, media_type: str = ogcapi.JSON, **headers: str) -> Answer:
    return Answer(body=dumps(document), headers={"Content-Type": media_type, **headers})


def answer_error(error: Exception) -> Answer:
    """The error answer to `error`, as the Flask app gives it (webapp.errors.answer)."""
    status, headers, body = errors.answer(error)
    return Answer(status=status, headers={"Content-Type": ogcapi.JSON, **headers},
                  body=dumps(body))


def _document_answer(req: ApiRequest, document: dict[str, Any],
                     media_type: str = ogcapi.JSON) -> Answer:
    if req.format() == "html":
        return Answer(format="html", context={"document": document})
    return json_answer(document, media_type)


def _version(service: Service, req: ApiRequest) -> str:
    """The language version (zh-Hans, en) the interface language reads first."""
    return service.strings.names.get(req.lang(service), "en")


def _titles(service: Service, req: ApiRequest) -> tuple[str, str]:
    lang = req.lang(service)
    return service.strings.text("site_title", lang), service.strings.text("site_subtitle", lang)


# --- capabilities -------------------------------------------------------------------------

def landing(service: Service, req: ApiRequest) -> Answer:
    return _document_answer(req, ogcapi.landing(req.base, *_titles(service, req)))


def conformance(service: Service, req: ApiRequest) -> Answer:
    return _document_answer(req, ogcapi.conformance())


def _bboxes(service: Service) -> dict[str, list[float]]:
    store = service.store
    return {layer: store.layer_extent(layer) for layer in query.layer_ids(store)}


def collections(service: Service, req: ApiRequest) -> Answer:
    return _document_answer(req, ogcapi.collections(
        service.store, _bboxes(service), req.base, _version(service, req)))


def collection(service: Service, req: ApiRequest, layer: str) -> Answer:
    if table_collections.is_table(layer):
        return _document_answer(req, ogcapi.table_collection(layer, req.base,
                                                             _version(service, req)))
    return _document_answer(req, ogcapi.collection(
        service.store, layer, _bboxes(service).get(layer, []), req.base,
        _version(service, req)))


def queryables(service: Service, req: ApiRequest, layer: str) -> Answer:
    if not table_collections.is_table(layer):
        query.layer(service.store, layer)  # 404 for an unknown collection
    document = ogcapi.queryables(service.store, layer, req.base, _version(service, req))
    media = params.media_type(req.headers.get("Accept"), (ogcapi.SCHEMA_JSON, ogcapi.JSON))
    return _document_answer(req, document, media)


def openapi(service: Service, req: ApiRequest, extra_paths: dict[str, Any]) -> Answer:
    document = ogcapi.openapi(req.base, *_titles(service, req),
                              query.layer_ids(service.store), extra_paths=extra_paths)
    return _document_answer(req, document, ogcapi.OPENAPI)


# --- features -----------------------------------------------------------------------------

def layer_crs(service: Service, layer: str) -> list[str]:
    """The CRS codes a layer is served in (geo.crs.offered_crs of its extent)."""
    bbox = service.store.layer_extent(layer)
    return crs_lib.offered_crs(tuple(bbox) if bbox else None)


def _crs_headers(code: str) -> dict[str, str]:
    return {"Content-Crs": f"<{crs_lib.ogc_uri(code)}>"}


def items(service: Service, req: ApiRequest, layer: str) -> Answer:
    """A page of a layer's features: the Part 1 parameters, the unit/document/chapter
    filters, Part 2 `crs` and `bbox-crs`, Part 3 `filter`, `sortby` and `properties`."""
    store = service.store
    if table_collections.is_table(layer):
        return table_items(service, req, layer)
    query.layer(store, layer)  # an unknown layer is a 404 before any parameter is read
    f = req.format()
    offered = layer_crs(service, layer)
    out_crs = params.output_crs(req.args, offered)
    limit, offset = params.page(req.args)
    filters = {name: params.text(req.args, name, max_length=params.FILTER_MAX)
               for name in ogcapi.ITEM_FILTERS}
    display = params.flag(req.args, "display")
    params.filter_crs(req.args)
    result = query.items(
        store, layer, bbox=params.bbox(req.args, offered), unit=filters["unit"],
        document=filters["document"], chapter=filters["chapter"], limit=limit, offset=offset,
        filter=filters["filter"], filter_lang=params.filter_lang(req.args),
        sortby=filters["sortby"], properties=filters["properties"])
    params.check_display(display, out_crs, result.properties)
    shown = {"bbox": req.args.get("bbox"), "bbox-crs": req.args.get("bbox-crs"),
             "crs": req.args.get("crs"), **filters,
             "filter-lang": req.args.get("filter-lang"),
             "filter-crs": req.args.get("filter-crs"),
             "display": "1" if display else None, "lang": req.args.get("lang")}
    links = ogcapi.items_links(req.base, layer, shown, result.number_matched, limit, offset,
                               format=f)
    if f == "html":
        rows = [{"id": i, "names": query.names(result.frame.loc[i]),
                 "units": result.units.get(i, [])} for i in result.ids]
        return Answer(format="html", context={
            "layer": layer, "rows": rows, "result": result, "links": links,
            "filters": {k: v for k, v in shown.items() if v}})
    body = collection_json(_feature_texts(service, result, out_crs, display), {
        "numberMatched": result.number_matched,
        "numberReturned": result.number_returned,
        "timeStamp": service.loaded_at,
        "links": links,
    })
    return Answer(body=body, headers={"Content-Type": ogcapi.GEOJSON, **_crs_headers(out_crs)})


def item(service: Service, req: ApiRequest, layer: str, id: str) -> Answer:
    store = service.store
    if table_collections.is_table(layer):
        return table_item(service, req, layer, id)
    found = query.feature(store, layer, id)  # NotFound for a place the layer lacks
    if req.format() == "html":
        return Answer(format="html", context={"id": id})
    out_crs = params.output_crs(req.args, layer_crs(service, layer))
    display = params.flag(req.args, "display")
    chosen = query.check_properties(store, layer, params.text(req.args, "properties",
                                                              max_length=params.FILTER_MAX))
    params.check_display(display, out_crs, chosen)
    result = dataclasses.replace(found, properties=chosen)
    text = _feature_texts(service, result, out_crs, display)[0]
    links = dumps(ogcapi.item_links(req.base, layer, id))
    return Answer(body=f'{text[:-1]},"links":{links}}}',
                  headers={"Content-Type": ogcapi.GEOJSON, **_crs_headers(out_crs)})


def _feature_texts(service: Service, result: query.Items, out_crs: str,
                   display: bool) -> list[str]:
    """The features of a page as GeoJSON texts: the ones serialised at start when nothing
    changes them, else serialised now in the CRS and with the properties asked for."""
    if out_crs == crs_lib.DEFAULT_CRS and result.properties is None:
        return service.catalogue.page_texts(service.store, result, display)
    frame = result.frame
    if out_crs != crs_lib.DEFAULT_CRS:
        frame = crs_lib.in_axis_order(frame, crs_lib.crs_of(out_crs))
    out = []
    for id, row in frame.iterrows():
        properties = place_properties(result.layer, str(id), row, result.units.get(id, []))
        if result.properties is not None:
            properties = {k: v for k, v in properties.items() if k in result.properties}
        out.append(feature_json(str(id), properties, row.geometry))
    return out


# --- attribute tables: collections without geometry ----------------------------------------

# Parameters of a layer's items that mean nothing on a table without geometry or links.
_LAYER_ONLY = ("bbox", "bbox-crs", "unit", "document", "chapter", "display")


def _check_table_args(req: ApiRequest) -> None:
    for name in _LAYER_ONLY:
        if req.args.get(name):
            raise query.QueryError(name, "applies to map layers; this collection is a table "
                                         "without geometry (use filter on its queryables)")
    params.output_crs(req.args, [crs_lib.DEFAULT_CRS])


def table_items(service: Service, req: ApiRequest, table: str) -> Answer:
    """A page of an attribute table's rows as features without geometry."""
    f = req.format()
    _check_table_args(req)
    limit, offset = params.page(req.args)
    params.filter_crs(req.args)
    chosen = {name: params.text(req.args, name, max_length=params.FILTER_MAX)
              for name in ("filter", "sortby", "properties")}
    result = table_collections.items(service.store, table, limit=limit, offset=offset,
                          filter_lang=params.filter_lang(req.args), **chosen)
    shown = {**chosen, "filter-lang": req.args.get("filter-lang"),
             "lang": req.args.get("lang")}
    links = ogcapi.items_links(req.base, table, shown, result.number_matched, limit, offset,
                               format=f)
    if f == "html":
        return _table_page(service, req, result, links)
    features = [_row_json(result, id, row) for id, row in result.frame.iterrows()]
    body = collection_json(features, {
        "numberMatched": result.number_matched, "numberReturned": result.number_returned,
        "timeStamp": service.loaded_at, "links": links})
    return Answer(body=body, headers={"Content-Type": ogcapi.GEOJSON,
                                      **_crs_headers(crs_lib.DEFAULT_CRS)})


def table_item(service: Service, req: ApiRequest, table: str, id: str) -> Answer:
    rows = table_collections.frame(service.store, table)
    if id not in rows.index:
        raise query.NotFound(table.rstrip("s"), id)
    params.output_crs(req.args, [crs_lib.DEFAULT_CRS])
    chosen = table_collections.check_properties(service.store, table, params.text(
        req.args, "properties", max_length=params.FILTER_MAX))
    result = query.Items(layer=table, frame=rows.loc[[id]], number_matched=1, limit=1,
                         offset=0, properties=chosen)
    if req.format() == "html":
        return _table_page(service, req, result, ogcapi.item_links(req.base, table, id))
    text = _row_json(result, id, rows.loc[id])
    links = dumps(ogcapi.item_links(req.base, table, id))
    return Answer(body=f'{text[:-1]},"links":{links}}}',
                  headers={"Content-Type": ogcapi.GEOJSON, **_crs_headers(crs_lib.DEFAULT_CRS)})


def _table_page(service: Service, req: ApiRequest, result: query.Items,
                links: list[dict[str, str]]) -> Answer:
    """What table.html shows: the table's metadata and the rows of this answer."""
    rows = [_row_properties(result, id, row) for id, row in result.frame.iterrows()]
    return Answer(format="html", context={
        "table": result.layer, "result": result, "links": links, "rows": rows,
        "columns": list(result.properties or ["id", *map(str, result.frame.columns)]),
        "document": ogcapi.table_collection(result.layer, req.base, _version(service, req))})


def _row_properties(result: query.Items, id: str, row) -> dict[str, Any]:
    properties = table_collections.row_properties(str(id), row)
    if result.properties is not None:
        properties = {k: v for k, v in properties.items() if k in result.properties}
    return properties


def _row_json(result: query.Items, id: str, row) -> str:
    return feature_json(str(id), _row_properties(result, id, row), None)

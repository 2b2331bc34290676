"""OGC API - Features documents (Part 1 core, Part 2 CRS, Part 3 queryables) as plain dicts.

Every function takes the service's base URL and returns the JSON document of one
resource (landing page, conformance, collections, items links, OpenAPI); the Flask
views only call them and send the result.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from geo.crs import OGC_CRS84, offered_crs, ogc_uri
from layers import query, table_collections
from layers.documents.model import LANGS
from webapp.i18n import ALIASES

CRS84 = OGC_CRS84
GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"

_FEATURES = "http://www.opengis.net/spec/ogcapi-features-{part}/1.0/conf/{name}"
_CQL2 = "http://www.opengis.net/spec/cql2/1.0/conf/{name}"
CONFORMANCE = [
    *(_FEATURES.format(part=1, name=n) for n in ("core", "oas30", "html", "geojson")),
    _FEATURES.format(part=2, name="crs"),
    *(_FEATURES.format(part=3, name=n) for n in (
        "queryables", "queryables-query-parameters", "filter", "features-filter")),
    *(_CQL2.format(name=n) for n in (
        "cql2-text", "cql2-json", "basic-cql2", "advanced-comparison-operators",
        "case-insensitive-comparison", "basic-spatial-functions",
        "basic-spatial-functions-plus", "spatial-functions")),
    "http://www.opengis.net/spec/ogcapi-records-1/1.0/conf/sorting",
]

# Parameters of the items endpoint that select and shape the features (free text).
ITEM_FILTERS = ("unit", "document", "chapter", "filter", "sortby", "properties")
_JSON_SCHEMA_TYPES = {"string": {"type": "string"}, "number": {"type": "number"},
                      "integer": {"type": "integer"}, "boolean": {"type": "boolean"},
                      "date": {"type": "string", "format": "date"}}


def link(href: str, rel: str, type: str, title: str | None = None) -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type}
    if title:
        out["title"] = title
    return out


def url(base: str, path: str, **params) -> str:
    """base + path with the non-empty params as a query string."""
    clean = {k: v for k, v in params.items() if v is not None and v != ""}
    return f"{base.rstrip('/')}{path}" + (f"?{urlencode(clean)}" if clean else "")


def landing(base: str, title: str, description: str) -> dict[str, Any]:
    return {
        "title": title,
        "description": description,
        "links": [
            link(url(base, "/", f="json"), "self", JSON, "this document"),
            link(url(base, "/", f="html"), "alternate", HTML, "the map"),
            link(url(base, "/openapi", f="json"), "service-desc", OPENAPI, "the API definition"),
            link(url(base, "/openapi", f="html"), "service-doc", HTML, "the API documentation"),
            link(url(base, "/conformance", f="json"), "conformance", JSON,
                 "OGC API conformance classes implemented by this server"),
            link(url(base, "/collections", f="json"), "data", JSON, "the map layers"),
            link(url(base, "/units", f="json"), "related", JSON, "the policy units"),
        ],
    }


def conformance() -> dict[str, Any]:
    return {"conformsTo": list(CONFORMANCE)}


def collection_links(base: str, path: str, items: str) -> list[dict[str, Any]]:
    """A collection's links: itself, its items (described as `items`), its queryables."""
    return [
        link(url(base, path, f="json"), "self", JSON, "this collection"),
        link(url(base, path, f="html"), "alternate", HTML, "this collection as HTML"),
        link(url(base, f"{path}/items", f="json"), "items", GEOJSON, items),
        link(url(base, f"{path}/items", f="html"), "items", HTML, f"{items} as HTML"),
        link(url(base, f"{path}/queryables", f="json"),
             "http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON,
             "the properties a filter or sortby may name"),
        # The draft's relation, which GDAL 3.6 follows to push -where filters down.
        link(url(base, f"{path}/queryables", f="json"), "queryables", JSON,
             "the queryables (for clients of the Part 3 draft)"),
    ]


def collection(store, layer: str, bbox: list[float], base: str, lang: str) -> dict[str, Any]:
    """The metadata of one layer; lang is a language version (zh-Hans, en) for the texts."""
    info = query.layer(store, layer)
    path = f"/collections/{layer}"
    return {
        "id": layer,
        "title": info["title"].get(lang) or info["title"].get("en") or layer,
        "description": info["description"].get(lang) or info["description"].get("en") or "",
        "itemType": "feature",
        "crs": [ogc_uri(code) for code in offered_crs(tuple(bbox) if bbox else None)],
        "storageCrs": CRS84,
        "extent": {"spatial": {"bbox": [bbox] if bbox else [], "crs": CRS84}},
        "links": collection_links(base, path, "the places"),
    }


def queryables(store, layer: str, base: str, lang: str) -> dict[str, Any]:
    """The JSON Schema of a layer's or table's filterable properties with their types."""
    if table_collections.is_table(layer):
        info = {"title": table_collections.tables()[layer].title}
        types = table_collections.queryables(store, layer)
    else:
        info = query.layer(store, layer)
        types = query.queryables(store, layer)
    properties: dict[str, Any] = {}
    for name, kind in types.items():
        if kind == "geometry":
            properties[name] = {"title": "geometry", "x-ogc-role": "primary-geometry",
                                "format": _geometry_format(store.layers[layer].geom_type)}
        else:
            properties[name] = {"title": name, **_JSON_SCHEMA_TYPES[kind]}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url(base, f"/collections/{layer}/queryables"),
        "type": "object",
        "title": info["title"].get(lang) or info["title"].get("en") or layer,
        "properties": properties,
        "additionalProperties": False,
        # The same list as the Part 3 draft wrote it, read by GDAL 3.6 and QGIS 3.22.
        "queryables": [{"id": name, "type": kind} for name, kind in types.items()],
    }


def _geometry_format(types) -> str:
    """The Part 3 geometry format of a layer's geometry types (e.g. Polygon, MultiPolygon)."""
    kinds = {str(t).lower().removeprefix("multi") for t in types if t}
    if len(kinds) != 1:
        return "geometry-any"
    kind = kinds.pop()
    return f"geometry-{kind}-or-multi{kind}"


def collections(store, bboxes: dict[str, list[float]], base: str, lang: str) -> dict[str, Any]:
    return {
        "links": [
            link(url(base, "/collections", f="json"), "self", JSON, "this document"),
            link(url(base, "/collections", f="html"), "alternate", HTML, "this document as HTML"),
        ],
        "collections": [collection(store, layer, bboxes.get(layer, []), base, lang)
                        for layer in query.layer_ids(store)]
                       + [table_collection(table, base, lang)
                          for table in table_collections.tables()],
    }


def table_collection(id: str, base: str, lang: str) -> dict[str, Any]:
    """The metadata of an attribute table: a collection whose features have no geometry."""
    table = table_collections.tables()[id]
    path = f"/collections/{id}"
    return {
        "id": id,
        "title": table.title.get(lang) or table.title.get("en") or id,
        "description": table.description.get(lang) or table.description.get("en") or "",
        "itemType": "feature",
        "links": collection_links(base, path, "the rows (features without geometry)"),
    }


def items_links(base: str, layer: str, filters: dict[str, Any], number_matched: int,
                limit: int, offset: int, format: str = "json") -> list[dict[str, str]]:
    """self, alternate, collection, next and prev links of a page of items."""
    links = page_links(base, f"/collections/{layer}/items", filters, number_matched, limit,
                       offset, format, GEOJSON)
    links.insert(2, link(url(base, f"/collections/{layer}", f="json"), "collection", JSON,
                         "the collection"))
    return links


def page_links(base: str, path: str, filters: dict[str, Any], number_matched: int,
               limit: int, offset: int, format: str = "json", json_type: str = JSON,
               ) -> list[dict[str, str]]:
    """self, alternate, next and prev links of a page of `path` (JSON as `json_type`)."""
    this, other = (json_type, HTML) if format == "json" else (HTML, json_type)
    other_f = "html" if format == "json" else "json"

    def page(f: str, at: int) -> str:
        return url(base, path, f=f, limit=limit, offset=at or None, **filters)

    links = [
        link(page(format, offset), "self", this, "this page"),
        link(page(other_f, offset), "alternate", other, "this page as " + other_f.upper()),
    ]
    if offset + limit < number_matched:
        links.append(link(page(format, offset + limit), "next", this, "next page"))
    if offset > 0:
        links.append(link(page(format, max(0, offset - limit)), "prev", this, "previous page"))
    return links


def item_links(base: str, layer: str, id: str) -> list[dict[str, str]]:
    path = f"/collections/{layer}/items/{id}"
    return [
        link(url(base, path, f="json"), "self", GEOJSON, "this place"),
        link(url(base, path, f="html"), "alternate", HTML, "this place as HTML"),
        link(url(base, f"/collections/{layer}", f="json"), "collection", JSON, "the collection"),
    ]


# --- OpenAPI ------------------------------------------------------------------------------

def param(name: str, where: str, description: str, schema: dict, required: bool = False,
          **extra) -> dict[str, Any]:
    return {"name": name, "in": where, "description": description, "required": required,
            "schema": schema, **extra}


F_PARAM = param("f", "query", "output format; by default HTML when the Accept header prefers "
                "text/html (browsers), else JSON",
                 {"type": "string", "enum": ["json", "html"]})
LANG_PARAM = param("lang", "query", "interface language; default by Accept-Language",
                    {"type": "string", "enum": [*LANGS, *ALIASES]})
LIMIT_PARAM = param("limit", "query", "number of items per page", {
    "type": "integer", "minimum": 1, "maximum": query.LIMIT_MAX,
    "default": query.LIMIT_DEFAULT}, style="form", explode=False)
OFFSET_PARAM = param("offset", "query", "number of matching items to skip",
                      {"type": "integer", "minimum": 0, "default": 0})
FULL_PAGE_LIMIT_PARAM = param("limit", "query", "number of entries per page (each in full)", {
    "type": "integer", "minimum": 1, "maximum": query.FULL_PAGE_MAX,
    "default": query.LIMIT_DEFAULT}, style="form", explode=False)
BBOX_PARAM = param(
    "bbox", "query", "only items whose geometry intersects this box (CRS84: "
    "minlon,minlat,maxlon,maxlat; a minlon above maxlon crosses the antimeridian)",
    {"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}},
    style="form", explode=False)
UNIT_PARAM = param("unit", "query", "only places linked to this unit (e.g. ndrc-2024:13)",
                    {"type": "string"})
DOCUMENT_PARAM = param("document", "query", "only places linked to a unit of this document",
                        {"type": "string"})
CHAPTER_PARAM = param("chapter", "query", "only places linked to a unit of this chapter "
                       "of `document` (chapters are numbered within a document)",
                       {"type": "integer", "minimum": 1})
DISPLAY_PARAM = param("display", "query", "1: geometry simplified for web maps, with the "
                       "properties the map needs", {"type": "boolean", "default": False})
CRS_PARAM = param("crs", "query", "the CRS of the coordinates returned, by its OGC URI, one "
                  "of the collection's `crs` list (CRS84 by default; EPSG:4326 and 4490 in "
                  "latitude, longitude order, Gauss-Krüger zones northing, easting)",
                  {"type": "string", "format": "uri"})
BBOX_CRS_PARAM = param("bbox-crs", "query", "the CRS of `bbox`, by its OGC URI, one of the "
                       "collection's `crs` list (CRS84 by default)",
                       {"type": "string", "format": "uri"})
FILTER_PARAM = param("filter", "query", "a CQL2 filter on the collection's queryables, e.g. "
                     "official_area_km2 > 1000 AND approved >= DATE('2014-01-01')",
                     {"type": "string", "maxLength": 4000})
FILTER_LANG_PARAM = param("filter-lang", "query", "the language of `filter` (cql-text and "
                          "cql-json: the names older clients use for the same)",
                          {"type": "string", "default": "cql2-text",
                           "enum": ["cql2-text", "cql2-json", "cql-text", "cql-json"]})
FILTER_CRS_PARAM = param("filter-crs", "query", "the CRS of geometries in `filter`: CRS84",
                         {"type": "string", "format": "uri", "enum": [CRS84]})
SORTBY_PARAM = param("sortby", "query", "queryables to order by, comma-separated; a leading "
                     "- sorts descending (e.g. -official_area_km2,name_en)",
                     {"type": "string", "maxLength": 4000})
PROPERTIES_PARAM = param("properties", "query", "only these feature properties, "
                         "comma-separated", {"type": "string", "maxLength": 4000})
COLLECTION_ID = param("collectionId", "path", "a layer id", {"type": "string"}, True)
FEATURE_ID = param("featureId", "path", "a place id", {"type": "string"}, True)
UNIT_ID = param("unitId", "path", "a unit id, DOCUMENT:KEY", {"type": "string"}, True)
PLACE_ID = param("placeId", "path", "a place id", {"type": "string"}, True)

_ERRORS = {
    "400": {"description": "a parameter is malformed; the body names it",
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
    "404": {"description": "no such resource",
            "content": {JSON: {"schema": {"$ref": "#/components/schemas/exception"}}}},
}


def operation(summary: str, parameters: list[dict], body: dict[str, Any], op: str,
              tags: list[str], success: str = "200") -> dict[str, Any]:
    """A GET operation: its `success` status answers `body` (media type -> schema; none for
    a redirect); errors as everywhere."""
    answer: dict[str, Any] = {"description": summary}
    if body:
        answer["content"] = body
    return {"get": {
        "summary": summary, "operationId": op, "tags": tags, "parameters": parameters,
        "responses": {success: answer, **_ERRORS,
                      "304": {"description": "not modified since the ETag given"}},
    }}


def content(*types: str, schema: str | None = None) -> dict[str, Any]:
    body = {"schema": {"$ref": f"#/components/schemas/{schema}"}} if schema else {}
    return {t: dict(body) for t in types}


def openapi(base: str, title: str, description: str, layer_ids: list[str],
            extra_paths: dict[str, Any] | None = None) -> dict[str, Any]:
    """The OpenAPI 3.0 definition of every endpoint."""
    paths = {
        "/": operation(
            "landing page (JSON) or the map (HTML)", [F_PARAM, LANG_PARAM],
            content(JSON, HTML, schema="landingPage"), "getLandingPage", ["Capabilities"]),
        "/conformance": operation(
            "conformance classes implemented", [F_PARAM],
            content(JSON, HTML, schema="confClasses"), "getConformance", ["Capabilities"]),
        "/collections": operation(
            "the map layers", [F_PARAM, LANG_PARAM],
            content(JSON, HTML, schema="collections"), "getCollections", ["Capabilities"]),
        "/collections/{collectionId}": operation(
            "one layer's metadata", [COLLECTION_ID, F_PARAM, LANG_PARAM],
            content(JSON, HTML, schema="collection"), "describeCollection", ["Capabilities"]),
        "/collections/{collectionId}/items": operation(
            "the places of a layer", [COLLECTION_ID, BBOX_PARAM, BBOX_CRS_PARAM, CRS_PARAM,
                                      LIMIT_PARAM, OFFSET_PARAM, FILTER_PARAM,
                                      FILTER_LANG_PARAM, FILTER_CRS_PARAM, SORTBY_PARAM,
                                      PROPERTIES_PARAM,
                                      UNIT_PARAM, DOCUMENT_PARAM, CHAPTER_PARAM, DISPLAY_PARAM,
                                      F_PARAM, LANG_PARAM],
            content(GEOJSON, schema="featureCollectionGeoJSON") | content(HTML), "getFeatures",
            ["Data"]),
        "/collections/{collectionId}/items/{featureId}": operation(
            "one place", [COLLECTION_ID, FEATURE_ID, CRS_PARAM, PROPERTIES_PARAM, DISPLAY_PARAM,
                          F_PARAM, LANG_PARAM],
            content(GEOJSON, schema="featureGeoJSON") | content(HTML), "getFeature", ["Data"]),
        "/collections/{collectionId}/queryables": operation(
            "the properties a filter or sortby may name, with their types (JSON Schema)",
            [COLLECTION_ID, F_PARAM, LANG_PARAM], content(SCHEMA_JSON, HTML),
            "getQueryables", ["Capabilities"]),
        "/openapi": operation(
            "this API definition", [F_PARAM], content(OPENAPI, HTML), "getOpenAPI",
            ["Capabilities"]),
        "/units": operation(
            "policy units, filtered by document, linked place and a text query in any script",
            [param("document", "query", "a document id", {"type": "string"}),
             param("unit", "query", "only this unit (the map's unit filter)",
                   {"type": "string"}),
             param("chapter", "query", "a chapter number of `document`",
                   {"type": "integer", "minimum": 1}),
             param("place", "query", "a place id the unit is linked to", {"type": "string"}),
             param("kind", "query", "a place kind (layer id) the unit is linked to a place of",
                   {"type": "string"}),
             param("q", "query", "text to find (traditional and simplified match alike)",
                   {"type": "string", "maxLength": 200}), FULL_PAGE_LIMIT_PARAM, OFFSET_PARAM,
             F_PARAM, LANG_PARAM],
            content(JSON, HTML), "getUnits", ["Units"]),
        "/units/{unitId}": operation(
            "one unit: its texts, mentions and places", [UNIT_ID, F_PARAM, LANG_PARAM],
            content(JSON, HTML), "getUnit", ["Units"]),
        "/places/{placeId}": operation(
            "one place: facts and every unit linked to it", [PLACE_ID, F_PARAM, LANG_PARAM],
            content(JSON, HTML), "getPlace", ["Units"]),
        "/places/{placeId}/popup": operation(
            "the map popup of a place (HTML fragment)", [PLACE_ID, LANG_PARAM], content(HTML),
            "getPlacePopup", ["Map"]),
        "/basemap": operation(
            "the offline basemap: provinces and the country outline", [], content(GEOJSON),
            "getBasemap", ["Map"]),
    }
    for path in ("/collections/{collectionId}/items",
                 "/collections/{collectionId}/items/{featureId}"):
        paths[path]["get"]["responses"]["200"]["headers"] = {"Content-Crs": {
            "description": "the CRS of the coordinates, <URI>", "schema": {"type": "string"}}}
    paths.update(extra_paths or {})
    return {
        "openapi": "3.0.3",
        "info": {"title": title, "description": description, "version": "1.0.0",
                 "license": {"name": "see the project's sources"}},
        "servers": [{"url": base.rstrip("/") or "/"}],
        "tags": [{"name": n} for n in ("Capabilities", "Data", "Units", "Map", "Export")],
        "paths": paths,
        "components": {
            "parameters": {"collectionId": COLLECTION_ID, "featureId": FEATURE_ID,
                           "limit": LIMIT_PARAM, "bbox": BBOX_PARAM, "offset": OFFSET_PARAM},
            "schemas": _SCHEMAS | {"collectionId": {"type": "string", "enum": layer_ids}},
        },
    }


_LINK = {"type": "object", "required": ["href"], "properties": {
    "href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"},
    "title": {"type": "string"}}}
_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
_SCHEMAS: dict[str, Any] = {
    "link": _LINK,
    "exception": {"type": "object", "required": ["code"], "properties": {
        "code": {"type": "string"}, "description": {"type": "string"},
        "parameter": {"type": "string"}, "status": {"type": "integer"}}},
    "landingPage": {"type": "object", "required": ["links"], "properties": {
        "title": {"type": "string"}, "description": {"type": "string"}, "links": _LINKS}},
    "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {
        "conformsTo": {"type": "array", "items": {"type": "string"}}}},
    "collection": {"type": "object", "required": ["id", "links"], "properties": {
        "id": {"type": "string"}, "title": {"type": "string"},
        "description": {"type": "string"}, "links": _LINKS,
        "extent": {"type": "object"}, "itemType": {"type": "string"},
        "crs": {"type": "array", "items": {"type": "string"}}}},
    "collections": {"type": "object", "required": ["links", "collections"], "properties": {
        "links": _LINKS,
        "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}}},
    "featureGeoJSON": {"type": "object", "required": ["type", "geometry", "properties"],
                       "properties": {"type": {"type": "string", "enum": ["Feature"]},
                                      "id": {"type": "string"},
                                      "geometry": {"type": "object", "nullable": True},
                                      "properties": {"type": "object", "nullable": True},
                                      "links": _LINKS}},
    "featureCollectionGeoJSON": {
        "type": "object", "required": ["type", "features"], "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/featureGeoJSON"}},
            "links": _LINKS, "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0}}},
}

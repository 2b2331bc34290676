"""The planner views over HTTP: the static map image and the choropleth legend data.

- `/map.png`, `/map.svg`: the map of a filter (`unit`, `document`), `layers`, `lang` and
  `bbox`, A4 landscape, for reports;
- `/choropleth?mode=named|reach`: units per new area, class breaks, class and colour.

Parameters are read with webapp.params and checked by layers.query, so a bad one answers
400 (an unknown unit or document 404) with a JSON body naming it, as everywhere else.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify, request

from layers import choropleth as choropleth_data
from webapp import params
from webapp.i18n import Strings
from webapp.mapimage import FORMATS, MapRenderer, MapSpec, check_filter, parse_layers, settings
from webapp.ogcapi import (
    BBOX_PARAM,
    DOCUMENT_PARAM,
    JSON,
    LANG_PARAM,
    UNIT_PARAM,
    content,
    operation,
    param,
)
from webapp.service import current_service

blueprint = Blueprint("planner", __name__)

EXTENSION = "xinqu.planner"


@blueprint.record_once
def _setup(state) -> None:
    """Prepare the renderer when the blueprint is registered: fail at start, not per request,
    when the CJK font is missing."""
    app = state.app
    service = app.extensions["xinqu"]
    app.extensions[EXTENSION] = MapRenderer(service.store, _strings(service.strings))


def renderer() -> MapRenderer:
    """The renderer of this request's store (a new one when the store was reloaded)."""
    images = current_app.extensions[EXTENSION]
    store = current_service().store
    if images.store is not store:
        images = current_app.extensions[EXTENSION] = MapRenderer(store, images.strings)
    return images


def _strings(base: Strings) -> Strings:
    """The app's interface strings plus the map image's own (data/planner.yaml)."""
    own = {key: dict(value) for key, value in settings().get("strings", {}).items()}
    return Strings(languages=base.languages, names=base.names,
                   language_names=base.language_names, strings={**base.strings, **own})


def map_spec(images: MapRenderer) -> MapSpec:
    """The normalised image request from the query string (QueryError/NotFound if bad)."""
    store, strings = images.store, images.strings
    unit = params.text(request, "unit")
    document = params.text(request, "document")
    check_filter(store, unit, document)
    layers = parse_layers(params.text(request, "layers", max_length=500), list(store.layers))
    lang = params.language(request, strings.languages)
    bbox = params.bbox(request)
    return images.check(MapSpec(unit=unit, document=document, layers=layers, lang=lang,
                                names=strings.name_order(lang)[0], bbox=bbox))


def _image(fmt: str) -> Response:
    images = renderer()
    spec = map_spec(images)
    data = images.image(spec, fmt)
    response = Response(data, mimetype=FORMATS[fmt])
    name = "xinqu-map" + (f"-{spec.unit.replace(':', '-')}" if spec.unit else "")
    response.headers["Content-Disposition"] = f'inline; filename="{name}.{fmt}"'
    return response


@blueprint.get("/map.png")
def map_png() -> Response:
    return _image("png")


@blueprint.get("/map.svg")
def map_svg() -> Response:
    return _image("svg")


@blueprint.get("/choropleth")
def choropleth() -> Response:
    return jsonify(choropleth_data.choropleth(renderer().store, request.args.get("mode")))


_IMAGE_PARAMS = [UNIT_PARAM, DOCUMENT_PARAM,
                 param("layers", "query", "comma-separated layer ids to draw (default: all)",
                       {"type": "string"}), BBOX_PARAM, LANG_PARAM]
openapi_paths = {
    "/map.png": operation("the map of a filter as an A4 image for reports", _IMAGE_PARAMS,
                          content(FORMATS["png"]), "getMapPng", ["Map"]),
    "/map.svg": operation("the map of a filter as an A4 vector image", _IMAGE_PARAMS,
                          content(FORMATS["svg"]), "getMapSvg", ["Map"]),
    "/choropleth": operation(
        "units per new area with class breaks and colours",
        [param("mode", "query", "named: units naming the area; reach: also through places "
               "inside it", {"type": "string", "enum": list(choropleth_data.MODES),
                             "default": "named"})],
        content(JSON), "getChoropleth", ["Map"]),
}

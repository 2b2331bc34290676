"""The planner views over HTTP: the static map image and the choropleth legend data.

- `/map.png`, `/map.svg`: what the map shows, A4 landscape, for reports: every filter of
  the interactive map (`unit`, `document`, `chapter`, `kind`), the strategy-region overlay
  (`region`), the choropleth shading (`mode`), `layers`, `lang`, `bbox` (the view), and
  the page's resolution (`dpi` or `width`, bounded);
- `/choropleth?mode=named|reach`: units per new area, class breaks, class and colour.

Parameters are read with webapp.params and checked by layers.query, so a bad one answers
400 with a JSON body naming it, the same answer as items, /map/selection and the pages.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from flask import Blueprint, Response, current_app, jsonify, request
from werkzeug.exceptions import ServiceUnavailable

from layers import choropleth as choropleth_data
from webapp.i18n import Strings
from webapp.mapimage_spec import FORMATS, MapSpec, settings
from webapp.ogcapi import (
    BBOX_PARAM,
    CHAPTER_PARAM,
    DOCUMENT_PARAM,
    JSON,
    LANG_PARAM,
    UNIT_PARAM,
    content,
    operation,
    param,
)
from webapp.service import current_service

if TYPE_CHECKING:
    from webapp.mapimage import MapRenderer

blueprint = Blueprint("planner", __name__)

EXTENSION = "xinqu.planner"
_making = threading.Lock()  # one renderer made at a time (its first request's threads wait)


def renderer() -> MapRenderer:
    """The renderer of this request's store, made when the first image is asked for (a new
    one when the store was reloaded). A missing CJK font answers 503 saying what to install.
    """
    images = current_app.extensions.get(EXTENSION)
    service = current_service()
    if images is not None and images.store is service.store:
        return images
    # Imported here, not at the top: matplotlib (and its font list) costs a large share of
    # the service's start-up and only map images use it.
    from webapp.mapimage import FontMissing, MapRenderer

    with _making:
        images = current_app.extensions.get(EXTENSION)
        if images is None or images.store is not service.store:
            try:
                images = MapRenderer(service.store, _strings(service.strings))
            except FontMissing as error:
                raise ServiceUnavailable(str(error)) from None
            current_app.extensions[EXTENSION] = images
    return images


def _strings(base: Strings) -> Strings:
    """The app's interface strings plus the map image's own (data/planner.yaml)."""
    own = {key: dict(value) for key, value in settings().get("strings", {}).items()}
    return Strings(languages=base.languages, names=base.names,
                   language_names=base.language_names, strings={**base.strings, **own})


def map_spec(images: MapRenderer) -> MapSpec:
    """The normalised image request from the query string (QueryError if bad): every filter
    checked by the code that applies it on the map and in the API."""
    return images.read(request)


def _image(fmt: str) -> Response:
    images = renderer()
    spec = map_spec(images)
    data = images.image(spec, fmt)
    response = Response(data, mimetype=FORMATS[fmt])
    parts = [spec.unit or spec.document, f"chapter-{spec.chapter}" if spec.chapter else None,
             spec.kind]
    name = "-".join(["xinqu-map", *(p.replace(":", "-") for p in parts if p)])
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
    return jsonify(choropleth_data.choropleth(current_service().store, request.args.get("mode")))


_IMAGE_PARAMS = [
    UNIT_PARAM, DOCUMENT_PARAM, CHAPTER_PARAM,
    param("kind", "query", "a place kind (a layer id): only its places, and the units linked "
          "to one", {"type": "string"}),
    param("region", "query", "strategy region overlay: all, or a strategy region id",
          {"type": "string"}),
    param("mode", "query", "choropleth shading of the new areas",
          {"type": "string", "enum": list(choropleth_data.MODES)}),
    param("layers", "query", "comma-separated layer ids to draw, or none (default: new "
          "areas and the layers of the selected places)", {"type": "string"}),
    BBOX_PARAM, LANG_PARAM,
    param("dpi", "query", "resolution of the page (A4), instead of width",
          {"type": "integer", "minimum": settings()["size"]["dpi_range"][0],
           "maximum": settings()["size"]["dpi_range"][1]}),
    param("width", "query", "width of the page in pixels (A4 kept), instead of dpi",
          {"type": "integer", "minimum": settings()["size"]["width_range"][0],
           "maximum": settings()["size"]["width_range"][1]}),
]
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

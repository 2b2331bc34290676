"""Downloads of the layers as GIS files: `GET /export/<layer>.<format>` and the export menu.

Thin on purpose: layers.export decides what goes into a file and writes it in a private
temporary directory (or reads a whole-layer export kept before from the same store,
layers.export_cache, which `xinqu export` shares); this module reads the request, answers
the bytes with a file name and the CRS; a bad request raises ExportError, which
webapp.errors answers as JSON that lists what would have worked. The same request on the
same store gives the same bytes, so the app's content ETag is stable and a repeat with
If-None-Match gets 304.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Response, redirect, request, url_for

from geo.crs import crs_code, crs_uri
from layers import export_settings, tempfiles
from webapp import params
from webapp.ogcapi import BBOX_PARAM, CHAPTER_PARAM, DOCUMENT_PARAM, UNIT_PARAM, operation, param
from webapp.service import current_service

if TYPE_CHECKING:
    from layers.export import ExportRequest

blueprint = Blueprint("exports", __name__)

# Filters an export carries over from the page it is asked from (as the items endpoint).
FILTERS = ("bbox", "unit", "document", "chapter")


@blueprint.record_once
def _sweep(state) -> None:
    """At start, remove what exports of killed processes left in the temporary folder."""
    tempfiles.sweep()


def split_name(name: str) -> tuple[str, str]:
    """`new-areas.shp.zip` -> ("new-areas", "shp.zip"): layer ids have no dots, formats may."""
    layer, dot, format = name.partition(".")
    if not dot:
        raise export_settings.ExportNotFound(
            "format", f"{name!r} names no format (layer.format)",
            valid=export_settings.format_ids())
    return layer, format


def request_from_args(layer: str, format: str) -> ExportRequest:
    """An export request from the query string, filters read as the items endpoint reads them."""
    from layers import export  # the writers (GDAL): imported by the first export

    return export.make_request(
        current_service().store, layer, format, crs=request.args.get("crs"),
        bbox=params.bbox(request), unit=params.text(request, "unit"),
        document=params.text(request, "document"), chapter=params.text(request, "chapter"),
        geometry=params.text(request, "geometry"))


@blueprint.get("/export")
def menu_submit():
    """The export menu's form (works without JavaScript): on to /export/<layer>.<format>.

    Empty fields are dropped; a code typed in `crs_code` wins over the `crs` list; the CSV
    geometry box counts only for CSV (it may stay ticked when another format is chosen).
    """
    args = {k: v.strip() for k, v in request.args.items() if v.strip()}
    layer = args.pop("layer", export_settings.ALL)
    format = args.pop("format", "")
    if format != "csv":
        args.pop("geometry", None)
    if "crs_code" in args:
        args["crs"] = args.pop("crs_code")
    return redirect(url_for("exports.download", name=f"{layer}.{format}", **args))


@blueprint.get("/export/<name>")
def download(name: str):
    """The file: built in a temporary directory (a whole layer: kept for the next request,
    by this or another process), answered from memory."""
    from layers import export  # the writers (GDAL): imported by the first export

    layer, format = split_name(name)
    wanted = request_from_args(layer, format)
    result, content = export.export_bytes(current_service().store, wanted)
    response = Response(content, mimetype=result.media_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{result.filename}"'
    response.headers["Content-Crs"] = f"<{crs_uri(result.crs)}>"
    response.headers["X-Export-Crs"] = crs_code(result.crs)
    response.headers["X-Export-Counts"] = ", ".join(
        f"{layer}={count}" for layer, count in result.counts.items())
    if result.notes:
        response.headers["X-Export-Note"] = " ".join(result.notes)
    return response


def export_menu_context(layer: str | None, args: Mapping) -> dict[str, Any]:
    """What _export_menu.html needs: the layer ("all" for the map), the filters carried
    over from `args` (the page's query string), every format (each says whether it holds
    all layers) and the CRS choices."""
    layer = layer or export_settings.ALL
    settings = export_settings.settings()
    formats = list(settings.formats.values())
    chosen = (args.get("crs") or settings.default_crs) if args else settings.default_crs
    return {
        "layer": layer,
        "filter_keys": FILTERS,
        "filters": {k: args.get(k) for k in FILTERS if args and args.get(k)},
        "crs_choices": settings.crs_choices,
        "crs_selected": chosen,
        "export_formats": formats,
        "strings": settings.menu,
        "layer_titles": layer_titles(),
    }


def layer_titles() -> dict[str, dict[str, str]]:
    """Layer id -> its title per language version, in drawing order."""
    meta = current_service().store.layer_meta
    return {layer: {lang: str(meta.at[layer, f"title_{lang.lower().replace('-', '_')}"])
                    for lang in ("zh-Hans", "zh-Hant", "en")
                    if f"title_{lang.lower().replace('-', '_')}" in meta.columns}
            for layer in current_service().store.layers}


@blueprint.app_context_processor
def _menu_function() -> dict[str, Any]:
    """Let any page render the menu: {% set m = export_menu(layer, request.args) %}."""
    return {"export_menu": export_menu_context}


def openapi_paths() -> dict[str, Any]:
    """The download endpoint in the OpenAPI document (formats from data/export.yaml)."""
    formats = export_settings.format_ids()
    types = {f.media_type: {} for f in export_settings.settings().formats.values()}
    name = param("name", "path", f"LAYER.FORMAT: a layer id or `{export_settings.ALL}` (GeoPackage "
                 f"only), and one of {', '.join(formats)} (e.g. new-areas.shp.zip)",
                 {"type": "string"}, True)
    crs = param("crs", "query", "the output CRS, any pyproj knows (EPSG:4490, EPSG:4548, "
                "ESRI:102025); GeoJSON stays in WGS84", {"type": "string", "default": "EPSG:4326"})
    geometry = param("geometry", "query", "CSV only. `none` (default): no geometry column, "
                     "a point per place instead (anchor_lon/anchor_lat; lon/lat for points; "
                     "anchor_x/anchor_y or x/y too in a CRS other than WGS 84). `wkt`: the "
                     f"geometry as WKT too, a 400 naming `geometry` when a place's WKT is "
                     "longer than a spreadsheet cell "
                     f"({export_settings.CELL_MAX} characters). Longer texts are cut with a "
                     "marker, and the X-Export-Note header names them",
                     {"type": "string", "enum": list(export_settings.CSV_GEOMETRIES),
                      "default": "none"})
    menu = operation("the export menu's form: redirects to /export/{name}",
                     [param(p, "query", f"the menu's `{p}` field", {"type": "string"})
                      for p in ("layer", "format", "crs", "crs_code", "geometry", *FILTERS)],
                     {}, "submitExportMenu", ["Export"], success="302")
    return {"/export": menu, "/export/{name}": operation(
        "a layer, or every layer with the units and the link table, as a GIS file",
        [name, crs, geometry, BBOX_PARAM, UNIT_PARAM, DOCUMENT_PARAM, CHAPTER_PARAM], types,
        "getExport",
        ["Export"])}

"""The folium maps: the full map of every layer and the small maps of unit and place pages.

The page carries no geometry: each layer is a `RemoteGeoJson`, an L.GeoJSON that
webapp/static/xinqu/map.js fills from the service's own API with display-simplified
GeoJSON. Every script, stylesheet, font and icon is served from webapp/static/vendor, so
the map works without the internet. The full map also carries the planner views' style
(`PlannerStyle`); their panel is in templates/map.html and webapp/static/xinqu/planner.js.
Its names (`MapLabels`: the new areas at every zoom, other layers and the basemap's
provinces and major cities from the zooms in data/map_style.yaml `labels`) are laid out by
webapp/static/xinqu/labels.js, which keeps them from overlapping.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from folium.map import Layer
from folium.template import Template
from markupsafe import Markup
from shapely.ops import polylabel

from layers.admin_names import admin_names
from layers.query import suffix
from webapp.map_style import PAGE_LIMIT_ENV, STYLE_PATH, load_style, page_limit  # noqa: F401
from webapp.security import inline_script_hashes, script_hash

# China's mainland with room for the partners to the south and west.
CHINA_BOUNDS = [[17.0, 73.0], [54.0, 136.0]]

# Every asset folium 0.20's Map.default_js / default_css names, as vendored copies under
# webapp/static (see webapp/static/vendor/README.md), by folium's own asset names.
# folium's glyphicons and rotated-icon stylesheets have no copy: xinqu draws neither.
LOCAL_ASSETS = {
    "leaflet": "vendor/leaflet/leaflet.js",
    "jquery": "vendor/jquery/jquery.min.js",
    "bootstrap": "vendor/bootstrap/js/bootstrap.bundle.min.js",
    "awesome_markers": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.js",
    "leaflet_css": "vendor/leaflet/leaflet.css",
    "bootstrap_css": "vendor/bootstrap/css/bootstrap.min.css",
    "awesome_markers_font_css": "vendor/fontawesome-free/css/all.min.css",
    "awesome_markers_css": "vendor/leaflet.awesome-markers/leaflet.awesome-markers.css",
}
# What xinqu's maps load: Leaflet, awesome-markers with Font Awesome, and map.js/map.css.
# jQuery and Bootstrap (vendored for folium elements that need them) are left out: no
# element of these maps uses them, and the page stays lighter without them.
MAP_JS = ["leaflet", "awesome_markers", ("xinqu_map", "xinqu/map.js")]
MAP_CSS = ["leaflet_css", "awesome_markers_font_css", "awesome_markers_css",
           ("xinqu_map_css", "xinqu/map.css")]
# The full map's labels, keyboard names and phone layout (after map.js and map.css).
FULL_MAP_JS = [("xinqu_labels", "xinqu/labels.js")]
FULL_MAP_CSS = [("xinqu_labels_css", "xinqu/labels.css")]
# folium's header fixes the page's scale (maximum-scale=1, user-scalable=no), which stops
# pinch zoom; the pages carry their own viewport meta, so folium's is dropped.
_FOLIUM_VIEWPORT = re.compile(r'<meta name="viewport"[^>]*>\s*')


def _assets(names: list, static_url: Callable[[str], str]) -> list[tuple[str, str]]:
    out = []
    for entry in names:
        name, path = entry if isinstance(entry, tuple) else (entry, LOCAL_ASSETS[entry])
        out.append((name, static_url(path)))
    return out


@dataclass(frozen=True)
class MapLayer:
    """One overlay: its id, the name shown in the layer control and where its data is."""

    id: str
    name: str
    url: str
    show: bool = True


class RemoteGeoJson(Layer):
    """A GeoJSON layer loaded by the browser from a URL, styled by map.js.

    folium.GeoJson given a URL fetches it while rendering (on the server, per page) and
    loads it with a synchronous request; this layer leaves both to the browser.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = xinqu.remoteLayer(
            {{ this._parent.get_name() }}, {{ this.layer_id|tojson }}, {{ this.url|tojson }},
            {{ this.spec|tojson }}, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layer_id: str, url: str, spec: dict, options: dict, name: str,
                 overlay: bool = True, show: bool = True, control: bool = True):
        super().__init__(name=name, overlay=overlay, show=show, control=control)
        self._name = "RemoteGeoJson"
        self.layer_id = layer_id
        self.url = url
        self.spec = spec
        self.options = {**options, "title": name}  # names the layer in the map's notice


class FitBounds(MacroElement):
    """Fit the map to bounds at once, without folium's animated fit_bounds: a zoom animation
    still running makes Leaflet ignore the next setView, so a small map's fit to its places
    (or a permalink's view) arriving within it would be lost."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.fitBounds({{ this.bounds|tojson }}, {animate: false});
        {% endmacro %}
        """
    )

    def __init__(self, bounds: list):
        super().__init__()
        self._name = "FitBounds"
        self.bounds = bounds


class Legend(MacroElement):
    """A legend control; its HTML is built from escaped strings by `legend_html`."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var legend = L.control({position: "bottomleft"});
            legend.onAdd = function () {
                var div = L.DomUtil.create("div", "xinqu-legend");
                div.innerHTML = {{ this.html|tojson }};
                return div;
            };
            legend.addTo({{ this._parent.get_name() }});
        })();
        {% endmacro %}
        """
    )

    def __init__(self, html: str):
        super().__init__()
        self._name = "Legend"
        self.html = str(html)


class MapLabels(MacroElement):
    """The map's names: settings from data/map_style.yaml `labels`, the interface language
    and the basemap's label points, handed to labels.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        xinqu.labels({{ this._parent.get_name() }}, {{ this.settings|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, settings: dict):
        super().__init__()
        self._name = "MapLabels"
        self.settings = settings


def province_points(store) -> list[dict]:
    """Each province of the basemap with its names by language (from layers.admin_names)
    and a point well inside it for its label: the pole of inaccessibility of its largest
    part, so a province wrapped round another (Hebei round Beijing) is not labelled in the
    hole. The same for every language: the map page computes it once per store."""
    frame = store.basemap
    if "kind" not in frame.columns or not len(frame):
        return []
    provinces = frame[frame["kind"] == "province"]
    names = admin_names(store, codes={str(code) for code in provinces["code"]})
    out = []
    for row in provinces.itertuples(index=False):
        geometry = row.geometry
        if geometry is None or geometry.is_empty:
            continue
        part = max(getattr(geometry, "geoms", [geometry]), key=lambda g: g.area)
        point = polylabel(part, tolerance=0.05)
        code = str(row.code)
        out.append({"code": code, "names": names.get(code, {}),
                    "fallback": str(row.name_zh_hans), "lat": round(point.y, 4),
                    "lon": round(point.x, 4)})
    return out


def basemap_labels(store, lang: str, points: list[dict] | None = None) -> list[dict]:
    """The basemap's named places for labels.js, provinces then cities (`kind`), each with
    its name in `lang` and its label point.

    A province is named by layers.admin_names (the Chinese name where no English one is
    known) at its `province_points` point (computed here unless given). A city is named by
    its own row (the build gives all three scripts) at its point, in the order the data
    lists them (capitals first), which is the order in which they get room."""
    points = province_points(store) if points is None else points
    out = [{"code": p["code"], "kind": "province",
            "name": p["names"].get(lang) or p["fallback"], "lat": p["lat"], "lon": p["lon"]}
           for p in points]
    frame = store.basemap
    if "kind" not in frame.columns:
        return out
    column = f"name_{suffix(lang)}"
    for row in frame[frame["kind"] == "city"].to_dict("records"):
        point = row["geometry"]
        if point is None or point.is_empty or point.geom_type != "Point":
            continue
        name = row.get(column) if isinstance(row.get(column), str) else None
        out.append({"code": str(row["code"]), "kind": "city",
                    "name": name or str(row["name_zh_hans"]),
                    "lat": round(point.y, 4), "lon": round(point.x, 4)})
    return out


class PlannerStyle(MacroElement):
    """How the planner views draw on this map (data/map_style.yaml `planner`), for map.js."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        xinqu.plannerStyle = {{ this.style|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, style: dict):
        super().__init__()
        self._name = "PlannerStyle"
        self.style = style


def legend_html(style: dict, titles: dict[str, str], text: Callable[[str], str]) -> Markup:
    """Legend rows: one per layer, and the exact/approximate/core distinction of new areas."""
    rows = []
    for layer, spec in style["layers"].items():
        if layer not in titles:
            continue
        if layer == "new-areas":
            rows.append(_swatch_row(spec, text("legend_exact"), fill=spec["fill_opacity"]))
            rows.append(_swatch_row(spec, text("legend_approximate"),
                                    fill=spec["approximate_fill_opacity"], dashed=True))
            rows.append(Markup('<div class="xinqu-row"><span class="dot"><i style="background:{}">'
                               "</i></span>{}</div>").format(spec["color"], text("legend_core")))
        elif spec["kind"] == "marker":
            rows.append(Markup('<div class="xinqu-row"><span class="pin" style="background:{}">'
                               '<i class="fa fa-{}"></i></span>{}</div>').format(
                _MARKER_COLORS.get(spec["marker_color"], spec["marker_color"]), spec["icon"],
                titles[layer]))
        elif spec["kind"] == "line":
            rows.append(Markup('<div class="xinqu-row"><span class="swatch" style="border-top:{}px '
                               'dashed {};height:0"></span>{}</div>').format(
                spec["weight"], spec["color"], titles[layer]))
        else:
            rows.append(_swatch_row(spec, titles[layer], fill=spec.get("fill_opacity", 0),
                                    dashed=spec["kind"] == "outline"))
    # A <details>, so a phone can fold it to its title (labels.js folds it there).
    return Markup('<details class="xinqu-legend-box" open><summary>{}</summary>{}</details>'
                  ).format(text("legend_title"), Markup("").join(rows))


# awesome-markers' named colours, for drawing the legend's pins.
_MARKER_COLORS = {"blue": "#38aadd", "purple": "#d252b9", "orange": "#f69730", "red": "#d63e2a",
                  "green": "#72b026", "darkred": "#a23336", "cadetblue": "#436978"}


def _swatch_row(spec: dict, label: str, fill: float, dashed: bool = False) -> Markup:
    border = "dashed" if dashed else "solid"
    return Markup('<div class="xinqu-row"><span class="swatch" style="border:2px {} {};'
                  'background:{};opacity:1"><span style="display:block;height:100%;'
                  'background:{};opacity:{}"></span></span>{}</div>').format(
        border, spec["color"], "transparent", spec["color"], fill, label)


def base_map(static_url: Callable[[str], str], **options) -> folium.Map:
    """A folium Map with no tiles whose assets all come from this service."""
    m = folium.Map(tiles=None, control_scale=True, prefer_canvas=False, **options)
    m.default_js = _assets(MAP_JS, static_url)
    m.default_css = _assets(MAP_CSS, static_url)
    return m


def popup_options(lang: str, text: Callable[[str], str], popup_url: str, **extra) -> dict:
    return {"lang": lang, "popupUrl": popup_url, "loadingText": text("loading"),
            "coreText": text("legend_core"), "spansText": text("spans_parts"),
            "partialText": text("map_partial"), **extra}


def _view_delay(style: dict) -> int:
    """How long map.js waits after the map stops moving before a big layer asks again."""
    return int(style.get("web", {}).get("view_reload_ms", 250))


def add_basemaps(m: folium.Map, style: dict, basemap_url: str, text: Callable[[str], str],
                 online: bool = True) -> None:
    """The offline boundaries basemap (on) and, as an extra choice, online tiles (off)."""
    RemoteGeoJson("basemap", basemap_url, {"kind": "basemap", **style["basemap"]}, {},
                  name=text("basemap_boundaries"), overlay=False).add_to(m)
    if online:
        folium.TileLayer("OpenStreetMap", name=text("basemap_online"), overlay=False,
                         show=False, control=True).add_to(m)


def full_map(layers: list[MapLayer], style: dict, *, lang: str, text: Callable[[str], str],
             static_url: Callable[[str], str], basemap_url: str, popup_url: str,
             basemap_names: list[dict] | None = None) -> folium.Map:
    """The main map: basemaps, every layer as an overlay, the layer control, the legend
    and the labels (`basemap_names`: `basemap_labels` of the store)."""
    m = base_map(static_url, min_zoom=3, max_zoom=14, zoom_start=4, location=[35.0, 108.0])
    m.default_js = m.default_js + _assets(FULL_MAP_JS, static_url)
    m.default_css = m.default_css + _assets(FULL_MAP_CSS, static_url)
    add_basemaps(m, style, basemap_url, text)
    options = popup_options(lang, text, popup_url, viewDelay=_view_delay(style))
    for layer in layers:
        RemoteGeoJson(layer.id, layer.url, style["layers"][layer.id], options, name=layer.name,
                      show=layer.show).add_to(m)
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    Legend(legend_html(style, {layer.id: layer.name for layer in layers}, text)).add_to(m)
    PlannerStyle(style.get("planner", {})).add_to(m)
    MapLabels({**style.get("labels", {}), "lang": lang,
               "places": basemap_names or [],
               "strings": {"panel": text("panel_title"), "legend": text("legend_title")}}
              ).add_to(m)
    FitBounds(CHINA_BOUNDS).add_to(m)
    return m


def small_map(layers: list[MapLayer], style: dict, *, lang: str, text: Callable[[str], str],
              static_url: Callable[[str], str], basemap_url: str, popup_url: str) -> folium.Map:
    """A map of a few places (a unit's or one place), fitted to them once they load."""
    m = base_map(static_url, min_zoom=2, max_zoom=14, zoom_start=4, location=[35.0, 108.0],
                 height="360px", width="100%")
    add_basemaps(m, style, basemap_url, text, online=False)
    options = popup_options(lang, text, popup_url, fit=True, maxZoom=9,
                            viewDelay=_view_delay(style))
    for layer in layers:
        RemoteGeoJson(layer.id, layer.url, style["layers"][layer.id], options,
                      name=layer.name).add_to(m)
    FitBounds(CHINA_BOUNDS).add_to(m)
    return m


@dataclass(frozen=True)
class MapParts:
    """A rendered folium map split for embedding in a page: head, body and script, and
    the CSP hashes of its inline scripts (the header's and `script`, which the page
    writes inside a <script> element of its own)."""

    header: Markup
    html: Markup
    script: Markup
    script_hashes: tuple[str, ...] = ()


def render_parts(m: folium.Map) -> MapParts:
    """folium's own output (its values pass through tojson) for a page template."""
    root = m.get_root()
    _number_elements(root)
    root.render()
    header, script = _FOLIUM_VIEWPORT.sub("", root.header.render()), root.script.render()
    return MapParts(header=Markup(header), html=Markup(root.html.render()),
                    script=Markup(script),
                    script_hashes=(*inline_script_hashes(header), script_hash(script)))


def _number_elements(root) -> None:
    """folium names every element by a random id: number them in tree order instead, so
    the same map renders to the same bytes in every worker and after every restart (one
    ETag for browsers to revalidate, one CSP hash, one precompressed body)."""
    elements = [root]
    for number, element in enumerate(elements):  # grows while it is walked: breadth first
        element._id = f"{number:032x}"
        elements.extend(element._children.values())

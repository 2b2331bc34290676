"""GeoJSON of every place, serialised once per process, not per request.

Each feature is turned into its JSON text once per process, when first asked for:
display-simplified for the map (by a worker's warm thread, or the first map request), at
full resolution for the API's items; a request only picks the texts of the features it
returns and joins them, so no geometry is serialised per request, and a starting server
serialises nothing before its first answer. A layer is serialised a column at a time:
every geometry in one GEOS call (shapely.to_geojson on the array), coordinates rounded in
one call, properties from plain records, not row Series.
"""

from __future__ import annotations

import json
import math
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely
from shapely.geometry import MultiPolygon

from layers import query
from layers.geometry_basemap import display_geometries

# Decimal places of display coordinates where a layer is not simplified (points).
DISPLAY_DECIMALS = 5
# Properties the map needs to draw and label a place; the popup fetches the rest.
DISPLAY_PROPERTIES = ("id", "layer", "name_zh_hans", "name_zh_hant", "name_en",
                      "short_name_zh_hans", "short_name_zh_hant", "short_name_en", "extent",
                      "anchor_lon", "anchor_lat", "precision", "province")


def dumps(value: Any) -> str:
    """Compact JSON with readable Chinese (UTF-8, not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def rounded(geometry, decimals: int):
    """The geometry with coordinates rounded (display only: may touch validity)."""
    return shapely.transform(geometry, lambda coords: np.round(coords, decimals))


def decimals_for(tolerance: float) -> int:
    """Fewest decimals that resolve a fifth of the simplification tolerance."""
    if not tolerance or tolerance <= 0:
        return DISPLAY_DECIMALS
    return max(1, min(DISPLAY_DECIMALS, math.ceil(-math.log10(tolerance / 5))))


MULTIPOLYGON = 6  # shapely.get_type_id of a MultiPolygon


def without_small_parts(geometry, min_area: float):
    """A (multi)polygon without the parts under min_area (the largest part always stays)."""
    if geometry is None or geometry.geom_type != "MultiPolygon" or min_area <= 0:
        return geometry
    parts = sorted(geometry.geoms, key=lambda part: -part.area)
    keep = [part for part in parts if part.area >= min_area] or parts[:1]
    return MultiPolygon(keep) if len(keep) > 1 else keep[0]


def many_without_small_parts(multipolygons: np.ndarray, min_area: float) -> np.ndarray:
    """`without_small_parts` of an array of MultiPolygons in a few vectorised calls (the
    same parts in the same order: largest first, ties as they were)."""
    parts, owner = shapely.get_parts(multipolygons, return_index=True)
    areas = shapely.area(parts)
    order = np.lexsort((np.arange(len(parts)), -areas, owner))
    parts, owner, areas = parts[order], owner[order], areas[order]
    largest = np.r_[True, owner[1:] != owner[:-1]]  # the first part of each: always kept
    keep = largest | (areas >= min_area)
    parts, owner = parts[keep], owner[keep]
    out = shapely.multipolygons(parts, indices=owner)
    counts = np.bincount(owner, minlength=len(multipolygons))
    single = np.flatnonzero(counts == 1)
    out[single] = parts[np.searchsorted(owner, single)]
    return out


@dataclass(frozen=True)
class WebCopy:
    """How the map's copy of a geometry is made from the display geometry."""

    tolerance: float = 0.0
    min_part_factor: float = 0.0

    def __call__(self, geometry):
        if geometry is None or geometry.is_empty:
            return geometry
        return self.many(np.array([geometry], dtype=object))[0]

    def many(self, geometries: np.ndarray) -> np.ndarray:
        """The web copies of an array of geometries (None and empty ones stay as they are);
        the coordinates of all are rounded in one call."""
        geometries = np.asarray(geometries, dtype=object).copy()
        present = ~(shapely.is_missing(geometries) | shapely.is_empty(geometries))
        min_area = (self.min_part_factor * self.tolerance) ** 2 if self.tolerance > 0 else 0
        if min_area > 0:
            multi = np.flatnonzero(present & (shapely.get_type_id(geometries) == MULTIPOLYGON))
            if multi.size:
                geometries[multi] = many_without_small_parts(geometries[multi], min_area)
        geometries[present] = rounded(geometries[present], decimals_for(self.tolerance))
        return geometries


def feature_json(id: str, properties: dict[str, Any], geometry) -> str:
    """One GeoJSON Feature as JSON text."""
    return _feature(id, properties, geometries_json(np.array([geometry], dtype=object))[0])


def geometries_json(geometries: np.ndarray) -> list[str]:
    """The GeoJSON text of each geometry ("null" for a missing or empty one), in one call."""
    geometries = np.asarray(geometries, dtype=object)
    blank = shapely.is_missing(geometries) | shapely.is_empty(geometries)
    texts = np.full(len(geometries), "null", dtype=object)
    if (~blank).any():
        texts[~blank] = shapely.to_geojson(geometries[~blank])
    return texts.tolist()


def _feature(id: str, properties: dict[str, Any], geometry_text: str) -> str:
    head = dumps({"type": "Feature", "id": id, "properties": properties})
    return f'{head[:-1]},"geometry":{geometry_text}}}'


class Once:
    """A value made by `make` when first asked for, once per process however many threads
    ask at the same time."""

    def __init__(self, make: Callable[[], Any]):
        self._make: Callable[[], Any] | None = make
        self._value: Any = None
        self._lock = threading.Lock()

    @property
    def made(self) -> bool:
        return self._make is None

    def __call__(self) -> Any:
        if self._make is not None:
            with self._lock:
                if self._make is not None:
                    self._value = self._make()
                    self._make = None
        return self._value


@dataclass
class LayerFeatures:
    """The features of one layer as JSON texts, by place id, in layer order.

    Both sets of texts are made when first asked for, by each process: the display ones
    (the map's) by a worker's warm thread or the first map request, the full-resolution
    ones (the API's items) by the first items request. No server's first answer waits
    for either.
    """

    display_texts: Once
    full_texts: Once

    @property
    def display(self) -> dict[str, str]:
        return self.display_texts()

    @property
    def full(self) -> dict[str, str]:
        return self.full_texts()


def place_properties(layer: str, id: str, row, units: list[str]) -> dict[str, Any]:
    """A place's properties: its names, layer, attributes and the ids of linked units."""
    properties: dict[str, Any] = {"id": id, "layer": layer}
    for lang, name in query.names(row).items():
        properties[f"name_{query.suffix(lang)}"] = name
    properties.update(query.place_attributes(row))
    properties["units"] = units
    return properties


def layer_features(store, layer: str, web: WebCopy = WebCopy()) -> LayerFeatures:
    """Serialise one whole layer, full and display geometry."""
    frame = store.layers[layer]
    display = store.display.get(layer) if hasattr(store.display, "get") else None
    return frame_features(layer, frame, display, query.units_of_places(store, frame.index), web)


def frame_features(layer: str, frame, display, linked: dict[str, list[str]],
                   web: WebCopy = WebCopy()) -> LayerFeatures:
    """Serialise the places of `frame` (rows of one layer, indexed by place id), with their
    display geometry from `display` where it has the place (else their own), and the ids
    of the units linked to each from `linked`, each set of texts when first asked for (an
    API page of full features never makes the display texts: they would be half the
    work)."""
    ids = [str(id) for id in frame.index]
    geometry = np.asarray(frame.geometry.values, dtype=object)
    everything = Once(lambda: [place_properties(layer, id, row, linked.get(id, []))
                               for id, row in zip(ids, _records(frame), strict=True)])

    def display_texts() -> dict[str, str]:
        shown = geometry.copy()
        if display is not None and len(display):
            simple = display.geometry.reindex(frame.index)
            has = np.asarray(frame.index.isin(display.index))
            shown[has] = np.asarray(simple.values, dtype=object)[has]
        out = {}
        for id, properties, text in zip(ids, everything(), geometries_json(web.many(shown)),
                                        strict=True):
            small = {k: properties.get(k) for k in DISPLAY_PROPERTIES if k in properties}
            out[id] = _feature(id, small, text)
        return out

    def full_texts() -> dict[str, str]:
        return {id: _feature(id, properties, text) for id, properties, text in
                zip(ids, everything(), geometries_json(geometry), strict=True)}

    return LayerFeatures(Once(display_texts), Once(full_texts))


def _records(frame) -> list[dict[str, Any]]:
    """Each row's values (no geometry) as a dict in column order: a column's tolist() is
    one vectorised step, where to_dict("records") boxes every cell of a string column."""
    columns = [c for c in frame.columns if c != "geometry"]
    values = [frame[c].tolist() for c in columns]
    return [dict(zip(columns, row, strict=True)) for row in zip(*values, strict=True)] \
        if columns else [{} for _ in range(len(frame))]


def basemap_json(store, tolerances: dict[str, float] | None = None,
                 min_part_factor: float = 0.0) -> str:
    """The offline basemap (provinces, China's outline, neighbours) as a FeatureCollection.

    Each kind is simplified as a coverage (geo.simplify) to its web tolerance first, so
    province borders stay shared edges: done by the build (the store's `basemap-display`,
    layers.geometry_basemap), here only for a store without it.
    """
    frame = store.basemap
    tolerances = tolerances or {}
    kinds = list(frame["kind"]) if "kind" in frame.columns else [None] * len(frame)
    shown = display_geometries(frame, getattr(store, "basemap_display", None), tolerances)
    for kind in dict.fromkeys(kinds):
        rows = np.array([k == kind for k in kinds])
        web = WebCopy(float(tolerances.get(kind, 0) or 0), min_part_factor)
        shown[rows] = web.many(shown[rows])
    features = []
    records = frame.to_dict("records")
    for i, (row, text) in enumerate(zip(records, geometries_json(shown), strict=True)):
        properties = {str(k): query.scalar(v) for k, v in row.items() if k != "geometry"}
        features.append(_feature(str(properties.get("code") or i), properties, text))
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def collection_json(features: list[str], meta: dict[str, Any]) -> str:
    """A FeatureCollection from feature texts plus top-level members (links, counts)."""
    tail = dumps(meta)
    middle = "," + tail[1:] if len(tail) > 2 else "}"
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + middle


@dataclass
class Catalogue:
    """The serialised layers and basemap.

    A store that holds its features in memory (the GeoPackage store) has every layer
    serialised once, at start; a database store has none (`layers` is empty) and the
    features of each page are serialised when asked for, with the same `web` copies."""

    layers: dict[str, LayerFeatures]
    basemap_text: Once
    web: dict[str, WebCopy] = field(default_factory=dict)

    @property
    def basemap(self) -> str:
        return self.basemap_text()

    def page_texts(self, store, result: query.Items, display: bool) -> list[str]:
        """The GeoJSON texts of a page of features (full or display geometry)."""
        serialised = self.layers.get(result.layer)
        if serialised is None:
            shown = store.display_rows(result.layer, result.ids) if display else None
            serialised = frame_features(result.layer, result.frame, shown, result.units,
                                        self.web.get(result.layer, WebCopy()))
        texts = serialised.display if display else serialised.full
        return [texts[i] for i in result.ids]


def build_catalogue(store, min_part_factor: float = 0.0,
                    basemap_tolerances: dict[str, float] | None = None) -> Catalogue:
    """The basemap and every layer of a store that holds its features in memory, each
    serialised when first asked for (so not on the way to a server's first answer)."""
    tolerances = _display_tolerances(store)
    web = {layer: WebCopy(tolerances.get(layer, 0.0), min_part_factor)
           for layer in query.layer_ids(store)}
    return Catalogue(
        layers={layer: layer_features(store, layer, web[layer])
                for layer in query.layer_ids(store)} if store.holds_features else {},
        basemap_text=Once(lambda: basemap_json(store, basemap_tolerances, min_part_factor)),
        web=web,
    )


def _display_tolerances(store) -> dict[str, float]:
    meta = store.layer_meta
    if "display_tolerance_deg" not in getattr(meta, "columns", ()):
        return {}
    return {str(k): float(v or 0) for k, v in meta["display_tolerance_deg"].items()}

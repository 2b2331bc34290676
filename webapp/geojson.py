"""GeoJSON of every place, serialised once when the app starts.

Each feature is turned into its JSON text at start, at full resolution for the API and
display-simplified for the map; a request only picks the texts of the features it
returns and joins them, so no geometry is serialised per request.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import shapely

from layers import query

# Decimal places of display coordinates: 1e-4 degrees is about 11 m, far below the
# display simplification tolerance, and keeps the map's downloads small.
DISPLAY_DECIMALS = 4
# Properties the map needs to draw and label a place; the popup fetches the rest.
DISPLAY_PROPERTIES = ("id", "layer", "name_zh_hans", "name_zh_hant", "name_en", "extent",
                      "anchor_lon", "anchor_lat", "precision", "province")


def dumps(value: Any) -> str:
    """Compact JSON with readable Chinese (UTF-8, not \\u escapes)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def rounded(geometry, decimals: int):
    """The geometry with coordinates rounded (display only: may touch validity)."""
    return shapely.transform(geometry, lambda coords: np.round(coords, decimals))


def feature_json(id: str, properties: dict[str, Any], geometry) -> str:
    """One GeoJSON Feature as JSON text."""
    geometry_text = "null" if geometry is None or geometry.is_empty else shapely.to_geojson(
        geometry)
    head = dumps({"type": "Feature", "id": id, "properties": properties})
    return f'{head[:-1]},"geometry":{geometry_text}}}'


@dataclass
class LayerFeatures:
    """The features of one layer as JSON texts, by place id, in layer order."""

    full: dict[str, str] = field(default_factory=dict)
    display: dict[str, str] = field(default_factory=dict)
    bbox: list[float] = field(default_factory=list)


def place_properties(layer: str, id: str, row, units: list[str]) -> dict[str, Any]:
    """A place's properties: its names, layer, attributes and the ids of linked units."""
    properties: dict[str, Any] = {"id": id, "layer": layer}
    for lang, name in query.names(row).items():
        properties[f"name_{query.suffix(lang)}"] = name
    properties.update(query.place_attributes(row))
    properties["units"] = units
    return properties


def layer_features(store, layer: str) -> LayerFeatures:
    """Serialise one layer, full and display geometry."""
    frame = store.layers[layer]
    display = store.display.get(layer) if hasattr(store.display, "get") else None
    linked = query.units_of_places(store, frame.index)
    out = LayerFeatures()
    for id, row in frame.iterrows():
        id = str(id)
        properties = place_properties(layer, id, row, linked.get(id, []))
        out.full[id] = feature_json(id, properties, row.geometry)
        small = {k: properties.get(k) for k in DISPLAY_PROPERTIES if k in properties}
        geometry = row.geometry
        if display is not None and id in display.index:
            geometry = display.geometry.loc[id]
        if geometry is not None and not geometry.is_empty:
            geometry = rounded(geometry, DISPLAY_DECIMALS)
        out.display[id] = feature_json(id, small, geometry)
    if len(frame):
        out.bbox = [round(float(v), 6) for v in frame.total_bounds]
    return out


def basemap_json(store) -> str:
    """The offline basemap (provinces and the country outline) as a FeatureCollection."""
    frame = store.basemap
    features = []
    for i, (idx, row) in enumerate(frame.iterrows()):
        properties = {str(k): query._scalar(v) for k, v in row.items() if k != "geometry"}
        geometry = row.geometry
        if geometry is not None and not geometry.is_empty:
            geometry = rounded(geometry, DISPLAY_DECIMALS - 1)
        features.append(feature_json(str(idx) if idx is not None else str(i), properties,
                                     geometry))
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]}"


def collection_json(features: list[str], meta: dict[str, Any]) -> str:
    """A FeatureCollection from feature texts plus top-level members (links, counts)."""
    tail = dumps(meta)
    middle = "," + tail[1:] if len(tail) > 2 else "}"
    return '{"type":"FeatureCollection","features":[' + ",".join(features) + "]" + middle


@dataclass
class Catalogue:
    """Every layer's features and the basemap, serialised."""

    layers: dict[str, LayerFeatures]
    basemap: str


def build_catalogue(store) -> Catalogue:
    """Serialise every layer of the store (done once, at app start)."""
    return Catalogue(
        layers={layer: layer_features(store, layer) for layer in query.layer_ids(store)},
        basemap=basemap_json(store),
    )

"""Layers and their items: one page of a layer's places, filtered, ordered and paged."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd

from layers.query.errors import NotFound, QueryError
from layers.query.frames import parse_filter, parse_sortby
from layers.query.links import units_of_places
from layers.query.params import LIMIT_DEFAULT, check_bbox, check_page, link_filter
from layers.query.values import lang_fields, scalar

# Feature properties that are not columns of the layer's table (see webapp.geojson).
FEATURE_EXTRAS = ("layer", "units")


@dataclass(frozen=True)
class Items:
    """One page of a layer's places, full resolution, in the layer's own order."""

    layer: str
    frame: gpd.GeoDataFrame
    number_matched: int
    limit: int
    offset: int
    units: dict[str, list[str]] = field(default_factory=dict)
    properties: tuple[str, ...] | None = None  # the properties asked for; None: all

    @property
    def ids(self) -> list[str]:
        return [str(i) for i in self.frame.index]

    @property
    def number_returned(self) -> int:
        return len(self.frame)


def layer_ids(store) -> list[str]:
    """The layers in the store, in the order of data/layers.yaml."""
    return store.layer_ids()


def check_layer(store, id: str) -> str:
    """`id` if the store has that layer, else NotFound."""
    if id not in store.layer_ids():
        raise NotFound("layer", id)
    return id


def layer(store, id: str) -> dict[str, Any]:
    """A layer's id, geometry type, title and description per language, and its size."""
    check_layer(store, id)
    meta = store.layer_meta
    row = meta.loc[id] if id in meta.index else pd.Series(dtype=object)
    return {
        "id": id,
        "geometry": scalar(row.get("geometry")) or scalar(row.get("geometry_type")),
        "title": lang_fields(row, "title"),
        "description": lang_fields(row, "description"),
        "count": store.layer_count(id),
    }


def queryables(store, layer: str) -> dict[str, str]:
    """The properties a filter or sortby may name on a layer, with their types."""
    check_layer(store, layer)
    return store.layer_queryables(layer)


def check_properties(store, layer: str, properties: str | None) -> tuple[str, ...] | None:
    """`properties` (comma-separated names of feature properties) as a tuple; None: all.
    QueryError naming one that a feature of the layer does not have."""
    if properties is None:
        return None
    names = tuple(dict.fromkeys(p.strip() for p in properties.split(",") if p.strip()))
    known = [n for n, t in queryables(store, layer).items() if t != "geometry"]
    known += list(FEATURE_EXTRAS)
    for name in names:
        if name not in known:
            raise QueryError("properties", f"unknown property {name[:40]!r} (the properties "
                                           f"are {', '.join(known)})")
    return names


def items(store, layer: str, bbox=None, unit: str | None = None, document: str | None = None,
          limit: int = LIMIT_DEFAULT, offset: int = 0, chapter=None, filter: str | None = None,
          filter_lang: str = "cql2-text", sortby: str | None = None,
          properties: str | None = None) -> Items:
    """A page of a layer's places, optionally only those in bbox, linked to
    unit/document/chapter (a chapter of `document`) and kept by a CQL2 `filter` (text in
    `filter_lang`, on the layer's queryables), ordered by `sortby` (`-official_area_km2`),
    with only the listed `properties` (comma-separated; see `check_properties`)."""
    check_layer(store, layer)
    bbox = check_bbox(bbox)
    limit, offset = check_page(limit, offset)
    chosen = check_properties(store, layer, properties)
    linked = link_filter(store, unit, document, chapter)
    parsed = parse_filter(filter, filter_lang)
    order = parse_sortby(sortby, store.layer_queryables(layer))
    page, matched = store.select_places(layer, bbox=bbox, linked=linked, filter=parsed,
                                        order=order, limit=limit, offset=offset)
    return Items(layer=layer, frame=page, number_matched=matched, limit=limit,
                 offset=offset, units=units_of_places(store, page.index), properties=chosen)


def feature(store, layer: str, id: str) -> Items:
    """One place of a layer, as a page of one (NotFound if the layer lacks it)."""
    check_layer(store, layer)
    frame = store.select_places(layer, bbox=None, linked=None, filter=None, order=None,
                                limit=None, offset=0, ids=[id])[0]
    if not len(frame):
        raise NotFound("place", id)
    return Items(layer=layer, frame=frame, number_matched=1, limit=1, offset=0,
                 units=units_of_places(store, [id]))

"""One function per question asked of the built store.

The API, the pages, the map and the exports all ask through these functions, so a filter
means the same everywhere. They return plain data (dicts, lists, GeoDataFrames) and know
nothing of HTTP: bad parameters raise `QueryError(param, message)`, unknown ids `NotFound`.
"""

from __future__ import annotations

import math
import weakref
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from layers.documents.model import LANGS
from layers.textnorm import normalize

LIMIT_DEFAULT = 100
LIMIT_MAX = 10000
RELATIONS = ("named", "via", "general")


class QueryError(ValueError):
    """A parameter the caller gave is malformed or out of range."""

    def __init__(self, param: str, message: str):
        super().__init__(f"{param}: {message}")
        self.param = param
        self.message = message


class NotFound(LookupError):
    """An id (layer, place, unit, document) that the store does not hold."""

    def __init__(self, kind: str, id: str):
        super().__init__(f"no {kind} {id!r}")
        self.kind = kind
        self.id = id


def suffix(lang: str) -> str:
    """Column suffix for a language code: zh-Hans -> zh_hans."""
    return lang.replace("-", "_").lower()


@dataclass(frozen=True)
class Items:
    """One page of a layer's places, full resolution, in the layer's own order."""

    layer: str
    frame: gpd.GeoDataFrame
    number_matched: int
    limit: int
    offset: int
    units: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ids(self) -> list[str]:
        return [str(i) for i in self.frame.index]

    @property
    def number_returned(self) -> int:
        return len(self.frame)


# --- parameters ---------------------------------------------------------------------------

def check_bbox(bbox) -> tuple[float, float, float, float] | None:
    """Validate a CRS84 bbox (minlon, minlat, maxlon, maxlat); 6 values drop the heights."""
    if bbox is None:
        return None
    values = list(bbox)
    if len(values) not in (4, 6):
        raise QueryError("bbox", "needs 4 numbers (minlon,minlat,maxlon,maxlat) or 6 with heights")
    try:
        numbers = [float(v) for v in values]
    except (TypeError, ValueError):
        raise QueryError("bbox", "every value must be a number") from None
    if not all(math.isfinite(v) for v in numbers):
        raise QueryError("bbox", "every value must be a finite number")
    if len(numbers) == 6:
        numbers = [numbers[0], numbers[1], numbers[3], numbers[4]]
    minx, miny, maxx, maxy = numbers
    if not (-180 <= minx <= 180 and -180 <= maxx <= 180):
        raise QueryError("bbox", "longitudes must lie within -180..180")
    if not (-90 <= miny <= 90 and -90 <= maxy <= 90):
        raise QueryError("bbox", "latitudes must lie within -90..90")
    if miny > maxy:
        raise QueryError("bbox", "the lower latitude is above the upper one")
    return minx, miny, maxx, maxy


def check_page(limit, offset) -> tuple[int, int]:
    """Validate limit (1..LIMIT_MAX) and offset (>= 0)."""
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise QueryError("limit", "must be a whole number")
    if isinstance(offset, bool) or not isinstance(offset, int):
        raise QueryError("offset", "must be a whole number")
    if not 1 <= limit <= LIMIT_MAX:
        raise QueryError("limit", f"must lie within 1..{LIMIT_MAX}")
    if offset < 0:
        raise QueryError("offset", "must not be negative")
    return limit, offset


def _bbox_shapes(bbox: tuple[float, float, float, float]) -> list:
    """The bbox as boxes; one crossing the antimeridian (minlon > maxlon) becomes two."""
    minx, miny, maxx, maxy = bbox
    if minx <= maxx:
        return [shapely.box(minx, miny, maxx, maxy)]
    return [shapely.box(minx, miny, 180, maxy), shapely.box(-180, miny, maxx, maxy)]


# --- layers and items ---------------------------------------------------------------------

def layer_ids(store) -> list[str]:
    """The layers in the store, in the order of data/layers.yaml."""
    return list(store.layers)


def layer(store, id: str) -> dict[str, Any]:
    """A layer's id, geometry type, title and description per language, and its size."""
    frame = _frame(store, id)
    meta = store.layer_meta
    if "id" in getattr(meta, "columns", ()):
        meta = meta.set_index("id")
    row = meta.loc[id] if id in meta.index else pd.Series(dtype=object)
    return {
        "id": id,
        "geometry": _scalar(row.get("geometry")) or _scalar(row.get("geometry_type")),
        "title": _lang_fields(row, "title"),
        "description": _lang_fields(row, "description"),
        "count": len(frame),
    }


def _frame(store, layer: str) -> gpd.GeoDataFrame:
    try:
        return store.layers[layer]
    except KeyError:
        raise NotFound("layer", layer) from None


def _check_unit(store, unit: str) -> None:
    if unit not in store.units.index:
        raise QueryError("unit", f"no unit {unit!r}")


def _check_document(store, document: str) -> None:
    known = set(store.units["document"])
    if document not in known:
        raise QueryError("document", f"no document {document!r}")


def _links(store) -> pd.DataFrame:
    return store.links


# What "linked" means for the unit/document filters everywhere (API, pages, map, exports):
# the unit names the place, or reaches it through a place inside it. A unit addressed to
# all new areas ("general") names none of them, so it selects no place by that alone.
LINKED = ("named", "via")


def places_linked(store, unit: str | None = None, document: str | None = None) -> set[str]:
    """Ids of places a unit (and/or any unit of a document) names or reaches via a place."""
    links = _links(store)
    links = links[links["relation"].isin(LINKED)]
    if unit is not None:
        _check_unit(store, unit)
        links = links[links["unit_id"] == unit]
    if document is not None:
        _check_document(store, document)
        in_doc = store.units.index[store.units["document"] == document]
        links = links[links["unit_id"].isin(in_doc)]
    return set(links["place_id"])


def units_of_places(store, ids, relations=LINKED) -> dict[str, list[str]]:
    """Place id -> ids of the units linked to it, in document order."""
    links = _links(store)
    links = links[links["place_id"].isin(list(ids)) & links["relation"].isin(relations)]
    order = _unit_order(store)
    out: dict[str, list[str]] = {str(i): [] for i in ids}
    for place_id, group in links.groupby("place_id"):
        uids = sorted(set(group["unit_id"]), key=lambda u: order.get(u, 1 << 30))
        out[str(place_id)] = uids
    return out


def items(store, layer: str, bbox=None, unit: str | None = None, document: str | None = None,
          limit: int = LIMIT_DEFAULT, offset: int = 0) -> Items:
    """A page of a layer's places, optionally only those in bbox and linked to unit/document."""
    frame = _frame(store, layer)
    bbox = check_bbox(bbox)
    limit, offset = check_page(limit, offset)
    selected = frame
    if bbox is not None:
        hits: set[int] = set()
        for shape in _bbox_shapes(bbox):
            hits.update(frame.sindex.query(shape, predicate="intersects").tolist())
        selected = frame.iloc[sorted(hits)]
    if unit is not None or document is not None:
        linked = places_linked(store, unit=unit, document=document)
        selected = selected[selected.index.isin(linked)]
    page = selected.iloc[offset:offset + limit]
    return Items(layer=layer, frame=page, number_matched=len(selected), limit=limit,
                 offset=offset, units=units_of_places(store, page.index))


# --- places -------------------------------------------------------------------------------

def _scalar(value: Any) -> Any:
    """A plain JSON-able Python value from a pandas cell (NaN/NA -> None)."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def names(row) -> dict[str, str]:
    """A row's names per language code."""
    return {lang: _scalar(row.get(f"name_{suffix(lang)}")) or "" for lang in LANGS}


def find_place(store, id: str) -> tuple[str, pd.Series]:
    """(layer id, row) of a place id, searching every layer."""
    for layer, frame in store.layers.items():
        if id in frame.index:
            return layer, frame.loc[id]
    raise NotFound("place", id)


def place_attributes(row) -> dict[str, Any]:
    """Every non-geometry column of a place row except its names."""
    skip = {"geometry"} | {f"name_{suffix(lang)}" for lang in LANGS}
    return {str(k): _scalar(v) for k, v in row.items() if k not in skip}


def _unit_order(store) -> dict[str, int]:
    return _index(store).order


def unit_summary(store, id: str) -> dict[str, Any]:
    """A unit's id, document, key, kind, chapter and title (no text)."""
    row = store.units.loc[id]
    return {
        "id": id,
        "document": _scalar(row.get("document")),
        "key": _scalar(row.get("key")),
        "kind": _scalar(row.get("kind")),
        "order": _whole(row.get("order")),
        "chapter_number": _whole(row.get("chapter_number")),
        "chapter_title": _lang_fields(row, "chapter_title"),
        "title": _lang_fields(row, "title"),
    }


def _whole(value: Any) -> int | None:
    """An integer column that the GeoPackage round trip may have turned into floats."""
    value = _scalar(value)
    return None if value is None else int(value)


def _lang_fields(row, name: str) -> dict[str, str]:
    return {lang: _scalar(row.get(f"{name}_{suffix(lang)}")) or "" for lang in LANGS}


def place(store, id: str) -> dict[str, Any]:
    """A place: names, layer, attributes and the units linked to it.

    `named`: units that name the place; `via`: units that reach it through a place inside it
    (with that place's id); `general`: how many units address all new areas (new areas only).
    """
    layer, row = find_place(store, id)
    links = _links(store)
    links = links[links["place_id"] == id]
    order = _unit_order(store)

    def sort(uids):
        return sorted(set(uids), key=lambda u: order.get(u, 1 << 30))

    named = sort(links.loc[links["relation"] == "named", "unit_id"])
    via_rows = links[links["relation"] == "via"]
    via: list[dict[str, Any]] = []
    for uid in sort(via_rows["unit_id"]):
        through = sorted(set(via_rows.loc[via_rows["unit_id"] == uid, "via_place_id"].dropna()))
        if uid in named:
            continue
        via.append({**unit_summary(store, uid), "via": [
            {"id": p, "names": names(find_place(store, p)[1])} for p in through]})
    general = sort(links.loc[links["relation"] == "general", "unit_id"])
    return {
        "id": id,
        "layer": layer,
        "names": names(row),
        "attributes": place_attributes(row),
        "named": [unit_summary(store, u) for u in named],
        "via": via,
        "general": general,
    }


def documents(store) -> list[dict[str, Any]]:
    """The documents: id, title and publisher per language, date."""
    frame = store.documents
    if "id" in getattr(frame, "columns", ()):
        frame = frame.set_index("id")
    return [{"id": str(id), "title": _lang_fields(row, "title"),
             "publisher": _lang_fields(row, "publisher"), "date": _scalar(row.get("date"))}
            for id, row in frame.iterrows()]


# --- units --------------------------------------------------------------------------------

def unit(store, id: str) -> dict[str, Any]:
    """A unit with its text in every language version, its mentions and the places it names."""
    if id not in store.units.index:
        raise NotFound("unit", id)
    row = store.units.loc[id]
    mentions = store.mentions[store.mentions["unit_id"] == id]
    mentions = mentions.sort_values(["lang", "start", "end"])
    links = _links(store)
    links = links[links["unit_id"] == id]
    places = []
    for relation in LINKED:
        for pid in sorted(set(links.loc[links["relation"] == relation, "place_id"])):
            if any(p["id"] == pid for p in places):
                continue
            layer, prow = find_place(store, pid)
            places.append({"id": pid, "layer": layer, "names": names(prow), "relation": relation})
    return {
        **unit_summary(store, id),
        "text": _lang_fields(row, "text"),
        "mentions": [
            {"place_id": m.place_id, "lang": m.lang, "start": int(m.start), "end": int(m.end),
             "surface": m.surface}
            for m in mentions.itertuples(index=False)
        ],
        "places": places,
        "general": bool((links["relation"] == "general").any()),
    }


class _UnitIndex:
    """Per-store derived data for unit search: document order and normalised texts."""

    def __init__(self, store):
        units = store.units
        self.order = {uid: i for i, uid in enumerate(units.index)}
        self.search: dict[str, str] = {}
        for uid, row in units.iterrows():
            parts = []
            for lang in LANGS:
                for name in ("title", "text"):
                    value = _scalar(row.get(f"{name}_{suffix(lang)}")) or ""
                    if value:
                        parts.append(normalize(value, lang).casefold())
            self.search[uid] = "\n".join(parts)


_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _index(store) -> _UnitIndex:
    try:
        index = _INDEXES.get(store)
    except TypeError:  # a store that cannot be weakly referenced: no caching
        return _UnitIndex(store)
    if index is None:
        index = _INDEXES[store] = _UnitIndex(store)
    return index


def units(store, document: str | None = None, place: str | None = None,
          q: str | None = None) -> list[dict[str, Any]]:
    """Unit summaries in document order, filtered by document, linked place and text query.

    `q` matches in any script: both sides are normalised (traditional to simplified,
    full-width folded, case folded), so 浦東 finds 浦东.
    """
    ids = list(store.units.index)
    if document:
        _check_document(store, document)
        ids = [u for u in ids if store.units.at[u, "document"] == document]
    if place:
        find_place(store, place)
        links = _links(store)
        linked = set(links.loc[(links["place_id"] == place)
                               & links["relation"].isin(LINKED), "unit_id"])
        ids = [u for u in ids if u in linked]
    if q is not None:
        needle = normalize(q.strip(), "zh-Hant").casefold()
        if not needle:
            raise QueryError("q", "must not be empty")
        search = _index(store).search
        ids = [u for u in ids if needle in search[u]]
    return [unit_summary(store, u) for u in ids]

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

from layers import cql
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
    properties: tuple[str, ...] | None = None  # the properties asked for; None: all

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


def check_chapter(store, document: str | None, chapter) -> int | None:
    """A chapter number of `document` (chapters are numbered afresh in every document, so a
    chapter needs its document), or QueryError naming `chapter`."""
    if chapter is None:
        return None
    if isinstance(chapter, bool):
        raise QueryError("chapter", "must be a whole number")
    try:
        number = int(str(chapter).strip())
    except ValueError:
        raise QueryError("chapter", f"must be a whole number, not {str(chapter)[:40]!r}") from None
    if document is None:
        raise QueryError("chapter", "needs a document: chapters are numbered within one")
    _check_document(store, document)
    numbers = _chapter_numbers(store, document)
    if number not in numbers:
        have = ", ".join(map(str, numbers)) or "none"
        raise QueryError("chapter", f"document {document!r} has no chapter {number} "
                                    f"(its chapters: {have})")
    return number


def _chapter_numbers(store, document: str) -> list[int]:
    in_doc = store.units.loc[store.units["document"] == document, "chapter_number"]
    return sorted({int(n) for n in in_doc.dropna()})


def check_kind(store, kind: str) -> str:
    """A place kind (a layer id), or QueryError naming `kind`."""
    if kind not in store.layers:
        raise QueryError("kind", f"no place kind {kind!r}: one of {', '.join(store.layers)}")
    return kind


def filtered_units(store, unit: str | None = None, document: str | None = None,
                   chapter=None) -> list[str]:
    """Ids of the units a unit/document/chapter filter keeps, in document order (all units
    when none is given); the filters combine (a unit outside the document keeps nothing)."""
    units = store.units
    keep = pd.Series(True, index=units.index)
    if unit is not None:
        _check_unit(store, unit)
        keep &= units.index == unit
    if document is not None:
        _check_document(store, document)
        keep &= units["document"] == document
    number = check_chapter(store, document, chapter)
    if number is not None:
        keep &= units["chapter_number"] == number
    return [str(u) for u in units.index[keep.to_numpy()]]


def _links(store) -> pd.DataFrame:
    return store.links


# What "linked" means for the unit/document filters everywhere (API, pages, map, exports):
# the unit names the place, or reaches it through a place inside it. A unit addressed to
# all new areas ("general") names none of them, so it selects no place by that alone.
LINKED = ("named", "via")


def _linked_links(store, unit=None, document=None, chapter=None) -> pd.DataFrame:
    """The links (named or via) of the units a unit/document/chapter filter keeps."""
    links = _links(store)
    links = links[links["relation"].isin(LINKED)]
    if unit is not None or document is not None or chapter is not None:
        links = links[links["unit_id"].isin(filtered_units(store, unit, document, chapter))]
    return links


def places_linked(store, unit: str | None = None, document: str | None = None,
                  chapter=None) -> set[str]:
    """Ids of places a unit (and/or any unit of a document, or of one of its chapters)
    names or reaches via a place."""
    return set(_linked_links(store, unit, document, chapter)["place_id"])


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
          limit: int = LIMIT_DEFAULT, offset: int = 0, chapter=None, filter: str | None = None,
          filter_lang: str = "cql2-text", sortby: str | None = None,
          properties: str | None = None) -> Items:
    """A page of a layer's places, optionally only those in bbox, linked to
    unit/document/chapter (a chapter of `document`) and kept by a CQL2 `filter` (text in
    `filter_lang`, on the layer's queryables), ordered by `sortby` (`-official_area_km2`),
    with only the listed `properties` (comma-separated; see `check_properties`)."""
    frame = _frame(store, layer)
    bbox = check_bbox(bbox)
    limit, offset = check_page(limit, offset)
    chosen = check_properties(store, layer, properties)
    selected = frame
    if bbox is not None:
        hits: set[int] = set()
        for shape in _bbox_shapes(bbox):
            hits.update(frame.sindex.query(shape, predicate="intersects").tolist())
        selected = frame.iloc[sorted(hits)]
    if unit is not None or document is not None or chapter is not None:
        linked = places_linked(store, unit=unit, document=document, chapter=chapter)
        selected = selected[selected.index.isin(linked)]
    types = queryables(store, layer)
    selected = apply_filter(selected, filter, filter_lang, types=types)
    selected = apply_sortby(selected, sortby, types=types)
    page = selected.iloc[offset:offset + limit]
    return Items(layer=layer, frame=page, number_matched=len(selected), limit=limit,
                 offset=offset, units=units_of_places(store, page.index), properties=chosen)


_queryables: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def queryables(store, layer: str) -> dict[str, str]:
    """The properties a filter or sortby may name on a layer, with their types (read from
    the whole layer once per store)."""
    known = _queryables.setdefault(store, {})
    if layer not in known:
        known[layer] = cql.queryables(_frame(store, layer))
    return known[layer]


# Feature properties that are not columns of the layer's table (see webapp.geojson).
FEATURE_EXTRAS = ("layer", "units")


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


def apply_filter(frame: pd.DataFrame, filter: str | None, filter_lang: str = "cql2-text",
                 id_name: str = "id", types: dict[str, str] | None = None) -> pd.DataFrame:
    """The rows of `frame` a CQL2 filter keeps (QueryError naming `filter` or `filter-lang`)."""
    if filter is None:
        return frame
    if filter_lang not in cql.LANGS and filter_lang not in cql.DRAFT_LANGS:
        raise QueryError("filter-lang", f"must be one of {', '.join(cql.LANGS)}")
    try:
        return frame[cql.mask(frame, cql.parse(filter, filter_lang), id_name, types)]
    except cql.FilterError as error:
        raise QueryError("filter", str(error)) from None


def apply_sortby(frame: pd.DataFrame, sortby: str | None, id_name: str = "id",
                 types: dict[str, str] | None = None) -> pd.DataFrame:
    """`frame` ordered by `sortby` (stable: ties keep the table's order; empty values last)."""
    if sortby is None:
        return frame
    try:
        order = cql.sort_order(sortby, types or cql.queryables(frame, id_name))
    except cql.FilterError as error:
        raise QueryError("sortby", str(error)) from None
    keyed = frame.assign(**{f"__key{i}": _sort_key(frame, name, id_name)
                            for i, (name, _) in enumerate(order)})
    keys = [f"__key{i}" for i in range(len(order))]
    ordered = keyed.sort_values(keys, ascending=[a for _, a in order], kind="stable",
                                na_position="last")
    return frame.loc[ordered.index]


def _sort_key(frame: pd.DataFrame, name: str, id_name: str) -> pd.Series:
    if name == id_name and name not in frame.columns:
        return pd.Series(frame.index.astype(str), index=frame.index)
    column = frame[name]
    if column.dtype == object or pd.api.types.is_string_dtype(column.dtype):
        return column.where(column.astype(str) != "")
    return column


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
        through = sorted({p for value in via_rows.loc[via_rows["unit_id"] == uid, "via_place_id"]
                          for p in id_list(value)})
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
        "spatial_facts": spatial_facts(store, row),
        "named": [unit_summary(store, u) for u in named],
        "via": via,
        "general": general,
    }


# The spatial facts the build stores as columns of new-areas (layers.spatial_facts): list
# columns hold comma-separated place ids.
FACT_LISTS = ("strategy_regions", "strategy_regions_touching", "corridors", "corridors_via",
              "places_inside")


def id_list(value: Any) -> list[str]:
    """The place ids of a stored list column (comma-separated text; empty when missing)."""
    value = _scalar(value)
    if not isinstance(value, str):
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def place_ref(store, id: str) -> dict[str, Any]:
    """A place named by another one's facts: id, layer and names (an id the store lacks
    keeps its id, with no layer and no names)."""
    try:
        layer, row = find_place(store, id)
    except NotFound:
        return {"id": id, "layer": None, "names": {}}
    return {"id": id, "layer": layer, "names": names(row)}


def spatial_facts(store, row) -> dict[str, Any] | None:
    """A new area's spatial facts with every place id resolved to its layer and names:
    regions it lies in or touches, nearest hub port (km, basis), corridors it is an end of
    or passes through, places inside it. None for a place without them."""
    if "nearest_port" not in row.index and not any(c in row.index for c in FACT_LISTS):
        return None
    facts: dict[str, Any] = {key: [place_ref(store, i) for i in id_list(row.get(key))]
                             for key in FACT_LISTS}
    port = _scalar(row.get("nearest_port"))
    km = _scalar(row.get("nearest_port_km"))
    facts["nearest_port"] = None if not port else {
        **place_ref(store, str(port)),
        "km": None if km is None else float(km),
        "basis": _scalar(row.get("nearest_port_basis")),
    }
    return facts


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
    return _cached(_INDEXES, store, _UnitIndex)


def _cached(indexes: weakref.WeakKeyDictionary, store, build):
    """The index `build(store)` made once per store (a store lives as long as the app)."""
    index = indexes.get(store)
    if index is None:
        index = indexes[store] = build(store)
    return index


def units(store, document: str | None = None, place: str | None = None,
          q: str | None = None, chapter=None, kind: str | None = None) -> list[dict[str, Any]]:
    """Unit summaries in document order, filtered by document (and one of its chapters),
    linked place, linked place kind (a layer id: units linked to any place of it) and text.

    `q` matches in any script: both sides are normalised (traditional to simplified,
    full-width folded, case folded), so 浦東 finds 浦东.
    """
    ids = filtered_units(store, document=document or None, chapter=chapter)
    links = _links(store)
    linked = links[links["relation"].isin(LINKED)]
    if place:
        find_place(store, place)
        keep = set(linked.loc[linked["place_id"] == place, "unit_id"])
        ids = [u for u in ids if u in keep]
    if kind is not None:
        check_kind(store, kind)
        keep = set(linked.loc[linked["place_id"].isin(store.layers[kind].index), "unit_id"])
        ids = [u for u in ids if u in keep]
    if q is not None:
        needle = normalize(q.strip(), "zh-Hant").casefold()
        if not needle:
            raise QueryError("q", "must not be empty")
        search = _index(store).search
        ids = [u for u in ids if needle in search[u]]
    return [unit_summary(store, u) for u in ids]


def chapters(store, document: str | None = None) -> list[dict[str, Any]]:
    """The chapters of every document (or of one), in order: document, number, title per
    language and the ids of their units."""
    if document is not None:
        _check_document(store, document)
    out: list[dict[str, Any]] = []
    seen: dict[tuple[str, int], dict[str, Any]] = {}
    for uid, row in store.units.iterrows():
        number = _whole(row.get("chapter_number"))
        doc = str(row["document"])
        if number is None or (document is not None and doc != document):
            continue
        key = (doc, number)
        if key not in seen:
            seen[key] = {"document": doc, "number": number,
                         "title": _lang_fields(row, "chapter_title"), "units": []}
            out.append(seen[key])
        seen[key]["units"].append(str(uid))
    return out


# --- map filters --------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """What a map filter selects.

    `units`: the chosen units, in document order; `places`: layer id -> place id ->
    `named` (one of the units names it) or `via` (reached only through a place inside
    it), in layer order; `unit_places`: unit id -> the ids of the places it selects.
    """

    units: list[str]
    places: dict[str, dict[str, str]]
    unit_places: dict[str, list[str]]


def selection(store, unit: str | None = None, document: str | None = None, chapter=None,
              kind: str | None = None) -> Selection:
    """The units a unit/document/chapter filter keeps and the places linked to them (named
    or via, as for `items`); with `kind` (a layer id) only places of that layer, and only
    the units linked to one of them."""
    ids = filtered_units(store, unit, document, chapter)
    links = _links(store)
    links = links[links["relation"].isin(LINKED) & links["unit_id"].isin(ids)]
    if kind is not None:
        check_kind(store, kind)
        links = links[links["place_id"].isin(store.layers[kind].index)]
        kept = set(links["unit_id"])
        ids = [u for u in ids if u in kept]
    named = set(links.loc[links["relation"] == "named", "place_id"])
    linked = set(links["place_id"])
    places = {layer: {str(p): ("named" if p in named else "via")
                      for p in frame.index if p in linked}
              for layer, frame in store.layers.items()}
    by_unit = links.groupby("unit_id")["place_id"].agg(lambda s: sorted(set(s)))
    return Selection(units=ids, places={k: v for k, v in places.items() if v},
                     unit_places={u: list(by_unit.get(u, [])) for u in ids})


def strategy_regions(store) -> list[dict[str, Any]]:
    """Each strategy region: names, the new areas lying in it and those only touching it
    (the build's spatial facts), and the units linked to it, in document order."""
    regions = store.layers.get("strategy-regions")
    areas = store.layers.get("new-areas")
    if regions is None:
        return []
    out = []
    for region_id, row in regions.iterrows():
        rid = str(region_id)
        inside, touching = [], []
        if areas is not None:
            for area_id, area in areas.iterrows():
                if rid in id_list(area.get("strategy_regions")):
                    inside.append(str(area_id))
                elif rid in id_list(area.get("strategy_regions_touching")):
                    touching.append(str(area_id))
        out.append({"id": rid, "names": names(row), "inside": inside, "touching": touching,
                    "units": [u["id"] for u in units(store, place=rid)]})
    return out


# --- search -------------------------------------------------------------------------------

def search_key(text: str) -> str:
    """The form a search matches on: layers.textnorm's normal form (traditional to
    simplified, full width folded), case folded, without spaces and punctuation (Gui'an,
    Gui’an and Guian are one key)."""
    folded = normalize(text, "zh-Hant").casefold()
    return "".join(ch for ch in folded if ch.isalnum())


class _PlaceIndex:
    """Per-store search keys of every place: its names in every language and every form
    the documents name it by (the mentions' surfaces)."""

    def __init__(self, store):
        surfaces: dict[str, set[str]] = {}
        for place_id, surface in zip(store.mentions["place_id"], store.mentions["surface"],
                                     strict=True):
            surfaces.setdefault(str(place_id), set()).add(str(surface))
        self.entries: list[tuple[str, str, list[tuple[str, str]]]] = []
        for layer, frame in store.layers.items():
            for place_id, row in frame.iterrows():
                forms = [n for n in names(row).values() if n]
                forms += sorted(surfaces.get(str(place_id), ()))
                keys = []
                for form in dict.fromkeys(forms):
                    key = search_key(form)
                    if key:
                        keys.append((key, form))
                self.entries.append((str(place_id), layer, keys))


_PLACE_INDEXES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _place_index(store) -> _PlaceIndex:
    return _cached(_PLACE_INDEXES, store, _PlaceIndex)


def _rank(needle: str, key: str) -> int | None:
    """0 for the whole key, 1 for its start, 2 anywhere inside; None if absent."""
    if key == needle:
        return 0
    if key.startswith(needle):
        return 1
    if needle in key:
        return 2
    return None


SEARCH_LIMIT = 20


def search(store, q: str | None, limit: int = SEARCH_LIMIT) -> dict[str, Any]:
    """Places, units, place kinds and documents matching `q` in any script.

    Places match on their names in every language and on every form the documents name
    them by; units on their id, title and text (as `units(q=…)`); kinds (layers) on their
    title and description; documents on their id and title. Each list is best match first,
    at most `limit` long, with the number matched beside it.
    """
    if q is None or not q.strip():
        raise QueryError("q", "must not be empty")
    if len(q) > 200:
        raise QueryError("q", "is longer than 200 characters")
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= LIMIT_MAX:
        raise QueryError("limit", f"must lie within 1..{LIMIT_MAX}")
    needle = search_key(q)
    if not needle:
        raise QueryError("q", "has no letters or digits to search for")

    places = []
    for order, (place_id, layer_id, keys) in enumerate(_place_index(store).entries):
        hits = [(rank, position, form) for position, (key, form) in enumerate(keys)
                if (rank := _rank(needle, key)) is not None]
        if hits:
            rank, _, form = min(hits)
            places.append((rank, order, {"id": place_id, "layer": layer_id,
                                         "names": names(store.layers[layer_id].loc[place_id]),
                                         "match": form}))
    places.sort(key=lambda hit: hit[:2])

    by_text = {u["id"]: u for u in units(store, q=q)}
    by_id = [uid for uid in store.units.index if needle in search_key(str(uid))]
    found_units = [unit_summary(store, u) for u in by_id if u not in by_text]
    found_units = [u for u in found_units if search_key(u["id"]).startswith(needle)] + [
        u for u in found_units if not search_key(u["id"]).startswith(needle)]
    found_units += list(by_text.values())

    kinds = []
    for layer_id in layer_ids(store):
        info = layer(store, layer_id)
        texts = [*info["title"].values(), *info["description"].values(), layer_id]
        if any(needle in search_key(t) for t in texts if t):
            kinds.append({"id": layer_id, "title": info["title"]})

    docs = [d for d in documents(store)
            if any(needle in search_key(t) for t in (d["id"], *d["title"].values()) if t)]

    return {
        "q": q,
        "places": [hit[2] for hit in places[:limit]],
        "placesMatched": len(places),
        "units": found_units[:limit],
        "unitsMatched": len(found_units),
        "kinds": kinds,
        "documents": docs,
    }

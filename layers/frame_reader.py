"""The store interface (layers.query.reader) over tables held in memory as DataFrames.

The GeoPackage store (layers.store.Store) reads every table once and answers from pandas:
spatial index for bboxes, boolean masks for filters, derived indexes (document order,
normalised unit texts, place search keys) made once per store on first use.
"""

from __future__ import annotations

from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from layers import cql
from layers.documents.model import LANGS
from layers.query.frames import apply_order, filter_mask
from layers.query.params import bbox_parts
from layers.query.search import rank, search_key
from layers.query.values import names, scalar, suffix
from layers.textnorm import normalize


class FrameReader:
    """Mixin of the store interface for a store whose tables are DataFrames: `layers`,
    `display` (layer id -> GeoDataFrame indexed by place id), `units` (indexed by unit id,
    in document order), `links`, `mentions`, `documents`, `layer_meta`."""

    layers: dict[str, gpd.GeoDataFrame]
    display: dict[str, gpd.GeoDataFrame]
    units: pd.DataFrame
    links: pd.DataFrame
    mentions: pd.DataFrame
    documents: pd.DataFrame
    layer_meta: pd.DataFrame

    # Every feature is in memory: the web service serialises them all once, at start.
    holds_features = True

    # --- layers -------------------------------------------------------------------------

    def layer_ids(self) -> list[str]:
        return list(self.layers)

    def layer_count(self, layer: str) -> int:
        return len(self.layers[layer])

    def layer_queryables(self, layer: str) -> dict[str, str]:
        """The layer's queryables (the store's `queryables` table when it has one: the
        same, worked out when the store was written)."""
        known = self._queryables
        if layer not in known:
            known[layer] = cql.queryables(self.layers[layer])
        return known[layer]

    def layer_extent(self, layer: str) -> list[float]:
        frame = self.layers[layer]
        return [round(float(v), 6) for v in frame.total_bounds] if len(frame) else []

    def select_places(self, layer, *, bbox, linked, filter, order, limit, offset, ids=None,
                      columns=None):
        frame = self.layers[layer]
        selected = frame
        if ids is not None:
            selected = selected[selected.index.isin(ids)]
        if bbox is not None:
            hits: set[int] = set()
            for part in bbox_parts(bbox):
                hits.update(frame.sindex.query(shapely.box(*part),
                                               predicate="intersects").tolist())
            keep = np.zeros(len(frame), dtype=bool)
            keep[sorted(hits)] = True
            selected = selected[keep[frame.index.get_indexer(selected.index)]]
        if linked is not None:
            places = set(self.links_where(relations=("named", "via"), linked=linked)["place_id"])
            selected = selected[selected.index.isin(places)]
        types = self.layer_queryables(layer)
        if filter is not None:
            selected = selected[filter_mask(selected, filter, types=types)]
        selected = apply_order(selected, order)
        matched = len(selected)
        end = None if limit is None else offset + limit
        page = selected.iloc[offset:end]
        if columns is not None:
            chosen = page[list(columns)]
            page = chosen if "geometry" in columns else pd.DataFrame(chosen)
        return page, matched

    def place_rows(self, ids):
        wanted = set(ids)
        out = {}
        for layer, frame in self.layers.items():
            for id in wanted.intersection(frame.index):
                out.setdefault(id, (layer, frame.loc[id]))
        return out

    def display_rows(self, layer, ids):
        frame = self.display[layer]
        return frame[frame.index.isin(ids)]

    # --- units, documents, links --------------------------------------------------------

    def unit_rows(self, ids=None, document=None, chapter=None, columns=None):
        units = self.units
        keep = np.ones(len(units), dtype=bool)
        if ids is not None:
            keep &= units.index.isin(ids)
        if document is not None:
            keep &= (units["document"] == document).to_numpy()
        if chapter is not None:
            keep &= (units["chapter_number"] == chapter).to_numpy()
        return units.loc[keep, columns] if columns is not None else units[keep]

    def unit_documents(self) -> set[str]:
        return self._unit_documents

    def chapter_numbers(self, document):
        in_doc = self.units.loc[self.units["document"] == document, "chapter_number"]
        return sorted({int(n) for n in in_doc.dropna()})

    def links_where(self, *, units=None, places=None, relations=None, layer=None, linked=None):
        links = self.links
        keep = np.ones(len(links), dtype=bool)
        if units is not None:
            keep &= links["unit_id"].isin(units).to_numpy()
        if places is not None:
            keep &= links["place_id"].isin(places).to_numpy()
        if relations is not None:
            keep &= links["relation"].isin(relations).to_numpy()
        if layer is not None:
            keep &= links["place_id"].isin(self.layers[layer].index).to_numpy()
        if linked is not None:
            kept = self.unit_rows(ids=None if linked.unit is None else [linked.unit],
                                  document=linked.document, chapter=linked.chapter).index
            keep &= links["unit_id"].isin(kept).to_numpy()
        chosen = links[keep]
        order = chosen["unit_id"].map(self._unit_order).fillna(1 << 30)
        return chosen.iloc[np.argsort(order.to_numpy(), kind="stable")]

    def mentions_of(self, units):
        return self.mentions[self.mentions["unit_id"].isin(units)]

    def units_containing(self, needle, ids=None):
        texts = self._unit_texts
        chosen = self.units.index if ids is None else ids
        return [u for u in chosen if needle in texts.get(u, "")]

    def units_matching(self, text, id_key, limit):
        by_text = self.units_containing(text)
        in_text = set(by_text)
        by_id = [u for u, key in self._unit_id_keys.items()
                 if id_key in key and u not in in_text]
        by_id = ([u for u in by_id if self._unit_id_keys[u].startswith(id_key)]
                 + [u for u in by_id if not self._unit_id_keys[u].startswith(id_key)])
        found = by_id + by_text
        return found[:limit], len(found)

    def places_matching(self, key, limit):
        best: dict[str, tuple[int, int, str, str]] = {}  # place -> (rank, position, form, layer)
        for place_id, layer, keys in self._place_keys:  # one entry per place, in order
            for position, (place_key, form) in enumerate(keys):
                found = rank(key, place_key)
                if found is not None and (place_id not in best
                                          or (found, position) < best[place_id][:2]):
                    best[place_id] = (found, position, form, layer)
        order = {p: i for i, p in enumerate(best)}
        ranked = sorted(best, key=lambda p: (best[p][0], order[p]))[:limit]
        return [(p, best[p][3], best[p][2]) for p in ranked], len(best)

    def documents_matching(self, key, limit):
        found = [document for document, keys in self._document_keys if key in keys]
        return found[:limit], len(found)

    def document_rows(self):
        return self.documents

    # --- derived once per store ---------------------------------------------------------

    @cached_property
    def _queryables(self) -> dict[str, dict[str, str]]:
        return {}

    @cached_property
    def _unit_order(self) -> dict[str, int]:
        return {uid: i for i, uid in enumerate(self.units.index)}

    @cached_property
    def _unit_documents(self) -> set[str]:
        return set(self.units["document"])

    @cached_property
    def _unit_texts(self) -> dict[str, str]:
        """Each unit's titles and texts in every language, normalised and case folded."""
        out: dict[str, str] = {}
        for uid, row in self.units.iterrows():
            parts = []
            for lang in LANGS:
                for name in ("title", "text"):
                    value = scalar(row.get(f"{name}_{suffix(lang)}")) or ""
                    if value:
                        parts.append(normalize(value, lang).casefold())
            out[uid] = "\n".join(parts)
        return out

    @cached_property
    def _unit_id_keys(self) -> dict[str, str]:
        return {str(u): search_key(str(u)) for u in self.units.index}

    @cached_property
    def _document_keys(self) -> list[tuple[str, str]]:
        return document_search_keys(self.documents)

    @cached_property
    def _place_keys(self) -> list[tuple[str, str, list[tuple[str, str]]]]:
        """Every place's search keys: its names in every language and every form the
        documents name it by (the mentions' surfaces), with the form each key came from."""
        return place_search_keys(self.layers, self.mentions)


def place_search_keys(layers: dict[str, pd.DataFrame], mentions: pd.DataFrame,
                      ) -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(place id, layer, [(key, form)]) of every place, in layer and table order: the keys
    a place is found by (also what the PostGIS loader writes to `place_search`)."""
    surfaces: dict[str, set[str]] = {}
    for place_id, surface in zip(mentions["place_id"], mentions["surface"], strict=True):
        surfaces.setdefault(str(place_id), set()).add(str(surface))
    entries = []
    for layer, frame in layers.items():
        for place_id, row in frame.iterrows():
            forms = [n for n in names(row).values() if n]
            forms += sorted(surfaces.get(str(place_id), ()))
            keys = []
            for form in dict.fromkeys(forms):
                key = search_key(form)
                if key:
                    keys.append((key, form))
            entries.append((str(place_id), layer, keys))
    return entries


def document_search_keys(documents: pd.DataFrame) -> list[tuple[str, str]]:
    """(document id, keys) of every document in table order: the search keys of its id and
    its titles in every language, one per line (a key holds letters and digits only, so a
    match never spans two). Also what the PostGIS loader writes to `document_search`."""
    out = []
    for document, row in documents.iterrows():
        texts = [str(document), *(scalar(row.get(f"title_{suffix(lang)}")) for lang in LANGS)]
        out.append((str(document), "\n".join(search_key(t) for t in texts if t)))
    return out

"""The store interface: what every store answers, so that the questions need not know which.

Two stores implement it: the GeoPackage read into memory (layers.frame_reader, the
embedded default) and PostgreSQL/PostGIS (layers.pgstore.reader), which answers each call
with SQL over indexed tables. The questions (layers.query.*) check their parameters and
shape the answers; they read only through these calls, so both stores give the same answers.

Rows come as pandas objects with the store's own column names: places as a GeoDataFrame
indexed by place id (geometry in `geometry`, EPSG:4326; with `columns`, only those, and a
plain DataFrame unless `geometry` is one of them), units indexed by unit id in
document order, links with `unit_id, place_id, relation, via_place_id`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import geopandas as gpd
import pandas as pd

from layers import cql


class LinkFilter(NamedTuple):
    """A unit/document/chapter filter, already checked: the places linked (named or via) to
    the units it keeps."""

    unit: str | None = None
    document: str | None = None
    chapter: int | None = None

    @property
    def empty(self) -> bool:
        return self.unit is None and self.document is None and self.chapter is None


class Reader(Protocol):
    """What a store answers (see the module docstring)."""

    layer_meta: pd.DataFrame  # one row per layer, indexed by layer id, in drawing order
    build_info: dict[str, str]

    def layer_ids(self) -> list[str]: ...

    def layer_count(self, layer: str) -> int: ...

    def layer_queryables(self, layer: str) -> dict[str, str]: ...

    def layer_extent(self, layer: str) -> list[float]: ...

    def select_places(self, layer: str, *, bbox: tuple[float, float, float, float] | None,
                      linked: LinkFilter | None, filter: cql.Filter | None,
                      order: list[tuple[str, bool]] | None, limit: int | None,
                      offset: int, ids: list[str] | None = None,
                      columns: list[str] | None = None,
                      ) -> tuple[gpd.GeoDataFrame, int]: ...

    def place_rows(self, ids: list[str]) -> dict[str, tuple[str, pd.Series]]: ...
    """(layer, row) of each place id found; a row may lack the geometry."""

    def display_rows(self, layer: str, ids: list[str]) -> gpd.GeoDataFrame: ...

    def unit_rows(self, ids: list[str] | None = None, document: str | None = None,
                  chapter: int | None = None, columns: list[str] | None = None,
                  ) -> pd.DataFrame: ...

    def unit_documents(self) -> set[str]: ...

    def chapter_numbers(self, document: str) -> list[int]: ...

    def links_where(self, *, units: list[str] | None = None, places: list[str] | None = None,
                    relations: tuple[str, ...] | None = None, layer: str | None = None,
                    linked: LinkFilter | None = None) -> pd.DataFrame: ...

    def mentions_of(self, units: list[str]) -> pd.DataFrame: ...

    def units_containing(self, needle: str, ids: list[str] | None = None) -> list[str]: ...

    def units_matching(self, text: str, id_key: str, limit: int) -> tuple[list[str], int]: ...

    def places_matching(self, key: str, limit: int,
                        ) -> tuple[list[tuple[str, str, str]], int]: ...

    def documents_matching(self, key: str, limit: int) -> tuple[list[str], int]: ...

    def document_rows(self) -> pd.DataFrame: ...

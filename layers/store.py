"""The built store: one GeoPackage that the service, the API and the exports read.

Tables (names are the contract in docs/architecture.md):

- one spatial table per layer, named by the layer id (`new-areas`, `ports`, …), full
  resolution, EPSG:4326, and `<layer>-display`, the same rows simplified for the web;
- `basemap`: province outlines, the country outline and neighbouring countries;
- attribute tables `layers`, `documents`, `units`, `mentions`, `links`, `build_info`.

`write_store` writes atomically: everything goes to a temporary file in the same folder,
which replaces the store with os.replace only once complete, so a failed build leaves the
previous store untouched. The temporary file is named by the writing process
(`.xinqu-<pid>-<n>.tmp.gpkg`, layers.tempfiles): one left by a killed build is removed,
with its SQLite journal, by the next write. Given the same tables and timestamp, the
bytes written are the same. `Store.open` reads it all once into memory.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

from geo.formats.config import gdal_date, gdal_options
from layers import tempfiles
from layers.paths import STORE_PATH

DISPLAY_SUFFIX = "-display"
ATTRIBUTE_TABLES = ("layers", "documents", "units", "mentions", "links", "build_info")
MENTION_COLUMNS = ("unit_id", "place_id", "lang", "start", "end", "surface")
LINK_COLUMNS = ("unit_id", "place_id", "relation", "via_place_id")
TMP_SUFFIX = ".tmp.gpkg"  # of the file a store is written to before it replaces the store


class StoreError(RuntimeError):
    """The store is missing or is not a complete xinqu store."""


@dataclass(eq=False)  # compared and hashed by identity: query caches its indexes per store
class Store:
    """The whole built store in memory: GeoDataFrames per layer and the attribute tables.

    `layers[layer]` and `display[layer]` are indexed by place id; `units` by unit id,
    `documents` by document id and `layer_meta` by layer id (in drawing order).
    """

    path: Path
    layers: dict[str, gpd.GeoDataFrame]
    display: dict[str, gpd.GeoDataFrame]
    basemap: gpd.GeoDataFrame
    documents: pd.DataFrame
    units: pd.DataFrame
    mentions: pd.DataFrame
    links: pd.DataFrame
    layer_meta: pd.DataFrame
    build_info: dict[str, str] = field(default_factory=dict)

    @classmethod
    def open(cls, path: Path | str = STORE_PATH) -> Store:
        """Load the store at `path`; StoreError if it is missing or incomplete."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path}: no built store (run `xinqu build`)")
        try:
            present = {name for name, _ in pyogrio.list_layers(path)}
        except pyogrio.errors.DataSourceError as error:
            raise StoreError(f"{path}: not a GeoPackage ({error})") from None
        missing = [t for t in (*ATTRIBUTE_TABLES, "basemap") if t not in present]
        if missing:
            raise StoreError(f"{path}: incomplete store, missing tables {missing}")
        meta = _read(path, "layers").set_index("id")
        meta = meta.sort_values("order") if "order" in meta.columns else meta
        layers, display = {}, {}
        for layer in meta.index:
            for target, name in ((layers, layer), (display, layer + DISPLAY_SUFFIX)):
                if name not in present:
                    raise StoreError(f"{path}: incomplete store, missing table {name!r}")
                target[layer] = _read(path, name).set_index("id")
        info = _read(path, "build_info")
        return cls(
            path=path,
            layers=layers,
            display=display,
            basemap=_read(path, "basemap"),
            documents=_read(path, "documents").set_index("id"),
            units=_read(path, "units").set_index("id"),
            mentions=_read(path, "mentions"),
            links=_read(path, "links"),
            layer_meta=meta,
            build_info=dict(zip(info["key"], info["value"], strict=True)),
        )


def write_store(
    path: Path | str,
    layers: dict[str, gpd.GeoDataFrame],
    display: dict[str, gpd.GeoDataFrame],
    basemap: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    timestamp: dt.datetime | None = None,
) -> Path:
    """Write every table into a new GeoPackage at `path`, atomically.

    `tables` holds the attribute tables (`layers`, `documents`, `units`, `mentions`,
    `links`, `build_info`). Spatial tables are written with their `id` as a column.
    `timestamp` is the last change GDAL records for every table (default: now).
    """
    path = Path(path)
    missing = [t for t in ATTRIBUTE_TABLES if t not in tables]
    if missing:
        raise StoreError(f"cannot write {path}: attribute tables {missing} not given")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tempfiles.sibling(path, TMP_SUFFIX)  # GDAL creates the file itself
    options = {"OGR_CURRENT_DATE": gdal_date(timestamp)} if timestamp is not None else {}
    try:
        with gdal_options(options):
            for layer, frame in layers.items():
                _write(tmp, layer, frame)
                _write(tmp, layer + DISPLAY_SUFFIX, display[layer])
            _write(tmp, "basemap", basemap)
            for name in ATTRIBUTE_TABLES:
                _write(tmp, name, tables[name])
        os.replace(tmp, path)
    finally:
        tempfiles.release(tmp)  # gone once renamed; else removed with any journal
    return path


def _write(path: Path, name: str, frame: pd.DataFrame) -> None:
    frame = _plain_columns(frame)
    if isinstance(frame, gpd.GeoDataFrame):
        pyogrio.write_dataframe(frame, path, layer=name, driver="GPKG", promote_to_multi=False,
                                layer_options={"SPATIAL_INDEX": "YES"})
    else:
        pyogrio.write_dataframe(pd.DataFrame(frame), path, layer=name, driver="GPKG")


def _plain_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists and mappings in cells become text (lists comma-joined, mappings JSON); an
    index named `id` becomes a column."""
    if frame.index.name == "id":
        frame = frame.reset_index()
    out = frame.copy()
    for column in out.columns:
        if column == getattr(out, "_geometry_column_name", None):
            continue
        if out[column].dtype == object:
            out[column] = out[column].map(_plain)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _read(path: Path, name: str) -> pd.DataFrame:
    frame = pyogrio.read_dataframe(path, layer=name)
    if "fid" in frame.columns:
        frame = frame.drop(columns="fid")
    return frame

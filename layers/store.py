"""The built store: one GeoPackage that the service, the API and the exports read.

Tables (names are the contract in docs/architecture.md):

- one spatial table per layer, named by the layer id (`new-areas`, `ports`, …), full
  resolution, EPSG:4326, and `<layer>-display`, the same rows simplified for the web;
- `basemap`: province outlines, the country outline and neighbouring countries, and
  `basemap-display`, the same rows simplified for the web map at build time
  (layers.geometry_basemap.display_basemap), so a starting service only reads them;
- attribute tables `layers`, `documents`, `units`, `mentions`, `links`, `build_info`;
- `queryables` (`layer, position, name, type`): each layer's queryables as `cql.queryables`
  gives them on the table read back (so a starting service reads them, not works them out).

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
import shutil
import sqlite3
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import pandas as pd

from geo.formats.config import gdal_date, gdal_options
from layers import cql, store_snapshot, tempfiles
from layers.frame_reader import FrameReader
from layers.paths import STORE_PATH
from layers.store_place import file_stamp

# pyogrio (GDAL's bindings) is imported inside the functions that open, read or write the
# file itself: a start that reads the store's snapshot needs none of it.

DISPLAY_SUFFIX = "-display"
BASEMAP_DISPLAY = "basemap" + DISPLAY_SUFFIX
ATTRIBUTE_TABLES = ("layers", "documents", "units", "mentions", "links", "build_info")
MENTION_COLUMNS = ("unit_id", "place_id", "lang", "start", "end", "surface")
LINK_COLUMNS = ("unit_id", "place_id", "relation", "via_place_id")
QUERYABLES = "queryables"  # the table of each layer's queryables, written with the layers
# Tables derived from the others so that a starting service reads rather than works them
# out; the database store does without them (layers.pgstore.lookups has its queryables).
START_UP_TABLES = (BASEMAP_DISPLAY, QUERYABLES)
TMP_SUFFIX = ".tmp.gpkg"  # of the file a store is written to before it replaces the store


class StoreError(RuntimeError):
    """The store is missing or is not a complete xinqu store."""


@dataclass(eq=False)  # compared and hashed by identity
class Store(FrameReader):
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
    # file_stamp() of the file as read, when opened with open_stable (None otherwise)
    stamp: tuple[int, int, int] | None = None
    # the basemap simplified for the web at build time (None in a store written without)
    basemap_display: gpd.GeoDataFrame | None = None

    @classmethod
    def open(cls, path: Path | str = STORE_PATH) -> Store:
        """Load the store at `path`; StoreError if it is missing or incomplete."""
        path = Path(path)
        if not path.exists():
            raise StoreError(f"{path}: no built store (run `xinqu build`)")
        import pyogrio

        try:
            present = {name for name, _ in pyogrio.list_layers(path)}
        except pyogrio.errors.DataSourceError as error:
            raise StoreError(f"{path}: not a GeoPackage ({error})") from None
        missing = [t for t in (*ATTRIBUTE_TABLES, "basemap") if t not in present]
        if missing:
            raise StoreError(f"{path}: incomplete store, missing tables {missing}")
        tables = _read_attributes(
            path, [*ATTRIBUTE_TABLES, *([QUERYABLES] if QUERYABLES in present else [])])
        meta = tables["layers"].set_index("id")
        meta = meta.sort_values("order") if "order" in meta.columns else meta
        layers, display = {}, {}
        for layer in meta.index:
            for target, name in ((layers, layer), (display, layer + DISPLAY_SUFFIX)):
                if name not in present:
                    raise StoreError(f"{path}: incomplete store, missing table {name!r}")
                target[layer] = _read(path, name).set_index("id")
        info = tables["build_info"]
        store = cls(
            path=path,
            layers=layers,
            display=display,
            basemap=_read(path, "basemap"),
            basemap_display=_read(path, BASEMAP_DISPLAY) if BASEMAP_DISPLAY in present else None,
            documents=tables["documents"].set_index("id"),
            units=tables["units"].set_index("id"),
            mentions=tables["mentions"],
            links=tables["links"],
            layer_meta=meta,
            build_info=_build_info(info),
        )
        if QUERYABLES in tables:
            store._queryables = _queryables_by_layer(tables[QUERYABLES], list(layers))
        return store


def _queryables_by_layer(table: pd.DataFrame, layers: list[str]) -> dict[str, dict[str, str]]:
    """The `queryables` table: layer -> {name: type}, in the order written."""
    table = table.sort_values(["layer", "position"], kind="stable")
    out: dict[str, dict[str, str]] = {layer: {} for layer in layers}
    for layer, name, kind in zip(table["layer"], table["name"], table["type"], strict=True):
        if layer in out:
            out[layer][str(name)] = str(kind)
    return {layer: types for layer, types in out.items() if types}


def write_store(
    path: Path | str,
    layers: dict[str, gpd.GeoDataFrame],
    display: dict[str, gpd.GeoDataFrame],
    basemap: gpd.GeoDataFrame,
    tables: dict[str, pd.DataFrame],
    timestamp: dt.datetime | None = None,
    basemap_display: gpd.GeoDataFrame | None = None,
) -> Path:
    """Write every table into a new GeoPackage at `path`, atomically.

    `tables` holds the attribute tables (`layers`, `documents`, `units`, `mentions`,
    `links`, `build_info`). Spatial tables are written with their `id` as a column.
    `timestamp` is the last change GDAL records for every table (default: now).
    `basemap_display`: the basemap's web copy (without it, the service simplifies the
    basemap when it starts).
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
            if basemap_display is not None:
                _write(tmp, BASEMAP_DISPLAY, basemap_display)
            for name in ATTRIBUTE_TABLES:
                _write(tmp, name, tables[name])
            _write(tmp, QUERYABLES, queryables_table(tmp, list(layers)))
        os.replace(tmp, path)
    finally:
        tempfiles.release(tmp)  # gone once renamed; else removed with any journal
    return path


def queryables_table(path: Path, layers: list[str]) -> pd.DataFrame:
    """Each layer's queryables, from its table as written (as Store.open reads it): the
    `queryables` table (the PostGIS loader copies it from a store built without one)."""
    rows = [(layer, position, name, kind) for layer in layers for position, (name, kind)
            in enumerate(cql.queryables(_read(path, layer).set_index("id")).items())]
    return pd.DataFrame(rows, columns=["layer", "position", "name", "type"])


def _write(path: Path, name: str, frame: pd.DataFrame) -> None:
    import pyogrio

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
    import pyogrio

    frame = pyogrio.read_dataframe(path, layer=name)
    if "fid" in frame.columns:
        frame = frame.drop(columns="fid")
    return frame


# The pandas dtype kind an attribute column of each declared type has when read plainly.
_PLAIN_KINDS = {"TEXT": "O", "INTEGER": "i", "REAL": "f"}


def _read_attributes(path: Path, names: list[str]) -> dict[str, pd.DataFrame]:
    """Attribute tables (no geometry) by name, read through one SQLite connection: GDAL
    opens the GeoPackage anew for every table (~5 ms each before the first row). Each is
    the frame `_read` gives: a table whose values leave its types plain (text, whole
    numbers without NULL, reals with a value) is taken as pandas reads it; any other (an
    empty table, NULL in an integer column, another declared type) is read by `_read`."""
    out: dict[str, pd.DataFrame] = {}
    try:
        connection = sqlite3.connect(f"file:{quote(str(Path(path)))}?mode=ro", uri=True)
    except sqlite3.Error:
        return {name: _read(path, name) for name in names}
    try:
        for name in names:
            frame = _plain_frame(connection, name)
            out[name] = frame if frame is not None else _read(path, name)
    finally:
        connection.close()
    return out


def _plain_frame(connection: sqlite3.Connection, name: str) -> pd.DataFrame | None:
    """The table as pandas reads it (without GDAL's `fid` key), or None where its values
    would not give the types GDAL's reading gives."""
    try:
        declared = connection.execute(f'PRAGMA table_info("{name}")').fetchall()
        frame = pd.read_sql_query(f'SELECT * FROM "{name}"', connection)
    except (sqlite3.Error, pd.errors.DatabaseError):
        return None
    if not declared or not len(frame):
        return None
    if [c[1] for c in declared if c[5]] != ["fid"]:  # not a table as GDAL writes them
        return None
    frame = frame.drop(columns="fid")
    for _, column, kind, *_ in declared:
        if column == "fid":
            continue
        plain = _PLAIN_KINDS.get(str(kind).upper())
        if plain is None or frame[column].dtype.kind != plain:
            return None
    return frame


# --- reopening and updating the attribute tables (documents added at run time) ------------

DOCUMENT_TABLES = ("documents", "units", "mentions", "links")
STABLE_TRIES = 5


def open_stable(path: Path | str = STORE_PATH, previous: Store | None = None) -> Store:
    """Open the store as one consistent state, with its stamp.

    The reads are repeated when the file was replaced while they ran, so the tables never
    come from two versions. When `previous` was built by the same build (same `build_id`),
    only the attribute tables are read and the geometry is shared with it. Without
    `previous`, a snapshot made from this very file (`keep_snapshot`,
    layers.store_snapshot) is read in place of the GeoPackage's tables.
    """
    path = Path(path)
    for _ in range(STABLE_TRIES):
        before = file_stamp(path)
        if previous is not None and _same_build(path, previous):
            store = _with_new_documents(path, previous)
        else:
            kept = None if previous is not None else store_snapshot.read(path, before)
            store = _from_state(kept, path) if kept is not None else Store.open(path)
        if before is not None and file_stamp(path) == before:
            store.stamp = before
            return store
    raise StoreError(f"{path}: replaced {STABLE_TRIES} times while being read")


def keep_snapshot(store: Store) -> Path | None:
    """Keep a snapshot of `store` as opened by `open_stable` (its fields and queryables,
    none of what was derived since), so that the next opening of the same file reads one
    file (layers.store_snapshot); its path, or None when it was not kept."""
    state = {f.name: getattr(store, f.name) for f in fields(store)}
    state["_queryables"] = store.__dict__.get("_queryables")
    return store_snapshot.write(store.path, store.stamp, state)


def _from_state(state: dict[str, Any], path: Path) -> Store:
    """The Store a snapshot's state stands for, at the path it was read from."""
    queryables = state.pop("_queryables", None)
    store = Store(**{**state, "path": path, "stamp": None})
    if queryables is not None:
        store._queryables = queryables
    return store


def _build_info(table: pd.DataFrame) -> dict[str, str]:
    """The `build_info` table as key -> value."""
    return dict(zip(table["key"], table["value"], strict=True))


def _same_build(path: Path, previous: Store) -> bool:
    import pyogrio

    built = previous.build_info.get("build_id")
    try:
        now = _build_info(_read_attributes(path, ["build_info"])["build_info"])
        return built is not None and now.get("build_id") == built
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError):
        return False


def _with_new_documents(path: Path, previous: Store) -> Store:
    """`previous` with the attribute tables that adding a document changes read anew."""
    tables = _read_attributes(path, ["documents", "units", "mentions", "links", "build_info"])
    store = Store(
        path=path, layers=previous.layers, display=previous.display,
        basemap=previous.basemap, basemap_display=previous.basemap_display,
        layer_meta=previous.layer_meta,
        documents=tables["documents"].set_index("id"),
        units=tables["units"].set_index("id"),
        mentions=tables["mentions"], links=tables["links"],
        build_info=_build_info(tables["build_info"]))
    store._queryables = previous._queryables  # of the same layers
    return store


def read_layers(path: Path | str = STORE_PATH,
                names: tuple[str, ...] | None = None) -> dict[str, gpd.GeoDataFrame]:
    """Full-resolution layer tables (all, or those of `names` the store has), indexed by
    place id: what linking a document needs."""
    path = Path(path)
    meta = _read(path, "layers")
    return {layer: _read(path, layer).set_index("id") for layer in meta["id"]
            if names is None or layer in names}


def read_info(path: Path | str) -> dict[str, str]:
    """The `build_info` table (one small SQLite read, no GDAL)."""
    connection = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
    try:
        return dict(connection.execute("SELECT key, value FROM build_info").fetchall())
    finally:
        connection.close()


def updated_copy(path: Path | str, remove_documents: list[str],
                 tables: dict[str, pd.DataFrame], info: dict[str, str]) -> Path:
    """A copy of the store with some documents' rows replaced, next to it, not yet in place.

    Deletes the rows of `remove_documents` (their units, mentions and links), appends the
    rows of `tables` (any of `documents`, `units`, `mentions`, `links`), and sets the
    `build_info` keys in `info`. The caller puts it in place with os.replace (or deletes
    it): readers of the store see the old or the new state, never half of one.
    """
    path = Path(path)
    tmp = tempfiles.sibling(path, TMP_SUFFIX)  # a killed update's copy is swept by the next
    try:
        shutil.copyfile(path, tmp)
        connection = sqlite3.connect(tmp)
        try:
            with connection:
                _delete_documents(connection, remove_documents)
                for name in DOCUMENT_TABLES:
                    if name in tables and len(tables[name]):
                        _insert(connection, name, _plain_columns(tables[name]))
                for key, value in info.items():
                    connection.execute('DELETE FROM build_info WHERE "key" = ?', (key,))
                    connection.execute('INSERT INTO build_info ("key", "value") VALUES (?, ?)',
                                       (key, value))
        finally:
            connection.close()
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
    except BaseException:
        tempfiles.release(tmp)
        raise
    return tmp


def next_generation(path: Path | str) -> dict[str, str]:
    """The `build_info` stamp of the next update: generation (how many updates since the
    build) and when."""
    value = str(read_info(path).get("generation") or "0")
    current = int(value) if value.isdigit() else 0
    return {"generation": str(current + 1),
            "updated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}


def _delete_documents(connection: sqlite3.Connection, ids: list[str]) -> None:
    for document in ids:
        units = 'SELECT "id" FROM units WHERE "document" = ?'
        connection.execute(f'DELETE FROM mentions WHERE "unit_id" IN ({units})', (document,))
        connection.execute(f'DELETE FROM links WHERE "unit_id" IN ({units})', (document,))
        connection.execute('DELETE FROM units WHERE "document" = ?', (document,))
        connection.execute('DELETE FROM documents WHERE "id" = ?', (document,))


_SQL_TYPES = {"i": "INTEGER", "u": "INTEGER", "f": "REAL", "b": "INTEGER"}


def _insert(connection: sqlite3.Connection, table: str, frame: pd.DataFrame) -> None:
    """Append the rows of `frame`; a column the table lacks is added first."""
    present = {row[1] for row in connection.execute(f'PRAGMA table_info("{table}")')}
    for column in frame.columns:
        if column not in present:
            kind = _SQL_TYPES.get(frame[column].dtype.kind, "TEXT")
            connection.execute(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
    columns = ", ".join(f'"{c}"' for c in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    rows = [tuple(_sql_value(v) for v in row)
            for row in frame.itertuples(index=False, name=None)]
    connection.executemany(f'INSERT INTO "{table}" ({columns}) VALUES ({marks})', rows)


def _sql_value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return None
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value

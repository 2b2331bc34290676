"""Whole-layer exports made when the store changes, so that even the first one is a copy.

Build time does the heavy work; request time only selects and formats. A whole-layer
export is kept (layers.export_cache) by the first request for it, and a process that
finds it kept copies it without loading pandas or geopandas: about ogr2ogr's time. The
first request after a build or a document change would still pay for the libraries and
the store (5-10x ogr2ogr). So the commands that replace the instance's store (`xinqu
build`, `xinqu documents add/remove`) call `make_ahead` once the new store is in place:
for each format of `made_ahead` in data/export.yaml, every layer (and `all` when the
format holds all layers) in the default CRS is asked for through `export.export_bytes`,
exactly as a first request would be (a miss writes the export and keeps it), so the kept
bytes are those of any export: there is no second writer.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from layers import export, export_cache, export_settings, query
from layers.progress import step
from layers.store import open_stable


@dataclass(frozen=True)
class Ahead:
    """What `make_ahead` did: the exports made (or found kept), how many of them the cache
    holds at the end (fewer when `cache_mb` cannot hold them all), their bytes, seconds."""

    exports: int
    kept: int
    bytes: int
    seconds: float


def requests(store) -> list[export.ExportRequest]:
    """The whole-layer requests made ahead: for each format of `made_ahead`, each layer and
    (a format that holds all layers) `all`, in the default CRS."""
    formats = export_settings.settings().formats
    wanted = []
    for format in export_settings.settings().made_ahead:
        layers = list(query.layer_ids(store))
        if format in formats and formats[format].all_layers:
            layers.append(export_settings.ALL)
        wanted += [export.make_request(store, layer, format) for layer in layers]
    return wanted


def make_ahead(store_path: Path | str, home: Path | None = None) -> Ahead:
    """Open the store at `store_path` as it is now (with its stamp) and keep its whole-layer
    exports in the export cache of instance folder `home` (default: $XINQU_HOME's).
    ExportError (a format of `made_ahead` that does not exist), StoreError or OSError say
    why it could not; the store itself is never touched."""
    started = time.monotonic()
    if not export_settings.settings().made_ahead:
        return Ahead(0, 0, 0, 0.0)
    store = open_stable(store_path)
    if export_cache.loaded_id(store) is None:  # cannot be kept (no stamp)
        return Ahead(0, 0, 0, time.monotonic() - started)
    where = export_cache.folder(home)
    size = 0
    wanted = requests(store)
    step(f"making {len(wanted)} whole-layer exports ahead")  # each then says its own steps
    for request in wanted:
        size += len(export.export_bytes(store, request, where)[1])
    names = (export.cache_name(store, request) for request in wanted)
    kept = sum((where / f"{name}{export_cache.SUFFIX}").is_file() for name in names)
    return Ahead(len(wanted), kept, size, time.monotonic() - started)

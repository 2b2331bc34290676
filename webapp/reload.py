"""The running service follows its store: a changed store is reopened on the next request.

Every request stats the store file (`layers.store_place.file_stamp`: inode, mtime, size; one
system call). Writers only ever replace the file (os.replace), so a changed stamp means a
new store: the worker reopens it (`open_stable`: one consistent state; when only the
documents changed, the geometry and its serialised GeoJSON are kept) and swaps the whole
`Service` at once. A request keeps the service it started with (pinned in `flask.g`), so
it never mixes two states; every worker process checks on its own, so all see the change.
A store that cannot be opened is logged and the previous one stays in service.

A PostGIS store is followed the same way through the oid of its schema, which every load
replaces (layers.stores.stamp; the store asks the database at most once a second).
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from flask import Flask, g, has_request_context

from layers import stores
from webapp.built import data_time
from webapp.geojson import build_catalogue
from webapp.map_style import load_style

log = logging.getLogger(__name__)

EXTENSION = "xinqu"
_PINNED = "xinqu_service"
_lock = threading.Lock()
_failed: dict[int, object] = {}  # app id -> stamp that could not be opened (not retried)



def service(app: Flask):
    """The service this request reads (reopened first if the store file changed)."""
    if not has_request_context():
        return app.extensions[EXTENSION]
    pinned = g.get(_PINNED)
    if pinned is None:
        pinned = g.setdefault(_PINNED, _fresh(app))
    return pinned


def _fresh(app: Flask):
    current = app.extensions[EXTENSION]
    if getattr(current.store, "stamp", None) is None:  # handed in by the caller: not followed
        return current
    now = stores.stamp(current.store)
    if now is None or now == current.store.stamp or _failed.get(id(app)) == now:
        return current
    with _lock:
        current = app.extensions[EXTENSION]
        if now == current.store.stamp:  # another thread reopened it already
            return current
        where = current.store.path or current.store
        try:
            store = stores.reopen(current.store)
        except (*stores.StoreErrors, OSError, ValueError) as error:
            _failed[id(app)] = now
            log.error("store %s changed but cannot be opened, keeping the previous one: %s",
                      where, error)
            return current
        app.extensions[EXTENSION] = replaced = dataclasses.replace(
            current, store=store, catalogue=_catalogue(store, current), cache={},
            loaded_at=data_time(store))
        log.info("store %s reopened (generation %s)", where, store.build_info.get("generation"))
        return replaced


def _catalogue(store, current):
    """The serialised layers: kept when the geometry is the same (only documents changed)."""
    if store.layers is current.store.layers:
        return current.catalogue
    web = load_style().get("web", {})
    return build_catalogue(store, web.get("min_part_factor", 0),
                           web.get("basemap_tolerance_deg", {}))

"""A snapshot of the opened GeoPackage store, so that a start reads one file.

Opening the store reads some twenty tables through GDAL and SQLite (~0.3 s); the same
frames unpickled from one file take ~0.06 s. The snapshot lives in the store's folder,
`cache/store/<store file name>.snapshot` (for the instance's store: `<instance
folder>/cache/store/`), and is only ever used for the very file it was made from:

- its header names the store file's stamp (inode, mtime, size: every writer replaces the
  file, so an update or a rebuild changes it), the store's path, this module's format,
  the fingerprint the export cache keys on too (the source of geo/ and layers/, which
  read the store, data/*.yaml and the libraries' versions: layers.export_cache) and
  Python's version; a snapshot whose header differs is ignored;
- the pickled part carries its length and CRC-32 in the header: a damaged or cut file is
  ignored (and replaced by the next `write`);
- it is written to a temporary file next to it and renamed into place, so a reader sees
  the previous snapshot or the new one, never half of one.

The snapshot is a pickle: it is read only from the store's own folder, which only the
service's user writes (as it does the store itself).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import pickle
import struct
import sys
import zlib
from pathlib import Path
from typing import Any

from layers import tempfiles
from layers.export_cache import fingerprint
from layers.store_place import file_stamp

log = logging.getLogger(__name__)

FORMAT = 1
MAGIC = b"XQSNAP01"
SUFFIX = ".snapshot"
FOLDER = Path("cache") / "store"
_HEAD = struct.Struct("<8sI")  # magic, length of the JSON header


def path_for(store_path: Path | str) -> Path:
    """Where the snapshot of the store at `store_path` is kept."""
    store_path = Path(store_path)
    return store_path.parent / FOLDER / (store_path.name + SUFFIX)


def _key(store_path: Path, stamp: tuple[int, int, int]) -> dict:
    """What a snapshot must have been made from to stand for the store file now."""
    return {"format": FORMAT, "store": str(Path(store_path).resolve()), "stamp": list(stamp),
            "code": fingerprint(), "python": sys.version}


def read(store_path: Path | str, stamp: tuple[int, int, int] | None) -> dict[str, Any] | None:
    """The opened store's state (layers.store.Store's fields by name) as the snapshot holds
    it, when there is one made from the file with this stamp and it is whole; else None
    (the caller reads the GeoPackage)."""
    payload = _payload(store_path, stamp)
    if payload is None:
        return None
    try:
        state = pickle.loads(payload)
        if not isinstance(state, dict):
            raise ValueError("not a store's state")
        return state
    except Exception as error:  # anything wrong with the file only costs the reading
        log.warning("store snapshot %s ignored: %s", path_for(store_path), error)
        return None


def is_current(store_path: Path | str, stamp: tuple[int, int, int] | None) -> bool:
    """Whether a whole snapshot made from the file with this stamp is in place (its header
    and CRC-32 checked; nothing unpickled)."""
    return _payload(store_path, stamp) is not None


def _payload(store_path: Path | str, stamp: tuple[int, int, int] | None) -> memoryview | None:
    """The pickled part of the snapshot of the file with this stamp, checked whole."""
    if stamp is None:
        return None
    where = path_for(store_path)
    try:
        blob = where.read_bytes()
    except OSError:
        return None
    try:
        magic, size = _HEAD.unpack_from(blob)
        if magic != MAGIC:
            raise ValueError("not a store snapshot")
        header = json.loads(blob[_HEAD.size:_HEAD.size + size])
        if header.get("key") != _key(Path(store_path), tuple(stamp)):
            return None  # made from another state of the store (or by other code)
        payload = memoryview(blob)[_HEAD.size + size:]
        if len(payload) != header["length"] or zlib.crc32(payload) != header["crc32"]:
            raise ValueError("damaged (length or CRC-32 differ)")
        return payload
    except (ValueError, KeyError, TypeError, struct.error) as error:
        log.warning("store snapshot %s ignored: %s", where, error)
        return None


def write(store_path: Path | str, stamp: tuple[int, int, int] | None,
          state: dict[str, Any]) -> Path | None:
    """Keep a snapshot of the opened store's `state` (what `read` gives back) made from
    the file with `stamp`, for the next start; its path, or None when there is no stamp,
    the file changed meanwhile or the folder cannot be written (that only costs the next
    start the reading)."""
    if stamp is None:
        return None
    where = path_for(store_path)
    tmp = None
    try:
        payload = pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)
        header = json.dumps({"key": _key(Path(store_path), stamp), "length": len(payload),
                             "crc32": zlib.crc32(payload)}).encode()
        where.parent.mkdir(parents=True, exist_ok=True)
        tmp = tempfiles.sibling(where, ".tmp")
        with open(tmp, "wb") as out:
            out.write(_HEAD.pack(MAGIC, len(header)))
            out.write(header)
            out.write(payload)
        if file_stamp(store_path) != tuple(stamp):
            return None  # replaced while this was written: the snapshot would be stale
        os.replace(tmp, where)
        return where
    except OSError as error:
        log.warning("store snapshot not kept: %s", error)
        return None
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                tempfiles.release(tmp)

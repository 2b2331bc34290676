"""Finished whole-layer exports kept on disk, so that asking again is a file copy.

An export with no filter (a whole layer, or all layers, in one format and CRS) depends only
on the store's content, the code that writes it (geo/, layers/, the libraries) and the
settings in data/: the same inputs give the same bytes (layers.export). So the first such
export of a store is kept in `<instance folder>/cache/exports/`, in a file named by a
digest of all of those, and the next one (the CLI's or the server's) is read from there.
The commands that replace the instance's store keep its whole-layer GeoPackages at once
(layers.export_ahead), so even the first such export after a build is read from there.
This module imports nothing heavy: `xinqu export` reaches a kept file without loading
pandas, geopandas, PROJ or Flask.

- The store is named by its file and that file's stamp (inode, mtime_ns, size, as
  `layers.store_place.file_stamp`): every writer replaces the file, so an add, a remove or a
  rebuild gives a new stamp and a new key; the old entries are never served again and
  age out. A store without a stamp (handed in, or a database) is not cached.
- Each file holds one JSON line (what the export is: file name, media type, CRS, counts,
  notes, and the body's size and SHA-256) and the body. A file whose body does not match
  is not served (the export is made and kept again).
- Written beside its place under a name of this process (`layers.tempfiles.sibling`, so a
  killed writer's leftover is swept) and renamed over it: never a half file.
- Bounded by bytes (`cache_mb` in data/export.yaml): after each write the least recently
  used files go beyond it (a read touches its file).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import os
from pathlib import Path
from typing import NamedTuple

from layers import paths, tempfiles
from layers.store_place import file_stamp

log = logging.getLogger(__name__)

VERSION = 1  # of the entry format and the key; a change makes every old entry a miss
SUFFIX = ".export"
TEMP_SUFFIX = ".tmp"
# What decides an export's bytes besides the store: the code of these packages, the
# settings in data/*.yaml, and the versions of the libraries that select and write.
CODE_PACKAGES = ("geo", "layers")
LIBRARIES = ("geopandas", "pandas", "numpy", "shapely", "pyproj", "pyogrio", "markupsafe")


def folder(home: Path | None = None) -> Path:
    """`<instance folder>/cache/exports`: of `home`, else of $XINQU_HOME (paths.HOME_DIR)."""
    return Path(home or paths.HOME_DIR) / "cache" / "exports"


# --- keys ----------------------------------------------------------------------------------

def file_id(path: Path | str) -> str | None:
    """The GeoPackage at `path` as it is now: its absolute path and stamp; None if absent."""
    stamp = file_stamp(path)
    return None if stamp is None else _store_id(path, stamp)


def loaded_id(store) -> str | None:
    """The state an opened store was read from (its file and the stamp recorded when it was
    opened), or None when it has no such stamp (a database, a store opened without one)."""
    path, stamp = getattr(store, "path", None), getattr(store, "stamp", None)
    if path is None or not isinstance(stamp, tuple):
        return None
    return _store_id(path, stamp)


def _store_id(path: Path | str, stamp: tuple) -> str:
    return f"{Path(path).resolve()}|{':'.join(str(int(v)) for v in stamp)}"


def key(store_id: str, layer: str, format: str, crs: str | None, geometry: str | None) -> str:
    """The name of the entry for a whole-layer export: store state, request, code."""
    parts = [VERSION, fingerprint(), store_id, layer, format, crs or "", geometry or "none"]
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


@functools.cache
def fingerprint() -> str:
    """A digest of what, besides the store, makes an export's bytes: the source of geo/ and
    layers/, data/*.yaml and the installed versions of the libraries (read once)."""
    digest = hashlib.sha256()
    code = sorted(p.relative_to(paths.PROJECT_DIR) for package in CODE_PACKAGES
                  for p in (paths.PROJECT_DIR / package).rglob("*.py"))
    files = [(str(p), paths.PROJECT_DIR / p) for p in code]
    files += [(p.name, p) for p in sorted(paths.DATA_DIR.glob("*.yaml"))]
    for name, path in files:
        digest.update(name.encode() + b"\0")
        with contextlib.suppress(OSError):
            digest.update(path.read_bytes())
        digest.update(b"\0")
    digest.update(" ".join(_library_versions()).encode())
    return digest.hexdigest()


def _library_versions() -> list[str]:
    """The dist-info folders of LIBRARIES (name and version) where they are installed: read
    from the folder listing, without importing them (importlib.metadata costs more)."""
    import importlib.util  # light; here so that only the key's first use pays for it

    found = []
    for name in LIBRARIES:
        spec = importlib.util.find_spec(name)
        if spec is None or spec.origin is None:
            found.append(f"{name}-missing")
            continue
        site = Path(spec.origin).parent.parent
        with contextlib.suppress(OSError):
            found += sorted(e.name for e in os.scandir(site)
                            if e.name.lower().startswith(f"{name}-")
                            and e.name.endswith(".dist-info"))
    return found


# --- entries -------------------------------------------------------------------------------

class Entry(NamedTuple):  # not a dataclass: `dataclasses` (inspect) is a tenth of a copy
    """A kept export: what layers.export.Export says of it, and the bytes."""

    filename: str
    media_type: str
    crs_code: str
    counts: dict[str, int]
    notes: tuple[str, ...]
    body: bytes


def get(name: str, where: Path | None = None) -> Entry | None:
    """The entry named `name`, or None: none kept, or a file that is not whole and right."""
    path = (where or folder()) / f"{name}{SUFFIX}"
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, newline, body = data.partition(b"\n")
    try:
        meta = json.loads(head)
        right = (newline and meta["version"] == VERSION and meta["key"] == name
                 and meta["size"] == len(body)
                 and meta["sha256"] == hashlib.sha256(body).hexdigest())
        entry = Entry(filename=str(meta["filename"]), media_type=str(meta["media_type"]),
                      crs_code=str(meta["crs_code"]),
                      counts={str(k): int(v) for k, v in meta["counts"].items()},
                      notes=tuple(str(n) for n in meta["notes"]), body=body)
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not right:
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: kept when the folder is pruned
    return entry


_unwritable: set[Path] = set()  # folders a write failed in: said once, not tried again


def put(name: str, entry: Entry, limit_bytes: int, where: Path | None = None) -> bool:
    """Keep `entry` as `name` (written beside and renamed over), then prune the folder to
    `limit_bytes`. A body over the limit is not kept; a folder that cannot be written
    only costs the next export its writing. True if kept."""
    place = where or folder()
    if len(entry.body) > limit_bytes or place in _unwritable:
        return False
    meta = {"version": VERSION, "key": name, "size": len(entry.body),
            "sha256": hashlib.sha256(entry.body).hexdigest(), "filename": entry.filename,
            "media_type": entry.media_type, "crs_code": entry.crs_code,
            "counts": entry.counts, "notes": list(entry.notes)}
    target = place / f"{name}{SUFFIX}"
    partial = None
    try:
        place.mkdir(parents=True, exist_ok=True)
        partial = tempfiles.sibling(target, TEMP_SUFFIX)
        with open(partial, "wb") as out:
            out.write(json.dumps(meta, ensure_ascii=False).encode() + b"\n")
            out.write(entry.body)
        os.replace(partial, target)
    except OSError as error:
        _unwritable.add(place)
        log.warning("cannot keep exports in %s (each export is made anew): %s", place, error)
        return False
    finally:
        if partial is not None:
            tempfiles.release(partial)
    prune(limit_bytes, place)
    return True


def prune(limit_bytes: int, where: Path | None = None) -> None:
    """Remove the least recently used entries beyond `limit_bytes`, and the temporary files
    of writers that were killed."""
    place = where or folder()
    try:
        entries = [(e.stat().st_mtime_ns, e.stat().st_size, Path(e.path))
                   for e in os.scandir(place) if e.is_file()]
    except OSError:
        return
    total = 0
    for _, size, path in sorted(entries, reverse=True):
        if path.name.endswith(SUFFIX):
            total += size
            if total > limit_bytes:
                with contextlib.suppress(OSError):
                    path.unlink()
        elif path.name.endswith(TEMP_SUFFIX):  # `.<name>-<pid>-<n>.tmp`
            stem = path.name[1:].split("-", 1)[0]
            tempfiles.sweep_siblings(place / f"{stem}{SUFFIX}", TEMP_SUFFIX)

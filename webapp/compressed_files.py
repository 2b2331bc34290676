"""Fixed bodies compressed at the strong levels, kept on disk from one start to the next.

Compressing the map's fixed bodies (its pages, their static files, the layers' GeoJSON,
/basemap) at zstd 19 and brotli 10 takes seconds of CPU, and it is done before the
workers fork, so every start of the server waited for it. The result depends only on the
body's bytes, the encoding, its level and the library's version, so it is kept in files
named by those (the body's SHA-256): a restart over the same store and code finds them and
only reads. A file that does not decompress to the body it is named after is ignored and
written anew. The folder (`<instance folder>/cache/compressed`) is bounded by bytes
(`disk_cache_mb` in data/http.yaml): after each start the least recently used files are
removed beyond it. A folder that cannot be written only costs the compression.
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import logging
import os
import sys
import tempfile
import time
import zlib
from pathlib import Path

import brotli

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

log = logging.getLogger(__name__)

# What makes the same body and level compress to the same bytes: the library's version.
VERSIONS = {"zstd": "zstd" + ".".join(map(str, zstd.zstd_version_info)),
            "br": "brotli" + brotli.__version__, "gzip": "zlib" + zlib.ZLIB_VERSION}
_DECOMPRESS = {"zstd": zstd.decompress, "br": brotli.decompress, "gzip": gzip.decompress}
SUFFIX = ".body"
STRAY_AFTER_S = 600  # a temporary file this old was left by a process killed while writing


class CompressedFiles:
    """Compressed bodies by (SHA-256 of the plain body, encoding, level), as files."""

    def __init__(self, folder: Path, limit_bytes: int):
        self.folder = Path(folder)
        self.limit = limit_bytes
        self.hits = 0
        self.writes = 0
        self.writable = True  # until a write fails: then said once, and not tried again

    def path(self, data: bytes, encoding: str, level: int) -> Path:
        digest = hashlib.sha256(data).hexdigest()
        return self.folder / f"{digest}.{encoding}-{level}.{VERSIONS[encoding]}{SUFFIX}"

    def can_write(self) -> bool:
        """Whether files can be kept in the folder (made if missing); said once if not."""
        if self.writable:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self.writable = os.access(self.folder, os.W_OK)
            except OSError:
                self.writable = False
            if not self.writable:
                log.warning("cannot keep compressed bodies in %s (each start compresses "
                            "them again)", self.folder)
        return self.writable

    def get(self, data: bytes, encoding: str, level: int) -> bytes | None:
        """The kept compression of `data`, or None (none kept, or not a compression of it)."""
        path = self.path(data, encoding, level)
        try:
            packed = path.read_bytes()
        except OSError:
            return None
        try:
            same = _DECOMPRESS[encoding](packed) == data
        except Exception:  # a damaged file: whatever the decompressor raises
            same = False
        if not same:
            return None
        with contextlib.suppress(OSError):
            os.utime(path)  # recently used: kept when the folder is pruned
        self.hits += 1
        return packed

    def put(self, data: bytes, encoding: str, level: int, packed: bytes) -> None:
        """Keep a compression (written beside and renamed: never a half file)."""
        if not self.writable:
            return
        path = self.path(data, encoding, level)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=self.folder, prefix=".", suffix=".tmp",
                                             delete=False) as out:
                out.write(packed)
            os.replace(out.name, path)
            self.writes += 1
        except OSError as error:
            self.writable = False
            log.warning("cannot keep compressed bodies in %s (each start compresses them "
                        "again): %s", self.folder, error)
            with contextlib.suppress(OSError, NameError):
                os.unlink(out.name)

    def prune(self) -> None:
        """Remove the least recently used files beyond the limit, and stray temporary
        files of a process killed while writing."""
        try:
            entries = [(entry.stat().st_mtime, entry.stat().st_size, Path(entry.path))
                       for entry in os.scandir(self.folder) if entry.is_file()]
        except OSError:
            return
        total = 0
        stale = time.time() - STRAY_AFTER_S
        for mtime, size, path in sorted(entries, reverse=True):
            if path.name.endswith(SUFFIX):
                total += size
                gone = total > self.limit
            else:
                gone = mtime < stale
            if gone:
                with contextlib.suppress(OSError):
                    path.unlink()

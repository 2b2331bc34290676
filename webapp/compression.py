"""Response compression that never makes a client wait on a slow level.

Bodies fixed from start-up (static files, the map page, its layers, /basemap) are
compressed once by `warm()` at strong levels (before the workers fork under webapp.wsgi;
in each worker of `xinqu serve`, in a thread, once it answers), and kept for the
process's life (and on disk for the next start: webapp.compressed_files). Every other
body is compressed while its client waits, at a level that costs milliseconds, and kept in
a byte-bounded LRU. Keys are (ETag, encoding): a body
with no ETag is never reused. Settings: data/http.yaml `compression`.

A server that must not wait for the strong levels (`warm(app, wait=False)`, the first
start after a build, when the layers' bodies are new) keeps a fixed body found on no disk
at the cheap level at first (`pending`) and has a background process compress it at the
strong level into the folder; each worker takes that up on a later request (the same
body, the same ETag, fewer bytes).
"""

from __future__ import annotations

import gzip
import logging
import sys
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import brotli
from flask import Request, Response

from webapp import background
from webapp.compressed_files import CompressedFiles

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

log = logging.getLogger(__name__)

# The encodings offered, in the service's order of preference (smallest first).
ENCODINGS = ("zstd", "br", "gzip")
# How often a worker looks for the strong compression of a pending fixed body (seconds).
PENDING_CHECK_S = 1.0


def _compress(body: bytes, encoding: str, level: int) -> bytes:
    if encoding == "zstd":
        return zstd.compress(body, level)
    if encoding == "br":
        return brotli.compress(body, quality=level)
    return gzip.compress(body, level, mtime=0)  # mtime 0: the same bytes every time


def negotiate(request: Request) -> str | None:
    """The encoding to answer with: the client's highest quality, ties by ENCODINGS."""
    accepted = request.accept_encodings
    best, best_q = None, 0.0
    for encoding in ENCODINGS:
        q = accepted.quality(encoding)
        if q > best_q:
            best, best_q = encoding, q
    return best


class CompressedBodies:
    """Compressed bodies by (ETag, encoding), bounded by bytes and safe across threads.

    Fixed bodies are never evicted (warm() adds them, once per process); the others
    share what the fixed ones leave of the limit, least recently used out first. The lock
    guards the dicts only: no compression runs while it is held.
    """

    def __init__(self, limit_bytes: int, max_entry: int):
        self.limit = limit_bytes
        self.max_entry = max_entry
        self.fixed: dict[tuple[str, str], bytes] = {}
        self.recent: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.fixed_bytes = 0
        self.recent_bytes = 0
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self._lock:
            body = self.fixed.get(key)
            if body is None:
                body = self.recent.get(key)
                if body is not None:
                    self.recent.move_to_end(key)
            return body

    def put(self, key: tuple[str, str], body: bytes, fixed: bool = False) -> bool:
        """Keep a body; False when it does not fit (too big, or the fixed share is full)."""
        size = len(body)
        with self._lock:
            if fixed:
                if key in self.fixed or self.fixed_bytes + size > self.limit:
                    return key in self.fixed
                self._drop(key)
                self.fixed[key] = body
                self.fixed_bytes += size
                self._evict()
                return True
            if size > self.max_entry or key in self.fixed:
                return False
            self._drop(key)
            self.recent[key] = body
            self.recent_bytes += size
            self._evict()
            return key in self.recent

    def replace_fixed(self, key: tuple[str, str], body: bytes) -> None:
        """Put another compression of a fixed body in its place (the strong one that a
        background process made)."""
        with self._lock:
            old = self.fixed.get(key)
            if old is not None:
                self.fixed[key] = body
                self.fixed_bytes += len(body) - len(old)

    @property
    def size(self) -> int:
        return self.fixed_bytes + self.recent_bytes

    def _drop(self, key: tuple[str, str]) -> None:
        old = self.recent.pop(key, None)
        if old is not None:
            self.recent_bytes -= len(old)

    def _evict(self) -> None:
        while self.recent and self.fixed_bytes + self.recent_bytes > self.limit:
            _, old = self.recent.popitem(last=False)
            self.recent_bytes -= len(old)


@dataclass
class Compressor:
    """What the response hook needs: settings, the bodies kept, and where fixed bodies'
    compressions are kept between starts (webapp.compressed_files; None: nowhere)."""

    mimetypes: frozenset[str]
    min_size: int
    fixed_levels: dict[str, int]
    levels: dict[str, int]
    bodies: CompressedBodies
    files: CompressedFiles | None = None
    # fixed bodies kept at the cheap level until their strong compression is on disk:
    # (ETag, encoding) -> (level, when last looked for)
    pending: dict[tuple[str, str], list] = field(default_factory=dict)

    @classmethod
    def from_settings(cls, settings: dict[str, Any], cache_bytes: int | None = None,
                      folder: Path | None = None) -> Compressor:
        limit = cache_bytes if cache_bytes is not None else int(settings["cache_mb"]) << 20
        files = None if folder is None else CompressedFiles(
            folder, int(settings["disk_cache_mb"]) << 20)
        return cls(mimetypes=frozenset(settings["mimetypes"]),
                   min_size=int(settings["min_size"]),
                   fixed_levels=dict(settings["fixed"]), levels=dict(settings["per_request"]),
                   bodies=CompressedBodies(limit, int(limit * settings["max_entry_share"])),
                   files=files)

    def compressible(self, response: Response) -> bool:
        return (response.mimetype in self.mimetypes and not response.is_streamed
                and "Content-Encoding" not in response.headers)

    def fixable(self, response: Response) -> bool:
        """Whether a plain 200 (as warm() asks for it) is compressed and kept as fixed."""
        size = len(response.get_data())  # first: a test client's answer streams until read
        return (response.status_code == 200 and self.compressible(response)
                and not response.direct_passthrough and bool(response.get_etag()[0])
                and size >= self.min_size)

    def keep_fixed(self, data: bytes, etag: str, encoding: str,
                   wait: bool = True) -> tuple[bytes, str, int] | None:
        """Compress a fixed body at the strong level (or read that from the files kept by
        an earlier start) and keep it for good, in place of a per-request compression of
        the same body (warm() only).

        With `wait` False, a body whose strong compression is not on disk is kept at the
        cheap level for now (`pending`); the job `(data, encoding, level)` for
        `compress_later` is returned."""
        level = self.fixed_levels[encoding]
        out = self.files.get(data, encoding, level) if self.files is not None else None
        later = None
        if out is None:
            if wait or self.files is None or not self.files.can_write():
                # (a folder that cannot be written would never receive the strong ones)
                out = _compress(data, encoding, level)
                if self.files is not None:
                    self.files.put(data, encoding, level, out)
            else:
                out = _compress(data, encoding, self.levels[encoding])
                self.pending[(etag, encoding)] = [level, time.monotonic()]
                later = (data, encoding, level)
        if not self.bodies.put((etag, encoding), out, fixed=True):
            self.pending.pop((etag, encoding), None)
            log.warning("compressed-body cache full: %s (%s) is compressed per request",
                        etag, encoding)
        return later

    def compress_later(self, jobs: list[tuple[bytes, str, int]]) -> int | None:
        """Compress `jobs` at their strong levels into the files, in a child process at low
        priority, so the server starts meanwhile; its pid (None: nothing to do, or no
        fork here, and then they are compressed now). Call it while this process runs
        no other thread (warm() does, before the server forks its workers)."""
        if not jobs or self.files is None:
            return None

        def compress() -> None:
            for data, encoding, level in jobs:
                self._strong_to_files(data, encoding, level)
            self.files.prune()

        if not background.can_fork():
            compress()
            return None
        return background.in_child(compress, "compressing at the strong levels")

    def _strong_to_files(self, data: bytes, encoding: str, level: int) -> None:
        self.files.put(data, encoding, level, _compress(data, encoding, level))

    def body(self, data: bytes, encoding: str, etag: str | None) -> bytes:
        """The compressed body, from the kept ones when this ETag was compressed before."""
        key = (etag, encoding) if etag else None
        if key is not None:
            kept = self.bodies.get(key)
            if kept is not None:
                if self.pending and key in self.pending:
                    kept = self._strong_from_files(key, data) or kept
                return kept
        out = _compress(data, encoding, self.levels[encoding])
        if key is not None:
            self.bodies.put(key, out)
        return out

    def _strong_from_files(self, key: tuple[str, str], data: bytes) -> bytes | None:
        """A pending body's strong compression once the background process has made it
        (looked for at most every PENDING_CHECK_S), then kept in place of the cheap one."""
        entry = self.pending.get(key)
        if entry is None or self.files is None:
            return None
        level, last = entry
        now = time.monotonic()
        if now - last < PENDING_CHECK_S:
            return None
        entry[1] = now
        packed = self.files.get(data, key[1], level)
        if packed is None:
            return None
        self.bodies.replace_fixed(key, packed)
        self.pending.pop(key, None)
        return packed


def variant_etag(etag: str, encoding: str) -> str:
    """The ETag of a body in one content coding: a strong ETag names one representation."""
    return f"{etag}-{encoding}"


def base_etag(etag: str) -> str:
    """The ETag of the uncompressed body a variant ETag was made from."""
    for encoding in ENCODINGS:
        if etag.endswith(f"-{encoding}"):
            return etag[: -len(encoding) - 1]
    return etag


def apply(compressor: Compressor, request: Request, response: Response) -> Response:
    """Compress a response body if the client accepts it, and say that it varies by it.

    Runs after the ETag is set and the conditional check is done: a 304 gets the ETag of
    the variant its client would have received.
    """
    if not compressor.compressible(response) or response.status_code not in (200, 304):
        return response
    response.vary.add("Accept-Encoding")
    if response.status_code == 200 and (response.direct_passthrough
                                        or response.calculate_content_length() is None):
        return response
    encoding = negotiate(request)
    if encoding is None:
        return response
    etag, weak = response.get_etag()
    data = response.get_data()  # a 304 still holds the body: werkzeug leaves it unsent
    if len(data) < compressor.min_size:
        return response
    if response.status_code == 304:
        if etag:
            response.set_etag(variant_etag(etag, encoding), weak)
        return response
    response.set_data(compressor.body(data, encoding, etag))
    response.headers["Content-Encoding"] = encoding
    if etag:
        response.set_etag(variant_etag(etag, encoding), weak)
    return response

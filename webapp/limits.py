"""At most a few expensive requests at once per worker, so pages and items always get a thread.

A file export or a drawn map image costs seconds of CPU, some of it in C code holding the
GIL (a partners GeoJSON export held it 3.3 s at a stretch), which stops every thread of
its worker. Those endpoints (data/http.yaml `limits`) take one of `slots` places in their
worker, and a worker running any of them holds one of the `WorkerTokens`, of which
`xinqu serve` makes one fewer than it has workers: one worker is always free of them.
A request finding no place is answered 503 with Retry-After at once, rather than holding
a thread while it waits.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
from pathlib import Path
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)


class WorkerTokens:
    """Places for the workers that run expensive requests, shared between processes by
    flock on files in `folder`: the kernel frees a place when its process dies, however."""

    def __init__(self, folder: Path, count: int):
        self.paths = [Path(folder) / f"heavy-{i}.lock" for i in range(count)]
        for path in self.paths:
            path.touch()
        self._held: int | None = None

    def acquire(self) -> bool:
        """Take a free place (each process opens the files itself, so forks share none)."""
        for path in self.paths:
            try:
                fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:  # the folder went away: no coordination, no refusal
                log.warning("worker token %s: %s", path, error)
                return True
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self._held = fd
            return True
        return False

    def release(self) -> None:
        if self._held is not None:
            fcntl.flock(self._held, fcntl.LOCK_UN)
            os.close(self._held)
            self._held = None


class HeavyRequests:
    """The places for expensive requests in this process (each worker has its own), and
    this worker's token while it runs any (None: no other process to leave one free)."""

    def __init__(self, settings: dict[str, Any], slots: int | None = None,
                 tokens: WorkerTokens | None = None):
        self.endpoints = frozenset(settings["heavy_endpoints"])
        self.slots = int(slots if slots is not None else settings["heavy_slots"])
        self.retry_after = int(settings["retry_after"])
        self.tokens = tokens
        self._free = threading.BoundedSemaphore(self.slots)
        self._running = 0
        self._lock = threading.Lock()  # guards _running and the token, never a request

    def install(self, app: Flask) -> None:
        app.before_request(self._enter)
        app.teardown_request(self._leave)

    def _enter(self) -> None:
        if request.endpoint not in self.endpoints:
            return
        if not self._free.acquire(blocking=False):
            self._refuse(f"{self.slots} exports or map images are being made by this worker")
        with self._lock:
            if self._running == 0 and self.tokens is not None and not self.tokens.acquire():
                self._free.release()
                self._refuse("the other workers are making exports or map images")
            self._running += 1
        g.xinqu_heavy = True

    def _refuse(self, why: str) -> None:
        raise ServiceUnavailable(f"{why}; ask again in {self.retry_after} s",
                                 retry_after=self.retry_after)

    def _leave(self, _error: BaseException | None) -> None:
        if g.pop("xinqu_heavy", False):
            with self._lock:
                self._running -= 1
                if self._running == 0 and self.tokens is not None:
                    self.tokens.release()
            self._free.release()

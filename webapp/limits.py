"""At most a few expensive requests at once per worker, so pages and items always get a thread.

A file export or a drawn map image costs seconds of CPU; with as many of them running as
a worker has threads, every other request would queue behind them. Those endpoints
(data/http.yaml `limits`) take one of `slots` places; a request finding none is answered
503 with Retry-After at once, rather than holding a thread while it waits.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, g, request
from werkzeug.exceptions import ServiceUnavailable


class HeavyRequests:
    """The places for expensive requests in this process (each worker has its own)."""

    def __init__(self, settings: dict[str, Any], slots: int | None = None):
        self.endpoints = frozenset(settings["heavy_endpoints"])
        self.slots = int(slots if slots is not None else settings["heavy_slots"])
        self.retry_after = int(settings["retry_after"])
        self._free = threading.BoundedSemaphore(self.slots)

    def install(self, app: Flask) -> None:
        app.before_request(self._enter)
        app.teardown_request(self._leave)

    def _enter(self) -> None:
        if request.endpoint not in self.endpoints:
            return
        if not self._free.acquire(blocking=False):
            raise ServiceUnavailable(
                f"{self.slots} exports or map images are being made by this worker; "
                f"ask again in {self.retry_after} s", retry_after=self.retry_after)
        g.xinqu_heavy = True

    def _leave(self, _error: BaseException | None) -> None:
        if g.pop("xinqu_heavy", False):
            self._free.release()

"""Progress for long commands: shown on a terminal, silent when piped or under CI."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


def enabled(stream=None) -> bool:
    """True when progress should be drawn: an interactive terminal and not CI."""
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)()) and not os.environ.get("CI")


def step(message: str, stream=None) -> None:
    """Announce one stage of a long command."""
    stream = stream or sys.stderr
    if enabled(stream):
        print(f"… {message}", file=stream, flush=True)


def track(items: Iterable[T], label: str, total: int | None = None, stream=None) -> Iterator[T]:
    """Yield items while drawing a one-line counter with elapsed time."""
    stream = stream or sys.stderr
    if not enabled(stream):
        yield from items
        return
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    start = time.monotonic()
    count = 0
    for count, item in enumerate(items, 1):
        of = f"/{total}" if total else ""
        print(f"\r{label}: {count}{of} ({time.monotonic() - start:.1f}s)", end="", file=stream,
              flush=True)
        yield item
    print(f"\r{label}: {count} done in {time.monotonic() - start:.1f}s", file=stream, flush=True)

"""Printing a command's result to standard output."""

from __future__ import annotations

import os
import sys
import unicodedata


def emit(text: str) -> None:
    """Print `text`; a reader that stops early (`| head`) is not an error."""
    try:
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


def display_width(text: str) -> int:
    """Columns `text` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def table(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Rows in columns aligned by their display width (CJK-aware), header first."""
    widths = [max(display_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell + " " * (w - display_width(cell))
                  for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    )

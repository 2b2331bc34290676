"""English matching form: case, hyphens, dashes, apostrophes and spacing folded.

"Gui’an", "Gui'an" and "GUI'AN" match alike; "Ningbo-Zhoushan" matches "Ningbo Zhoushan".
Folding keeps the text's length (one character for one) so that positions need no map,
except where runs of spaces are collapsed or lower-casing changes a length; only then is
a map built, one entry per collapsed run (not per character).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from layers.textnorm import CharacterMap

APOSTROPHES = "'’‘ʼ′`´"
DASHES = "-‐‑‒–—―−－"
QUOTES = '"“”„‟«»'
SPACES = "\t\n\r\f\v\u00a0\u2002\u2003\u2009\u202f\u3000"

_FOLD = CharacterMap(
    {
        **{c: "'" for c in APOSTROPHES},
        **{c: " " for c in DASHES},
        **{c: '"' for c in QUOTES},
        **{c: " " for c in SPACES},
    }
)
_SPACE_RUN = re.compile(r" {2,}")


@dataclass(frozen=True)
class Collapsed:
    """Where folding dropped the repeated spaces of runs: a map between positions.

    From folded position `folded_at[k]` up to the next such position, a character lies
    `dropped[k]` places further on in the text before folding (`dropped` only grows).
    """

    folded_at: list[int]
    dropped: list[int]
    original_at: list[int]  # folded_at[k] + dropped[k]: the same points before folding

    def original(self, position: int) -> int:
        """The index before folding of folded index `position` (or of the end)."""
        k = bisect_right(self.folded_at, position) - 1
        return position + self.dropped[k] if k >= 0 else position

    def folded(self, position: int) -> int:
        """The folded index of `position`, an index before folding of a kept character
        (or of the end)."""
        k = bisect_right(self.original_at, position) - 1
        return position - self.dropped[k] if k >= 0 else position


def fold(text: str) -> tuple[str, Collapsed | None]:
    """The folded form of `text` and its map back (None when positions are unchanged).

    ``text[m.original(i):m.original(j)]`` is the original of ``folded[i:j]``.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer (İ)
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    folded = _FOLD(lowered)
    if "  " not in folded:
        return folded, None
    pieces: list[str] = []
    folded_at: list[int] = []
    dropped: list[int] = []
    at = removed = 0
    for run in _SPACE_RUN.finditer(folded):
        pieces.append(folded[at : run.start() + 1])
        removed += run.end() - run.start() - 1
        folded_at.append(run.end() - removed)
        dropped.append(removed)
        at = run.end()
    pieces.append(folded[at:])
    original_at = [a + d for a, d in zip(folded_at, dropped, strict=True)]
    return "".join(pieces), Collapsed(folded_at, dropped, original_at)


def fold_form(form: str) -> str:
    """The key of an English alias: folded, with outer spaces trimmed."""
    return fold(form)[0].strip()


def is_word_char(char: str) -> bool:
    """Letters and digits make words; a match must not start or end inside one."""
    return char.isalnum()


def on_word_boundaries(text: str, start: int, end: int) -> bool:
    """True when text[start:end] neither begins nor ends in the middle of a word."""
    if start > 0 and is_word_char(text[start - 1]) and is_word_char(text[start]):
        return False
    return not (end < len(text) and is_word_char(text[end]) and is_word_char(text[end - 1]))

"""English matching form: case, hyphens, dashes, apostrophes and spacing folded.

"Gui’an", "Gui'an" and "GUI'AN" match alike; "Ningbo-Zhoushan" matches "Ningbo Zhoushan".
Folding keeps the text's length (one character for one) so that positions need no map,
except where runs of spaces are collapsed or lower-casing changes a length; only then is
a map built, one entry per collapsed run (not per character).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

import numpy as np

from layers.textnorm import CharacterMap, code_points

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
_TWO_SPACES = re.compile("  ")  # a literal: the regex engine's own search for it
_ASCII_FOLD = [ord(_FOLD(chr(code).lower())) for code in range(128)]  # ASCII stays ASCII


@dataclass(frozen=True)
class Collapsed:
    """Where folding dropped the repeated spaces of runs: a map between positions.

    From folded position `folded_at[k]` up to the next such position, a character lies
    `dropped[k]` places further on in the text before folding (`dropped` only grows).
    """

    folded_at: np.ndarray
    dropped: np.ndarray

    def original(self, positions: np.ndarray) -> np.ndarray:
        """The indices before folding of folded indices (a kept character's, or the end)."""
        k = np.searchsorted(self.folded_at, positions, side="right") - 1
        return positions + np.where(k >= 0, self.dropped[np.maximum(k, 0)], 0)

    def folded(self, positions: np.ndarray) -> np.ndarray:
        """The folded indices of indices before folding (of kept characters, or the end)."""
        k = np.searchsorted(self.folded_at + self.dropped, positions, side="right") - 1
        return positions - np.where(k >= 0, self.dropped[np.maximum(k, 0)], 0)


def fold(text: str) -> tuple[str, Collapsed | None]:
    """The folded form of `text` and its map back (None when positions are unchanged).

    ``text[m.original(i):m.original(j)]`` is the original of ``folded[i:j]``.
    """
    if text.isascii():  # lower case and folding in one pass
        folded = text.translate(_ASCII_FOLD)
    else:
        lowered = text.lower()
        if len(lowered) != len(text):  # a character whose lower case is longer (İ)
            lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
        folded = _FOLD(lowered)
    if _TWO_SPACES.search(folded) is None:  # four times faster than `"  " in` on prose
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
    return "".join(pieces), Collapsed(np.array(folded_at, dtype=np.int64),
                                      np.array(dropped, dtype=np.int64))


def fold_form(form: str) -> str:
    """The key of an English alias: folded, with outer spaces trimmed."""
    return fold(form)[0].strip()


@cache
def _word_characters_of_bmp() -> np.ndarray:
    return np.array([chr(code).isalnum() for code in range(0x10000)])


def _word_characters(codes: np.ndarray) -> np.ndarray:
    """Per code point, whether its character makes words: letters and digits."""
    words = _word_characters_of_bmp()[np.minimum(codes, 0xFFFF)]
    for i in np.flatnonzero(codes > 0xFFFF).tolist():
        words[i] = chr(codes[i]).isalnum()
    return words


def _code_points_at(text: str, positions: np.ndarray) -> np.ndarray:
    """The code point of text[p] for each position p; 0 for a position outside the text.

    ASCII text (most English) is read as its bytes, without a code point per character.
    """
    codes = (np.frombuffer(text.encode("ascii"), dtype=np.uint8) if text.isascii()
             else code_points(text))
    inside = (positions >= 0) & (positions < len(codes))
    found = np.zeros(len(positions), dtype=np.uint32)
    found[inside] = codes[positions[inside]]
    return found


def on_word_boundaries(text: str, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Per span text[start:end], True when it neither begins nor ends inside a word."""
    around = _code_points_at(text, np.concatenate([starts - 1, starts, ends - 1, ends]))
    words = _word_characters(around).reshape(4, len(starts))
    return ~((words[0] & words[1]) | (words[2] & words[3]))

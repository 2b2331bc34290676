"""English matching form: case, hyphens, dashes, apostrophes and spacing folded.

"Gui’an", "Gui'an" and "GUI'AN" match alike; "Ningbo-Zhoushan" matches "Ningbo Zhoushan".
Folding keeps the text's length (one character for one) so that positions need no map,
except where runs of spaces are collapsed or lower-casing changes a length; only then is
an offset map built.
"""

from __future__ import annotations

import re

APOSTROPHES = "'’‘ʼ′`´"
DASHES = "-‐‑‒–—―−－"
QUOTES = '"“”„‟«»'
SPACES = "\t\n\r\f\v\u00a0\u2002\u2003\u2009\u202f\u3000"

_TABLE = str.maketrans(
    {
        **{c: "'" for c in APOSTROPHES},
        **{c: " " for c in DASHES},
        **{c: '"' for c in QUOTES},
        **{c: " " for c in SPACES},
    }
)
_SPACE_RUN = re.compile(r" {2,}")


def fold(text: str) -> tuple[str, list[int] | None]:
    """The folded form of `text` and its offset map (None when positions are unchanged).

    The map, when given, has one entry per folded character plus one for the end:
    ``text[offsets[i]:offsets[j]]`` is the original of ``folded[i:j]``.
    """
    lowered = text.lower()
    if len(lowered) != len(text):  # a character whose lower case is longer (İ)
        lowered = "".join(c if len(c.lower()) != 1 else c.lower() for c in text)
    folded = lowered.translate(_TABLE)
    if "  " not in folded:
        return folded, None
    pieces: list[str] = []
    offsets: list[int] = []
    at = 0
    for run in _SPACE_RUN.finditer(folded):
        pieces.append(folded[at : run.start() + 1])
        offsets.extend(range(at, run.start() + 1))
        at = run.end()
    pieces.append(folded[at:])
    offsets.extend(range(at, len(folded)))
    offsets.append(len(folded))
    return "".join(pieces), offsets


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

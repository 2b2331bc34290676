"""Needles too short for trigrams: one or two characters (浦东, 雄安, 滨海).

pg_trgm cannot narrow a LIKE '%浦东%' (a two-character needle has no trigram), so such a
search read every row: about 0.2 s at 1000x. The loader therefore keeps, beside each
searched text, the set of its one- and two-character substrings in a text[] column with a
GIN index; `needle = ANY(grams)`-style containment (`grams @> ARRAY[needle]`) is then an
index lookup, and it selects exactly the rows where LIKE '%needle%' would hold, since the
set is made from the same text.
"""

from __future__ import annotations

SHORT_NEEDLE = 2  # needles of at most this many characters go by their grams


def short_grams(text: str) -> list[str]:
    """Every distinct substring of one and of two characters of `text`."""
    grams = set(text)
    grams.update(text[i:i + 2] for i in range(len(text) - 1))
    return list(grams)


def is_short(needle: str) -> bool:
    """Whether `needle` is searched by its grams (non-empty, at most SHORT_NEEDLE long)."""
    return 0 < len(needle) <= SHORT_NEEDLE

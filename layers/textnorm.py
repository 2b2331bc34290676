"""The matching form of document text, with a map back to the display text.

Display text keeps each language version's own script; matching (linking places, comparing
versions) works on a normal form: traditional script converted to simplified with OpenCC
(config ``t2s``) and full-width ASCII forms folded to ASCII. `normalize_with_offsets`
also says, for every normalised character, which original character it came from, so a
match found in the normal form can be shown on the display text.
"""

from __future__ import annotations

import re
from functools import cache

import opencc

# Conversion phrases never cross punctuation or spaces, so text is converted clause by
# clause: a clause whose length OpenCC keeps maps position by position.
_CLAUSE = re.compile(r"[^\s\u3000-\u303f\uff00-\uffef!-/:-@\[-`{-~]+|.", re.S)

_FULL_WIDTH_START, _FULL_WIDTH_END, _FULL_WIDTH_SHIFT = 0xFF01, 0xFF5E, 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"


@cache
def converter(config: str) -> opencc.OpenCC:
    """One OpenCC converter per config (``t2s``, ``s2t``), built once."""
    return opencc.OpenCC(config)


def convert(text: str, config: str) -> str:
    """Convert script with OpenCC, e.g. ``convert(text, "s2t")``."""
    return converter(config).convert(text)


# One translation table, so folding runs in C over the whole text at once.
_FOLD_WIDTH = {code: code - _FULL_WIDTH_SHIFT
               for code in range(_FULL_WIDTH_START, _FULL_WIDTH_END + 1)}
_FOLD_WIDTH[ord(_IDEOGRAPHIC_SPACE)] = ord(" ")


def fold_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space as their ASCII characters.

    Always one character for one, so offsets are unchanged.
    """
    return text.translate(_FOLD_WIDTH)


# Which OpenCC conversion gives the matching form of each language version.
MATCHING_CONVERSION = {"zh-Hant": "t2s"}


def _char_by_char(span: str, converted: str, config: str) -> bool:
    """True if `converted` is `span` converted one character at a time, each to one.

    One call converts every character on its own line (no phrase spans a line break).
    """
    singles = convert("\n".join(span), config).split("\n")
    return (len(singles) == len(span) and all(len(c) == 1 for c in singles)
            and "".join(singles) == converted)


def _convert_span(text: str, start: int, end: int, config: str, out: list[str],
                  offsets: list[int]) -> None:
    """Convert text[start:end], recording each output character's source index.

    A span converted character by character maps one to one. Otherwise it is cut in two
    wherever converting the halves gives the same result as the whole, down to spans that
    cannot be cut (one dictionary phrase): a phrase of unchanged length maps position by
    position, any other one maps all its output into itself.
    """
    span = text[start:end]
    converted = convert(span, config)
    if len(span) > 1 and not _char_by_char(span, converted, config):
        for cut in range(start + 1, end):
            if convert(text[start:cut], config) + convert(text[cut:end], config) == converted:
                _convert_span(text, start, cut, config, out, offsets)
                _convert_span(text, cut, end, config, out, offsets)
                return
    out.extend(converted)
    if len(converted) == len(span):
        offsets.extend(range(start, end))
    else:
        offsets.extend(min(start + i, end - 1) for i in range(len(converted)))


def convert_with_offsets(text: str, config: str) -> tuple[str, list[int]]:
    """OpenCC conversion that also gives, per output character, its index in `text`.

    Phrases never span punctuation or spaces, so text is converted clause by clause. The
    offsets list ends with len(text), so ``text[offsets[i]:offsets[j]]`` is the original
    of ``converted[i:j]``.
    """
    whole = convert(text, config)
    if "\n".join(whole) == convert("\n".join(text), config):
        # Every character converts on its own to one character (the usual case, checked
        # in two C-level calls): the conversion maps position by position.
        return whole, [*range(len(text)), len(text)]
    out: list[str] = []
    offsets: list[int] = []
    for match in _CLAUSE.finditer(text):
        _convert_span(text, match.start(), match.end(), config, out, offsets)
    offsets.append(len(text))
    return "".join(out), offsets


def normalize_with_offsets(text: str, lang: str) -> tuple[str, list[int]]:
    """The matching form of `text` and, per character of it, its index in `text`.

    The offsets list has one more entry than the normal form: the end offset, len(text),
    so ``text[offsets[i]:offsets[j]]`` is the original of ``normal[i:j]``.
    """
    config = MATCHING_CONVERSION.get(lang)
    if config:
        converted, offsets = convert_with_offsets(text, config)
    else:
        converted, offsets = text, [*range(len(text)), len(text)]
    return fold_width(converted), offsets


def normalize(text: str, lang: str) -> str:
    """The matching form: zh-Hant converted to zh-Hans, full-width forms folded.

    Always the same string as `normalize_with_offsets` gives, so offsets found on one
    hold for the other.
    """
    return normalize_with_offsets(text, lang)[0]

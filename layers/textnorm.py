"""The matching form of document text, with a map back to the display text.

Display text keeps each language version's own script; matching (linking places, comparing
versions) works on a normal form: traditional script converted to simplified with OpenCC
(config ``t2s``) and full-width ASCII forms folded to ASCII. `normalize_with_offsets`
also says, for every normalised character, which original character it came from, so a
match found in the normal form can be shown on the display text.

Many texts are normalised at once by `normalize_many`: joined into one string, converted
in one OpenCC call, checked and folded with array look-ups. Linking a large corpus rests
on it; one text is the case of one.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from layers.opencc_tables import (
    code_points,
    convert,
    converter,
    from_code_points,
    single_characters,
    tables,
)

__all__ = ["MATCHING_CONVERSION", "PLAIN_SEPARATOR", "SEPARATOR", "CharacterMap", "NormalForms",
           "code_points", "convert", "convert_with_offsets", "converter", "fold_width",
           "normalize", "normalize_many", "normalize_with_offsets"]

# Conversion phrases never cross punctuation or spaces, so text is converted clause by
# clause: a clause whose length OpenCC keeps maps position by position.
_CLAUSE = re.compile(r"[^\s\u3000-\u303f\uff00-\uffef!-/:-@\[-`{-~]+|.", re.S)

# Texts to convert are joined by a private-use character: no conversion phrase contains it
# and width folding keeps it, so each text converts inside the joined string as it would
# alone. Texts not converted are joined by NUL, which keeps ASCII text ASCII (lower-casing
# and translation have fast paths for it).
SEPARATOR = "\ue000"
PLAIN_SEPARATOR = "\x00"

_FULL_WIDTH_START, _FULL_WIDTH_END, _FULL_WIDTH_SHIFT = 0xFF01, 0xFF5E, 0xFEE0
_IDEOGRAPHIC_SPACE = "\u3000"
_BMP = 0x10000


def _code_units(text: str) -> np.ndarray:
    """The UTF-16 code units of `text` (a character outside the BMP takes two)."""
    return np.frombuffer(text.encode("utf-16-le", "surrogatepass"), dtype=np.uint16)


def _from_code_units(units: np.ndarray) -> str:
    """The text of UTF-16 code units, decoded from the array's own memory (no copy)."""
    units = np.ascontiguousarray(units, dtype=np.uint16)
    return codecs.utf_16_le_decode(units, "surrogatepass", True)[0]


class CharacterMap:
    """A one-for-one replacement of characters of the BMP, applied in C to a whole text:
    str.translate for short or ASCII texts (which have a fast path), an array look-up
    for long ones (15 times faster past a few hundred characters). Look-ups use np.take,
    twice as fast as indexing with an array of unsigned code units (which numpy first
    converts to signed indices)."""

    def __init__(self, mapping: dict[str, str]):
        table = np.arange(_BMP, dtype=np.uint16)
        for char, image in mapping.items():
            table[ord(char)] = ord(image)
        self.table = table
        self._list = table.tolist()

    def __call__(self, text: str) -> str:
        if len(text) < _SHORT or text.isascii():
            return text.translate(self._list)
        return _from_code_units(np.take(self.table, _code_units(text)))


_SHORT = 128  # characters: below this, str.translate beats the array look-up
_FOLD_WIDTH = CharacterMap({
    **{chr(code): chr(code - _FULL_WIDTH_SHIFT)
       for code in range(_FULL_WIDTH_START, _FULL_WIDTH_END + 1)},
    _IDEOGRAPHIC_SPACE: " ",
})


def fold_width(text: str) -> str:
    """Full-width ASCII forms and the ideographic space as their ASCII characters.

    Always one character for one, so offsets are unchanged.
    """
    return text if text.isascii() else _FOLD_WIDTH(text)


# Which OpenCC conversion gives the matching form of each language version.
MATCHING_CONVERSION = {"zh-Hant": "t2s"}


def _by_single_characters(text: str, converted: str, table: np.ndarray) -> bool:
    """True if `converted` is `text` with each character replaced by its `table` image."""
    return len(converted) == len(text) and np.array_equal(table[code_points(text)],
                                                          code_points(converted))


def _one_to_one(text: str, converted: str, config: str) -> bool:
    """True if `converted` is `text` converted one character at a time, each to one.

    The table of single characters answers in one look-up; where it says no (a character
    outside the BMP, or a phrase that OpenCC converts otherwise than its characters), and
    for short texts, a second conversion with every character on its own line decides.
    """
    if len(text) >= _SHORT:  # below, the second conversion is the cheaper check
        table = single_characters(config)
        if table is not None and _by_single_characters(text, converted, table):
            return True
    return "\n".join(converted) == convert("\n".join(text), config)


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
    if len(span) > 1 and not _one_to_one(span, converted, config):
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


def _convert_by_clause(text: str, config: str) -> tuple[str, list[int]]:
    """The conversion of a text that is not converted character by character, with offsets.

    Phrases never span punctuation or spaces, so it is converted clause by clause.
    """
    out: list[str] = []
    offsets: list[int] = []
    for match in _CLAUSE.finditer(text):
        _convert_span(text, match.start(), match.end(), config, out, offsets)
    offsets.append(len(text))
    return "".join(out), offsets


def _by_opencc(texts: Sequence[str], joined: str, config: str
               ) -> tuple[str, list[list[int] | None]]:
    """`_convert_many` by OpenCC: one call converts them all; when the whole maps
    character by character (one array look-up) every text does. Otherwise each text is
    looked at on its own, and one that is not converted character by character goes
    clause by clause."""
    whole = convert(joined, config)
    table = single_characters(config) if len(joined) >= _SHORT else None
    if table is not None and _by_single_characters(joined, whole, table):
        return whole, [None] * len(texts)
    pieces = whole.split(SEPARATOR) if len(texts) > 1 else [whole]
    if len(pieces) != len(texts):  # a text holds the separator itself
        pieces = [convert(text, config) for text in texts]
    out: list[str] = []
    offsets: list[list[int] | None] = []
    for text, piece in zip(texts, pieces, strict=True):
        if _one_to_one(text, piece, config):
            out.append(piece)
            offsets.append(None)
        else:
            converted, mapped = _convert_by_clause(text, config)
            out.append(converted)
            offsets.append(mapped)
    return SEPARATOR.join(out), offsets


def _convert_many(texts: Sequence[str], config: str, fold: bool = False
                  ) -> tuple[str, list[list[int] | None]]:
    """SEPARATOR.join of the texts' conversions (width folded too if `fold`), and per
    text its offsets (None: the conversion maps position by position).

    With the config's tables (layers.opencc_tables) a text in which nothing is doubtful
    is the images of its characters, the string OpenCC gives, in one array look-up for
    all; only the texts holding a doubtful place (a phrase OpenCC converts otherwise, a
    character it makes several of) go to OpenCC. Without tables (or for a short text)
    OpenCC converts them all.
    """
    joined = SEPARATOR.join(texts)
    found = tables(config) if len(joined) >= _SHORT else None
    if found is None:
        converted, offsets = _by_opencc(texts, joined, config)
        return fold_width(converted) if fold else converted, offsets
    codes = code_points(joined)
    images = np.take(_folded_images(config) if fold else found.images, codes)  # -1 alike
    doubtful = found.doubtful(joined, codes, images)
    if not len(doubtful):
        return from_code_points(images), [None] * len(texts)
    ends = np.cumsum([len(text) + 1 for text in texts])  # where each next text begins
    left = set(np.searchsorted(ends, doubtful, side="right").tolist())
    images[images < 0] = ord(SEPARATOR)  # only in texts left to OpenCC
    whole = from_code_points(images)
    out: list[str] = []
    offsets: list[list[int] | None] = []
    at = 0
    for i, text in enumerate(texts):
        if i in left:
            converted, (mapped,) = _by_opencc([text], text, config)
            converted = fold_width(converted) if fold else converted
        else:
            converted, mapped = whole[at:at + len(text)], None
        out.append(converted)
        offsets.append(mapped)
        at += len(text) + 1
    return SEPARATOR.join(out), offsets


@cache
def _folded_images(config: str) -> np.ndarray:
    """The images of the config's tables, width folded (one look-up does both)."""
    images = tables(config).images.copy()
    plane = (images >= 0) & (images < _BMP)
    images[plane] = _FOLD_WIDTH.table[images[plane]]
    return images


def convert_with_offsets(text: str, config: str) -> tuple[str, list[int]]:
    """OpenCC conversion that also gives, per output character, its index in `text`.

    The offsets list ends with len(text), so ``text[offsets[i]:offsets[j]]`` is the
    original of ``converted[i:j]``.
    """
    converted, (offsets,) = _convert_many([text], config)
    return converted, [*range(len(text)), len(text)] if offsets is None else offsets


@dataclass(frozen=True)
class NormalForms:
    """The matching forms of many texts, joined into one string by `separator`.

    text: the joined normal forms (SEPARATOR between converted ones, PLAIN_SEPARATOR
    between others); starts[i]: where the i-th begins in `text`, with one
    more entry, len(text) + 1, after the last; offsets[i]: per character of the i-th
    normal form (plus its end) its index in the i-th display text, or None where the two
    match position by position (the usual case, kept without a list).
    """

    text: str
    starts: list[int]
    offsets: list[list[int] | None]

    def display_offset(self, i: int, position: int) -> int:
        """The index in the i-th display text of `position`, an index into `text`."""
        local = position - self.starts[i]
        offsets = self.offsets[i]
        return local if offsets is None else offsets[local]


def normalize_many(texts: Sequence[str], lang: str) -> NormalForms:
    """The matching forms of `texts` (all in language version `lang`) and their maps back.

    Each text's normal form is exactly what it would be on its own.
    """
    config = MATCHING_CONVERSION.get(lang)
    if config:
        converted, offsets = _convert_many(texts, config, fold=True)
    else:
        converted, offsets = fold_width(PLAIN_SEPARATOR.join(texts)), [None] * len(texts)
    lengths = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    if any(offsets):  # a text whose normal form is not its length (rare): its own
        for i, mapped in enumerate(offsets):
            if mapped is not None:
                lengths[i] = len(mapped) - 1
    starts = np.zeros(len(texts) + 1, dtype=np.int64)
    np.cumsum(lengths + 1, out=starts[1:])
    return NormalForms(converted, starts.tolist(), offsets)


def normalize_with_offsets(text: str, lang: str) -> tuple[str, list[int]]:
    """The matching form of `text` and, per character of it, its index in `text`.

    The offsets list has one more entry than the normal form: the end offset, len(text),
    so ``text[offsets[i]:offsets[j]]`` is the original of ``normal[i:j]``.
    """
    forms = normalize_many([text], lang)
    offsets = forms.offsets[0]
    return forms.text, [*range(len(text)), len(text)] if offsets is None else offsets


def normalize(text: str, lang: str) -> str:
    """The matching form: zh-Hant converted to zh-Hans, full-width forms folded.

    Always the same string as `normalize_with_offsets` gives, so offsets found on one
    hold for the other.
    """
    if lang not in MATCHING_CONVERSION:
        return fold_width(text)
    return normalize_many([text], lang).text

"""What OpenCC makes of each character, and where a text needs OpenCC itself.

OpenCC converts a text by walking it left to right, matching its dictionaries' keys and
writing each matched key's first value. A key of one character gives what that
character gives alone; a key of several (a phrase) gives its value. So a text converts
to the images of its characters, one by one, unless a phrase whose value is not the
images of its own characters occurs in it (乾隆 stays 乾隆 although 乾 alone becomes
干), or a character is changed by the config's normalisation step, or is converted to
other than one character. `Tables.doubtful` finds such places with array look-ups; a
text without any converts with one look-up per character, the same string OpenCC
gives, and only the other texts are left to OpenCC (layers.textnorm).

The phrases are read from the config's own dictionaries (OpenCC's `opencc_dict` writes
its binary ones as text). A config whose dictionaries cannot be read, or which converts
in more than one step (a phrase could then form from the first step's output), has no
tables, and every text goes to OpenCC.
"""

from __future__ import annotations

import codecs
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import opencc

from layers import tempfiles

_BMP = 0x10000
_SURROGATES = range(0xD800, 0xE000)
_PAIR = sys.maxunicode + 1  # two characters as one number: first * _PAIR + second
_DICT_TOOL = Path(opencc.__file__).parent / "clib" / "bin" / "opencc_dict"
_DICT_TOOL_SECONDS = 30  # per dictionary: a few ms in practice


@cache
def converter(config: str) -> opencc.OpenCC:
    """One OpenCC converter per config (``t2s``, ``s2t``), built once."""
    return opencc.OpenCC(config)


def convert(text: str, config: str) -> str:
    """Convert script with OpenCC, e.g. ``convert(text, "s2t")``."""
    return converter(config).convert(text)


def code_points(text: str) -> np.ndarray:
    """The code points of `text`, one per character, as an array."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def from_code_points(codes: np.ndarray) -> str:
    """The text of an array of code points (the inverse of `code_points`).

    Decoded from the array's own memory (a 32-bit array is not copied first: the copies
    took six times as long as the decoding).
    """
    codes = np.asarray(codes)
    if codes.dtype == np.int32:
        codes = codes.view(np.uint32)  # code points are never negative: the same bits
    codes = np.ascontiguousarray(codes, dtype=np.uint32)
    return codecs.utf_32_le_decode(codes, "surrogatepass", True)[0]


@cache
def single_characters(config: str) -> np.ndarray | None:
    """Per code point, the one character OpenCC makes of it on its own; -1 for none.

    Built once per config in one call that converts every BMP character on its own line
    (no phrase spans a line break). -1 marks a character converted to another number of
    characters, the surrogate halves and every character outside the BMP. None: this
    config does not convert line by line.
    """
    codes = np.arange(_BMP, dtype=np.uint32)
    codes = codes[((codes < _SURROGATES.start) | (codes >= _SURROGATES.stop))
                  & (codes != ord("\n"))]
    lines = np.full(2 * len(codes) - 1, ord("\n"), dtype=np.uint32)
    lines[0::2] = codes  # every character on its own line, built as an array
    singles = convert(lines.tobytes().decode("utf-32-le"), config).split("\n")
    if len(singles) != len(codes):
        return None
    table = np.full(sys.maxunicode + 1, -1, dtype=np.int32)
    table[ord("\n")] = ord("\n")
    one = np.fromiter(map(len, singles), dtype=np.int64, count=len(singles)) == 1
    images = code_points("".join(single for single, alone in zip(singles, one.tolist(),
                                                                     strict=True) if alone))
    images = images.astype(np.int64)
    outside = (images < _SURROGATES.start) | (images >= _SURROGATES.stop)
    table[codes[one][outside]] = images[outside]
    return table


@dataclass(frozen=True)
class Tables:
    """A config's single-character images and the phrases it converts otherwise.

    images[c]: what character c becomes, -1 where a text holding it needs OpenCC;
    phrases: two-character start -> the phrases beginning so; starts: those starts as
    sorted numbers (first * _PAIR + second); flags[c]: 1 if some such phrase begins with
    character c, 2 if one has it second (both: 3).
    """

    images: np.ndarray
    phrases: dict[str, tuple[str, ...]]
    starts: np.ndarray
    flags: np.ndarray

    def doubtful(self, text: str, codes: np.ndarray, images: np.ndarray) -> np.ndarray:
        """Positions of `text` (its code points `codes`, their `images`) where its
        conversion may not be the images of its characters; empty when it is that."""
        bad = np.flatnonzero(images < 0)
        flags = np.take(self.flags, codes)  # twice as fast as self.flags[codes]
        # first, then second; the bits are 0 or 1, read as booleans (flatnonzero is ten
        # times faster on a boolean array than on bytes)
        pairs = np.flatnonzero(((flags[:-1] & 1) & (flags[1:] >> 1)).view(bool))
        pair = codes[pairs].astype(np.int64) * _PAIR + codes[pairs + 1]
        if len(self.starts):  # looked up in the sorted starts (np.isin sorts them again)
            at = np.minimum(np.searchsorted(self.starts, pair), len(self.starts) - 1)
            pairs = pairs[self.starts[at] == pair]
        else:
            pairs = pairs[:0]
        hits = [p for p in pairs.tolist()
                if any(text.startswith(phrase, p) for phrase in self.phrases[text[p:p + 2]])]
        return np.union1d(bad, np.array(hits, dtype=np.int64)) if hits else bad


def _dictionaries(spec: object) -> Iterator[dict]:
    """Every leaf dictionary of a config's dict spec (groups opened)."""
    if isinstance(spec, dict):
        if spec.get("type") == "group":
            for inner in spec.get("dicts") or ():
                yield from _dictionaries(inner)
        else:
            yield spec


def _entries(spec: dict, folder: Path) -> Iterator[tuple[str, str]]:
    """(key, first value) of every entry of one dictionary file."""
    path = folder / str(spec.get("file"))
    if spec.get("type") == "ocd2":
        with tempfiles.scratch("opencc-") as scratch:
            text = scratch / "dictionary.txt"
            subprocess.run([str(_DICT_TOOL), "-i", str(path), "-o", str(text), "-f", "ocd2",
                            "-t", "text"], check=True, capture_output=True,
                           timeout=_DICT_TOOL_SECONDS)
            lines = text.read_text(encoding="utf-8").splitlines()
    elif spec.get("type") == "text":
        lines = path.read_text(encoding="utf-8").splitlines()
    else:
        raise ValueError(f"dictionary type {spec.get('type')!r}")
    for line in lines:
        key, _, values = line.partition("\t")
        if key:
            yield key, values.split(" ")[0]


@cache
def tables(config: str) -> Tables | None:
    """The tables of `config` (``t2s``), built once; None when it has none (see above)."""
    table = single_characters(config)
    path = Path(converter(config).config)
    try:
        spec = json.loads(path.read_text(encoding="utf-8"))
        chain = spec.get("conversion_chain") or []
        if table is None or len(chain) != 1:
            return None
        normalising = [entry for step in spec.get("normalization") or []
                       for d in _dictionaries(step.get("dict"))
                       for entry in _entries(d, path.parent)]
        converting = [entry for d in _dictionaries(chain[0].get("dict"))
                      for entry in _entries(d, path.parent)]
    except (OSError, ValueError, AttributeError, subprocess.SubprocessError):
        return None
    images = table.copy()
    for key, _ in normalising:  # the text OpenCC matches is not the text given
        images[[ord(c) for c in key]] = -1
    phrases: dict[str, list[str]] = {}
    for key, value in converting:
        if len(key) < 2:
            continue
        own = images[[ord(c) for c in key]]
        if (own < 0).any() or value != from_code_points(own):
            phrases.setdefault(key[:2], []).append(key)
    flags = np.zeros(sys.maxunicode + 1, dtype=np.uint8)
    flags[[ord(start[0]) for start in phrases]] |= 1
    flags[[ord(start[1]) for start in phrases]] |= 2
    starts = np.sort(np.array([ord(a) * _PAIR + ord(b) for a, b in phrases], dtype=np.int64))
    return Tables(images, {start: tuple(keys) for start, keys in phrases.items()}, starts,
                  flags)

"""Units addressed to all new areas: the class noun (新区, new areas) outside any name.

In 支持有关新区… the noun speaks of new areas as a class; in 上海浦东新区 it is part of a
name, and in 高新区 it is another word (a nothing-form). rules.yaml `general` lists the
documents whose 新区 means new areas in general and the patterns of the noun.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache, partial
from itertools import chain, repeat

import numpy as np

from layers.linking.rules import Rules

_SPAN = re.Match.span  # (start, end) of a match, called from C by map
# What lets a pattern read past the characters it matches (anchors, lookarounds): such a
# pattern reads each text as its own slice. Others read the joined texts at once.
_READS_AROUND = ("^", "$", "\\A", "\\Z", "\\z", "(?=", "(?!", "(?<")


@cache
def _reads_only_its_match(pattern: re.Pattern) -> bool:
    """True when `pattern` has no anchor or lookaround (told from its source, erring on
    the safe side: a ^ in a class counts too). Such a pattern, over texts joined by a
    separator that is no word character, finds in each text what it finds in its slice:
    only \\b and \\B look beyond a match, and they see the separator as a text's edge."""
    return not any(token in pattern.pattern for token in _READS_AROUND)


def _spans(pattern: re.Pattern, text: str, lows: np.ndarray, highs: np.ndarray
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every match of `pattern` in each text text[lows[k]:highs[k]] (each followed by a
    separator), as arrays (text number k, start, end) in `text`'s offsets.

    A pattern that reads only its match reads each run of texts that follow each other
    in one pass; a text that a match there crosses into or out of, or that one starts at
    its edge, is read again on its own, as is every text for other patterns.
    """
    alone = np.ones(len(lows), dtype=bool)
    found: list[tuple[np.ndarray, ...]] = []
    if len(lows) > 1 and _reads_only_its_match(pattern):
        # runs of texts that follow each other in `text`, each read in one pass
        heads = np.flatnonzero(np.r_[True, lows[1:] != highs[:-1] + 1])
        tails = np.r_[heads[1:], len(lows)] - 1
        finditer = pattern.finditer
        flat = np.fromiter(chain.from_iterable(
            map(_SPAN, chain.from_iterable(map(finditer, repeat(text), lows[heads].tolist(),
                                               highs[tails].tolist())))), dtype=np.int64)
        start, end = flat[0::2], flat[1::2]
        k = np.searchsorted(lows, start, side="right") - 1
        high = highs[np.maximum(k, 0)]
        clean = (k >= 0) & (start < high) & (end <= high)
        alone[:] = False
        # a match that starts in a text or at its end and does not stay inside it
        alone[k[(k >= 0) & ~clean & (start <= high)]] = True
        # a match holding the separator before a text (a match of an empty string there
        # counts as holding it)
        first = np.searchsorted(lows - 1, start)
        past = np.searchsorted(lows - 1, np.maximum(end, start + 1))
        for a, b in zip(first[past > first].tolist(), past[past > first].tolist(),
                        strict=True):
            alone[a:b] = True
        keep = clean & ~alone[np.maximum(k, 0)]
        found.append((k[keep], start[keep], end[keep]))
    own = np.flatnonzero(alone)  # each read as its own slice, the loops in C
    if len(own):
        matches = list(map(list, map(partial(map, _SPAN), map(pattern.finditer, map(
            text.__getitem__, map(slice, lows[own].tolist(), highs[own].tolist()))))))
        count = np.fromiter(map(len, matches), dtype=np.int64, count=len(own))
        flat = np.fromiter(chain.from_iterable(chain.from_iterable(matches)), dtype=np.int64,
                           count=2 * int(count.sum()))
        low = np.repeat(lows[own], count)
        found.append((np.repeat(own, count), flat[0::2] + low, flat[1::2] + low))
    if not found:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    number, start, end = (np.concatenate(column) for column in zip(*found, strict=True))
    return number, start, end


def speaking_to_all(rules: Rules, family: str, text: str, bounds: Sequence[tuple[int, int]],
                    starts: np.ndarray, ends: np.ndarray) -> list[bool]:
    """Per text lying at `bounds` (low, high) in `text` (a matching form of many, each
    followed by a separator that is no word character), True when it names new areas as
    a class outside every form that stands there.

    starts, ends: the spans of the forms that stand in `text` (nothing-forms included),
    sorted by start. The patterns read each text as they would read it alone (`_spans`);
    the caller picks the texts of rules.general_documents, in text order.
    """
    general = [False] * len(bounds)
    if not bounds:
        return general
    lows, highs = (np.array(column, dtype=np.int64) for column in zip(*bounds, strict=True))
    found = [_spans(pattern, text, lows, highs) for pattern in rules.general_patterns[family]]
    if not found:
        return general
    number, start, end = (np.concatenate(column) for column in zip(*found, strict=True))
    if not len(number):
        return general
    inside = np.zeros(len(start), dtype=bool)
    if len(ends):
        last = np.searchsorted(starts, start, side="right") - 1
        reach = np.maximum.accumulate(ends)
        inside = (last >= 0) & (reach[np.maximum(last, 0)] >= end)
    flags = np.zeros(len(bounds), dtype=bool)
    flags[number[~inside]] = True
    return flags.tolist()

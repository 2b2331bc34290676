"""Overlap resolution: of forms that overlap, the longest (most specific) one wins.

南沙科学城 hides 南沙, 天津港 hides 天津, 粤港澳大湾区 hides 港澳, 哈尔滨国际冰雪节 hides
哈尔滨. A form that keeps what it contains (a corridor such as 西安—咸阳一体化) lets the
places named wholly inside it count as well, but never itself again.
"""

from __future__ import annotations

from typing import NamedTuple

from layers.linking.lexicon import Reading


class Candidate(NamedTuple):
    """A form at text[start:end] with the reading its context gave it."""

    start: int
    end: int
    reading: Reading


def resolve(candidates: list[Candidate]) -> list[Candidate]:
    """The candidates that stand, in text order.

    Longest first (leftmost among equals); a candidate stands when everything it overlaps
    that already stands is a keep-inner form containing it wholly and naming other places.
    """
    order = sorted(candidates, key=lambda c: (c.start - c.end, c.start))
    kept: list[Candidate] = []
    for cand in order:
        ok = True
        for other in kept:
            if other.end <= cand.start or cand.end <= other.start:
                continue
            inside = other.start <= cand.start and cand.end <= other.end
            if not (inside and other.reading.keep_inner
                    and not set(cand.reading.places) & set(other.reading.places)):
                ok = False
                break
        if ok:
            kept.append(cand)
    kept.sort(key=lambda c: (c.start, c.end))
    return kept

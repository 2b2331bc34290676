"""Overlap resolution: of forms that overlap, the longest (most specific) one wins.

南沙科学城 hides 南沙, 天津港 hides 天津, 粤港澳大湾区 hides 港澳, 哈尔滨国际冰雪节 hides
哈尔滨. A form that keeps what it contains (a corridor such as 西安—咸阳一体化) lets the
places named wholly inside it count as well, but never itself again.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import NamedTuple

from layers.linking.automaton import Hit
from layers.linking.lexicon import Reading


class Candidate(NamedTuple):
    """A form that stands at text[start:end], with the reading its context gave it."""

    start: int
    end: int
    reading: Reading


def resolve(hits: Iterable[Hit], reading_of: Callable[[Hit], Reading | None]) -> list[Candidate]:
    """The hits that stand, with their readings, in text order.

    Longest first (leftmost among equals). A hit stands when its context gives it a
    reading and everything it overlaps that already stands is a keep-inner form holding
    it wholly and naming other places. A hit without a reading hides nothing. Contexts
    are read lazily, only for hits not already hidden, which gives the same result as
    reading them all first.
    """
    kept: list[Candidate] = []
    for hit in sorted(hits, key=lambda h: (h.start - h.end, h.start)):
        holders = []
        for other in kept:
            if other.end <= hit.start or hit.end <= other.start:
                continue
            if other.reading.keep_inner and other.start <= hit.start and hit.end <= other.end:
                holders.append(other)
                continue
            break
        else:
            reading = reading_of(hit)
            if reading is not None and not any(
                set(reading.places) & set(h.reading.places) for h in holders
            ):
                kept.append(Candidate(hit.start, hit.end, reading))
    kept.sort(key=lambda c: (c.start, c.end))
    return kept

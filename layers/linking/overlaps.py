"""Overlap resolution: of forms that overlap, the longest (most specific) one wins.

南沙科学城 hides 南沙, 天津港 hides 天津, 粤港澳大湾区 hides 港澳, 哈尔滨国际冰雪节 hides
哈尔滨. A form that keeps what it contains (a corridor such as 西安—咸阳一体化) lets the
places named wholly inside it count as well, but never itself again.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from itertools import chain
from operator import itemgetter

from layers.linking.automaton import Hit
from layers.linking.lexicon import Reading

# A form that stands at text[start:end], with the reading its context gave it:
# (start, end, reading).
Candidate = tuple[int, int, Reading]

_START = itemgetter(0)
_LONGEST_FIRST = lambda hit: (hit[0] - hit[1], hit[0])  # noqa: E731
_IN_ORDER = itemgetter(0, 1)
_END = (math.inf, math.inf, None)


def _resolve_overlapping(hits: list[Hit], reading_of: Callable[[Hit], Reading | None],
                         kept: list[Candidate]) -> None:
    """resolve() for one cluster of hits that overlap among themselves: adds its
    candidates to `kept`, in text order."""
    first, end, key = min(hits, key=_LONGEST_FIRST)
    plain = key.plain
    if (not key.conditional and plain is not None and not plain.keep_inner
            and all(hit[0] < end and first < hit[1] for hit in hits)):
        # The usual case, a name and the shorter forms inside it (上海浦东新区: 浦东, 上海
        # 浦东, 浦东新区): the longest stands and hides everything it overlaps.
        kept.append((first, end, plain))
        return
    standing: list[Candidate] = []
    for hit in sorted(hits, key=_LONGEST_FIRST):
        start, end, key = hit
        holders = []
        for other in standing:
            if other[1] <= start or end <= other[0]:
                continue
            if other[2].keep_inner and other[0] <= start and end <= other[1]:
                holders.append(other)
                continue
            break
        else:
            reading = reading_of(hit) if key.conditional else key.plain
            if reading is not None and not any(
                set(reading.places) & set(h[2].places) for h in holders
            ):
                standing.append((start, end, reading))
    standing.sort(key=_IN_ORDER)
    kept.extend(standing)


def resolve(hits: Iterable[Hit], reading_of: Callable[[Hit], Reading | None]) -> list[Candidate]:
    """The hits that stand, with their readings, in text order.

    Longest first (leftmost among equals). A hit stands when its context gives it a
    reading and everything it overlaps that already stands is a keep-inner form holding
    it wholly and naming other places. A hit without a reading hides nothing. Contexts
    are read lazily (`reading_of`, only for keys with conditional readings), only for hits
    not already hidden, which gives the same result as reading them all first.

    Hits are taken in clusters that overlap among themselves and nothing outside: a hit
    alone is decided on its own, so the cost grows with the number of hits, not its
    square, however long the text.
    """
    kept: list[Candidate] = []
    cluster: list[Hit] = []
    reach = -1
    for hit in chain(sorted(hits, key=_START), (_END,)):  # _END closes the last cluster
        if hit[0] < reach:
            cluster.append(hit)
            if hit[1] > reach:
                reach = hit[1]
            continue
        if len(cluster) == 1:  # a hit alone stands if it has a reading
            start, end, key = alone = cluster[0]
            reading = reading_of(alone) if key.conditional else key.plain
            if reading is not None:
                kept.append((start, end, reading))
        elif cluster:
            _resolve_overlapping(cluster, reading_of, kept)
        cluster = [hit]
        reach = hit[1]
    return kept

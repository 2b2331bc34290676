"""Overlap resolution: of forms that overlap, the longest (most specific) one wins.

南沙科学城 hides 南沙, 天津港 hides 天津, 粤港澳大湾区 hides 港澳, 哈尔滨国际冰雪节 hides
哈尔滨. A form that keeps what it contains (a corridor such as 西安—咸阳一体化) lets the
places named wholly inside it count as well, but never itself again.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from operator import itemgetter

import numpy as np

from layers.linking.automaton import Hits, Keys
from layers.linking.lexicon import Key, Reading

# One hit as the rule-by-rule resolution reads it: (start, end, key).
Hit = tuple[int, int, Key]
# What stands: starts, ends and reading numbers (Keys.readings), in text order.
Kept = tuple[np.ndarray, np.ndarray, np.ndarray]

_LONGEST_FIRST = lambda hit: (hit[0] - hit[1], hit[0])  # noqa: E731
_IN_ORDER = itemgetter(0, 1)


def _resolve_cluster(hits: list[Hit], reading_of: Callable[[Hit], Reading | None]
                     ) -> list[tuple[int, int, Reading]]:
    """The rule, hit by hit, for one cluster of hits: (start, end, reading) in text order.

    Longest first (leftmost among equals). A hit stands when its context gives it a
    reading and everything it overlaps that already stands is a keep-inner form holding
    it wholly and naming other places. A hit without a reading hides nothing. Contexts
    are read lazily, only for hits not already hidden, which gives the same result as
    reading them all first.
    """
    standing: list[tuple[int, int, Reading]] = []
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
    return standing


SHAPES = 4096  # clusters whose outcome a Linker remembers by their shape (bounds its memory)
SHAPE_HITS = 64  # ...each of at most this many hits (a cluster's shape takes 24 bytes a hit)
_UNSEEN = object()


def _cluster_by_shape(shape: bytes, base: int, hits: Callable[[], list[tuple[Hit, bool]]],
                      keys: Keys, reading_of: Callable[[Hit], Reading | None],
                      shapes: dict | None) -> list[tuple[int, int, int]]:
    """`_resolve_cluster` as (start, end, reading number), remembered by the cluster's shape.

    Where the rule reads no context, what stands follows from the forms and where they lie
    relative to each other alone (a corridor over the places it names, 中新(重庆) over its
    park, the same wherever they occur): `shapes` keeps that outcome, in offsets from the
    cluster's first hit (at `base`), under `shape` (the hits' offsets from that first hit
    and their key numbers, as bytes). A cluster whose rule read a context is resolved
    afresh every time (its shape is marked so); `hits` gives its hits when it is resolved,
    each with whether its reading is settled (context.settled: its plain one, known
    without reading; the shape says which are).
    """
    known = shapes.get(shape, _UNSEEN) if shapes is not None else None
    if known is not None and known is not _UNSEEN:
        return [(start + base, end + base, number) for start, end, number in known]
    read = []
    listed = hits()
    plain = {id(hit) for hit, known in listed if known}

    def reading(hit: Hit) -> Reading | None:
        if id(hit) in plain:
            return hit[2].plain
        read.append(True)
        return reading_of(hit)

    found = [(start, end, keys.reading_number[id(r)])
             for start, end, r in _resolve_cluster([hit for hit, _ in listed], reading)]
    if known is _UNSEEN and len(shape) <= 24 * SHAPE_HITS:
        if len(shapes) >= SHAPES:
            shapes.clear()
        shapes[shape] = None if read else [(s - base, e - base, n) for s, e, n in found]
    return found


def resolve(hits: Hits, keys: Keys, reading_of: Callable[[Hit], Reading | None],
            settled: np.ndarray | None = None, shapes: dict | None = None) -> Kept:
    """The hits that stand, with their readings, in text order.

    Hits are taken in clusters that overlap among themselves and nothing outside (hits
    of different texts never overlap). Two kinds are decided at once, as arrays: a hit
    alone whose form has no context rules stands with its plain reading, if it has one;
    and a cluster whose longest hit (leftmost among equals) overlaps all the others and
    hides what it overlaps is that hit alone (上海浦东新区 over 浦东, 上海浦东 and 浦东新区).
    Where that longest hit has context rules (贵安新区 over 贵安, guarded), its reading is
    read first: one that does not keep what it holds makes it stand alone too. Every
    other cluster goes through the rule hit by hit (`_resolve_cluster`), which gives the
    same result for those kinds; `reading_of` is asked only for forms with context rules.
    settled: per hit, True where its reading is known to be its plain one although its
    form has context rules (context.settled): such a hit counts as one without.
    shapes: where the outcomes of clusters that read no context are remembered
    (`_cluster_by_shape`), one dict per `keys`; None resolves every cluster afresh.
    """
    starts, ends, numbers = hits
    total = len(starts)
    if not total:
        return starts, ends, numbers
    order = np.argsort(starts, kind="stable")
    starts, ends, numbers = starts[order], ends[order], numbers[order]
    conditional, hides = keys.conditional[numbers], keys.hides[numbers]
    if settled is not None:
        settled = settled[order]
        conditional = conditional & ~settled
        hides = hides | (settled & keys.plain_hides[numbers])
    opens = np.ones(total, dtype=bool)  # a hit that overlaps none before it opens a cluster
    opens[1:] = starts[1:] >= np.maximum.accumulate(ends)[:-1]
    heads = np.flatnonzero(opens)
    cluster = np.cumsum(opens) - 1
    size = np.diff(np.append(heads, total))
    # each cluster's longest hit, leftmost among equals: the first (hits are in order of
    # start) of its hits as long as its longest (one O(n) pass each, not a sort)
    length = ends - starts
    longest = np.flatnonzero(length == np.maximum.reduceat(length, heads)[cluster])
    lead = longest[np.searchsorted(longest, heads)]
    lead_start, lead_end, lead_key = starts[lead], ends[lead], numbers[lead]
    covered = np.logical_and.reduceat(
        (starts < lead_end[cluster]) & (lead_start[cluster] < ends), heads)
    at_once = np.where(size == 1, ~conditional[lead], hides[lead] & covered)
    stands = at_once & (keys.plain[lead_key] >= 0)
    kept_start, kept_end = [lead_start[stands]], [lead_end[stands]]
    kept_reading = [keys.plain[lead_key[stands]]]
    rest: list[tuple[int, int, int]] = []
    if not at_once.all():
        members = np.repeat(~at_once, size)  # the hits of the clusters left
        left_start, left_end, left_key = starts[members], ends[members], numbers[members]
        lengths = size[~at_once]
        first_hit = np.cumsum(lengths) - lengths  # where each cluster left begins among them
        left_settled = (settled[members] if settled is not None
                        else np.zeros(len(left_key), dtype=bool))
        # A cluster's shape: its hits' offsets from its first hit, their key numbers and
        # whether each is settled, three int64 per hit, cut from one string of bytes (no
        # tuples built per hit).
        base = np.repeat(left_start[first_hit], lengths)
        blob = np.stack([left_start - base, left_end - base, 2 * left_key + left_settled],
                        axis=1).tobytes()
        left_start, left_end = left_start.tolist(), left_end.tolist()
        left_key, left_settled = left_key.tolist(), left_settled.tolist()
        key_of, number_of = keys.keys, keys.reading_number

        def hits_of(head: int, length: int) -> list[tuple[Hit, bool]]:
            return [((left_start[k], left_end[k], key_of[left_key[k]]), left_settled[k])
                    for k in range(head, head + length)]

        # A hit alone (of a form with context rules), or the longest hit of a cluster when
        # it overlaps all the others and has context rules: read it first. Alone, it stands
        # if it has a reading; the longest stands alone if its reading does not keep what
        # it holds (the rule hit by hit gives the same). Other clusters go hit by hit.
        by_lead = ((size == 1) | (covered & conditional[lead]))[~at_once].tolist()
        lead_at = (lead - heads)[~at_once].tolist()  # where the lead is in its cluster
        for head, length, first, at in zip(first_hit.tolist(), lengths.tolist(), by_lead,
                                           lead_at, strict=True):
            if first:
                k = head + at
                start, end = left_start[k], left_end[k]
                reading = reading_of((start, end, key_of[left_key[k]]))
                if reading is not None and (length == 1 or not reading.keep_inner):
                    rest.append((start, end, number_of[id(reading)]))
                    continue
            if length > 1:
                rest.extend(_cluster_by_shape(
                    blob[24 * head:24 * (head + length)], left_start[head],
                    partial(hits_of, head, length), keys, reading_of, shapes))
    if rest:
        extra = np.array(rest, dtype=np.int64)
        kept_start.append(extra[:, 0])
        kept_end.append(extra[:, 1])
        kept_reading.append(extra[:, 2])
    kept_start, kept_end = np.concatenate(kept_start), np.concatenate(kept_end)
    kept_reading = np.concatenate(kept_reading)
    in_order = np.lexsort((kept_end, kept_start))
    return kept_start[in_order], kept_end[in_order], kept_reading[in_order]

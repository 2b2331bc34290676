"""Overlap resolution: of forms that overlap, the longest (most specific) one wins.

南沙科学城 hides 南沙, 天津港 hides 天津, 粤港澳大湾区 hides 港澳, 哈尔滨国际冰雪节 hides
哈尔滨. A form that keeps what it contains (a corridor such as 西安—咸阳一体化) lets the
places named wholly inside it count as well, but never itself again.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from layers.linking.automaton import Hits, Keys

# What stands: starts, ends and reading numbers (Keys.readings), in text order.
Kept = tuple[np.ndarray, np.ndarray, np.ndarray]
# Reads the contexts of hits of forms with context rules: their reading numbers (-1: none).
Read = Callable[[Hits], np.ndarray]

SHAPES = 4096  # cluster shapes whose outcome a Linker remembers (bounds its memory)
SHAPE_HITS = 64  # ...each of at most this many hits (a cluster's shape takes 24 bytes a hit)


def _resolve_shape(hits: list[tuple[int, int, int]], keys: Keys) -> list[tuple[int, int, int]]:
    """The rule, hit by hit, for one cluster of hits (start, end, reading number; -1 for
    none), each read in its context: what stands, in text order.

    Longest first (leftmost among equals). A hit stands when it has a reading and
    everything it overlaps that already stands is a keep-inner form holding it wholly and
    naming other places. A hit without a reading hides nothing.
    """
    readings = keys.readings
    standing: list[tuple[int, int, int]] = []
    for start, end, number in sorted(hits, key=lambda hit: (hit[0] - hit[1], hit[0])):
        holders = []
        for other in standing:
            if other[1] <= start or end <= other[0]:
                continue
            if readings[other[2]].keep_inner and other[0] <= start and end <= other[1]:
                holders.append(other)
                continue
            break
        else:
            if number >= 0 and not any(set(readings[number].places)
                                       & set(readings[h[2]].places) for h in holders):
                standing.append((start, end, number))
    standing.sort()
    return standing


def _outcome(shape: bytes, keys: Keys, known: dict | None) -> np.ndarray:
    """What stands of a cluster of the given shape (its hits, three int64 each: start and
    end from the cluster's first hit, and reading), as rows of the same three columns;
    `known` remembers them across calls (bounded by SHAPES)."""
    found = known.get(shape) if known is not None else None
    if found is None:
        hits = np.frombuffer(shape, dtype=np.int64).reshape(-1, 3).tolist()
        found = np.array(_resolve_shape(hits, keys), dtype=np.int64).reshape(-1, 3)
        if known is not None and len(shape) <= 24 * SHAPE_HITS:
            if len(known) >= SHAPES:
                known.clear()
            known[shape] = found
    return found


def _by_shape(starts: np.ndarray, ends: np.ndarray, readings: np.ndarray, heads: np.ndarray,
              sizes: np.ndarray, keys: Keys, known: dict | None) -> Kept:
    """What stands of the clusters of hits heads[c]:heads[c]+sizes[c], each by the rule hit
    by hit; clusters of one shape (the same forms in the same places relative to each
    other, read alike) are resolved once and their outcome laid over each of them."""
    firsts = np.cumsum(sizes) - sizes  # where each cluster begins among their hits
    hit = np.arange(int(sizes.sum())) - np.repeat(firsts - heads, sizes)
    base = np.repeat(starts[heads], sizes)
    blob = np.stack([starts[hit] - base, ends[hit] - base, readings[hit]], axis=1).tobytes()
    numbered: dict[bytes, int] = {}  # each shape by its number, in order of first sight
    which = np.array([numbered.setdefault(blob[a:b], len(numbered)) for a, b in zip(
        (24 * firsts).tolist(), (24 * (firsts + sizes)).tolist(), strict=True)],
        dtype=np.int64)
    outcomes = [_outcome(shape, keys, known) for shape in numbered]
    lengths = np.array([len(outcome) for outcome in outcomes], dtype=np.int64)
    count = lengths[which]  # rows standing per cluster
    flat = np.concatenate(outcomes)
    cluster = np.repeat(np.arange(len(heads)), count)
    row = (np.repeat((np.cumsum(lengths) - lengths)[which], count) + np.arange(len(cluster))
           - np.repeat(np.cumsum(count) - count, count))
    offset = starts[heads][cluster]
    return flat[row, 0] + offset, flat[row, 1] + offset, flat[row, 2]


def resolve(hits: Hits, keys: Keys, read: Read, settled: np.ndarray | None = None,
            shapes: dict | None = None) -> Kept:
    """The hits that stand, with their readings, in text order.

    Hits are taken in clusters that overlap among themselves and nothing outside (hits
    of different texts never overlap). A cluster is decided at once, as arrays, when it is
    one hit (it stands if it has a reading) or when its longest hit (leftmost among
    equals) overlaps all the others and has a reading that does not keep what it holds
    (上海浦东新区 over 浦东, 上海浦东 and 浦东新区): that hit stands alone. Contexts are read
    (`read`, all at once) only for the forms with context rules in clusters that the
    plain readings alone leave open; every other cluster goes through the rule hit by hit
    (`_by_shape`), which gives the same result for the kinds decided at once.
    settled: per hit, True where its reading is known to be its plain one although its
    form has context rules (context.settled): such a hit is not read.
    shapes: where the outcomes of cluster shapes are remembered, one dict per `keys`;
    None resolves every shape afresh.
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
    covered = np.logical_and.reduceat(
        (starts < ends[lead][cluster]) & (starts[lead][cluster] < ends), heads)
    readings = keys.plain[numbers]
    # the clusters the plain readings decide; the forms with rules in the others are read
    plainly = np.where(size == 1, ~conditional[lead], hides[lead] & covered)
    ask = np.flatnonzero(np.repeat(~plainly, size) & conditional)
    if len(ask):
        readings[ask] = read((starts[ask], ends[ask], numbers[ask]))
    lead_reading = readings[lead]
    alone = (size == 1) | (covered & (lead_reading >= 0) & ~keys.keep_inner[lead_reading])
    stands = alone & (lead_reading >= 0)
    kept_start, kept_end, kept_reading = starts[lead[stands]], ends[lead[stands]], \
        lead_reading[stands]
    if not alone.all():
        start, end, reading = _by_shape(starts, ends, readings, heads[~alone], size[~alone],
                                        keys, shapes)
        kept_start = np.concatenate([kept_start, start])
        kept_end = np.concatenate([kept_end, end])
        kept_reading = np.concatenate([kept_reading, reading])
    in_order = np.lexsort((kept_end, kept_start))
    return kept_start[in_order], kept_end[in_order], kept_reading[in_order]

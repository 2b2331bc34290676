"""Which reading of a form holds where it stands (the context rules at work), many hits at once."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import repeat
from operator import attrgetter, itemgetter

import numpy as np

from layers.linking.automaton import Hits, Keys
from layers.linking.rules import NameGuard, Rules


def readings_at(keys: Keys, rules: Rules, family: str, text: str, text_starts: Sequence[int],
                documents: Sequence[str], hits: Hits) -> np.ndarray:
    """Per hit, the number of the reading its context gives (Keys.readings; -1 for none):
    the first conditional reading one of whose rules holds there, else the plain one.

    哈尔滨 in 哈尔滨、长春等新区 is the Harbin New Area; elsewhere it has no plain reading
    and names nothing. A guarded form right after another province's or city's name
    names nothing (汕头滨海新区 is Shantou's). text_starts: where each text joined in
    `text` begins (one more entry after the last), documents: each text's document; a
    rule's window stays inside the hit's own text. The hits of each form are read at once.
    """
    starts, ends, numbers = hits
    found = keys.plain[numbers]
    if not len(numbers):
        return found
    bounds = np.asarray(text_starts)
    which = np.searchsorted(bounds, starts, side="right") - 1
    lows, highs = bounds[which], bounds[which + 1] - 1
    open_ = np.ones(len(numbers), dtype=bool)  # no conditional reading holds yet
    guarded = np.flatnonzero(keys.has_guard[numbers])
    guarded = guarded[_may_follow_a_name(keys, text, starts[guarded], lows[guarded])]
    if len(guarded):  # 汕头滨海新区: another city's own new area
        voided = guarded[np.fromiter(
            map(NameGuard.voids, map(_GUARD, map(keys.keys.__getitem__,
                                                 numbers[guarded].tolist())),
                repeat(text), starts[guarded].tolist(), lows[guarded].tolist()),
            dtype=bool, count=len(guarded))]
        found[voided] = -1
        open_[voided] = False
    for slot, names in keys.slots:  # each key's first conditional reading, then its second…
        reading = slot[numbers]
        asked = open_ & (reading >= 0)
        holds = np.zeros(len(numbers), dtype=bool)
        for name, named in names.items():  # any of a reading's rules holding is enough
            ask = np.flatnonzero(asked & named[numbers] & ~holds)
            if len(ask):
                holds[ask] = rules.contexts[name].holds_at(
                    list(map(documents.__getitem__, which[ask].tolist())), family, text,
                    starts[ask], ends[ask], rules.window, lows[ask], highs[ask])
        found[holds] = reading[holds]
        open_ &= ~holds
    return found


_GUARD = attrgetter("guard")


def settled(keys: Keys, text: str, hits: Hits, text_starts: Sequence[int]) -> np.ndarray:
    """Per hit, True for a form whose only rule is a guard (贵安新区) that no name can void
    where it stands: the character before it is the last of no guard's name, or it
    begins its text. Its reading is its plain one, known without `readings_at`.

    text_starts: where each text joined in `text` begins (the guard reads no further).
    The same test as rules.may_end_a_name, made for every guarded hit at once.
    """
    starts, _, numbers = hits
    found = np.zeros(len(numbers), dtype=bool)
    guarded = np.flatnonzero(keys.guarded[numbers])
    if not len(guarded):
        return found
    at = starts[guarded]
    lows = np.asarray(text_starts)[np.searchsorted(text_starts, at, side="right") - 1]
    found[guarded] = ~_may_follow_a_name(keys, text, at, lows)
    return found


def _may_follow_a_name(keys: Keys, text: str, at: np.ndarray, lows: np.ndarray) -> np.ndarray:
    """rules.may_end_a_name for all positions `at` (each in a text beginning at `lows`)
    at once: room for a name of two characters, and the character before ends one of a
    guard's names (the characters picked out and looked up in C)."""
    room = np.flatnonzero(at - lows >= 2)
    before = itemgetter(*(at[room] - 1).tolist())(text) if len(room) else ()
    if len(room) == 1:
        before = (before,)
    ends = np.zeros(len(at), dtype=bool)
    ends[room] = np.fromiter(map(keys.guard_ends.__contains__, before), dtype=bool,
                             count=len(room))
    return ends

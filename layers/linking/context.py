"""Which reading of a form holds at one place in a text (the context rules at work)."""

from __future__ import annotations

from collections.abc import Sequence
from operator import itemgetter

import numpy as np

from layers.linking.automaton import Hits, Keys
from layers.linking.lexicon import Key, Reading
from layers.linking.rules import Rules


def reading_at(key: Key, rules: Rules, document: str, family: str, text: str, start: int,
               end: int, bounds: tuple[int, int] | None = None) -> Reading | None:
    """The first conditional reading whose rule holds here, else the plain one, else None.

    哈尔滨 in 哈尔滨、长春等新区 is the Harbin New Area; elsewhere it has no plain reading
    and names nothing. A guarded form right after another province's or city's name
    names nothing (汕头滨海新区 is Shantou's). bounds: where the unit's own text lies in
    `text` (see ContextRule.holds).
    """
    if key.guard is not None and key.guard.voids(text, start, bounds[0] if bounds else 0):
        return None  # 汕头滨海新区: another city's own new area
    if not key.conditional:
        return key.plain
    for reading in key.conditional:
        for name in reading.when:
            if rules.contexts[name].holds(document, family, text, start, end, rules.window,
                                          bounds):
                return reading
    return key.plain


def settled(keys: Keys, text: str, hits: Hits, text_starts: Sequence[int]) -> np.ndarray:
    """Per hit, True for a form whose only rule is a guard (贵安新区) that no name can void
    where it stands: the character before it is the last of no guard's name, or it
    begins its text. Its reading is its plain one, known without `reading_at`.

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
    # may_end_a_name for all at once: room for a name of two characters, and the
    # character before ends one (the characters picked out and looked up in C)
    room = np.flatnonzero(at - lows >= 2)
    before = itemgetter(*(at[room] - 1).tolist())(text) if len(room) else ()
    if len(room) == 1:
        before = (before,)
    ends = np.zeros(len(at), dtype=bool)
    ends[room] = np.fromiter(map(keys.guard_ends.__contains__, before), dtype=bool,
                             count=len(room))
    found[guarded] = ~ends
    return found

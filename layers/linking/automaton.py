"""One Aho-Corasick automaton per matching family: every key found in one pass.

The scan costs time linear in the text whatever the number of keys (pyahocorasick). The
automaton stores key numbers, so the hits of a whole batch of texts come out as arrays in
one C-level pass, and what is read per hit (a key's length, whether it has context rules,
its plain reading) is an array indexed by key number (`Keys`): a large corpus has
thousands of hits per megabyte, and no Python runs per hit. English hits that start or
end inside a word are dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain

import ahocorasick
import numpy as np

from layers.linking import english
from layers.linking.lexicon import Key, Reading

# The hits of a scan: starts, ends and key numbers, one entry per hit (text[start:end]).
Hits = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class Keys:
    """A family's keys, numbered as the automaton stores them, and their readings.

    Per key number k: keys[k], its length size[k], conditional[k] (it has context rules),
    plain[k] (its plain reading's number, -1 for none), hides[k] (its only reading is a
    plain one that does not keep what it contains: standing, it hides all it overlaps),
    guarded[k] (its only rule is a guard: it reads as its plain reading unless a name
    before it voids it) and plain_hides[k] (its plain reading, standing, hides all it
    overlaps). guard_ends: the last characters of every guard's names.
    Per reading number r: readings[r], its places place_ids[first[r]:first[r]+count[r]],
    keep_inner[r] (the places inside it count too; one more entry, False, is what -1, no
    reading, reads); reading_number maps id(reading) to r.
    """

    keys: list[Key]
    size: np.ndarray
    conditional: np.ndarray
    plain: np.ndarray
    hides: np.ndarray
    guarded: np.ndarray
    plain_hides: np.ndarray
    guard_ends: frozenset[str]
    has_guard: np.ndarray
    slots: tuple[tuple[np.ndarray, dict[str, np.ndarray]], ...]
    readings: list[Reading]
    reading_number: dict[int, int]
    keep_inner: np.ndarray
    first: np.ndarray
    count: np.ndarray
    place_ids: np.ndarray

    @classmethod
    def of(cls, keys: dict[str, Key]) -> Keys:
        listed = list(keys.values())
        readings = list({id(r): r for key in listed for r in key.readings}.values())
        number = {id(r): n for n, r in enumerate(readings)}
        count = np.array([len(r.places) for r in readings], dtype=np.int64)
        place_ids = np.array([p for r in readings for p in r.places] or [], dtype=object)
        return cls(
            keys=listed,
            size=np.array([len(key.text) for key in listed], dtype=np.int64),
            conditional=np.array([bool(key.conditional) for key in listed], dtype=bool),
            plain=np.array([-1 if key.plain is None else number[id(key.plain)] for key in listed],
                           dtype=np.int64),
            hides=np.array([not key.conditional and key.plain is not None
                            and not key.plain.keep_inner for key in listed], dtype=bool),
            guarded=np.array([key.guard is not None and key.plain is not None
                              and len(key.conditional) == 1 and key.conditional[0] is key.plain
                              for key in listed], dtype=bool),
            plain_hides=np.array([key.plain is not None and not key.plain.keep_inner
                                  for key in listed], dtype=bool),
            guard_ends=frozenset().union(*(key.guard.ends for key in listed if key.guard)),
            has_guard=np.array([key.guard is not None for key in listed], dtype=bool),
            slots=tuple(_slot(listed, j, number) for j in range(
                max((len(key.conditional) for key in listed), default=0))),
            readings=readings,
            reading_number=number,
            keep_inner=np.array([r.keep_inner for r in readings] + [False], dtype=bool),
            first=np.cumsum(count) - count,
            count=count,
            place_ids=place_ids,
        )


def _slot(keys: list[Key], j: int, number: dict[int, int]
          ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Keys.slots[j]: each key's j-th conditional reading and the rules it names."""
    nth = [key.conditional[j] if j < len(key.conditional) else None for key in keys]
    names = sorted({name for reading in nth if reading is not None for name in reading.when})
    return (np.array([-1 if r is None else number[id(r)] for r in nth], dtype=np.int64),
            {name: np.array([r is not None and name in r.when for r in nth], dtype=bool)
             for name in names})


def build(keys: Keys) -> ahocorasick.Automaton:
    """An automaton over the given keys; each stored value is the key's number."""
    automaton = ahocorasick.Automaton()
    for number, key in enumerate(keys.keys):
        automaton.add_word(key.text, number)
    if len(automaton):
        automaton.make_automaton()
    return automaton


def scan(automaton: ahocorasick.Automaton, keys: Keys, text: str, words: bool) -> Hits:
    """Every key occurrence in `text`, overlapping ones included, in order of their ends.

    words: English, where a hit must lie on word boundaries.
    """
    if not len(automaton):
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty
    found = np.fromiter(chain.from_iterable(automaton.iter(text)), dtype=np.int64)
    ends, numbers = found[0::2] + 1, found[1::2]
    starts = ends - keys.size[numbers]
    if words:
        keep = english.on_word_boundaries(text, starts, ends)
        return starts[keep], ends[keep], numbers[keep]
    return starts, ends, numbers

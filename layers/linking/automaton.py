"""One Aho-Corasick automaton per matching family: every key found in one pass.

The scan costs time linear in the text whatever the number of keys (pyahocorasick);
English hits that start or end inside a word are dropped.
"""

from __future__ import annotations

from typing import NamedTuple

import ahocorasick

from layers.linking import english
from layers.linking.lexicon import Key


class Hit(NamedTuple):
    """A key found at text[start:end] (positions in the matching form)."""

    start: int
    end: int
    key: Key


def build(keys: dict[str, Key]) -> ahocorasick.Automaton:
    """An automaton over the given keys; each stored value is the Key itself."""
    automaton = ahocorasick.Automaton()
    for text, key in keys.items():
        automaton.add_word(text, key)
    if len(automaton):
        automaton.make_automaton()
    return automaton


def scan(automaton: ahocorasick.Automaton, text: str, words: bool) -> list[Hit]:
    """Every key occurrence in `text`, overlapping ones included.

    words: English, where a hit must lie on word boundaries.
    """
    if not len(automaton):
        return []
    hits = []
    for last, key in automaton.iter(text):
        end = last + 1
        start = end - len(key.text)
        if words and not english.on_word_boundaries(text, start, end):
            continue
        hits.append(Hit(start, end, key))
    return hits

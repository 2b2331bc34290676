"""One Aho-Corasick automaton per matching family: every key found in one pass.

The scan costs time linear in the text whatever the number of keys (pyahocorasick);
English hits that start or end inside a word are dropped. Hits are plain tuples, built
in one comprehension: a large corpus has thousands of them per megabyte.
"""

from __future__ import annotations

import ahocorasick

from layers.linking import english
from layers.linking.lexicon import Key

Hit = tuple[int, int, Key]  # (start, end, key): a key found at text[start:end]


def build(keys: dict[str, Key]) -> ahocorasick.Automaton:
    """An automaton over the given keys; each stored value is (length of the key, Key)."""
    automaton = ahocorasick.Automaton()
    for text, key in keys.items():
        automaton.add_word(text, (len(text), key))
    if len(automaton):
        automaton.make_automaton()
    return automaton


def scan(automaton: ahocorasick.Automaton, text: str, words: bool) -> list[Hit]:
    """Every key occurrence in `text`, overlapping ones included, in order of their ends.

    words: English, where a hit must lie on word boundaries.
    """
    if not len(automaton):
        return []
    hits = [(last + 1 - size, last + 1, key) for last, (size, key) in automaton.iter(text)]
    if words:
        return [hit for hit in hits if english.on_word_boundaries(text, hit[0], hit[1])]
    return hits

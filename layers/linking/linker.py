"""Find every place mention in every unit's text, in each of its language versions.

Units are linked in batches, one language version at a time: the batch's texts in their
matching form (layers.linking.matching: normalised together, English folded further) are
scanned as one string with the family's automaton; every hit gets the reading its
context allows (rules are read only for forms that have them), the longest of
overlapping forms is kept, and the survivors are mapped back to display-text offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from layers.documents import LANGS
from layers.linking import automaton
from layers.linking.context import reading_at
from layers.linking.general import speaking_to_all
from layers.linking.lexicon import Lexicon, Reading, load_lexicon
from layers.linking.matching import matching_form
from layers.linking.overlaps import Hit, resolve
from layers.linking.rules import FAMILIES, Rules, family_of, load_rules
from layers.paths import LINKING_DIR

MENTION_COLUMNS = ["unit_id", "place_id", "lang", "start", "end", "surface"]
UNIT_PLACE_COLUMNS = ["unit_id", "place_id", "langs"]
BATCH_CHARACTERS = 1_000_000  # text linked in one pass: bounds the memory a batch takes


class Mention(NamedTuple):
    """A place named in unit.text[lang][start:end] (display-text offsets)."""

    unit_id: str
    place_id: str
    lang: str
    start: int
    end: int
    surface: str


@dataclass(frozen=True)
class Links:
    """What the linker found.

    mentions: one row per place per span (港澳 gives two rows on one span);
    unit_places: one row per unit and place named, `langs` the comma-separated language
    versions that name it (in zh-Hans, zh-Hant, en order);
    general_units: ids of the units addressed to all new areas, in unit order.
    """

    mentions: pd.DataFrame
    unit_places: pd.DataFrame
    general_units: list[str]


def batches(units: Iterable, characters: int | None = None) -> Iterator[list]:
    """The units in consecutive lists of about `characters` characters of text each
    (BATCH_CHARACTERS unless given)."""
    characters = BATCH_CHARACTERS if characters is None else characters
    batch: list = []
    size = 0
    for unit in units:
        batch.append(unit)
        size += sum(map(len, unit.text.values()))
        if size >= characters:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


class Linker:
    """The lexicon, rules and automata, built once and used for any number of units."""

    def __init__(self, lexicon: Lexicon, rules: Rules):
        self.lexicon = lexicon
        self.rules = rules
        self.keys = {family: automaton.Keys.of(lexicon.keys[family]) for family in FAMILIES}
        self.automata = {family: automaton.build(self.keys[family]) for family in FAMILIES}

    @classmethod
    def load(cls, gazetteer, linking_dir: Path = LINKING_DIR) -> Linker:
        """Read rules.yaml and aliases.yaml against `gazetteer`; errors name file and entry."""
        rules = load_rules(linking_dir)
        return cls(load_lexicon(gazetteer, rules, linking_dir), rules)

    def _link_version(self, lang: str, documents: list[str], texts: list[str],
                      general: list[bool]) -> tuple[np.ndarray, ...]:
        """The mentions in one language version of many units, as arrays (text index,
        place_id, start, end) in text order; sets general[i] for a text that speaks to
        all new areas (not looked for where another version already said so)."""
        family = family_of(lang)
        keys = self.keys[family]
        form = matching_form(texts, lang)
        text, rules = form.text, self.rules

        def reading_of(hit: Hit) -> Reading | None:  # for forms with context rules only
            start, end, key = hit
            i = form.text_at(start)
            return reading_at(key, rules, documents[i], family, text, start, end,
                              form.bounds(i))

        hits = automaton.scan(self.automata[family], keys, text, words=family == "en")
        starts, ends, readings = resolve(hits, keys, reading_of)
        count = keys.count[readings]  # a row per place: 港澳 names two
        row = np.repeat(np.arange(len(readings)), count)
        nth = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
        places = keys.place_ids[keys.first[readings][row] + nth]
        which = form.texts_at(starts[row])
        first, last = form.display_spans(which, starts[row], ends[row])
        candidates = [i for i, document in enumerate(documents)
                      if not general[i] and document in rules.general_documents]
        if candidates:  # the texts that speak to all new areas, found at once
            bounds = [form.bounds(i) for i in candidates]
            for i, flag in zip(candidates, speaking_to_all(rules, family, text, bounds, starts,
                                                           ends), strict=True):
                general[i] = flag
        return which, places, first, last

    def _link_batch(self, units: list) -> tuple[dict[str, np.ndarray], list[bool]]:
        """The mentions of a batch of units as MENTION_COLUMNS arrays (unit by unit, each in
        LANGS order, spans in text order), and which units are general."""
        general = [False] * len(units)
        found: list[tuple[np.ndarray, ...]] = []
        for number, lang in enumerate(LANGS):
            chosen = [i for i, unit in enumerate(units) if unit.text.get(lang)]
            if not chosen:
                continue
            flags = [general[i] for i in chosen]
            which, places, first, last = self._link_version(
                lang, [units[i].document for i in chosen],
                [units[i].text[lang] for i in chosen], flags)
            for i, flag in zip(chosen, flags, strict=True):
                general[i] = flag
            found.append((np.array(chosen, dtype=np.int64)[which],
                          np.full(len(which), number), first, last, places))
        if not found:
            return _no_mentions(), general
        owner, version, first, last, places = (np.concatenate(column)
                                               for column in zip(*found, strict=True))
        order = np.lexsort((np.arange(len(owner)), version, owner))  # stable: LANGS order
        owner, version, first, last = owner[order], version[order], first[order], last[order]
        surfaces = [units[u].text[LANGS[v]][a:b] for u, v, a, b in zip(
            owner.tolist(), version.tolist(), first.tolist(), last.tolist(), strict=True)]
        return {
            "unit_id": np.array([unit.id for unit in units], dtype=object)[owner],
            "place_id": places[order],
            "lang": _LANG_NAMES[version],
            "start": first,
            "end": last,
            "surface": np.array(surfaces, dtype=object),
        }, general

    def iter_unit(self, unit) -> tuple[list[Mention], bool]:
        """The mentions of one unit in all its versions, and whether it is general."""
        columns, general = self._link_batch([unit])
        return _mentions(columns), general[0]

    def link(self, units: Iterable) -> Links:
        """Link every unit; see Links for what comes back."""
        found: list[dict[str, np.ndarray]] = []
        general_units: list[str] = []
        for batch in batches(units):
            columns, general = self._link_batch(batch)
            found.append(columns)
            general_units.extend(unit.id for unit, flag in zip(batch, general, strict=True)
                                 if flag)
        columns = {name: np.concatenate([part[name] for part in found])
                   for name in MENTION_COLUMNS} if found else _no_mentions()
        if len(columns["unit_id"]):
            mentions = pd.DataFrame(columns)
        else:  # as a table of no rows always was
            mentions = pd.DataFrame([], columns=MENTION_COLUMNS)
        mentions = mentions.astype({"start": "int64", "end": "int64"})
        return Links(mentions, unit_places(mentions), general_units)


_LANG_NAMES = np.array(LANGS, dtype=object)


def _no_mentions() -> dict[str, np.ndarray]:
    return {name: np.zeros(0, dtype=np.int64 if name in ("start", "end") else object)
            for name in MENTION_COLUMNS}


def _mentions(columns: dict[str, np.ndarray]) -> list[Mention]:
    return [Mention(*row) for row in zip(*(columns[name].tolist() for name in MENTION_COLUMNS),
                                         strict=True)]


def unit_places(mentions: pd.DataFrame) -> pd.DataFrame:
    """One row per (unit, place), in order of first mention, with the versions naming it."""
    if mentions.empty:
        return pd.DataFrame([], columns=UNIT_PLACE_COLUMNS)
    units, _ = pd.factorize(mentions["unit_id"])
    places, place_ids = pd.factorize(mentions["place_id"])
    langs, names = pd.factorize(mentions["lang"])
    bits = np.array([_LANG_BIT[name] for name in names], dtype=np.int64)[langs]  # a bit each
    pairs = units.astype(np.int64) * len(place_ids) + places
    order = np.argsort(pairs, kind="stable")
    pairs = pairs[order]
    heads = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    first = order[heads]  # each pair's first mention (the sort is stable)
    versions = np.bitwise_or.reduceat(bits[order], heads)
    by_first = np.argsort(first)
    first, versions = first[by_first], versions[by_first]
    return pd.DataFrame({
        "unit_id": mentions["unit_id"].to_numpy(dtype=object)[first],
        "place_id": mentions["place_id"].to_numpy(dtype=object)[first],
        "langs": _LANGS_OF[versions],
    })


_LANG_BIT = {lang: 1 << i for i, lang in enumerate(LANGS)}
_LANGS_OF = np.array([",".join(lang for lang in LANGS if bits & _LANG_BIT[lang])
                      for bits in range(1 << len(LANGS))], dtype=object)


def iter_mentions(linker: Linker, units: Iterable) -> Iterator[Mention]:
    """Mentions batch by batch, without collecting them all: for streaming large corpora."""
    for batch in batches(units):
        yield from _mentions(linker._link_batch(batch)[0])


def link_units(units: Iterable, gazetteer, linking_dir: Path = LINKING_DIR) -> Links:
    """Find every place mention in every unit (the build's entry point).

    Raises LinkingError (UnknownPlaceError, AmbiguousAliasError) when the linking data
    does not fit the gazetteer; the message names the file, the entry and the places.
    """
    return Linker.load(gazetteer, linking_dir).link(units)

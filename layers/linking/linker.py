"""Find every place mention in every unit's text, in each of its language versions.

Units are linked in batches, one language version at a time: the batch's texts in their
matching form (layers.linking.matching: normalised together, English folded further) are
scanned as one string with the family's automaton; every hit gets the reading its
context allows (rules are read only for forms that have them), the longest of
overlapping forms is kept, and the survivors are mapped back to display-text offsets.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

from layers.documents.model import LANGS
from layers.linking import automaton
from layers.linking.context import readings_at, settled
from layers.linking.general import speaking_to_all
from layers.linking.lexicon import Lexicon, load_lexicon
from layers.linking.matching import matching_form
from layers.linking.overlaps import resolve
from layers.linking.rules import FAMILIES, Rules, family_of, load_rules
from layers.paths import LINKING_DIR

MENTION_COLUMNS = ["unit_id", "place_id", "lang", "start", "end", "surface"]
UNIT_PLACE_COLUMNS = ["unit_id", "place_id", "langs"]
BATCH_CHARACTERS = 2_000_000  # text linked in one pass: bounds the memory a batch takes


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
        # Outcomes of clusters of overlapping forms, by their shape (overlaps.resolve). A
        # Linker shared by threads (the service's cached one) shares them safely: entries
        # are only added whole, read, or all cleared, each one dict operation.
        self.shapes: dict[str, dict] = {family: {} for family in FAMILIES}
        # Every place by number, and per family the number of each of Keys.place_ids:
        # mentions are found and grouped as numbers, their ids looked up once at the end.
        ids = sorted({place for keys in self.keys.values() for place in keys.place_ids.tolist()})
        number = {place: n for n, place in enumerate(ids)}
        self.place_ids = np.array(ids, dtype=object)
        self.place_numbers = {
            family: np.array([number[p] for p in keys.place_ids.tolist()], dtype=np.int64)
            for family, keys in self.keys.items()}

    @classmethod
    def load(cls, gazetteer, linking_dir: Path = LINKING_DIR) -> Linker:
        """Read rules.yaml and aliases.yaml against `gazetteer`; errors name file and entry."""
        rules = load_rules(linking_dir)
        return cls(load_lexicon(gazetteer, rules, linking_dir), rules)

    def _link_version(self, lang: str, documents: list[str], texts: list[str],
                      ask: np.ndarray) -> tuple[np.ndarray, ...]:
        """The mentions in one language version of many units, as arrays (text index,
        place number, start, end) in text order, and of the texts numbered in `ask` (those
        not known to be general from another version), the ones that speak to all new
        areas."""
        family = family_of(lang)
        keys = self.keys[family]
        form = matching_form(texts, lang)
        text, rules = form.text, self.rules

        def read(hits: automaton.Hits) -> np.ndarray:  # forms with context rules only
            return readings_at(keys, rules, family, text, form.starts, documents, hits)

        hits = automaton.scan(self.automata[family], keys, text, words=family == "en")
        starts, ends, readings = resolve(hits, keys, read,
                                         settled(keys, text, hits, form.starts),
                                         self.shapes[family])
        count = keys.count[readings]  # a row per place: 港澳 names two
        row = np.repeat(np.arange(len(readings)), count)
        nth = np.arange(len(row)) - np.repeat(np.cumsum(count) - count, count)
        places = self.place_numbers[family][keys.first[readings][row] + nth]
        which = form.texts_at(starts[row])
        first, last = form.display_spans(which, starts[row], ends[row])
        general = ask[:0]
        if len(ask):  # the texts that speak to all new areas, found at once
            lows = form.starts[ask]
            highs = form.starts[ask + 1] - 1
            flags = speaking_to_all(rules, family, text,
                                    list(zip(lows.tolist(), highs.tolist(), strict=True)),
                                    starts, ends)
            general = ask[np.array(flags, dtype=bool)]
        return which, places, first, last, general

    def _link_batch(self, units: list) -> tuple[dict[str, np.ndarray], np.ndarray, np.ndarray]:
        """The mentions of a batch of units as MENTION_COLUMNS arrays (unit by unit, each in
        LANGS order, spans in text order), which units are general (per unit) and their ids.

        Three more arrays number what the mentions name: `_unit` (index in `units`),
        `_place` (in place_ids) and `_version` (in LANGS).
        """
        ids = np.array([unit.id for unit in units], dtype=object)
        documents = [unit.document for unit in units]
        general_document = self.rules.general_documents
        general = np.zeros(len(units), dtype=bool)
        may_be = np.fromiter(map(general_document.__contains__, documents), dtype=bool,
                             count=len(units))  # a text of such a unit is asked
        found: list[tuple[np.ndarray, ...]] = []
        for number, lang in enumerate(LANGS):
            texts = [unit.text.get(lang) for unit in units]
            chosen = np.flatnonzero(np.fromiter(map(bool, texts), dtype=bool, count=len(texts)))
            if not len(chosen):
                continue
            version_documents = documents
            if len(chosen) < len(units):
                texts = list(map(texts.__getitem__, chosen.tolist()))
                version_documents = list(map(documents.__getitem__, chosen.tolist()))
            which, places, first, last, said = self._link_version(
                lang, version_documents, texts, np.flatnonzero((may_be & ~general)[chosen]))
            general[chosen[said]] = True
            found.append((chosen[which], np.full(len(which), number), first, last, places,
                          _slices(texts, which, first, last)))
        if not found:
            return _no_mentions(), general, ids
        owner, version, first, last, places, surfaces = (
            np.concatenate(column) for column in zip(*found, strict=True))
        # unit by unit; each version's part is in unit order already, and a stable sort
        # keeps the parts (LANGS order) and the spans in each in their order
        order = np.argsort(owner, kind="stable")
        owner, version, places = owner[order], version[order], places[order]
        return {
            "unit_id": ids[owner],
            "place_id": self.place_ids[places],
            "lang": _LANG_NAMES[version],
            "start": first[order].astype(np.int64, copy=False),
            "end": last[order].astype(np.int64, copy=False),
            "surface": surfaces[order],
            "_unit": owner,
            "_place": places,
            "_version": version,
        }, general, ids

    def iter_unit(self, unit) -> tuple[list[Mention], bool]:
        """The mentions of one unit in all its versions, and whether it is general."""
        columns, general, _ = self._link_batch([unit])
        return _mentions(columns), bool(general[0])

    def link(self, units: Iterable) -> Links:
        """Link every unit; see Links for what comes back."""
        found: list[dict[str, np.ndarray]] = []
        general_units: list[str] = []
        unit_ids: list[np.ndarray] = []
        done = 0
        for batch in batches(units):
            columns, general, ids = self._link_batch(batch)
            columns["_unit"] = columns["_unit"] + done
            done += len(batch)
            found.append(columns)
            unit_ids.append(ids)
            general_units.extend(ids[general].tolist())
        if not found or not sum(len(part["_unit"]) for part in found):
            mentions = pd.DataFrame([], columns=MENTION_COLUMNS)  # as a table of no rows was
            return Links(mentions.astype({"start": "int64", "end": "int64"}),
                         pd.DataFrame([], columns=UNIT_PLACE_COLUMNS), general_units)
        columns = {name: np.concatenate([part[name] for part in found])
                   for name in (*MENTION_COLUMNS, "_unit", "_place", "_version")}
        mentions = pd.DataFrame({name: columns[name] for name in MENTION_COLUMNS})
        same_id, _ = pd.factorize(np.concatenate(unit_ids))  # units of one id are one
        return Links(mentions, unit_places(same_id[columns["_unit"]], columns["_place"],
                                           columns["_version"], columns["unit_id"],
                                           columns["place_id"]), general_units)


_LANG_NAMES = np.array(LANGS, dtype=object)


def _no_mentions() -> dict[str, np.ndarray]:
    columns = {name: np.zeros(0, dtype=np.int64 if name in ("start", "end") else object)
               for name in MENTION_COLUMNS}
    return columns | {name: np.zeros(0, dtype=np.int64) for name in ("_unit", "_place",
                                                                     "_version")}


def _slices(texts: list[str], which: np.ndarray, first: np.ndarray, last: np.ndarray
            ) -> np.ndarray:
    """texts[which[k]][first[k]:last[k]] for every k, as an object array (sliced in C)."""
    surfaces = np.empty(len(which), dtype=object)
    surfaces[:] = list(map(operator.getitem, np.array(texts, dtype=object)[which].tolist(),
                           map(slice, first.tolist(), last.tolist())))
    return surfaces


def _mentions(columns: dict[str, np.ndarray]) -> list[Mention]:
    return [Mention(*row) for row in zip(*(columns[name].tolist() for name in MENTION_COLUMNS),
                                         strict=True)]


def unit_places(units: np.ndarray, places: np.ndarray, versions: np.ndarray,
                unit_ids: np.ndarray, place_ids: np.ndarray) -> pd.DataFrame:
    """One row per (unit, place), in order of first mention, with the versions naming it.

    Per mention: its unit's and place's numbers, its version's index in LANGS, and the
    unit_id and place_id it has in the mentions table.
    """
    bits = np.left_shift(1, versions.astype(np.int64))  # a bit per version
    pairs = units.astype(np.int64) * (int(places.max()) + 1) + places
    order = np.argsort(pairs, kind="stable")
    pairs = pairs[order]
    heads = np.flatnonzero(np.r_[True, pairs[1:] != pairs[:-1]])
    first = order[heads]  # each pair's first mention (the sort is stable)
    named = np.bitwise_or.reduceat(bits[order], heads)
    by_first = np.argsort(first)
    first, named = first[by_first], named[by_first]
    return pd.DataFrame({
        "unit_id": unit_ids[first],
        "place_id": place_ids[first],
        "langs": _LANGS_OF[named],
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

"""Find every place mention in every unit's text, in each of its language versions.

For one text: take its matching form (layers.textnorm; English folded further), scan it
once with the family's automaton, give every hit the reading its context allows, keep the
longest of overlapping forms, and map the survivors back to display-text offsets.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from layers.documents import LANGS
from layers.linking import automaton, english
from layers.linking.context import reading_at
from layers.linking.general import speaks_to_all
from layers.linking.lexicon import Lexicon, load_lexicon
from layers.linking.overlaps import resolve
from layers.linking.rules import FAMILIES, Rules, family_of, load_rules
from layers.paths import LINKING_DIR
from layers.textnorm import normalize_with_offsets

MENTION_COLUMNS = ["unit_id", "place_id", "lang", "start", "end", "surface"]
UNIT_PLACE_COLUMNS = ["unit_id", "place_id", "langs"]


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


class Linker:
    """The lexicon, rules and automata, built once and used for any number of units."""

    def __init__(self, lexicon: Lexicon, rules: Rules):
        self.lexicon = lexicon
        self.rules = rules
        self.automata = {family: automaton.build(lexicon.keys[family]) for family in FAMILIES}

    @classmethod
    def load(cls, gazetteer, linking_dir: Path = LINKING_DIR) -> Linker:
        """Read rules.yaml and aliases.yaml against `gazetteer`; errors name file and entry."""
        rules = load_rules(linking_dir)
        return cls(load_lexicon(gazetteer, rules, linking_dir), rules)

    def link_text(self, document: str, lang: str, text: str,
                  general_known: bool = False) -> tuple[list[tuple], bool]:
        """The (place_id, start, end) mentions in one display text, and whether it speaks
        to all new areas (not looked for when `general_known`: another version said so)."""
        family = family_of(lang)
        normal, offsets = normalize_with_offsets(text, lang)
        folded, fold_map = english.fold(normal) if family == "en" else (normal, None)
        hits = automaton.scan(self.automata[family], folded, words=family == "en")
        rules = self.rules
        kept = resolve(hits, lambda hit: reading_at(hit.key, rules, document, family, folded,
                                                    hit.start, hit.end))
        found = []
        for cand in kept:
            start, end = cand.start, cand.end
            if fold_map is not None:
                start, end = fold_map[start], fold_map[end]
            start, end = offsets[start], offsets[end]
            found.extend((place, start, end) for place in cand.reading.places)
        if general_known:
            return found, True
        return found, speaks_to_all(self.rules, document, family, folded, kept)

    def iter_unit(self, unit) -> tuple[list[Mention], bool]:
        """The mentions of one unit in all its versions, and whether it is general."""
        mentions: list[Mention] = []
        general = False
        for lang in LANGS:
            text = unit.text.get(lang)
            if not text:
                continue
            found, general = self.link_text(unit.document, lang, text, general)
            mentions.extend(Mention(unit.id, place, lang, start, end, text[start:end])
                            for place, start, end in found)
        return mentions, general

    def link(self, units: Iterable) -> Links:
        """Link every unit; see Links for what comes back."""
        rows: list[Mention] = []
        general_units: list[str] = []
        for unit in units:
            mentions, general = self.iter_unit(unit)
            rows.extend(mentions)
            if general:
                general_units.append(unit.id)
        mentions = pd.DataFrame(rows, columns=MENTION_COLUMNS)
        mentions = mentions.astype({"start": "int64", "end": "int64"})
        return Links(mentions, unit_places(rows), general_units)


def unit_places(mentions: Iterable[Mention]) -> pd.DataFrame:
    """One row per (unit, place), in order of first mention, with the versions naming it."""
    langs: dict[tuple[str, str], set[str]] = {}
    for m in mentions:
        langs.setdefault((m.unit_id, m.place_id), set()).add(m.lang)
    return pd.DataFrame(
        [(unit, place, ",".join(lang for lang in LANGS if lang in found))
         for (unit, place), found in langs.items()],
        columns=UNIT_PLACE_COLUMNS,
    )


def iter_mentions(linker: Linker, units: Iterable) -> Iterator[Mention]:
    """Mentions unit by unit, without collecting them: for streaming large corpora."""
    for unit in units:
        yield from linker.iter_unit(unit)[0]


def link_units(units: Iterable, gazetteer, linking_dir: Path = LINKING_DIR) -> Links:
    """Find every place mention in every unit (the build's entry point).

    Raises LinkingError (UnknownPlaceError, AmbiguousAliasError) when the linking data
    does not fit the gazetteer; the message names the file, the entry and the places.
    """
    return Linker.load(gazetteer, linking_dir).link(units)

"""The linker's rules (data/linking/rules.yaml), read and checked once.

Context rules say when a conditional form counts; nothing-forms hide what they contain,
and so does a place's name made the start of a longer proper name (浦东发展银行); another
province's or city's name right before a new area's form makes it that place's own new
area (汕头滨海新区); the general rule finds units addressed to all new areas; the roll-up
settings say which point places can carry a unit into the new area they lie in.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from layers.linking.errors import LinkingError
from layers.paths import LINKING_DIR

FAMILIES = ("zh", "en")
_PATTERN_KEYS = ("before", "after", "not_before", "not_after")
_NO_PATTERNS: tuple[tuple[re.Pattern, ...], ...] = ((), (), (), ())


def family_of(lang: str) -> str:
    """The matching family of a language version: both Chinese scripts match as zh."""
    return "en" if lang == "en" else "zh"


@dataclass(frozen=True)
class ContextRule:
    """When a conditional form counts: its document, and what comes before or after it."""

    name: str
    documents: frozenset[str] | None
    patterns: dict[str, dict[str, tuple[re.Pattern, ...]]]  # family -> key -> patterns
    # family -> the patterns of _PATTERN_KEYS in that order, read once for every hit
    by_family: dict[str, tuple[tuple[re.Pattern, ...], ...]] = field(init=False, repr=False,
                                                                      compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_family", {
            family: tuple(self.patterns.get(family, {}).get(key, ()) for key in _PATTERN_KEYS)
            for family in FAMILIES})

    def holds_at(self, documents: Sequence[str], family: str, text: str, starts: np.ndarray,
                 ends: np.ndarray, window: int, lows: np.ndarray, highs: np.ndarray
                 ) -> np.ndarray:
        """Per form at text[starts[k]:ends[k]] in a unit of documents[k], whose own text
        lies at text[lows[k]:highs[k]] (the window never reaches past it): True where the
        rule allows it.

        Its document must be one of the rule's; then no not_after / not_before pattern
        may be found in the window after / before it, and where the rule has after or
        before patterns, one of them must be found there. Each pattern searches the
        windows of all forms still undecided at once (the loops run in C); after first,
        as one anchored at the form's end fails at once where one anchored at the
        window's end tries every position.
        """
        allowed = (np.ones(len(starts), dtype=bool) if self.documents is None else
                   np.fromiter(map(self.documents.__contains__, documents), dtype=bool,
                               count=len(starts)))
        before_any, after_any, not_before, not_after = self.by_family.get(family, _NO_PATTERNS)
        after = (ends, np.minimum(highs, ends + window))
        before = (np.maximum(lows, starts - window), starts)
        at = np.flatnonzero(allowed)
        for pattern, (low, high) in [*((p, after) for p in not_after),
                                     *((p, before) for p in not_before)]:
            found = _search(pattern, text, low[at], high[at])
            allowed[at[found]] = False
            at = at[~found]
        if before_any or after_any:
            for pattern, (low, high) in [*((p, after) for p in after_any),
                                         *((p, before) for p in before_any)]:
                at = at[~_search(pattern, text, low[at], high[at])]
            allowed[at] = False  # none of them found
        return allowed


def _search(pattern: re.Pattern, text: str, lows: np.ndarray, highs: np.ndarray
            ) -> np.ndarray:
    """Per k, whether `pattern` is found in text[lows[k]:highs[k]]."""
    windows = map(text.__getitem__, map(slice, lows.tolist(), highs.tolist()))
    return np.fromiter(map(bool, map(pattern.search, windows)), dtype=bool, count=len(lows))


@dataclass(frozen=True)
class RollUpRule:
    """Which point places roll a unit up into the new area they lie in."""

    into: str
    from_layers: tuple[str, ...]
    precision: dict[str, frozenset[str]]  # new area extent -> point precisions that count
    # A point attribute naming the new area a place belongs to (as the documents state it):
    # such a point counts whatever its precision, when it also lies inside that area.
    stated_membership: str | None = None


@dataclass(frozen=True)
class OtherPlaces:
    """rules.yaml `other_places`: which forms a province's or city's name before voids."""

    layer: str  # the places whose forms it guards (new-areas)
    levels: tuple[str, ...]  # administrative levels whose names count (province, city)
    endings: tuple[str, ...]  # endings a name may be written without (省, 市 …)


def may_end_a_name(text: str, start: int, low: int, ends: frozenset[str]) -> bool:
    """Whether text[low:start] can end in a name of two characters or more whose last
    character is one of `ends` (if not, no such name comes right before `start`)."""
    return start - low >= 2 and text[start - 1] in ends


@dataclass(frozen=True)
class NameGuard:
    """The administrative names that, right before a form, make it another place's."""

    names: frozenset[str]  # every province/city name, full and short
    own: frozenset[str]  # the place's own province and cities: these do not void it
    longest: int
    # the last characters of the names: text before a form ending otherwise ends in none
    ends: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ends", frozenset(name[-1] for name in self.names
                                                   if len(name) > 1))

    def voids(self, text: str, start: int, low: int = 0) -> bool:
        """True if text[:start] ends in a name (the longest that fits) not its own."""
        if not may_end_a_name(text, start, low, self.ends):
            return False
        for size in range(min(self.longest, start - low), 1, -1):
            name = text[start - size:start]
            if name in self.names:
                return name not in self.own
        return False


@dataclass(frozen=True)
class Rules:
    """Everything rules.yaml says, compiled."""

    window: int
    contexts: dict[str, ContextRule]
    quote_pairs: tuple[tuple[str, str], ...]
    dashes: tuple[str, ...]
    nothing: dict[str, tuple[str, ...]]
    general_documents: frozenset[str]
    general_patterns: dict[str, tuple[re.Pattern, ...]]
    roll_up: RollUpRule
    # Words that make a place's name the start of another proper name (银行, 集团, Airport):
    # a form followed by one of them is nothing.
    name_suffixes: dict[str, tuple[str, ...]] = field(default_factory=dict)
    other_places: OtherPlaces | None = None


def _compile(patterns: Any, where: str) -> tuple[re.Pattern, ...]:
    if isinstance(patterns, str):
        patterns = [patterns]
    if not isinstance(patterns, list):
        raise LinkingError(f"{where}: expected a list of regular expressions")
    compiled = []
    for pattern in patterns:
        try:
            compiled.append(re.compile(pattern))
        except (re.error, TypeError) as error:
            raise LinkingError(f"{where}: bad regular expression {pattern!r}: {error}") from None
    return tuple(compiled)


def _context(name: str, spec: Any, where: str) -> ContextRule:
    if not isinstance(spec, dict):
        raise LinkingError(f"{where}: context {name!r} must be a mapping")
    unknown = set(spec) - {"documents", *FAMILIES}
    if unknown:
        raise LinkingError(f"{where}: context {name!r} has unknown keys {sorted(unknown)}")
    documents = spec.get("documents")
    patterns: dict[str, dict[str, tuple[re.Pattern, ...]]] = {}
    for family in FAMILIES:
        by_key = spec.get(family) or {}
        bad = set(by_key) - set(_PATTERN_KEYS)
        if bad:
            raise LinkingError(f"{where}: context {name!r} {family} has unknown keys {sorted(bad)}")
        patterns[family] = {
            key: _compile(value, f"{where}: context {name!r} {family}.{key}")
            for key, value in by_key.items()
        }
    if documents is None and not any(patterns.values()):
        raise LinkingError(f"{where}: context {name!r} says nothing (no documents, no patterns)")
    return ContextRule(name, frozenset(documents) if documents is not None else None, patterns)


def load_rules(linking_dir: Path = LINKING_DIR) -> Rules:
    """Read and check rules.yaml; a bad entry raises LinkingError naming it."""
    path = Path(linking_dir) / "rules.yaml"
    where = str(path.name)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LinkingError(f"{where}: cannot read: {error}") from None
    contexts = {
        name: _context(name, spec, where) for name, spec in (data.get("contexts") or {}).items()
    }
    variants = data.get("variants") or {}
    quote_pairs = tuple(tuple(pair) for pair in variants.get("quotes", []))
    if any(len(pair) != 2 for pair in quote_pairs):
        raise LinkingError(f"{where}: variants.quotes must be pairs [open, close]")
    general = data.get("general") or {}
    roll = data.get("roll_up") or {}
    try:
        roll_up = RollUpRule(
            into=roll["into"],
            from_layers=tuple(roll["from_layers"]),
            precision={extent: frozenset(p) for extent, p in roll["precision"].items()},
            stated_membership=roll.get("stated_membership"),
        )
    except (KeyError, TypeError, AttributeError) as error:
        raise LinkingError(f"{where}: roll_up needs into, from_layers and precision ({error})") \
            from None
    nothing = data.get("nothing") or {}
    suffixes = data.get("name_suffixes") or {}
    if not isinstance(suffixes, dict) or set(suffixes) - set(FAMILIES) or not all(
            isinstance(v, list) and all(isinstance(w, str) and w.strip() for w in v)
            for v in suffixes.values()):
        raise LinkingError(f"{where}: name_suffixes must map zh and en to lists of words")
    other = data.get("other_places")
    try:
        other_places = None if other is None else OtherPlaces(
            layer=str(other["layer"]), levels=tuple(other["levels"]),
            endings=tuple(other.get("endings") or ()))
    except (KeyError, TypeError) as error:
        raise LinkingError(f"{where}: other_places needs layer and levels ({error})") from None
    return Rules(
        window=int(data.get("context_window", 240)),
        contexts=contexts,
        quote_pairs=quote_pairs,
        dashes=tuple(variants.get("dashes", [])),
        nothing={family: tuple(nothing.get(family) or ()) for family in FAMILIES},
        general_documents=frozenset(general.get("documents") or ()),
        general_patterns={
            family: _compile((general.get("patterns") or {}).get(family) or [],
                             f"{where}: general.patterns.{family}")
            for family in FAMILIES
        },
        roll_up=roll_up,
        name_suffixes={family: tuple(suffixes.get(family) or ()) for family in FAMILIES},
        other_places=other_places,
    )

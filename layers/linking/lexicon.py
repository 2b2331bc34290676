"""The lexicon: every form that names a place, as the matcher sees it.

Forms come from the gazetteer's names (all three languages) and data/linking/aliases.yaml;
nothing-forms from rules.yaml. Each form is reduced to its matching key (the zh-Hans normal
form of layers.textnorm, or the folded English), and each key lists its readings: which
place(s) it names and under which context rule. Loading checks that every id is a
gazetteer place, every rule exists, and no key names two places that nothing tells apart.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo import boundaries
from layers.linking import english
from layers.linking.errors import AmbiguousAliasError, LinkingError, UnknownPlaceError
from layers.linking.rules import FAMILIES, NameGuard, Rules, family_of
from layers.paths import LINKING_DIR
from layers.textnorm import normalize

NOTHING: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reading:
    """One thing a form can mean: its places (none for a nothing-form), when it counts."""

    places: tuple[str, ...]
    when: tuple[str, ...] = ()  # context rule names, any of which must hold; () = always
    keep_inner: bool = False  # places named inside the form still count
    source: str = ""  # where it was declared, for messages


@dataclass
class Key:
    """A matching key and its readings: conditional ones first, then the plain one.

    `plain` and `conditional` are kept ready (see `settle`): they are read for every hit.
    """

    text: str
    readings: list[Reading] = field(default_factory=list)
    plain: Reading | None = None
    conditional: tuple[Reading, ...] = ()
    # Another province's or city's name right before the form voids it (rules.yaml
    # other_places); a guarded key is read in context like a conditional one.
    guard: NameGuard | None = None

    def settle(self) -> None:
        """Fix `plain` and `conditional` once every reading is in.

        A guarded key's plain reading is in `conditional` too (last, with no rule): it
        holds unless the guard voids it.
        """
        self.plain = next((r for r in self.readings if not r.when), None)
        self.conditional = tuple(r for r in self.readings if r.when)
        if self.guard is not None and self.plain is not None:
            self.conditional += (self.plain,)


@dataclass
class Lexicon:
    """Keys per matching family (zh, en)."""

    keys: dict[str, dict[str, Key]]

    def key_of(self, text: str, lang: str) -> str:
        """The matching key of a piece of text in language version `lang`."""
        return match_key(text, lang)

    def places_named_by(self, text: str, lang: str) -> set[str]:
        """Every place a piece of text can name (under any rule): for checking spans."""
        key = self.keys[family_of(lang)].get(self.key_of(text, lang))
        return {place for r in key.readings for place in r.places} if key else set()


def match_key(text: str, lang: str) -> str:
    """The key a form or a span is matched by, in the normal form of its language."""
    if family_of(lang) == "en":
        return " ".join(english.fold_form(normalize(text, "en")).split())
    return normalize(text, lang).strip()


def _zh_variants(form: str, rules: Rules) -> list[str]:
    """A zh form and its quote and dash variants, as rules.yaml lists them."""
    forms = [form]
    if rules.quote_pairs:
        first_open, first_close = rules.quote_pairs[0]
        if first_open and first_open in form and first_close in form:
            forms += [
                form.replace(first_open, opening).replace(first_close, closing)
                for opening, closing in rules.quote_pairs[1:]
            ]
    if rules.dashes:
        forms += [f.replace(rules.dashes[0], dash) for f in list(forms) if rules.dashes[0] in f
                  for dash in rules.dashes[1:]]
    return forms


def _keys_of(form: str, lang: str, rules: Rules) -> list[str]:
    """Every key a form stands for: its variants (zh) or its apostrophe-less twin (en)."""
    if family_of(lang) == "en":
        key = match_key(form, lang)
        keys = [key, key.replace("'", "")] if "'" in key else [key]
    else:
        keys = [match_key(f, lang) for f in _zh_variants(form, rules)]
    return [k for k in dict.fromkeys(keys) if k]


class _Builder:
    """Collects readings key by key and refuses ambiguity as it goes."""

    def __init__(self, rules: Rules):
        self.rules = rules
        self.keys: dict[str, dict[str, Key]] = {family: {} for family in FAMILIES}

    def add(self, form: str, lang: str, reading: Reading) -> None:
        for unknown in set(reading.when) - set(self.rules.contexts):
            raise LinkingError(f"{reading.source}: form {form!r} uses unknown context rule "
                               f"{unknown!r} (rules.yaml contexts)")
        for text in _keys_of(form, lang, self.rules):
            key = self.keys[family_of(lang)].setdefault(text, Key(text))
            self._merge(key, form, reading)

    @staticmethod
    def _merge(key: Key, form: str, reading: Reading) -> None:
        for i, known in enumerate(key.readings):
            if set(known.when) != set(reading.when):
                continue
            if known.places == reading.places:
                if reading.keep_inner and not known.keep_inner:
                    key.readings[i] = reading
                return
            raise AmbiguousAliasError(
                form, known.places or ("nothing",), reading.places or ("nothing",),
                f"{known.source} and {reading.source}",
            )
        key.readings.append(reading)
        key.readings.sort(key=lambda r: not r.when)  # conditional readings are tried first


def _forms(value: Any, where: str) -> list[tuple[str, tuple[str, ...]]]:
    """The (form, when) pairs of an aliases.yaml language list."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise LinkingError(f"{where}: expected a list of forms")
    out = []
    for item in value:
        if isinstance(item, str):
            out.append((item, ()))
        elif isinstance(item, dict) and set(item) <= {"form", "when"} and "form" in item:
            when = item.get("when") or ()
            when = (when,) if isinstance(when, str) else tuple(when)
            if not when:
                raise LinkingError(f"{where}: {item!r} has an empty 'when'")
            out.append((str(item["form"]), when))
        else:
            raise LinkingError(f"{where}: {item!r} is neither a form nor {{form: …, when: …}}")
        if not out[-1][0].strip():
            raise LinkingError(f"{where}: empty form")
    return out


def _add_longer_names(builder: _Builder, rules: Rules) -> None:
    """Every place form followed by a name suffix (浦东 + 发展银行) as a nothing-form.

    The longer name hides the place's name inside it, as any longer form does; a form
    that is itself a place's form (a real alias) keeps its reading.
    """
    nothing = Reading(NOTHING, source="rules.yaml (name_suffixes)")  # one for all
    for family, suffixes in rules.name_suffixes.items():
        lang = "en" if family == "en" else "zh-Hans"
        keys = builder.keys[family]
        named = [k for k, key in keys.items() if any(r.places for r in key.readings)]
        joiner = " " if family == "en" else ""
        for suffix in suffixes:
            tail = joiner + match_key(suffix, lang)
            for text in named:
                if text + tail not in keys:
                    keys[text + tail] = Key(text + tail, [nothing])


def _short_names(names: set[str], endings: tuple[str, ...]) -> set[str]:
    """Names in full and without their ending: 汕头市 → 汕头, 广西壮族自治区 → 广西."""
    out = set(names)
    for name in names:
        for ending in sorted(endings, key=len, reverse=True):
            if name.endswith(ending) and len(name) - len(ending) >= 2:
                out.add(name[: -len(ending)])
                break
    return out


def _guard_forms(builder: _Builder, gazetteer, rules: Rules) -> None:
    """Guard the zh forms of rules.other_places' layer that do not start with an own name.

    天津滨海 starts with its own province; 滨海新区 and 滨海 do not, so 汕头滨海新区 is not
    it. Names: the provinces and cities of the boundary data; a place's own are those of
    its geometry's units.
    """
    other = rules.other_places
    if other is None:
        return
    every = {u.name for level in other.levels for u in boundaries.units(level)}
    names = frozenset(_short_names(every, other.endings))
    longest = max(map(len, names), default=0)
    guards = {}
    for place in gazetteer.places.values():
        if place.layer != other.layer:
            continue
        own = {name for code in place.geometry.get("units") or ()
               for name in (boundaries.unit(code).province, boundaries.unit(code).city)
               if name}
        guards[place.id] = NameGuard(names, frozenset(_short_names(own, other.endings)),
                                     longest)
    for key in builder.keys["zh"].values():
        places = {p for r in key.readings for p in r.places}
        if len(places) == 1 and (place_id := next(iter(places))) in guards:
            guard = guards[place_id]
            if not any(key.text.startswith(name) for name in guard.own):
                key.guard = guard


def load_lexicon(gazetteer, rules: Rules, linking_dir: Path = LINKING_DIR) -> Lexicon:
    """Build the lexicon from the gazetteer's names, aliases.yaml and rules.yaml's nothing.

    Raises UnknownPlaceError for an id the gazetteer lacks, AmbiguousAliasError when one
    form would name two places with no context rule to tell them apart, LinkingError for
    anything else malformed; every message names the file and the entry.
    """
    path = Path(linking_dir) / "aliases.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise LinkingError(f"{path.name}: cannot read: {error}") from None
    places = gazetteer.places
    builder = _Builder(rules)

    for place in places.values():
        for lang, name in place.names.items():
            if name:
                source = f"gazetteer {getattr(place, 'file', place.layer)} (place {place.id!r})"
                builder.add(name, lang, Reading((place.id,), source=source))

    unknown_top = set(data) - {"places", "groups"}
    if unknown_top:
        raise LinkingError(f"{path.name}: unknown sections {sorted(unknown_top)}")
    for place_id, entry in (data.get("places") or {}).items():
        where = f"{path.name} (place {place_id!r})"
        if place_id not in places:
            raise UnknownPlaceError(f"{where}: no place {place_id!r} in the gazetteer")
        entry = entry or {}
        if not isinstance(entry, dict) or set(entry) - {"zh", "en", "keep_inner"}:
            raise LinkingError(f"{where}: expected zh, en and keep_inner only")
        keep_inner = bool(entry.get("keep_inner", False))
        for family in FAMILIES:
            lang = "en" if family == "en" else "zh-Hans"
            for form, when in _forms(entry.get(family), f"{where} {family}"):
                builder.add(form, lang, Reading((place_id,), when, keep_inner, where))
        if keep_inner:  # the gazetteer's own names of this place keep what they contain too
            for lang, name in places[place_id].names.items():
                builder.add(name, lang, Reading((place_id,), (), True, where))

    for number, group in enumerate(data.get("groups") or [], 1):
        where = f"{path.name} (group {number})"
        if not isinstance(group, dict) or set(group) - {"places", "zh", "en"}:
            raise LinkingError(f"{where}: expected places, zh and en only")
        members = tuple(group.get("places") or ())
        if len(members) < 2:
            raise LinkingError(f"{where}: a group names at least two places")
        for member in members:
            if member not in places:
                raise UnknownPlaceError(f"{where}: no place {member!r} in the gazetteer")
        for family in FAMILIES:
            lang = "en" if family == "en" else "zh-Hans"
            for form, when in _forms(group.get(family), f"{where} {family}"):
                builder.add(form, lang, Reading(members, when, False, where))

    for family, forms in rules.nothing.items():
        lang = "en" if family == "en" else "zh-Hans"
        for form in forms:
            builder.add(form, lang, Reading(NOTHING, source="rules.yaml (nothing)"))
    _add_longer_names(builder, rules)
    _guard_forms(builder, gazetteer, rules)
    for keys in builder.keys.values():
        for key in keys.values():
            key.settle()
    return Lexicon(builder.keys)

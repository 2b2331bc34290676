"""Interface strings in Simplified and Traditional Chinese and English, from data/i18n.yaml.

A string needs only its zh-Hans and en forms: the zh-Hant form is derived with OpenCC
(s2t) when the YAML gives none, so the three scripts cannot drift apart; an explicit
zh-Hant entry overrides the conversion where it is wrong.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from layers import yamlio
from layers.paths import DATA_DIR
from layers.textnorm import convert

I18N_PATH = DATA_DIR / "i18n.yaml"

# Codes the interface accepted before it had three scripts (API compatibility: old links
# and other data files still say `zh`).
ALIASES: dict[str, str] = {"zh": "zh-Hans"}
# Regions whose Chinese is written in Traditional script (BCP 47 region subtags).
TRADITIONAL_REGIONS = ("TW", "HK", "MO")
# Forms derived when missing: target script <- (source script, OpenCC config).
DERIVED: dict[str, tuple[str, str]] = {"zh-Hant": ("zh-Hans", "s2t")}


def canonical(lang: str) -> str:
    """The language code for an accepted alias (zh -> zh-Hans); other codes unchanged."""
    return ALIASES.get(lang, lang)


def match(tag: str, languages: tuple[str, ...]) -> str | None:
    """The interface language for one BCP 47 tag of Accept-Language, if any serves it:
    the script when the tag names one (zh-Hant-HK), else the region's usual script
    (zh-TW, zh-HK, zh-MO: Traditional; zh, zh-CN, zh-SG: Simplified), else the primary
    language (en-GB -> en)."""
    parts = tag.replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary == "zh":
        scripts = [p.title() for p in parts[1:] if len(p) == 4]
        if scripts:
            script = scripts[0]
        else:
            script = "Hant" if any(p.upper() in TRADITIONAL_REGIONS for p in parts[1:]) else "Hans"
        wanted = f"zh-{script}"
    else:
        wanted = primary
    return wanted if wanted in languages else None


def negotiate(accepted: Iterable[tuple[str, float]], languages: tuple[str, ...]) -> str | None:
    """The best interface language for Accept-Language's (tag, quality) pairs."""
    ranked = sorted(((q, -i, tag) for i, (tag, q) in enumerate(accepted) if q > 0),
                    reverse=True)
    for _q, _i, tag in ranked:
        found = match(tag, languages)
        if found:
            return found
    return None


def complete(entry: dict[str, str]) -> dict[str, str]:
    """An entry with alias keys renamed (zh -> zh-Hans) and derived scripts filled in."""
    out: dict[str, str] = {}
    for key, value in entry.items():
        code = canonical(str(key))
        if code not in out or code == key:  # an explicit zh-Hans wins over zh
            out[code] = value
    for target, (source, config) in DERIVED.items():
        if target not in out and isinstance(out.get(source), str):
            out[target] = convert(out[source], config)
    return out


class Completed(Mapping[str, dict[str, str]]):
    """Entries by key, each completed (`complete`) when first read: deriving zh-Hant
    builds OpenCC's converter (~55 ms), which a server's first answer does not need."""

    def __init__(self, entries: Mapping[str, dict[str, str]]):
        self._entries = dict(entries)
        self._done: dict[str, dict[str, str]] = {}

    def __getitem__(self, key: str) -> dict[str, str]:
        done = self._done.get(key)
        if done is None:  # two threads may both complete it: the same result
            done = self._done.setdefault(key, complete(self._entries[key]))
        return done

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


@dataclass(frozen=True)
class Strings:
    """The interface languages and their strings; `text(key, lang)` looks one up."""

    languages: tuple[str, ...]
    names: dict[str, str]  # interface language -> language version read first
    language_names: dict[str, str]
    strings: dict[str, dict[str, str]]

    def __post_init__(self) -> None:
        # Strings may come from several files (the map image adds data/planner.yaml's),
        # some still keyed `zh`: every entry is completed once, when first read.
        object.__setattr__(self, "strings", Completed(self.strings))

    @property
    def default(self) -> str:
        return self.languages[0]

    def text(self, key: str, lang: str, **values) -> str:
        """The string for key in lang; a missing key shows as the key itself."""
        entry = self.strings.get(key)
        if entry is None:
            return key
        value = entry.get(canonical(lang)) or entry.get(self.default) or key
        return value.format(**values) if values else value

    def name_order(self, lang: str) -> tuple[str, ...]:
        """Language versions in reading order for an interface language."""
        first = self.names.get(canonical(lang), "en")
        return (first, *(v for v in ("zh-Hans", "zh-Hant", "en") if v != first))


def load_strings(path: Path = I18N_PATH) -> Strings:
    """Read data/i18n.yaml."""
    data = yamlio.read(path)
    return Strings(
        languages=tuple(data["languages"]),
        names=dict(data["names"]),
        language_names=dict(data.get("language_names", {})),
        strings={k: dict(v) for k, v in data["strings"].items()},
    )

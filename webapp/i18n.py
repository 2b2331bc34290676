"""Interface strings in Chinese and English, read from data/i18n.yaml."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from layers.paths import DATA_DIR

I18N_PATH = DATA_DIR / "i18n.yaml"


@dataclass(frozen=True)
class Strings:
    """The interface languages and their strings; `text(key, lang)` looks one up."""

    languages: tuple[str, ...]
    names: dict[str, str]  # interface language -> language version read first (zh -> zh-Hans)
    language_names: dict[str, str]
    strings: dict[str, dict[str, str]]

    @property
    def default(self) -> str:
        return self.languages[0]

    def text(self, key: str, lang: str, **values) -> str:
        """The string for key in lang; a missing key shows as the key itself."""
        entry = self.strings.get(key)
        if entry is None:
            return key
        value = entry.get(lang) or entry.get(self.default) or key
        return value.format(**values) if values else value

    def name_order(self, lang: str) -> tuple[str, ...]:
        """Language versions in reading order for an interface language."""
        first = self.names.get(lang, "en")
        return (first, *(v for v in ("zh-Hans", "zh-Hant", "en") if v != first))


def load_strings(path: Path = I18N_PATH) -> Strings:
    """Read data/i18n.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Strings(
        languages=tuple(data["languages"]),
        names=dict(data["names"]),
        language_names=dict(data.get("language_names", {})),
        strings={k: dict(v) for k, v in data["strings"].items()},
    )

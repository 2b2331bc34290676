"""Which language version a text is: zh-Hans, zh-Hant or en, read off its characters.

English when Latin letters outnumber Han characters. Between the two Chinese scripts,
an OpenCC round trip decides: a character that t2s changes is traditional, one that
s2t changes is simplified (most characters are the same in both and say nothing).
"""

from __future__ import annotations

from layers.textnorm import convert

_HAN = ("\u4e00", "\u9fff")


def _changed(text: str, config: str) -> int:
    """How many characters of `text` OpenCC's `config` changes (compared where lengths agree)."""
    converted = convert(text, config)
    if len(converted) != len(text):  # phrase conversions changed the length: compare chars
        return sum(1 for c in text if convert(c, config) != c)
    return sum(1 for a, b in zip(text, converted, strict=True) if a != b)


def detect_script(text: str) -> str | None:
    """"zh-Hans", "zh-Hant" or "en"; None if the text has neither Han nor Latin letters."""
    han = "".join(c for c in text if _HAN[0] <= c <= _HAN[1])
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if not han and not latin:
        return None
    # An English text quotes a Chinese name now and then; a Chinese one, codes and names
    # in Latin letters. Letters are counted against characters, a word being ~5 letters.
    if latin > 5 * len(han):
        return "en"
    traditional = _changed(han, "t2s")
    simplified = _changed(han, "s2t")
    return "zh-Hant" if traditional > simplified else "zh-Hans"

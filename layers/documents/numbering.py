"""Numbering styles: chapter headings (一、 / I. / 4.) and unit markers ((一) / (1) / (Thirteen)).

The patterns and numeral tables are in data/capture.yaml; this module turns them into
matchers and reads the numbers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

from layers.documents.registry import capture_rules


@dataclass(frozen=True)
class Marker:
    """A recognised number at the start of a line: its level, value and what follows."""

    level: str  # "chapter" or "item"
    number: int
    rest: str


def chinese_numeral(text: str) -> int | None:
    """一 → 1, 十三 → 13, 二十五 → 25, 一百零二 → 102; None if `text` is not a numeral."""
    tables = capture_rules()["numerals"]
    digits, units = tables["chinese_digits"], tables["chinese_units"]
    if not text or any(c not in digits and c not in units for c in text):
        return None
    total, pending = 0, None
    for char in text:
        if char in digits:
            if digits[char] == 0:
                continue  # 零 only holds a place: 一百零二
            if pending is not None:
                return None  # two digits in a row: not a cardinal numeral
            pending = digits[char]
        else:
            total += (1 if pending is None else pending) * units[char]
            pending = None
    return total + (pending or 0)


def roman_numeral(text: str) -> int | None:
    """I → 1, IV → 4, XII → 12; None if `text` is not a well-formed Roman numeral."""
    values = capture_rules()["numerals"]["roman"]
    if not text or any(c not in values for c in text):
        return None
    total = 0
    for i, char in enumerate(text):
        value = values[char]
        total += -value if i + 1 < len(text) and values[text[i + 1]] > value else value
    return total if _to_roman(total, values) == text else None


def _to_roman(number: int, values: dict[str, int]) -> str:
    """The canonical spelling of `number`, with the subtractive pairs IV, IX, XL, XC…"""
    symbols = sorted(values.items(), key=lambda kv: -kv[1])
    tokens = []
    for symbol, value in symbols:
        tokens.append((symbol, value))
        for smaller, small in symbols:  # a power of ten written before: IV, IX, XL, XC
            if str(small).startswith("1") and value // 10 <= small < value / 2:
                tokens.append((smaller + symbol, value - small))
    out = ""
    for symbol, value in sorted(tokens, key=lambda kv: -kv[1]):
        while number >= value:
            out += symbol
            number -= value
    return out


def english_number(text: str) -> int | None:
    """Thirteen → 13, Twenty-five → 25; None if `text` is not an English number word."""
    tables = capture_rules()["numerals"]
    ones = {word: i for i, word in enumerate(tables["english_ones"], 1)}
    tens = tables["english_tens"]
    word = text.lower()
    if word in ones:
        return ones[word]
    if word in tens:
        return tens[word]
    head, _, tail = word.partition("-")
    if head in tens and tail in ones and ones[tail] < 10:
        return tens[head] + ones[tail]
    return None


def _numeral_classes() -> dict[str, tuple[str, object]]:
    """Per {placeholder} in a marker pattern: the regex of its numerals and their reader."""
    tables = capture_rules()["numerals"]
    chinese = "".join([*tables["chinese_digits"], *tables["chinese_units"]])
    return {
        "zh": (f"[{re.escape(chinese)}]+", chinese_numeral),
        "roman": (f"[{''.join(tables['roman'])}]+", roman_numeral),
        "digits": (r"[0-9]{1,3}", int),
        "words": (r"[A-Za-z]+(?:-[A-Za-z]+)?", english_number),
    }


@cache
def _matchers() -> list[tuple[str, re.Pattern, object]]:
    out = []
    for level, patterns in capture_rules()["markers"].items():
        for pattern in patterns:
            for name, (regex, reader) in _numeral_classes().items():
                if "{" + name + "}" in pattern:
                    out.append((level, re.compile(pattern.replace("{" + name + "}", regex)),
                                reader))
    return out


def match_marker(line: str) -> Marker | None:
    """The chapter heading or unit marker `line` starts with, if any."""
    for level, pattern, reader in _matchers():
        found = pattern.match(line)
        if found:
            number = reader(found.group("num"))
            if number:
                return Marker(level, number, found.group("rest").strip())
    return None

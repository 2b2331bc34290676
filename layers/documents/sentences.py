"""Sentence punctuation: where paragraphs and sentences end, and which line goes on.

The punctuation sets are in data/capture.yaml (section `punctuation`).
"""

from __future__ import annotations

import re
from functools import cache

from layers.documents.registry import capture_rules


@cache
def _rules() -> dict:
    punct = capture_rules()["punctuation"]
    return {
        **punct,
        "english_split": re.compile(punct["english_sentence_end"]),
        "chinese_split": re.compile(
            "(?<=[" + re.escape(punct["sentence_end"]) + "])[" + re.escape(punct["closers"])
            + "]*"),
    }


def _strip_closers(text: str) -> str:
    return text.rstrip().rstrip(_rules()["closers"])


def ends_paragraph(text: str) -> bool:
    """True if `text` ends where an author ends a paragraph (not cut by a page break)."""
    stripped = _strip_closers(text)
    return bool(stripped) and stripped[-1] in _rules()["paragraph_end"]


def starts_with_fragment(text: str) -> bool:
    """True if `text` starts with the tail of a cut word: "源，拓展…" (a one-character clause)."""
    rules = _rules()
    if text[:1] in rules["continuation_start"]:
        return True
    for i, char in enumerate(text[: rules["fragment_clause"] + 1]):
        if char in rules["clause_marks"]:
            return 0 < i <= rules["fragment_clause"]
    return False


def strip_end(text: str) -> str:
    """A heading or title without its final punctuation: "Further leverage… platforms"."""
    return text.strip().rstrip(_rules()["paragraph_end"] + _rules()["clause_marks"]).strip()


def sentences(text: str, lang: str) -> list[str]:
    """The sentences of `text`, each with its final punctuation."""
    out: list[str] = []
    for paragraph in text.split("\n"):
        if lang == "en":
            pieces = _rules()["english_split"].split(paragraph)
        else:
            pieces, start = [], 0
            for found in _rules()["chinese_split"].finditer(paragraph):
                pieces.append(paragraph[start:found.end()])
                start = found.end()
            pieces.append(paragraph[start:])
        out.extend(p.strip() for p in pieces if p.strip())
    return out


def first_sentence(text: str, lang: str) -> str:
    """The first sentence of `text` without its final punctuation (a measure's title)."""
    found = sentences(text, lang)
    return strip_end(found[0]) if found else ""


def has_inner_sentence_end(text: str, lang: str) -> bool:
    """True if a sentence ends somewhere before the end of `text`."""
    return len(sentences(text, lang)) > 1

"""From a captured page to clean paragraphs: chrome cut, Markdown and pinyin removed.

What counts as chrome, Markdown or a pinyin annotation is in data/capture.yaml. Joining
paragraphs that a page break split depends on where a paragraph stands (front matter or
a unit's body), so that is left to `layers.documents.structure`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from layers.documents.errors import SourceError
from layers.documents.registry import capture_rules


@dataclass(frozen=True)
class Paragraph:
    """One paragraph of a capture, cleaned; `line` is where it starts in the source (1-based)."""

    text: str
    line: int
    heading: bool = False  # written as a Markdown heading


@cache
def _patterns() -> dict:
    rules = capture_rules()
    chrome = rules["chrome"]
    markdown = rules["markdown"]
    punct = rules["punctuation"]
    return {
        "header": [re.compile(p) for p in chrome["header"]],
        "header_scan": int(chrome["header_scan"]),
        "footer": [re.compile(p) for p in chrome["footer"]],
        "copy_end": [re.compile(p) for p in chrome["copy_end"]],
        "heading": re.compile(markdown["heading"]),
        "emphasis": re.compile(markdown["emphasis"]),
        "hard_break": re.compile(markdown["hard_break"]),
        "pinyin": re.compile(rules["pinyin_annotation"]),
        "space_before_punct": re.compile(r"\s+(?=[" + re.escape(punct["continuation_start"])
                                         + r"。！？!?])"),
        "continuation_start": punct["continuation_start"],
    }


def _matches(patterns: list[re.Pattern], line: str) -> bool:
    return any(p.search(line) for p in patterns)


def body_copies(lines: list[str]) -> list[tuple[int, int]]:
    """Line ranges [start, end) of the document body, one per copy, chrome left out.

    Header chrome: everything up to the last metadata line near the top (a label with an
    empty value takes the next line too). Footer chrome: from the first footer line on.
    An end-of-article mark closes one copy of the body; text after it is another copy.
    """
    pat = _patterns()
    start = 0
    for i, line in enumerate(lines[:pat["header_scan"]]):
        stripped = line.strip()
        if _matches(pat["header"], stripped):
            start = i + 1
            if stripped.endswith((":", "：")) and i + 1 < len(lines):
                start = i + 2
    end = len(lines)
    for i in range(start, len(lines)):
        if _matches(pat["footer"], lines[i].strip()):
            end = i
            break
    copies, copy_start = [], start
    for i in range(start, end):
        if _matches(pat["copy_end"], lines[i].strip()):
            copies.append((copy_start, i))
            copy_start = i + 1
    copies.append((copy_start, end))
    return [(a, b) for a, b in copies if any(lines[k].strip() for k in range(a, b))]


def join_pieces(left: str, right: str, space: bool = False) -> str:
    """Join two pieces of one paragraph: a space between Latin words (or when asked)."""
    if not left or not right:
        return left + right
    if space or (left[-1].isascii() and left[-1].isalnum() and right[0].isascii()
                 and right[0].isalnum()):
        return left.rstrip() + " " + right.lstrip()
    return left + right


def clean_line(line: str, lang: str) -> tuple[str, bool]:
    """A line without Markdown, pinyin annotations or stray spaces; and if it was a heading."""
    pat = _patterns()
    heading = bool(pat["heading"].match(line))
    if heading:
        line = pat["heading"].sub("", line, count=1)
    line = pat["emphasis"].sub("", line)
    if lang.startswith("zh"):
        line = pat["pinyin"].sub("", line)
    line = pat["space_before_punct"].sub("", line)
    line = re.sub(r"[ \t\u3000]{2,}", " ", line)
    return line.strip(), heading


def paragraphs(lines: list[str], start: int, end: int, lang: str) -> list[Paragraph]:
    """The paragraphs of lines[start:end].

    A body that separates paragraphs with blank lines wraps lines softly inside a
    paragraph (a Markdown hard break, two trailing spaces, becomes a space); a body with
    no blank lines has one paragraph per line. A line that starts with a comma or a full
    stop goes on from the line before.
    """
    pat = _patterns()
    block = lines[start:end]
    nonblank = [i for i, line in enumerate(block) if line.strip()]
    blank_separated = any(not block[i].strip() for i in range(nonblank[0], nonblank[-1]))
    out: list[Paragraph] = []
    previous_blank, hard_break = True, False
    for offset, raw in enumerate(block):
        if not raw.strip():
            previous_blank = True
            continue
        text, heading = clean_line(raw, lang)
        if not text:
            continue
        continues = text[0] in pat["continuation_start"] and not heading
        soft_wrap = blank_separated and not previous_blank and not heading
        if out and (continues or soft_wrap) and not out[-1].heading:
            joined = join_pieces(out[-1].text, text, space=soft_wrap and hard_break)
            out[-1] = Paragraph(joined, out[-1].line, False)
        else:
            out.append(Paragraph(text, start + offset + 1, heading))
        hard_break = bool(pat["hard_break"].search(raw))
        previous_blank = False
    return out


def clean_capture(text: str, path: Path, lang: str) -> list[list[Paragraph]]:
    """The clean paragraphs of a capture, one list per copy of its body."""
    lines = text.split("\n")
    copies = body_copies(lines)
    if not copies:
        raise SourceError(path, "no text left once the page chrome is removed")
    return [paragraphs(lines, a, b, lang) for a, b in copies]

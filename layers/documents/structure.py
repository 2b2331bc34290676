"""From clean paragraphs to the units of one language version, read off the numbering.

The shape every document here shares: front matter (a title line and a preamble), then
chapters headed 一、/ I. / 4., each with numbered units (（一） / (1) / (Thirteen)), and
maybe a closing after the last unit. Units are numbered straight through the document
(measures: keys 1, 2, … 25) or afresh in every chapter (sections: keys 1.1 … 3.5); the
numbers tell which. Nothing here knows a particular file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from layers.documents.cleaning import Paragraph, join_pieces
from layers.documents.errors import SourceError
from layers.documents.numbering import Marker, match_marker
from layers.documents.registry import capture_rules
from layers.documents.sentences import (
    ends_paragraph,
    first_sentence,
    has_inner_sentence_end,
    starts_with_fragment,
    strip_end,
)


@dataclass
class VersionUnit:
    """A unit as one language version has it; `chapter_title` None if the heading is missing."""

    key: str
    kind: str
    chapter_number: int | None
    chapter_title: str | None
    title: str
    paragraphs: list[str]
    line: int

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


@dataclass
class _Item:
    number: int
    title: str
    line: int
    paragraphs: list[str] = field(default_factory=list)
    heading: str = ""  # the marker line's words when it is a heading
    lead: list[str] = field(default_factory=list)  # headings above it (第一节 规划)


@dataclass
class _Chapter:
    number: int | None
    title: str | None
    line: int
    lead: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)


def _is_heading(paragraph: Paragraph, rest: str, lang: str) -> bool:
    """A numbered line is a heading when written as one or short with no sentence inside."""
    limit = capture_rules()["punctuation"]["heading_max_chars"]
    return paragraph.heading or (len(rest) <= limit and not has_inner_sentence_end(rest, lang))


def _append(body: list[str], text: str) -> None:
    """Add a paragraph to a unit's body, joining what a page break split."""
    if body and (not ends_paragraph(body[-1]) or starts_with_fragment(text)):
        body[-1] = join_pieces(body[-1], text)
    else:
        body.append(text)


def _new_item(marker: Marker, paragraph: Paragraph, lang: str) -> _Item:
    if _is_heading(paragraph, marker.rest, lang):
        return _Item(marker.number, strip_end(marker.rest), paragraph.line,
                     heading=marker.rest)
    title = first_sentence(marker.rest, lang)
    return _Item(marker.number, title, paragraph.line, [marker.rest])


def _levels(paragraphs: list[Paragraph], chapters_as_items: bool) -> dict[str, str]:
    """What each marker level stands for in this text (see markers in data/capture.yaml).

    第一节 is a chapter where the text has no chapters, else a heading between units;
    1. / 1、 is a unit where it has no unit markers, else a point inside a unit.
    chapters_as_items: 一、 numbers the units (a 批复: 一、同意设立…。二、…).
    """
    present = {m.level for m in map(match_marker, (p.text for p in paragraphs)) if m}
    if chapters_as_items:
        return {"chapter": "item", "item": "point", "subchapter": "heading", "sub": "point"}
    return {"chapter": "chapter", "item": "item",
            "subchapter": "heading" if "chapter" in present else "chapter",
            "sub": "point" if "item" in present else "item"}


def _outline(paragraphs: list[Paragraph], lang: str, chapters_as_items: bool = False
             ) -> tuple[list[Paragraph], list[_Chapter]]:
    """Front matter and chapters with their numbered items, in reading order."""
    front: list[Paragraph] = []
    chapters: list[_Chapter] = []
    levels = _levels(paragraphs, chapters_as_items)
    pending: list[str] = []  # headings between units, for the next unit
    keep = False  # the paragraph before stands alone: do not join the next one to it
    for paragraph in paragraphs:
        marker = match_marker(paragraph.text)
        level = levels[marker.level] if marker else None
        if (level == "chapter"
                and _is_heading(paragraph, marker.rest, lang)):
            chapters.append(_Chapter(marker.number, strip_end(marker.rest), paragraph.line))
        elif level == "item":
            if not chapters:  # numbered units with no chapter headings above them
                chapters.append(_Chapter(None, "", paragraph.line))
            item = _new_item(marker, paragraph, lang)
            item.lead, pending = pending, []
            chapters[-1].items.append(item)
        elif level == "heading" and chapters:
            pending.append(paragraph.text)
        elif chapters and chapters[-1].items:
            body = chapters[-1].items[-1].paragraphs
            if keep or level == "point":
                body.append(paragraph.text)
            else:
                _append(body, paragraph.text)
            keep = level == "point" and not ends_paragraph(paragraph.text)
            continue
        elif chapters:
            _append(chapters[-1].lead, paragraph.text)
        else:
            front.append(paragraph)
        keep = False
    if pending:  # headings with no unit after them end the last one
        last = chapters[-1]
        (last.items[-1].paragraphs if last.items else last.lead).extend(pending)
    return front, chapters


def _restore_first_chapter(front: list[Paragraph], chapters: list[_Chapter],
                           path: Path) -> None:
    """Chapter 一 whose heading the capture lost: the paragraph just before chapter 二.

    Its title is left None, for the document's other versions to supply.
    """
    if not chapters or chapters[0].number in (None, 1):
        return
    first = chapters[0]
    if first.number != 2 or not front:
        raise SourceError(path, f"the text starts at chapter {first.number} "
                                f"(line {first.line}); chapters before it are missing")
    lost = front.pop()
    chapters.insert(0, _Chapter(1, None, lost.line, [lost.text]))


def _check_chapters(chapters: list[_Chapter], path: Path) -> None:
    numbered = [c for c in chapters if c.number is not None]
    for previous, chapter in pairwise(numbered):
        if chapter.number != previous.number + 1:
            raise SourceError(path, f"chapter {chapter.number} (line {chapter.line}) follows "
                                    f"chapter {previous.number}: numbering out of order")


def _numbering(chapters: list[_Chapter], path: Path) -> str:
    """"measure" when items run 1…N through the document, "section" when each chapter restarts."""
    flat = [item for chapter in chapters for item in chapter.items]
    if [item.number for item in flat] == list(range(1, len(flat) + 1)):
        return "measure"
    for chapter in chapters:
        expected = 1
        for item in chapter.items:
            if item.number != expected:
                raise SourceError(path, f"unit ({item.number}) at line {item.line} where "
                                        f"({expected}) was expected: numbering out of order")
            expected += 1
    return "section"


def _split_closing(chapters: list[_Chapter], closing: int, path: Path) -> list[str]:
    """The closing paragraphs taken off the end of the last unit.

    `closing` prose paragraphs, plus the lines after them that end in no sentence mark
    (a signature or a list of names).
    """
    if not closing or not chapters:
        return []
    last = chapters[-1]
    body = last.items[-1].paragraphs if last.items else last.lead
    take = 0
    while take < len(body) and not ends_paragraph(body[-1 - take]):
        take += 1
    take += closing
    if take >= len(body):
        raise SourceError(path, f"expected {closing} closing paragraph(s) after the last "
                                f"unit (line {last.line}), but it has too few paragraphs")
    out = body[-take:]
    del body[-take:]
    return out


def _preamble(front: list[Paragraph]) -> tuple[str, list[str]]:
    """The title line (a heading, or a first line that ends in no sentence mark) and the rest."""
    if front and (front[0].heading or not ends_paragraph(front[0].text)):
        return strip_end(front[0].text), [p.text for p in front[1:]]
    return "", [p.text for p in front]


def parse_version(paragraphs: list[Paragraph], lang: str, path: Path,
                  closing: int = 0, chapters_as_items: bool = False) -> list[VersionUnit]:
    """The units of one copy of one language version, in document order.

    chapters_as_items: read 一、 as unit markers, (一) and 1. as points inside units.
    """
    front, chapters = _outline(paragraphs, lang, chapters_as_items)
    if not chapters:
        raise SourceError(path, "no recognisable structure: no chapter headings (一、 / I. / "
                                "第一章) and no numbered units ((一) / (1) / 第一条 / 1、)")
    _restore_first_chapter(front, chapters, path)
    _check_chapters(chapters, path)
    kind = _numbering(chapters, path)
    closing_paragraphs = _split_closing(chapters, closing, path)

    units: list[VersionUnit] = []
    title, preamble = _preamble(front)
    if preamble:
        units.append(VersionUnit("preamble", "preamble", None, None, title, preamble,
                                 front[0].line))
    for chapter in chapters:
        if not chapter.items:
            key = "overall" if chapter.number == 1 else f"chapter-{chapter.number}"
            units.append(VersionUnit(key, "overall", chapter.number, chapter.title, "",
                                     chapter.lead, chapter.line))
            continue
        for i, item in enumerate(chapter.items):
            hierarchical = kind == "section" and chapter.number is not None
            key = f"{chapter.number}.{item.number}" if hierarchical else str(item.number)
            # A chapter's opening words go with its first unit.
            lead = chapter.lead if i == 0 else []
            # A one-sentence unit (二、…目标。) is its own heading and its whole text.
            body = item.paragraphs or ([item.heading] if item.heading else [])
            units.append(VersionUnit(key, kind, chapter.number, chapter.title, item.title,
                                     [*lead, *item.lead, *body], item.line))
    if closing_paragraphs:
        units.append(VersionUnit("closing", "closing", None, None, "", closing_paragraphs,
                                 chapters[-1].line))
    for unit in units:
        if not unit.text.strip():
            raise SourceError(path, f"unit {unit.key} (line {unit.line}) has no text")
    return units

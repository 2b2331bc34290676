"""A text with no numbering (a news report, an encyclopedia entry): one unit per paragraph.

A short line that ends in no sentence mark is a heading: it opens the next unit and is
its title (and stays the first line of its text, so nothing is lost). A paragraph that
ends in a colon introduces what follows and shares its unit; one a page break cut
(no closing mark) goes on in the next paragraph.
"""

from __future__ import annotations

from layers.documents.cleaning import Paragraph, join_pieces
from layers.documents.numbering import match_marker
from layers.documents.registry import capture_rules
from layers.documents.sentences import (
    ends_paragraph,
    first_sentence,
    has_inner_sentence_end,
    starts_with_fragment,
    strip_end,
)
from layers.documents.structure import VersionUnit

_COLONS = ("：", ":")


def _is_heading(paragraph: Paragraph, lang: str) -> bool:
    limit = capture_rules()["metadata"]["title_max_chars"]
    text = paragraph.text
    return paragraph.heading or (not ends_paragraph(text) and len(text) <= limit
                                 and not has_inner_sentence_end(text, lang))


def paragraph_units(paragraphs: list[Paragraph], lang: str) -> list[VersionUnit]:
    """The units of an unnumbered text, keys 1…N, kind `paragraph`."""
    units: list[VersionUnit] = []
    headings: list[Paragraph] = []
    for paragraph in paragraphs:
        text = paragraph.text
        if _is_heading(paragraph, lang):
            headings.append(paragraph)
            continue
        last = units[-1].paragraphs if units and not headings else None
        if last and last[-1].rstrip().endswith(_COLONS):
            last.append(text)
        elif last and (not ends_paragraph(last[-1])
                       or (starts_with_fragment(text) and match_marker(text) is None)):
            last[-1] = join_pieces(last[-1], text)
        else:
            title = strip_end(headings[-1].text) if headings else first_sentence(text, lang)
            line = (headings[0] if headings else paragraph).line
            units.append(VersionUnit(str(len(units) + 1), "paragraph", None, None, title,
                                     [h.text for h in headings] + [text], line))
            headings = []
    if headings:  # headings with no paragraph after them: a unit of their own
        units.append(VersionUnit(str(len(units) + 1), "paragraph", None, None,
                                 strip_end(headings[-1].text), [h.text for h in headings],
                                 headings[0].line))
    return units

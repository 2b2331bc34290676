"""What the document layer hands on: documents and their units."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGS = ("zh-Hans", "zh-Hant", "en")
KINDS = ("preamble", "overall", "measure", "section", "closing")


@dataclass(frozen=True)
class Document:
    """One policy text as the registry describes it (data/documents.yaml)."""

    id: str
    title: dict[str, str]
    date: str
    publisher: dict[str, str]
    versions: dict[str, str]  # language -> source file name under the sources folder
    closing: int = 0  # prose paragraphs after the last numbered unit that close the text
    number: str = ""  # the document number (文号), e.g. 国函〔2016〕68号
    url: str = ""  # where the text was published


@dataclass(frozen=True)
class Unit:
    """The smallest passage the map links to: a measure, a section, a preamble...

    `text[lang]` is the display text of the version in its own script, without the
    number marker; paragraphs are separated by a single newline.
    """

    id: str
    document: str
    key: str
    kind: str
    order: int
    chapter_number: int | None
    chapter_title: dict[str, str] = field(default_factory=dict)
    title: dict[str, str] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)

    @property
    def langs(self) -> tuple[str, ...]:
        """The language versions this unit has a text in, in the standard order."""
        return tuple(lang for lang in LANGS if lang in self.text)

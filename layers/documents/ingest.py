"""Any file a planner has, parsed into its document record and units.

The steps: the format's reader gives plain text (layers.documents.formats, encodings in
layers.documents.encoding); the script is detected (layers.documents.script) unless
given; the capture rules clean it (chrome, Markdown); the title, number, date and other
metadata lines come off the top and bottom (layers.documents.metadata); the body is
parsed by its numbering (layers.documents.structure) or, with none, one unit per
paragraph (layers.documents.plain). Metadata: flags win, else what the text says, else
what the file format says, else empty.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from layers.documents.cleaning import Paragraph, clean_capture
from layers.documents.errors import SourceError
from layers.documents.formats import extract
from layers.documents.metadata import parse_date, take_footer, take_header
from layers.documents.model import LANGS, Document, Unit
from layers.documents.plain import paragraph_units
from layers.documents.registry import capture_rules
from layers.documents.script import detect_script
from layers.documents.structure import VersionUnit, parse_version
from layers.textnorm import normalize

# A safe document id: lower-case ASCII letters, digits and inner hyphens, at most 64
# characters (no dots, slashes or colons: it names files and is the prefix of unit ids).
ID_PATTERN = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?")
_SLUG_CHARS = 48


def make_document_id(title: str) -> str:
    """A safe id from a title: its ASCII words, plus a short hash if it has other letters.

    "Harbin New Area approved" → "harbin-new-area-approved"; a Chinese title has no
    ASCII words to go by, so "国务院关于同意设立哈尔滨新区的批复" → "doc-3f2a9c1e" (the
    same title always gives the same id).
    """
    decomposed = unicodedata.normalize("NFKD", title)  # Ç → C + a combining cedilla
    folded = decomposed.encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")
    if len(slug) > _SLUG_CHARS:
        slug = slug[:_SLUG_CHARS].rsplit("-", 1)[0]
    other_letters = any(c.isalpha() and not c.isascii() for c in decomposed)
    if slug and not other_letters:
        return slug
    digest = hashlib.sha256(title.strip().encode("utf-8")).hexdigest()[:8]
    return f"{slug or 'doc'}-{digest}"


def _default_id(title: str, path: Path) -> str:
    """An id from the title if it is written in Latin letters, else from a Latin file
    name (news-harbin.txt), else from the title's hash."""
    for name in (title, path.stem):
        if name and name.isascii() and re.search("[A-Za-z]", name):
            return make_document_id(name)
    return make_document_id(title or path.stem)


def _body(copies: list[list[Paragraph]], lang: str) -> list[Paragraph]:
    """One body from the copies an end-of-article mark split: a repeated copy kept once."""
    body = list(copies[0])
    seen = {normalize(p.text, lang) for p in body}
    for copy in copies[1:]:
        body.extend(p for p in copy if normalize(p.text, lang) not in seen)
    return body


def _structure(title: str, body: list[Paragraph], lang: str,
               path: Path) -> list[VersionUnit]:
    """The units by the text's numbering; one per paragraph when it has none to go by.

    Numbering counts only when it starts near the top: a news report that lists a few
    numbered points in its middle is still read paragraph by paragraph.
    """
    heading = [Paragraph(title, 0, True)] if title else []
    for chapters_as_items in (False, True):  # 一、 as chapters, else as units (a 批复)
        try:
            units = parse_version(heading + body, lang, path,
                                  chapters_as_items=chapters_as_items)
            break
        except SourceError:
            continue
    else:
        return paragraph_units(body, lang)
    preamble = units[0].paragraphs if units[0].kind == "preamble" else []
    if len(preamble) > capture_rules()["structure"]["max_front_paragraphs"]:
        return paragraph_units(body, lang)
    return units


def read_document(path: Path, *, doc_id: str | None = None, lang: str | None = None,
                  title: str | None = None, date: str | None = None,
                  publisher: str | None = None, url: str | None = None,
                  number: str | None = None) -> tuple[Document, list[Unit]]:
    """Parse one user file (txt/html/htm/docx/pdf) into its document record and units.

    Flags win; else metadata detected from the text; else empty. Raises SourceError
    (one-line message naming the file and the problem) for anything it cannot read.
    """
    path = Path(path)
    if doc_id is not None and not ID_PATTERN.fullmatch(doc_id):
        raise SourceError(path, f"unsafe document id {doc_id!r}: use lower-case letters, "
                                "digits and inner hyphens, at most 64 characters")
    if lang is not None and lang not in LANGS:
        raise SourceError(path, f"unknown language {lang!r}; one of {', '.join(LANGS)}")
    extracted = extract(path)
    lang = lang or detect_script(extracted.text)
    if lang is None:
        raise SourceError(path, "no Chinese or English text in the file")
    top, lines = take_header(extracted.text.split("\n"), lang)
    if not any(line.strip() for line in lines):
        raise SourceError(path, "no body text once the title and metadata lines are taken off")
    copies = clean_capture("\n".join(lines), path, lang)
    bottom, body = take_footer(_body(copies, lang))
    if not body:
        raise SourceError(path, "no body text once the title and metadata lines are taken off")
    meta = {**{k: v for k, v in extracted.meta.items() if v}, **bottom, **top}
    given = {"title": title, "date": date, "publisher": publisher, "url": url,
             "number": number}
    meta.update({k: v for k, v in given.items() if v is not None})
    if meta.get("date") and date is None:
        meta["date"] = parse_date(meta["date"]) or meta["date"]
    version_units = _structure(meta.get("title", ""), body, lang, path)
    if not version_units:
        raise SourceError(path, "no text to make units of")
    if not meta.get("title") and version_units[0].kind == "preamble":
        meta["title"] = version_units[0].title
    doc_id = doc_id or _default_id(meta.get("title", ""), path)
    document = Document(
        id=doc_id,
        title={lang: meta.get("title", "")},
        date=meta.get("date", ""),
        publisher={lang: meta.get("publisher", "")},
        versions={lang: path.name},
        number=meta.get("number", ""),
        url=meta.get("url", ""),
    )
    units = [
        Unit(id=f"{doc_id}:{unit.key}", document=doc_id, key=unit.key, kind=unit.kind,
             order=order, chapter_number=unit.chapter_number,
             chapter_title=({lang: unit.chapter_title or ""}
                            if unit.chapter_number is not None else {}),
             title={lang: unit.title}, text={lang: unit.text})
        for order, unit in enumerate(version_units)
    ]
    return document, units

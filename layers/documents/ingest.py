"""Any policy text file in: one Document and its Units, metadata from flags or the text.

Stand-in until the full reader lands: it reads UTF-8 `.txt` files numbered the way the
parser already knows (一、/（一）/(1)/I.), with the same signature the full reader has, so
that adding documents (layers.userdocs) can be built and tested against it.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from layers.documents.errors import SourceError
from layers.documents.loading import parse_source
from layers.documents.model import LANGS, Document, Unit
from layers.documents.reading import read_source
from layers.textnorm import convert

# A document id: lower-case letters, digits and inner hyphens; it names a folder and
# prefixes unit ids ("<id>:<key>"), so nothing else may appear in it.
ID_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
FORMATS = (".txt",)


def make_document_id(title: str) -> str:
    """An id from a title: its Latin words as a slug, else a short hash of the title."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:48].strip("-")
    if slug:
        return slug
    return "doc-" + hashlib.sha1(title.encode("utf-8")).hexdigest()[:10]


def _script(text: str) -> str:
    """zh-Hans, zh-Hant or en, from the characters of the text."""
    han = [c for c in text if "\u4e00" <= c <= "\u9fff"]
    if len(han) < sum(c.isascii() and c.isalpha() for c in text) / 4:
        return "en"
    sample = "".join(han[:4000])
    to_simplified = sum(a != b for a, b in zip(sample, convert(sample, "t2s"), strict=False))
    to_traditional = sum(a != b for a, b in zip(sample, convert(sample, "s2t"), strict=False))
    return "zh-Hant" if to_simplified > to_traditional else "zh-Hans"


def read_document(path: Path, *, doc_id: str | None = None, lang: str | None = None,
                  title: str | None = None, date: str | None = None,
                  publisher: str | None = None, url: str | None = None,
                  number: str | None = None) -> tuple[Document, list[Unit]]:
    """The document in `path` and its units; SourceError (one line) if it cannot be read."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise SourceError(path, f"unknown format {path.suffix or '(no extension)'!r} "
                                f"(known: {', '.join(FORMATS)})")
    text = read_source(path)
    if not text.strip():
        raise SourceError(path, "empty file: no text to add")
    if lang is not None and lang not in LANGS:
        raise SourceError(path, f"unknown language {lang!r} (known: {', '.join(LANGS)})")
    lang = lang or _script(text)
    parsed = parse_source(path, lang)
    preamble = next((u for u in parsed if u.kind == "preamble"), None)
    title = (title or (preamble.title if preamble else "") or path.stem).strip()
    doc_id = doc_id if doc_id is not None else make_document_id(title)
    if not ID_PATTERN.match(doc_id):
        raise SourceError(path, f"unsafe document id {doc_id!r}: use lower-case letters, "
                                "digits and inner hyphens")
    document = Document(id=doc_id, title={lang: title}, date=date or "",
                        publisher={lang: publisher} if publisher else {},
                        versions={lang: path.name}, number=number or "", url=url or "")
    units = [Unit(id=f"{doc_id}:{u.key}", document=doc_id, key=u.key, kind=u.kind, order=i,
                  chapter_number=u.chapter_number,
                  chapter_title={lang: u.chapter_title} if u.chapter_title else {},
                  title={lang: u.title}, text={lang: u.text})
             for i, u in enumerate(parsed)]
    return document, units

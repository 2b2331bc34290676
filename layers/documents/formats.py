"""A user's file as plain text, whatever its format: txt, saved web page, Word, PDF.

Each reader gives the text one paragraph per line (a blank line may separate them) and
what the file itself says about the document (a page's <title>, date and canonical
URL; a Word or PDF file's title property). Main text of a web page: trafilatura
(menus, footers and other site furniture left out). Word: python-docx, headings marked
as Markdown headings so the cleaning knows them. PDF: pypdf, the lines of a page
joined back into paragraphs. The libraries are imported inside the readers, to keep
them off the start-up path of the service, which never reads a user file.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

from layers.documents.encoding import decode
from layers.documents.errors import SourceError
from layers.documents.numbering import match_marker
from layers.documents.registry import capture_rules
from layers.documents.sentences import ends_paragraph

FORMATS = {".txt": "text", ".text": "text", ".html": "html", ".htm": "html",
           ".docx": "docx", ".pdf": "pdf"}
MAX_BYTES = 20 * 1024 * 1024  # a larger file is refused before it is read
MAX_UNPACKED = 200 * 1024 * 1024  # what a Word file (a zip package) may unpack to


@dataclass
class Extracted:
    """The text of a file and the metadata the file format carries (values may be "")."""

    text: str
    format: str
    encoding: str = ""
    meta: dict[str, str] = field(default_factory=dict)  # title, date, url, publisher


def read_bytes(path: Path) -> bytes:
    """The file's bytes; one over MAX_BYTES is refused before it is read."""
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise SourceError(path, f"the file is {size / 2**20:.1f} MB, over the "
                                    f"{MAX_BYTES // 2**20} MB limit")
        return path.read_bytes()
    except OSError as error:
        raise SourceError(path, f"cannot read the file ({error.strerror})") from error


def extract(path: Path) -> Extracted:
    """The text of `path` by its format (its extension, checked against its first bytes)."""
    kind = FORMATS.get(path.suffix.lower())
    if kind is None:
        known = ", ".join(sorted(FORMATS))
        raise SourceError(path, f"unknown format {path.suffix or '(no extension)'!r}; "
                                f"a document must be one of {known}")
    data = read_bytes(path)
    if not data.strip():
        raise SourceError(path, "the file is empty")
    reader = {"text": _text, "html": _html, "docx": _docx, "pdf": _pdf}[kind]
    try:
        return reader(data, path)
    except SourceError:
        raise
    except Exception as error:
        # The parsers of Word, PDF and HTML raise many kinds of errors on damaged files
        # (XML syntax, zlib, recursion); each is the file's fault, said in one line.
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SourceError(path, f"cannot read it as {kind} ({detail[:200]})") from error


def _text(data: bytes, path: Path) -> Extracted:
    if data.startswith((b"%PDF", b"PK\x03\x04")):
        raise SourceError(path, "a PDF or Word file named as text; give it its own extension")
    text, encoding = decode(data, path)
    return Extracted(unwrap(text), "text", encoding)


def _html(data: bytes, path: Path) -> Extracted:
    import trafilatura  # heavy: only when a web page is read

    # The bytes decide, not the page's <meta charset>: saved pages often declare
    # gb2312 for GBK text, or keep the declaration after a re-save as UTF-8.
    text, encoding = decode(data, path)
    body = trafilatura.extract(text, output_format="txt", include_comments=False,
                               include_tables=True, favor_recall=True)
    if not body or not body.strip():
        raise SourceError(path, "no main text found in the web page")
    # Not the extensive date search: it guesses (1 January of a year named in the text).
    found = trafilatura.extract_metadata(text, extensive=False)
    meta = {}
    if found is not None:
        meta = {"title": found.title or "", "date": found.date or "", "url": found.url or ""}
    return Extracted(body, "html", encoding, meta)


def _docx(data: bytes, path: Path) -> Extracted:
    import docx  # python-docx, only when a Word file is read
    from docx.opc.exceptions import PackageNotFoundError

    if not data.startswith(b"PK"):
        if data.startswith(b"\xd0\xcf\x11\xe0"):
            raise SourceError(path, "an old Word 97-2003 file; save it as .docx")
        raise SourceError(path, "not a Word .docx file (not a zip package)")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
        if unpacked > MAX_UNPACKED:
            raise SourceError(path, f"the Word file unpacks to {unpacked / 2**20:.0f} MB, "
                                    f"over the {MAX_UNPACKED // 2**20} MB limit")
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise SourceError(path, f"not a readable Word .docx file ({error})") from error
    lines = []
    for paragraph in document.paragraphs:
        text = paragraph.text.strip()
        if not text:
            continue
        style = (paragraph.style.name or "") if paragraph.style is not None else ""
        heading = style.startswith("Heading") or style == "Title"
        lines.append(f"# {text}" if heading else text)
    for table in document.tables:  # tables after the text: their cells, one per line
        for row in table.rows:
            cells = [cell.text.strip() for cell in row.cells if cell.text.strip()]
            if cells:
                lines.append(" ".join(dict.fromkeys(cells)))
    if not lines:
        raise SourceError(path, "the Word file has no text")
    # Only the title property: a Word file's author is whoever typed it, and its dates
    # are when the file (or its template) was made, not the document's.
    meta = {"title": document.core_properties.title or ""}
    return Extracted("\n".join(lines), "docx", "", meta)


def _pdf(data: bytes, path: Path) -> Extracted:
    import pypdf  # only when a PDF is read
    from pypdf.errors import PdfReadError

    if not data.startswith(b"%PDF"):
        raise SourceError(path, "not a PDF file (no %PDF header)")
    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise SourceError(path, "the PDF is encrypted with a password; give an "
                                    "unlocked copy")
        pages = [page.extract_text() or "" for page in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as error:
        raise SourceError(path, f"not a readable PDF ({error})") from error
    if not any(page.strip() for page in pages):
        raise SourceError(path, f"the PDF has no text layer ({len(pages)} page(s), a scan?); "
                                "run OCR on it first or give the text as .txt")
    info = {"title": str((reader.metadata or {}).get("/Title") or "")}
    return Extracted("\n".join(unwrap(page) for page in pages), "pdf", "", info)


def _width(line: str) -> int:
    """Display width: a Han character is two Latin letters wide."""
    return sum(2 if ord(c) > 0x2E80 else 1 for c in line)


def unwrap(text: str) -> str:
    """Lines a layout wrapped joined back into paragraphs, one per line, blank lines gone.

    A PDF has no paragraphs, only lines, and a plain text may be wrapped at a fixed
    width: a line that runs (nearly) the full width of the text and ends in no paragraph
    mark was wrapped by the layout, not ended by the author. A numbered or Markdown
    heading line always starts a paragraph of its own.
    """
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return ""
    full = sorted(_width(line) for line in lines)[int(len(lines) * 0.9)]
    share = capture_rules()["pdf"]["full_line_share"]
    out = [lines[0]]
    for previous, line in pairwise(lines):
        if (_width(previous) >= share * full and not ends_paragraph(previous)
                and not previous.startswith("#") and not line.startswith("#")
                and match_marker(line) is None):
            joiner = " " if previous[-1:].isascii() and line[:1].isascii() else ""
            out[-1] = out[-1] + joiner + line
        else:
            out.append(line)
    return "\n".join(out)

"""Reading a user's file: encodings told apart, the script detected, flags that win, and
a clear one-line error for every file that cannot be read."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pypdf
import pytest

from layers.documents.encoding import decode
from layers.documents.errors import SourceError
from layers.documents.ingest import ID_PATTERN, make_document_id, read_document
from layers.documents.script import detect_script

USER = Path(__file__).parent / "fixtures" / "documents" / "user"
HANS = ("国务院关于同意设立哈尔滨新区的批复。你们关于设立哈尔滨新区的请示收悉。"
        "同意设立哈尔滨新区，新区范围包括松北区、呼兰区、平房区的部分区域。")
HANT = ("國務院關於同意設立哈爾濱新區的批復。你們關於設立哈爾濱新區的請示收悉。"
        "同意設立哈爾濱新區，新區範圍包括松北區、呼蘭區、平房區的部分區域。")


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


# --- encodings ------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "encoding", "name"), [
    (HANS, "utf-8", "UTF-8"), (HANS, "utf-8-sig", "UTF-8"), (HANS, "gbk", "GB18030"),
    (HANS, "gb18030", "GB18030"), (HANT, "big5", "Big5"), (HANT, "utf-8", "UTF-8"),
    (HANT, "gbk", "GB18030"), (HANS, "utf-16", "UTF-16"),
    # two characters are enough to tell GBK from Big5
    ("新区", "gbk", "GB18030"), ("新區", "big5", "Big5"),
])
def test_encoding_detected_and_text_exact(text, encoding, name):
    decoded, found = decode(text.encode(encoding), Path("x.txt"))
    assert (decoded, found) == (text, name)


@pytest.mark.parametrize("name", ["news-tianfu.gbk.txt", "news-nansha.big5.txt"])
def test_encoded_fixtures_read_as_their_utf8_source(name):
    source = {"news-tianfu.gbk.txt": "news-tianfu.zh-Hans.txt",
              "news-nansha.big5.txt": "news-nansha.zh-Hant.txt"}[name]
    _, units = read_document(USER / name)
    body = (USER / "sources" / source).read_text(encoding="utf-8")
    for unit in units:
        for paragraph in next(iter(unit.text.values())).split("\n"):
            assert paragraph in body


def test_latin1_bytes_are_an_error_not_mojibake(tmp_path):
    path = write(tmp_path, "cafe.txt", "Café crème à la gare de Lyon, déjà vu.".encode("latin-1"))
    with pytest.raises(SourceError, match=r"^cafe\.txt: not text in UTF-8, GB18030/GBK or Big5"):
        read_document(path)


# --- script ---------------------------------------------------------------------------

def test_script_detected_from_the_text():
    assert detect_script(HANS) == "zh-Hans"
    assert detect_script(HANT) == "zh-Hant"
    assert detect_script("The State Council approved the Harbin New Area (哈尔滨新区).") == "en"
    assert detect_script("2024 — 15 %") is None


def test_lang_flag_overrides_detection(tmp_path):
    path = write(tmp_path, "pifu.txt", "关于设立新区的批复\n" + HANS + "\n")
    document, units = read_document(path, lang="zh-Hant")
    assert document.versions == {"zh-Hant": "pifu.txt"}
    assert all(unit.langs == ("zh-Hant",) for unit in units)


# --- metadata and ids --------------------------------------------------------------------

def test_flags_win_over_what_the_text_says():
    document, units = read_document(
        USER / "pifu-harbin.zh-Hans.txt", doc_id="harbin-approval", title="哈尔滨新区批复",
        date="2015-12-16", publisher="国务院办公厅", url="https://example.org/pifu",
        number="国函〔2015〕999号")
    assert (document.id, document.title, document.date, document.publisher, document.url,
            document.number) == ("harbin-approval", {"zh-Hans": "哈尔滨新区批复"}, "2015-12-16",
                                 {"zh-Hans": "国务院办公厅"}, "https://example.org/pifu",
                                 "国函〔2015〕999号")
    assert units[0].id == "harbin-approval:preamble"


def test_no_metadata_found_leaves_fields_empty(tmp_path):
    path = write(tmp_path, "short.txt", HANS + "\n" + HANS.replace("松北区", "道里区") + "\n")
    document, units = read_document(path)
    assert (document.date, document.number, document.url) == ("", "", "")
    assert document.title == {"zh-Hans": ""} and document.publisher == {"zh-Hans": ""}
    assert ID_PATTERN.fullmatch(document.id) and document.id == "short"
    assert [unit.kind for unit in units] == ["paragraph", "paragraph"]


@pytest.mark.parametrize(("title", "expected"), [
    ("State Council approves Harbin New Area", "state-council-approves-harbin-new-area"),
    ("Xiong'an: 2024 report / update", "xiong-an-2024-report-update"),
    ("Ça va", "ca-va"),
])
def test_document_id_from_a_latin_title(title, expected):
    assert make_document_id(title) == expected
    assert ID_PATTERN.fullmatch(expected)


def test_document_id_from_a_chinese_title_is_stable_and_safe():
    first = make_document_id("国务院关于同意设立哈尔滨新区的批复")
    assert first == make_document_id("国务院关于同意设立哈尔滨新区的批复")
    assert first != make_document_id("国务院关于同意设立长春新区的批复")
    assert first.startswith("doc-") and ID_PATTERN.fullmatch(first)
    assert ID_PATTERN.fullmatch(make_document_id("x" * 200))


@pytest.mark.parametrize("bad", ["../etc", "a/b", "A", "a b", "-a", "a-", "a.b", "a:b", "",
                                 "x" * 65, "..", "a\\b"])
def test_unsafe_ids_are_refused(bad):
    with pytest.raises(SourceError, match="unsafe document id"):
        read_document(USER / "pifu-harbin.zh-Hans.txt", doc_id=bad)


# --- bad files ----------------------------------------------------------------------------

def _zip_without_word(tmp_path: Path) -> Path:
    path = tmp_path / "notword.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a Word document")
    return path


def _word_cut(tmp_path: Path) -> Path:
    """A Word file whose document part is cut in half (a broken download)."""
    path = tmp_path / "cut.docx"
    with zipfile.ZipFile(USER / "plan-jiangbei.docx") as source, \
            zipfile.ZipFile(path, "w") as target:
        for info in source.infolist():
            data = source.read(info.filename)
            if info.filename == "word/document.xml":
                data = data[: len(data) // 2]
            target.writestr(info, data)
    return path


def _pdf_locked(tmp_path: Path) -> Path:
    path = tmp_path / "locked.pdf"
    writer = pypdf.PdfWriter(clone_from=USER / "notice-lanzhou.pdf")
    writer.encrypt("secret", algorithm="RC4-128")
    writer.write(path)
    return path


def _word_bomb(tmp_path: Path) -> Path:
    """A small .docx whose parts unpack to 210 MB (zeros compress a thousandfold)."""
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"\0" * (210 * 1024 * 1024))
    return path


@pytest.mark.parametrize(("make", "message"), [
    (lambda d: write(d, "notes.odt", "text"), "unknown format '.odt'"),
    (lambda d: write(d, "README", "text"), "unknown format '(no extension)'"),
    (lambda d: write(d, "empty.txt", b""), "the file is empty"),
    (lambda d: write(d, "blank.txt", b"  \n\n \t\n"), "the file is empty"),
    (lambda d: write(d, "nul.txt", b"abc\x00\x01\x02def"), "binary data"),
    (lambda d: write(d, "junk.txt", random.Random(13).randbytes(4000).replace(b"\0", b"\1")),
     "not text in UTF-8, GB18030/GBK or Big5"),
    (lambda d: write(d, "digits.txt", "2024 — 15 % 3.5"), "no Chinese or English text"),
    (lambda d: write(d, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
     "old Word 97-2003 file"),
    (lambda d: write(d, "fake.docx", "just text"), "not a Word .docx file"),
    (_zip_without_word, "not a readable Word .docx file"),
    (_word_bomb, "unpacks to 210 MB, over the 200 MB limit"),
    (_word_cut, "cannot read it as docx"),
    (_pdf_locked, "the PDF is encrypted with a password"),
    (lambda d: write(d, "fake.pdf", "just text"), "not a PDF file"),
    (lambda d: write(d, "cut.pdf", (USER / "notice-lanzhou.pdf").read_bytes()[:300]),
     "not a readable PDF"),
    (lambda d: write(d, "pdf.txt", (USER / "scan.pdf").read_bytes()), "a PDF or Word file"),
    (lambda d: write(d, "menu.html", "<html><body><nav><a href='/'>Home</a></nav></body></html>"),
     "no body text"),
    (lambda d: write(d, "only-title.txt", "国务院关于同意设立哈尔滨新区的批复\n"),
     "no body text once the title and metadata lines are taken off"),
])
def test_bad_files_get_a_one_line_error_naming_the_file(tmp_path, make, message):
    path = make(tmp_path)
    with pytest.raises(SourceError) as raised:
        read_document(path)
    text = str(raised.value)
    assert text.startswith(f"{path.name}: ") and message in text, text
    assert "\n" not in text


def test_pdf_without_text_layer_says_so():
    with pytest.raises(SourceError, match=r"^scan\.pdf: the PDF has no text layer"):
        read_document(USER / "scan.pdf")


def test_missing_file_and_file_over_the_limit(tmp_path):
    with pytest.raises(SourceError, match=r"^gone\.txt: cannot read the file"):
        read_document(tmp_path / "gone.txt")
    big = tmp_path / "big.txt"
    with big.open("wb") as handle:
        handle.truncate(21 * 1024 * 1024)  # sparse: no 21 MB written
    with pytest.raises(SourceError, match=r"^big\.txt: the file is 21\.0 MB, over the 20 MB limit"):
        read_document(big)


def test_unknown_lang_flag(tmp_path):
    with pytest.raises(SourceError, match="unknown language 'fr'"):
        read_document(USER / "pifu-harbin.zh-Hans.txt", lang="fr")

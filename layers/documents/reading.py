"""Reading a source file: strict UTF-8, one newline convention, nothing else touched."""

from __future__ import annotations

from pathlib import Path

from layers.documents.errors import SourceError

_BOM = "\ufeff"


def read_source(path: Path) -> str:
    """The text of a source file; a missing, binary or non-UTF-8 file is a SourceError."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise SourceError(path, f"cannot read the file ({error.strerror})") from error
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise SourceError(path, "UTF-16 text; convert the capture to UTF-8")
    if b"\x00" in data:
        raise SourceError(path, "binary data (NUL bytes): not a text capture")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = data[error.start:error.start + 1].hex()
        raise SourceError(
            path, f"not valid UTF-8 (byte 0x{bad} at offset {error.start}); "
                  "convert the capture to UTF-8") from error
    if "\ufffd" in text:
        raise SourceError(path, "contains U+FFFD replacement characters: the capture was "
                                "decoded with the wrong encoding")
    text = text.removeprefix(_BOM)
    return text.replace("\r\n", "\n").replace("\r", "\n")

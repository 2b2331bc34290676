"""Bytes of a user's text file or saved page to text: the encoding detected, never guessed.

Chinese texts come as UTF-8 (with or without a BOM), GB18030/GBK (mainland) or Big5
(Taiwan, Hong Kong). A BOM decides; valid UTF-8 is UTF-8. Otherwise GB18030 and Big5 are
tried strictly, and a decoding counts only if it reads as text: few control or
private-use characters, and most of its Han characters common ones (in the first,
most-used level of GB2312 or of Big5; the wrong one of the two decodings turns common
characters into rare ones). Of two plausible decodings the more common-charactered wins,
charset-normalizer breaking a tie. A file that no candidate reads as text is a
SourceError: a wrong decoding would put mojibake in the store.
"""

from __future__ import annotations

import unicodedata
from pathlib import Path

from charset_normalizer import from_bytes

from layers.documents.errors import SourceError

# Strict decoding order: UTF-8 cannot be mistaken for the others (its multi-byte rules
# reject them), GB18030 is a superset of GBK and GB2312, Big5 last.
CANDIDATES = ("utf_8", "gb18030", "big5")
_BOMS = ((b"\xef\xbb\xbf", "utf_8"), (b"\xff\xfe", "utf_16_le"), (b"\xfe\xff", "utf_16_be"))
_NAMES = {"utf_8": "UTF-8", "gb18030": "GB18030", "big5": "Big5",
          "utf_16_le": "UTF-16", "utf_16_be": "UTF-16"}
# More than this share of characters that are no text (controls, private use, unassigned)
# and the decoding is wrong.
_MAX_JUNK = 0.01
# At least this share of a decoding's Han characters must be common ones.
_MIN_COMMON = 0.8
_HAN = ("\u4e00", "\u9fff")
# The lead bytes of the most-used level of each standard (GB2312 level 1: 3,755
# simplified characters; Big5 level 1: 5,401 traditional ones).
_COMMON_LEVELS = (("gb2312", 0xB0, 0xD7), ("big5", 0xA4, 0xC6))


def _junk_share(text: str) -> float:
    """The share of characters no human text has: C0/C1 controls, private use, unassigned."""
    if not text:
        return 0.0
    junk = sum(1 for c in text if c not in "\n\r\t\f"
               and unicodedata.category(c) in ("Cc", "Co", "Cn", "Cs"))
    return junk / len(text)


def _is_common(char: str) -> bool:
    for codec, low, high in _COMMON_LEVELS:
        try:
            lead = char.encode(codec)[0]
        except UnicodeEncodeError:
            continue
        if low <= lead <= high:
            return True
    return False


def common_share(text: str) -> float:
    """The share of Han characters in `text` that are common ones (1.0 with none)."""
    han = [c for c in text if _HAN[0] <= c <= _HAN[1]]
    if not han:
        return 1.0
    return sum(map(_is_common, han)) / len(han)


def decode(data: bytes, path: Path) -> tuple[str, str]:
    """The text of `data` and the name of its encoding; newlines made "\\n"."""
    if not data.strip():
        raise SourceError(path, "the file is empty")
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data[len(bom):].decode(codec)
            except UnicodeDecodeError as error:
                raise SourceError(path, f"starts with a {_NAMES[codec]} byte-order mark but "
                                        f"is not valid {_NAMES[codec]} (offset "
                                        f"{error.start})") from error
            return _checked(text, path, _NAMES[codec]), _NAMES[codec]
    if b"\x00" in data:
        raise SourceError(path, "binary data (NUL bytes), not a text file")
    decoded = {}
    for codec in CANDIDATES:
        try:
            decoded[codec] = data.decode(codec)
        except UnicodeDecodeError:
            continue
        if codec == "utf_8":
            break  # valid UTF-8 is UTF-8: other encodings of Han text never are
    if "utf_8" in decoded:
        return _checked(decoded["utf_8"], path, "UTF-8"), "UTF-8"
    shares = {c: common_share(t) for c, t in decoded.items() if _junk_share(t) <= _MAX_JUNK}
    plausible = {c: s for c, s in shares.items() if s >= _MIN_COMMON}
    if not plausible:
        raise SourceError(path, "not text in UTF-8, GB18030/GBK or Big5 (undecodable bytes, "
                                "binary data or another encoding); save it as UTF-8")
    best = max(plausible.values())
    tied = [c for c, s in plausible.items() if s == best]
    codec = tied[0] if len(tied) == 1 else _most_coherent(data, tied)
    return _checked(decoded[codec], path, _NAMES[codec]), _NAMES[codec]


def _most_coherent(data: bytes, codecs: list[str]) -> str:
    """Of equally plausible decodings, the one charset-normalizer ranks first."""
    for match in from_bytes(data, cp_isolation=codecs, explain=False):
        if match.encoding in codecs:
            return match.encoding
    return codecs[0]


def _checked(text: str, path: Path, name: str) -> str:
    if _junk_share(text) > _MAX_JUNK or "\ufffd" in text:
        raise SourceError(path, f"decodes as {name} but holds control or replacement "
                                "characters: binary data or a broken encoding")
    return text.replace("\r\n", "\n").replace("\r", "\n")

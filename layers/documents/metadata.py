"""A document's title, date, number (文号), publisher and URL, read off its own lines.

Above the body a text may carry a title line, a document number (国函〔2016〕68号), a
date line and labelled fields (发布时间：…, Source: …, or several on one line:
"2024年03月15日 09:12　来源：陕西日报"); below it, a signature and a date (国务院 /
2016年6月12日) or such a field line. Those lines are metadata, not units: `take_header`
takes them off the top of the raw lines (before the capture rules cut the page chrome,
which would take a headline with it), `take_footer` off the end of the clean body.
The patterns are in data/capture.yaml (section `metadata`).
"""

from __future__ import annotations

import re
from functools import cache

from layers.documents.cleaning import Paragraph, clean_line
from layers.documents.numbering import chinese_numeral, match_marker
from layers.documents.registry import capture_rules
from layers.documents.sentences import ends_paragraph, strip_end

FIELDS = ("title", "date", "publisher", "number", "url")
# Fields on one line are set apart by two spaces, an ideographic space or a bar.
_PARTS = re.compile(r"\s{2,}|\u3000+|\s*\|\s*")
_TIME = re.compile(r"\s*\d{1,2}:\d{2}(?::\d{2})?$")  # a time of day after a date


@cache
def _rules() -> dict:
    meta = capture_rules()["metadata"]
    return {
        **meta,
        "labels": {name: re.compile(p) for name, p in meta["labels"].items()},
        "number": re.compile(meta["number"]),
        "dates": [re.compile(p) for p in meta["dates"]],
        "chrome": [re.compile(p) for p in capture_rules()["chrome"]["header"]],
    }


def parse_date(line: str) -> str | None:
    """The ISO date a line consists of ("2016年6月12日" → "2016-06-12"); None if it is not one."""
    line = line.strip()
    for pattern in _rules()["dates"]:
        found = pattern.match(line)
        if not found:
            continue
        parts = found.groupdict()
        if parts.get("zy"):
            digits = capture_rules()["numerals"]["chinese_digits"]
            year = int("".join(str(digits[c]) for c in parts["zy"]))
            month, day = chinese_numeral(parts["zm"]), chinese_numeral(parts["zd"])
        else:
            year, day = int(parts["y"]), int(parts["d"])
            if parts.get("month"):
                name = parts["month"].lower()
                matches = [i for i, m in enumerate(_rules()["months"], 1)
                           if m.startswith(name[:3])]
                if not matches:
                    continue
                month = matches[0]
            else:
                month = int(parts["m"])
        if month and day and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _field(part: str) -> tuple[str, str] | None:
    """(field, value) if `part` is a labelled field, a document number or a date."""
    for name, pattern in _rules()["labels"].items():
        found = pattern.match(part)
        if found:
            value = found.group("value").strip()
            if name == "date":
                value = parse_date(_TIME.sub("", value)) or value
            return name, value
    if _rules()["number"].match(part):
        return "number", re.sub(r"\s+", "", part)
    date = parse_date(part)
    if date:
        return "date", date
    return None


def line_fields(line: str) -> list[tuple[str, str]] | None:
    """The fields a whole line consists of (a time of day may follow a date); else None."""
    parts = [_TIME.sub("", p) for p in _PARTS.split(line.strip()) if p.strip()]
    found = [_field(part) for part in parts]
    if found and all(found):
        return found
    return None


def _is_title(text: str, heading: bool) -> bool:
    return ((heading or not ends_paragraph(text)) and 0 < len(text) <= _rules()["title_max_chars"]
            and match_marker(text) is None)


def _is_chrome(text: str) -> bool:
    return any(p.search(text) for p in _rules()["chrome"])


def take_header(lines: list[str], lang: str) -> tuple[dict[str, str], list[str]]:
    """The metadata on the first lines (title, number, date, labelled fields), and the
    lines left; a blank line stands where a taken line stood."""
    found: dict[str, str] = {}
    out = list(lines)
    seen = 0
    for index, raw in enumerate(lines):
        if not raw.strip():
            continue
        seen += 1
        if seen > _rules()["scan"]:
            break
        text, heading = clean_line(raw, lang)
        fields = line_fields(text)
        if fields and all(name not in found for name, _ in fields):
            found.update(fields)
        elif "title" not in found and _is_title(text, heading) and not _is_chrome(text):
            found["title"] = strip_end(text)
        elif _is_chrome(text):
            continue  # the capture rules cut it
        else:
            break
        out[index] = ""
    return found, out


def take_footer(paragraphs: list[Paragraph]) -> tuple[dict[str, str], list[Paragraph]]:
    """The metadata on the last lines: a field line, or a date with a signature above it."""
    found: dict[str, str] = {}
    body = list(paragraphs)
    if len(body) > 1:
        fields = line_fields(body[-1].text)
        if fields:
            found.update(dict(fields))
            body.pop()
            last = body[-1].text
            if ("date" in found and "publisher" not in found and len(body) > 1
                    and not ends_paragraph(last) and match_marker(last) is None
                    and len(last) <= _rules()["signature_max_chars"]):
                found["publisher"] = last
                body.pop()
    return found, body

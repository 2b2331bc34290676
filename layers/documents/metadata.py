"""A document's title, date, number (文号), publisher and URL, read off its own lines.

Above the body a text may carry a title line, a document number (国函〔2016〕68号), a
date line and labelled fields (发布时间：…, Source: …); below it, a signature and a date
(国务院 / 2016年6月12日). Those lines are metadata, not units: `split_metadata` takes
them off the paragraphs and says what they were. The patterns are in data/capture.yaml
(section `metadata`).
"""

from __future__ import annotations

import re
from functools import cache

from layers.documents.cleaning import Paragraph
from layers.documents.numbering import chinese_numeral, match_marker
from layers.documents.registry import capture_rules
from layers.documents.sentences import ends_paragraph, strip_end

FIELDS = ("title", "date", "publisher", "number", "url")


@cache
def _rules() -> dict:
    meta = capture_rules()["metadata"]
    return {
        **meta,
        "labels": {name: re.compile(p) for name, p in meta["labels"].items()},
        "number": re.compile(meta["number"]),
        "dates": [re.compile(p) for p in meta["dates"]],
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
                months = _rules()["months"]
                name = parts["month"].lower()
                matches = [i for i, m in enumerate(months, 1) if m.startswith(name[:3])]
                if not matches:
                    continue
                month = matches[0]
            else:
                month = int(parts["m"])
        if month and day and 1 <= month <= 12 and 1 <= day <= 31:
            return f"{year:04d}-{month:02d}-{day:02d}"
    return None


def _field(line: str) -> tuple[str, str] | None:
    """(field, value) if the line is a labelled field, a document number or a date."""
    for name, pattern in _rules()["labels"].items():
        found = pattern.match(line)
        if found:
            value = found.group("value").strip()
            return name, (parse_date(value) or value) if name == "date" else value
    if _rules()["number"].match(line):
        return "number", re.sub(r"\s+", "", line)
    date = parse_date(line)
    if date:
        return "date", date
    return None


def _is_title(paragraph: Paragraph) -> bool:
    text = paragraph.text
    return (paragraph.heading or not ends_paragraph(text)) \
        and len(text) <= _rules()["title_max_chars"] and match_marker(text) is None


def split_metadata(paragraphs: list[Paragraph]) -> tuple[dict[str, str], list[Paragraph]]:
    """The metadata found at the top and the bottom of the text, and the body paragraphs."""
    rules = _rules()
    found: dict[str, str] = {}
    body = list(paragraphs)
    # Top: a title first (or after the number/date), then fields, in any order.
    index = 0
    while index < min(len(body), rules["scan"]) and len(body) > 1:
        paragraph = body[index]
        field = _field(paragraph.text)
        if field and field[0] not in found:
            found[field[0]] = field[1]
            del body[index]
            continue
        if "title" not in found and _is_title(paragraph):
            found["title"] = strip_end(paragraph.text)
            del body[index]
            continue
        break
    # Bottom: a closing date, and the signature just above it.
    if len(body) > 1:
        date = parse_date(body[-1].text)
        if date:
            found.setdefault("date", date)
            body.pop()
            last = body[-1].text if body else ""
            if (len(body) > 1 and not ends_paragraph(last) and match_marker(last) is None
                    and len(last) <= rules["signature_max_chars"]):
                found.setdefault("publisher", last)
                body.pop()
    return found, body

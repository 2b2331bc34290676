"""Document text as HTML with each place mention marked and linked, every piece escaped."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from markupsafe import Markup, escape

MENTION = Markup('<mark class="place" data-place="{id}"><a href="{href}">{surface}</a></mark>')


def highlight(text: str, mentions: Iterable[tuple[int, int, str]],
              href: Callable[[str], str]) -> Markup:
    """text with the (start, end, place id) spans marked; overlaps keep the earlier, longer one.

    Document text only ever reaches the output through `escape` (directly or as an
    argument of Markup.format), so markup in a document shows as text.
    """
    spans = sorted(((s, e, p) for s, e, p in mentions if 0 <= s < e <= len(text)),
                   key=lambda span: (span[0], -span[1]))
    pieces: list[Markup] = []
    position = 0
    for start, end, place_id in spans:
        if start < position:
            continue
        pieces.append(escape(text[position:start]))
        pieces.append(MENTION.format(id=place_id, href=href(place_id), surface=text[start:end]))
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)

"""Units addressed to all new areas: the class noun (新区, new areas) outside any name.

In 支持有关新区… the noun speaks of new areas as a class; in 上海浦东新区 it is part of a
name, and in 高新区 it is another word (a nothing-form). rules.yaml `general` lists the
documents whose 新区 means new areas in general and the patterns of the noun.
"""

from __future__ import annotations

from collections.abc import Sequence

from layers.linking.rules import Rules


def speaks_to_all(rules: Rules, document: str, family: str, text: str,
                  spans: Sequence[tuple[int, int]], bounds: tuple[int, int] | None = None) -> bool:
    """True when `text` (a matching form) names new areas as a class outside `spans`
    (the (start, end) of every form that stands there, nothing-forms included).

    bounds: where the unit's own text lies in `text`, when it holds several; the patterns
    read only that text, as they would on its own.
    """
    if document not in rules.general_documents:
        return False
    low, high = bounds or (0, len(text))
    own = text[low:high]
    for pattern in rules.general_patterns[family]:
        for match in pattern.finditer(own):
            start, end = low + match.start(), low + match.end()
            if not any(s[0] <= start and end <= s[1] for s in spans):
                return True
    return False

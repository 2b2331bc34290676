"""Units addressed to all new areas: the class noun (新区, new areas) outside any name.

In 支持有关新区… the noun speaks of new areas as a class; in 上海浦东新区 it is part of a
name, and in 高新区 it is another word (a nothing-form). rules.yaml `general` lists the
documents whose 新区 means new areas in general and the patterns of the noun.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from layers.linking.rules import Rules


def speaking_to_all(rules: Rules, family: str, text: str, bounds: Sequence[tuple[int, int]],
                    starts: np.ndarray, ends: np.ndarray) -> list[bool]:
    """Per text lying at `bounds` (low, high) in `text` (a matching form of many), True
    when it names new areas as a class outside every form that stands there.

    starts, ends: the spans of the forms that stand in `text` (nothing-forms included),
    sorted by start. The patterns read each text on its own (a slice), as they would
    read it alone; the caller picks the texts of rules.general_documents.
    """
    found: list[tuple[int, int, int]] = []  # (text number, start, end) of every match
    for number, (low, high) in enumerate(bounds):
        own = text[low:high]
        for pattern in rules.general_patterns[family]:
            found.extend((number, low + match.start(), low + match.end())
                         for match in pattern.finditer(own))
    general = [False] * len(bounds)
    if not found:
        return general
    number, start, end = np.array(found, dtype=np.int64).reshape(-1, 3).T
    # A match lies in a span if one of the spans beginning at or before it reaches its
    # end. Spans of other texts never do: they end before this text begins.
    inside = np.zeros(len(start), dtype=bool)
    if len(ends):
        last = np.searchsorted(starts, start, side="right") - 1
        reach = np.maximum.accumulate(ends)
        inside = (last >= 0) & (reach[np.maximum(last, 0)] >= end)
    for n in np.unique(number[~inside]).tolist():
        general[n] = True
    return general

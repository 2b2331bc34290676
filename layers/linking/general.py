"""Units addressed to all new areas: the class noun (新区, new areas) outside any name.

In 支持有关新区… the noun speaks of new areas as a class; in 上海浦东新区 it is part of a
name, and in 高新区 it is another word (a nothing-form). rules.yaml `general` lists the
documents whose 新区 means new areas in general and the patterns of the noun.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import chain

import numpy as np

from layers.linking.rules import Rules

_SPAN = re.Match.span  # (start, end) of a match, called from C by map


def speaking_to_all(rules: Rules, family: str, text: str, bounds: Sequence[tuple[int, int]],
                    starts: np.ndarray, ends: np.ndarray) -> list[bool]:
    """Per text lying at `bounds` (low, high) in `text` (a matching form of many), True
    when it names new areas as a class outside every form that stands there.

    starts, ends: the spans of the forms that stand in `text` (nothing-forms included),
    sorted by start. The patterns read each text on its own (a slice), as they would
    read it alone; the caller picks the texts of rules.general_documents.
    """
    patterns = rules.general_patterns[family]
    spans: list[int] = []  # start, end of every match, text by text, in its own offsets
    counts = []  # the length of `spans` after each text
    for low, high in bounds:
        own = text[low:high]
        for pattern in patterns:
            spans.extend(chain.from_iterable(map(_SPAN, pattern.finditer(own))))
        counts.append(len(spans))
    general = [False] * len(bounds)
    if not spans:
        return general
    number = np.repeat(np.arange(len(bounds)), np.diff(counts, prepend=0) // 2)
    shift = np.array([low for low, _ in bounds], dtype=np.int64)[number]
    start, end = np.array(spans, dtype=np.int64).reshape(-1, 2).T + shift
    inside = np.zeros(len(start), dtype=bool)
    if len(ends):
        last = np.searchsorted(starts, start, side="right") - 1
        reach = np.maximum.accumulate(ends)
        inside = (last >= 0) & (reach[np.maximum(last, 0)] >= end)
    for n in np.unique(number[~inside]).tolist():
        general[n] = True
    return general

"""One language version of many units in its matching form, scanned as one string.

The units' texts are normalised together (layers.textnorm.normalize_many: joined by a
separator no form contains, so no match crosses from one text into the next), and English
is folded further (layers.linking.english). Positions in the joined string map back to a
unit and an offset in its display text, many at once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from layers.linking import english
from layers.linking.rules import family_of
from layers.textnorm import NormalForms, normalize_many


@dataclass(frozen=True)
class MatchingForm:
    """text: the joined matching forms; starts[i]: where the i-th text's begins (one more
    entry after the last, one past the separator that would follow it), as an array."""

    text: str
    starts: np.ndarray
    normal: NormalForms
    collapsed: english.Collapsed | None

    def texts_at(self, positions: np.ndarray) -> np.ndarray:
        """Which text each position of `text` lies in."""
        return np.searchsorted(self.starts, positions, side="right") - 1

    def display_spans(self, texts: np.ndarray, starts: np.ndarray, ends: np.ndarray
                      ) -> tuple[np.ndarray, np.ndarray]:
        """The display-text offsets of spans text[start:end], each within its text."""
        if self.collapsed is not None:
            starts, ends = self.collapsed.original(starts), self.collapsed.original(ends)
        base = np.asarray(self.normal.starts)[texts]
        starts, ends = starts - base, ends - base
        mapped = ([i for i, offsets in enumerate(self.normal.offsets) if offsets is not None]
                  if any(self.normal.offsets) else [])  # usually none: one pass in C says so
        for m in np.flatnonzero(np.isin(texts, mapped)).tolist() if mapped else ():
            offsets = self.normal.offsets[texts[m]]
            starts[m], ends[m] = offsets[starts[m]], offsets[ends[m]]
        return starts, ends


def matching_form(texts: Sequence[str], lang: str) -> MatchingForm:
    """The matching form of `texts`, all in language version `lang`."""
    normal = normalize_many(texts, lang)
    if family_of(lang) != "en":
        return MatchingForm(normal.text, np.array(normal.starts, dtype=np.int64), normal, None)
    folded, collapsed = english.fold(normal.text)
    starts = np.array(normal.starts, dtype=np.int64)
    if collapsed is not None:  # the separators are kept, so each start has its place
        starts[:-1] = collapsed.folded(starts[:-1])
        starts[-1] = len(folded) + 1
    return MatchingForm(folded, starts, normal, collapsed)

"""The approvals timeline of /new-areas, laid out on the server for an inline SVG (no
script, no external asset): time runs left to right along an axis, each new area is a dot
at its approval date and a label in a row below, joined by a vertical leader.

Rows are assigned so that no two labels overlap and no leader crosses another label:
approvals come in bursts (five in 2014 alone), so labels stack in a staircase under the
burst, the latest nearest the axis; a lone approval's label may sit left of its dot.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Mark:
    """One approval: its dot on the axis and its label (pixels in the SVG's viewBox)."""

    id: str
    label: str
    date: str
    x: float  # the dot, on the axis
    row: int
    label_x: float  # where the text starts
    label_y: float  # its baseline
    left: float  # the label's horizontal extent (estimated)
    right: float


@dataclass(frozen=True)
class Timeline:
    first_year: int
    last_year: int
    width: float
    height: float
    axis_y: float
    ticks: list[tuple[int, float]]  # (year, x) at 1 January, one past the last year too
    marks: list[Mark]


def text_width(text: str, font_px: float) -> float:
    """An estimate of the drawn width: wide (CJK) characters one em, others 0.6 em."""
    return sum(font_px if unicodedata.east_asian_width(c) in "WF" else 0.6 * font_px
               for c in text)


def year_fraction(date: str) -> float:
    """1992-10-11 -> 1992.78; a bare year counts as its middle."""
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        return int(date[:4]) + 0.5
    return day.year + (day - dt.date(day.year, 1, 1)).days / 365.25


def _free(row: list[tuple[float, float]], left: float, right: float, gap: float) -> bool:
    return all(right + gap <= a or left >= b + gap for a, b in row)


def layout(items: list[tuple[str, str, str]], width: float = 1100.0, font_px: float = 12.0,
           line: float = 17.0, margin: float = 24.0, axis_y: float = 30.0,
           gap: float = 6.0) -> Timeline:
    """Lay out (id, label, ISO date) items from the first year to the last: each label in
    the first row (from the axis down) where it overlaps no label and covers no leader of
    a deeper label. A leader never crosses a label: labels are laid out latest first and
    lie right of their dot, or left of it only where no earlier dot is, so a label lies
    only over later dots, whose rows it then stays above."""
    dated = sorted((i for i in items if i[2][:4].isdigit()), key=lambda i: (i[2], i[0]))
    if not dated:
        return Timeline(0, 0, width, axis_y, axis_y, [], [])
    first, last = int(dated[0][2][:4]), int(dated[-1][2][:4])
    span = (width - 2 * margin) / (last + 1 - first)

    def x_of(value: float) -> float:
        return round(margin + (value - first) * span, 1)

    xs = [x_of(year_fraction(date)) for _id, _label, date in dated]
    rows: list[list[tuple[float, float]]] = []
    placed: list[tuple[float, int]] = []  # (dot x, row) of marks laid out so far
    marks: list[Mark] = []

    def first_row(left: float, right: float) -> int:
        """The first row where a label over [left, right] overlaps no label and covers no
        leader of a deeper label (len(rows) for a new row)."""
        row = 0
        while row < len(rows) and not (
                _free(rows[row], left, right, gap)
                and not any(left - gap <= px <= right + gap and prow > row
                            for px, prow in placed)):
            row += 1
        return row

    for index in range(len(dated) - 1, -1, -1):  # the latest first: nearest the axis
        id_, label, date = dated[index]
        x, w = xs[index], text_width(label, font_px)
        # right of the dot by default; left of it when that is nearer the axis and covers
        # no earlier dot (whose leader, laid out later, would have to cross it)
        options = [(first_row(x + 4, x + 4 + w), 0, x + 4, x + 4 + w)]
        left_side = (x - 4 - w, x - 4)
        if left_side[0] >= 0 and not any(left_side[0] - gap <= px <= left_side[1] + gap
                                         for px in xs[:index]):
            options.append((first_row(*left_side), 1, *left_side))
        row, _side, left, right = min(options)
        if row == len(rows):
            rows.append([])
        rows[row].append((left, right))
        placed.append((x, row))
        marks.append(Mark(id_, label, date, x, row, round(left, 1),
                          axis_y + 22 + row * line, round(left, 1), round(right, 1)))
    marks.reverse()
    ticks = [(year, x_of(year)) for year in range(first, last + 2)]
    height = axis_y + 22 + (len(rows) - 1) * line + 10
    # labels of the last approvals may run past the last year: widen the drawing for them
    full_width = max(width, max(m.right for m in marks) + 8)
    return Timeline(first, last, round(full_width, 1), height, axis_y, ticks, marks)

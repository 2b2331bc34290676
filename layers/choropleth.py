"""New areas shaded by how many units name them: counts, class breaks and colours.

Two modes, from the store's links table:

- `named`: units that name the new area itself (relation `named`);
- `reach`: units that name it or reach it through a place lying inside it (`named` or
  `via`): a measure about Shanghai Port reaches Pudong.

Units addressed to all new areas at once (`general`) are left out of both: they would add
the same number to every area and shade nothing. A unit counts once per area, however many
times or in how many language versions it names it.

Classes come from mapclassify: Fisher-Jenks natural breaks (deterministic, unlike k-means
NaturalBreaks) with k from data/planner.yaml. With 19 areas the counts tie a lot; when
there are no more distinct values than k, each distinct value is a class of its own
(mapclassify's UserDefined), so no class is ever empty and no break is invented.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from layers import yamlio
from layers.paths import DATA_DIR
from layers.query import QueryError, names

NEW_AREAS = "new-areas"
MODES: dict[str, tuple[str, ...]] = {"named": ("named",), "reach": ("named", "via")}


@cache
def settings() -> dict:
    """The `choropleth` section of data/planner.yaml."""
    return yamlio.read(DATA_DIR / "planner.yaml")["choropleth"]


def check_mode(mode: str | None) -> str:
    """The mode, or QueryError naming the parameter."""
    mode = "named" if mode is None else mode
    if mode not in MODES:
        raise QueryError("mode", f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return mode


def counts(links: pd.DataFrame, area_ids, mode: str) -> pd.Series:
    """Distinct units per new area in `mode`, for every id in `area_ids` (0 where none)."""
    relations = MODES[check_mode(mode)]
    area_ids = [str(i) for i in area_ids]
    chosen = links[links["relation"].isin(relations) & links["place_id"].isin(area_ids)]
    per_area = chosen.groupby("place_id")["unit_id"].nunique()
    return per_area.reindex(area_ids, fill_value=0).astype(int).rename("count")


@dataclass(frozen=True)
class Classification:
    """Class breaks (upper bounds, ascending), each area's class and each class's colour."""

    method: str
    breaks: list[int]
    classes: pd.Series  # area id -> class number, 0 = lowest
    colors: list[str]

    def bounds(self, number: int, lowest: int) -> tuple[int, int]:
        """(lower, upper) inclusive range of counts of class `number`."""
        lower = lowest if number == 0 else self.breaks[number - 1] + 1
        return lower, self.breaks[number]


def classify(values: pd.Series, k: int | None = None, method: str | None = None
             ) -> Classification:
    """Classes of integer counts: `k` Fisher-Jenks classes, or one per distinct value."""
    # Imported here, not at the top: mapclassify loads scipy.stats and scikit-learn (~2 s),
    # which only the choropleth needs, so the service and the CLI start without them.
    import mapclassify

    config = settings()
    k = int(k or config["k"])
    method = method or config["method"]
    data = values.to_numpy(dtype=float)
    distinct = np.unique(data)
    if len(distinct) <= k:
        classifier = mapclassify.UserDefined(data, bins=list(distinct))
        method = "UniqueValues"
    else:
        with warnings.catch_warnings():
            # Fisher-Jenks without numba is slow only for thousands of values, not 19.
            warnings.filterwarnings("ignore", message="Numba not installed")
            classifier = getattr(mapclassify, method)(data, k=k)
    breaks = [round(float(b)) for b in classifier.bins]
    classes = pd.Series(np.asarray(classifier.yb, dtype=int), index=values.index, name="class")
    colors = _colors(len(breaks), zero_alone=breaks[0] == 0, config=config)
    return Classification(method=method, breaks=breaks, classes=classes, colors=colors)


def _colors(n: int, zero_alone: bool, config: dict) -> list[str]:
    """n colours, light to dark, from the ramp; a class of zeros alone gets the zero colour."""
    ramp = list(config["colors"])
    shaded = n - 1 if zero_alone else n
    picks = [ramp[round(i * (len(ramp) - 1) / max(shaded - 1, 1))] for i in range(shaded)]
    if shaded == 1:
        picks = [ramp[len(ramp) // 2]]
    return ([config["zero_color"]] if zero_alone else []) + picks


def choropleth(store, mode: str | None = "named") -> dict:
    """Counts, breaks, class and colour of every new area, as plain data for the map legend."""
    mode = check_mode(mode)
    areas = store.layers[NEW_AREAS]
    values = counts(store.links, areas.index, mode)
    classification = classify(values)
    lowest = int(values.min())
    return {
        "mode": mode,
        "relations": list(MODES[mode]),
        "method": classification.method,
        "k": len(classification.breaks),
        "breaks": classification.breaks,
        "classes": [
            {
                "class": number,
                "lower": classification.bounds(number, lowest)[0],
                "upper": classification.bounds(number, lowest)[1],
                "color": classification.colors[number],
                "areas": int((classification.classes == number).sum()),
            }
            for number in range(len(classification.breaks))
        ],
        "areas": [
            {
                "id": str(area_id),
                "names": names(areas.loc[area_id]),
                "count": int(values[area_id]),
                "class": int(classification.classes[area_id]),
                "color": classification.colors[int(classification.classes[area_id])],
            }
            for area_id in areas.index
        ],
    }

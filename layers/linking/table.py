"""The store's `links` table: every unit–place link with how the unit reaches the place.

`named`: the unit names the place; `via`: it names a place inside the new area
(`via_place_id`; every such place, comma-separated as the store's other lists, when it
names several); `general`: it is addressed to all new areas. One relation per unit and
place, the most direct: a new area's page lists a measure under "names it", else under
"through a place inside it", else under "for all new areas", never twice.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from layers.linking.linker import Links

LINK_COLUMNS = ["unit_id", "place_id", "relation", "via_place_id"]
VIA_SEPARATOR = ", "  # as the store's list columns (layers.query.id_list reads them)


def link_table(links: Links, rolled: pd.DataFrame, new_area_ids: Iterable[str]) -> pd.DataFrame:
    """Named rows from `links.unit_places`, via rows from `roll_up`, general rows for
    each new area a general unit neither names nor reaches via a place."""
    named = links.unit_places[["unit_id", "place_id"]].assign(relation="named",
                                                                via_place_id=None)
    taken = set(zip(named["unit_id"], named["place_id"], strict=True))
    keep = [(u, p) not in taken for u, p in zip(rolled["unit_id"], rolled["place_id"],
                                                  strict=True)]
    # A unit can reach one new area through several places (roll_up gives a row for each):
    # one row, listing them all in roll_up's order.
    via = (rolled.loc[keep, ["unit_id", "place_id", "via_place_id"]]
           .groupby(["unit_id", "place_id"], sort=False, as_index=False)["via_place_id"]
           .agg(VIA_SEPARATOR.join).assign(relation="via"))
    taken |= set(zip(via["unit_id"], via["place_id"], strict=True))
    general = pd.DataFrame(
        [(unit, area) for unit in links.general_units for area in new_area_ids
         if (unit, area) not in taken],
        columns=["unit_id", "place_id"],
    ).assign(relation="general", via_place_id=None)
    frames = [f for f in (named, via, general) if not f.empty]
    if not frames:
        return pd.DataFrame(columns=LINK_COLUMNS)
    table = pd.concat(frames, ignore_index=True)[LINK_COLUMNS]
    return table.astype({"via_place_id": "object"})

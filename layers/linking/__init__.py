"""Place linking: which places every unit names, where, and in which language versions.

`link_units(units, gazetteer)` finds the mentions (data/linking/aliases.yaml and
rules.yaml say which forms name which places and when); `roll_up(unit_places, layers)`
carries a unit from a place to the new area that place lies in (a spatial join, at build
time); `link_table(links, rolled, new_area_ids)` makes the store's `links` table of both.
"""

from layers.linking.errors import AmbiguousAliasError, LinkingError, UnknownPlaceError
from layers.linking.linker import Linker, Links, Mention, link_units
from layers.linking.rollup import roll_up
from layers.linking.table import LINK_COLUMNS, link_table

__all__ = ["LINK_COLUMNS", "AmbiguousAliasError", "Linker", "LinkingError", "Links", "Mention",
           "UnknownPlaceError", "link_table", "link_units", "roll_up"]

"""What linking one added document needs, loaded once per process while it stays valid.

The gazetteer, the linker (its lexicon and automata) and the roll-up's layers from the
store take most of an add's time to load; a web worker adding many documents, or a batch,
pays for them once. They are loaded again when a data file or the store's build changes.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd

from layers.gazetteer import Gazetteer, GazetteerError, load_gazetteer
from layers.linking import Linker, LinkingError
from layers.linking.rules import load_rules
from layers.store import StoreError, read_info, read_layers


class LinkingContextError(RuntimeError):
    """The gazetteer, the linking data or the store cannot be loaded (one line)."""


@dataclass(frozen=True)
class LinkingContext:
    gazetteer: Gazetteer
    linker: Linker
    layers: dict[str, gpd.GeoDataFrame]  # the layers the roll-up reads, by layer id


_LOADED: dict[tuple, LinkingContext] = {}


def _inputs_stamp(data_dir: Path, store_path: Path) -> tuple:
    """What the context depends on: the data files and the store's build."""
    files = sorted([data_dir / "layers.yaml", *data_dir.glob("places/*.yaml"),
                    *data_dir.glob("linking/*.yaml")])
    return (str(data_dir), str(store_path), read_info(store_path).get("build_id"),
            tuple((str(f), f.stat().st_mtime_ns) for f in files if f.exists()))


def linking_context(data_dir: Path, store_path: Path) -> LinkingContext:
    """The context for `data_dir` and the store at `store_path` (cached, see above)."""
    try:
        key = _inputs_stamp(data_dir, store_path)
        if key not in _LOADED:
            gazetteer = load_gazetteer(data_dir / "places", layers_path=data_dir / "layers.yaml")
            linker = Linker.load(gazetteer, data_dir / "linking")
            rule = load_rules(data_dir / "linking").roll_up
            layers = read_layers(store_path, (rule.into, *rule.from_layers))
            _LOADED.clear()
            _LOADED[key] = LinkingContext(gazetteer, linker, layers)
    except (GazetteerError, StoreError, LinkingError, sqlite3.Error, OSError) as error:
        raise LinkingContextError(" ".join(str(error).split())) from None
    return _LOADED[key]

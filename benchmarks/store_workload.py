"""What benchmarks/store_scale.py asks for, drawn from a corpus GeoPackage.

Per request type, the paths wrk takes in turn (at most BOXES of each, from a fixed seed):

- bbox: `/collections/sites/items?f=json&limit=100&bbox=…`, square boxes of the size that
  holds 100 sites on average at that scale (found by bisection on the sites' coordinates),
  placed at random within the sites' extent (with fewer than 100 sites, as at 1×, the one
  box that holds them all);
- unit: `/units/<id>?f=json`, units drawn from every copy;
- place: `/places/<id>?f=json`, places of the corpus's own layers from every copy;
- search: `/search?q=…`, the real new areas' and ports' names in zh-Hans and English, and
  their short names as a planner types them (浦东, 雄安: two characters, too short for
  trigrams).
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyogrio
from synthetic_corpus import SCALED_LAYERS

SEED = 14
BBOX_TARGET = 100  # sites per bbox page
BOXES = 200  # distinct boxes (and ids, and queries at most) per request type
NAME_COLUMNS = ("name_zh_hans", "short_name_zh_hans", "name_en")  # searched, where a layer has them


@dataclass
class Workload:
    """The paths wrk takes in turn for each request type, and what the boxes hold."""
    paths: dict[str, list[str]]
    box_deg: float
    box_sites: tuple[float, int, int]  # mean, min, max sites in a box (from the data)


def workload(store: Path, seed: int = SEED) -> Workload:
    """Per request type, the paths to ask for, drawn from the corpus at `store`."""
    rng = np.random.default_rng(seed)
    sites = pyogrio.read_dataframe(store, layer="sites", columns=["id"])
    xy = np.column_stack([sites.geometry.x.to_numpy(), sites.geometry.y.to_numpy()])
    side, corners = _boxes(xy, rng)
    counts = np.array([_count(xy, x, y, side) for x, y in corners])
    bbox = [f"/collections/sites/items?f=json&limit={BBOX_TARGET}&bbox="
            f"{x:.4f},{y:.4f},{x + side:.4f},{y + side:.4f}" for x, y in corners]

    units = pyogrio.read_dataframe(store, layer="units", columns=["id"],
                                   read_geometry=False)["id"].to_numpy()
    places = np.concatenate([
        pyogrio.read_dataframe(store, layer=layer, columns=["id"],
                               read_geometry=False)["id"].to_numpy()
        for layer in SCALED_LAYERS if layer in pyogrio.list_layers(store)[:, 0]])
    names = []
    for layer in ("new-areas", "ports"):
        fields = set(pyogrio.read_info(store, layer=layer)["fields"])
        columns = [c for c in NAME_COLUMNS if c in fields]
        frame = pyogrio.read_dataframe(store, layer=layer, read_geometry=False,
                                       columns=["id", *columns])
        real = frame[~frame["id"].str.contains(r"-s\d+$", regex=True)]  # copy 0
        names += [n for column in columns for n in real[column] if isinstance(n, str) and n]

    def sample(values: np.ndarray) -> list[str]:
        return [str(v) for v in rng.choice(values, size=min(BOXES, len(values)),
                                           replace=False)]

    quote = urllib.parse.quote
    return Workload(
        paths={"bbox": bbox,
               "unit": [f"/units/{quote(u, safe=':')}?f=json" for u in sample(units)],
               "place": [f"/places/{quote(p)}?f=json" for p in sample(places)],
               "search": [f"/search?q={quote(n)}" for n in dict.fromkeys(names)]},
        box_deg=side, box_sites=(float(counts.mean()), int(counts.min()), int(counts.max())))


def _count(xy: np.ndarray, x: float, y: float, side: float) -> int:
    inside = (xy[:, 0] >= x) & (xy[:, 0] <= x + side) & (xy[:, 1] >= y) & (xy[:, 1] <= y + side)
    return int(inside.sum())


def _boxes(xy: np.ndarray, rng: np.random.Generator) -> tuple[float, list[tuple[float, float]]]:
    """The side (degrees) of a square holding BBOX_TARGET sites on average over BOXES
    random placements within the sites' extent, and those placements' lower-left corners.
    With fewer sites than that, the one box that holds them all."""
    (x0, y0), (x1, y1) = xy.min(axis=0), xy.max(axis=0)
    whole = max(x1 - x0, y1 - y0) + 1e-6
    if len(xy) <= BBOX_TARGET:
        return whole, [(float(x0), float(y0))]
    spots = rng.uniform(size=(BOXES, 2))

    def corners(side: float) -> list[tuple[float, float]]:
        return [(x0 + u * max(x1 - x0 - side, 0), y0 + v * max(y1 - y0 - side, 0))
                for u, v in spots]

    low, high = 0.0, whole
    for _ in range(30):  # bisection on the mean count, which grows with the side
        side = (low + high) / 2
        mean = np.mean([_count(xy, x, y, side) for x, y in corners(side)])
        low, high = (side, high) if mean < BBOX_TARGET else (low, side)
    side = (low + high) / 2
    return side, corners(side)

"""A synthetic corpus N times the real one, as a store in the real store's schema.

The real built store is the template, and `layers.store.write_store` writes the result,
so every table and column is the real one. At scale N:

- documents, units, mentions and links: N copies (copy k of document `ndrc-2024` is
  `ndrc-2024-s<k>`, its units `ndrc-2024-s<k>:<key>`); the units of copy k name the places
  of copy k, so links and mentions grow with the places;
- places of the corpus's own kinds (new areas, corridors, ports, science cities, sites):
  N copies (`pudong-s<k>`), names suffixed with the copy number, each moved to a random
  spot within China's extent (fixed seed). A new area's copy is its display outline
  shrunk to 30 % around its centroid and simplified at the layer's display tolerance
  (unless that would make it invalid), for both tables: a growing corpus adds many
  small zones, not more countries' coasts;
- partner countries, strategy regions and the basemap stay as they are (reference
  geometry that does not grow with documents).

Copy 0 is the real store unchanged, so 1× is the real corpus.

    python benchmarks/synthetic_corpus.py                  # time 1× and 100× (temporary)
    python benchmarks/synthetic_corpus.py --scale 1000 --out corpus-1000.gpkg
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

from layers.paths import STORE_PATH
from layers.store import Store, write_store

SCALED_LAYERS = ("new-areas", "corridors", "ports", "science-cities", "sites")
CHINA = (73.5, 18.0, 134.8, 53.6)  # lon/lat extent the copies are moved into
SHRINK = 0.3
SPECK = 1e-9  # square degrees (about 10 m²): smaller rings are dropped from copies
SEED = 14


def copy_id(value: str, k: int) -> str:
    return value if k == 0 else f"{value}-s{k}"


def generate(scale: int, out: Path | str, template: Path | str = STORE_PATH) -> Path:
    """Write the corpus `scale` times the store at `template` to `out`; returns `out`."""
    if scale < 1:
        raise ValueError("scale must be at least 1")
    store = Store.open(template)
    rng = np.random.default_rng(SEED)
    scaled = [layer for layer in SCALED_LAYERS if layer in store.layers]
    place_layer = {pid: layer for layer in scaled for pid in store.layers[layer].index}
    layers, display = {}, {}
    for layer, full in store.layers.items():
        if layer not in scaled:
            layers[layer], display[layer] = full, store.display[layer]
            continue
        tolerance = float(store.layer_meta.loc[layer, "display_tolerance_deg"] or 0)
        models = _models(store.display[layer], tolerance)
        copies = [_place_copies(store.display[layer], models, k, rng)
                  for k in range(1, scale)]
        layers[layer] = pd.concat([full, *copies])
        display[layer] = pd.concat([store.display[layer], *copies])
    tables = {
        "documents": _copies(store.documents.reset_index(), scale, _document_copy),
        "units": _copies(store.units.reset_index(), scale, _unit_copy),
        "mentions": _link_copies(store.mentions, scale, set(place_layer)),
        "links": _link_copies(store.links, scale, set(place_layer)),
        "layers": _layer_meta(store.layer_meta, layers, display),
        "build_info": pd.DataFrame({
            "key": [*store.build_info, "synthetic_scale"],
            "value": [*store.build_info.values(), str(scale)]}),
    }
    return write_store(out, layers, display, store.basemap, tables)


def _models(frame: gpd.GeoDataFrame, tolerance: float) -> list[tuple]:
    """Each place's geometry as its copies take it, with its centroid: polygons shrunk,
    simplified (unless that makes them invalid) and rid of specks, which moving could
    collapse into invalid rings. Computed once per place, not once per copy."""
    models = []
    for shape in frame.geometry.values:
        centre = shapely.centroid(shape)
        cx, cy = centre.x, centre.y
        if shape.geom_type in ("Polygon", "MultiPolygon"):
            shape = shapely.affinity.scale(shape, SHRINK, SHRINK, origin=(cx, cy))
            simpler = shapely.simplify(shape, tolerance, preserve_topology=True)
            shape = _without_specks(simpler if shapely.is_valid(simpler) else shape)
        models.append((shape, cx, cy))
    return models


def _without_specks(shape):
    polygons = [shapely.Polygon(p.exterior, [r for r in p.interiors
                                             if shapely.Polygon(r).area >= SPECK])
                for p in shapely.get_parts(shape) if p.area >= SPECK]
    return polygons[0] if len(polygons) == 1 else shapely.MultiPolygon(polygons)


def _place_copies(frame: gpd.GeoDataFrame, models: list[tuple], k: int,
                  rng: np.random.Generator) -> gpd.GeoDataFrame:
    """Copy k of a layer's places: new ids and names, geometry moved to random spots."""
    out = frame.copy()
    out.index = [copy_id(i, k) for i in frame.index]
    out.index.name = "id"
    for column in [c for c in out.columns if c.startswith("name_")]:
        out[column] = [f"{name} {k}" if isinstance(name, str) else name
                       for name in frame[column]]
    targets = np.column_stack([rng.uniform(CHINA[0], CHINA[2], len(out)),
                               rng.uniform(CHINA[1], CHINA[3], len(out))])
    moved = [_valid(shapely.affinity.translate(shape, x - cx, y - cy))
             for (shape, cx, cy), (x, y) in zip(models, targets, strict=True)]
    out.geometry = gpd.GeoSeries(moved, index=out.index, crs=frame.crs)
    return out


def _valid(shape):
    """`shape`, or its polygons made valid should moving still have broken a ring."""
    if shape.geom_type not in ("Polygon", "MultiPolygon") or shapely.is_valid(shape):
        return shape
    parts = shapely.get_parts(shapely.make_valid(shape))
    return shapely.union_all([p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")])


def _copies(frame: pd.DataFrame, scale: int, copy) -> pd.DataFrame:
    return pd.concat([frame, *(copy(frame, k) for k in range(1, scale))], ignore_index=True)


def _document_copy(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.copy()
    out["id"] = [copy_id(d, k) for d in frame["id"]]
    for column in [c for c in out.columns if c.startswith("title_")]:
        out[column] = out[column].map(lambda t: f"{t} ({k})" if isinstance(t, str) else t)
    return out


def _unit_copy(frame: pd.DataFrame, k: int) -> pd.DataFrame:
    out = frame.copy()
    out["document"] = [copy_id(d, k) for d in frame["document"]]
    out["id"] = [f"{d}:{key}" for d, key in zip(out["document"], frame["key"], strict=True)]
    return out


def _link_copies(frame: pd.DataFrame, scale: int, scaled: set[str]) -> pd.DataFrame:
    """Mentions or links, N times: copy k joins copy k's units to copy k of every scaled
    place (places of unscaled layers stay themselves)."""
    units = [str(u).partition(":") for u in frame["unit_id"]]
    places = frame["place_id"].tolist()
    vias = frame["via_place_id"].tolist() if "via_place_id" in frame.columns else None
    copies = [frame]
    for k in range(1, scale):
        out = frame.copy()
        out["unit_id"] = [f"{copy_id(d, k)}:{key}" for d, _, key in units]
        out["place_id"] = [copy_id(p, k) if p in scaled else p for p in places]
        if vias is not None:
            out["via_place_id"] = [
                ", ".join(copy_id(p, k) if p in scaled else p
                          for p in (q.strip() for q in v.split(",")))
                if isinstance(v, str) and v else v for v in vias]
        copies.append(out)
    return pd.concat(copies, ignore_index=True)


def _layer_meta(meta: pd.DataFrame, layers: dict, display: dict) -> pd.DataFrame:
    out = meta.reset_index()
    out["feature_count"] = [len(layers[i]) for i in out["id"]]
    out["full_vertices"] = [int(shapely.get_num_coordinates(layers[i].geometry.values).sum())
                            for i in out["id"]]
    out["display_vertices"] = [
        int(shapely.get_num_coordinates(display[i].geometry.values).sum()) for i in out["id"]]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, action="append",
                        help="corpus scale (repeatable; default 1 and 100)")
    parser.add_argument("--out", type=Path, help="where to write (only with one --scale)")
    args = parser.parse_args(argv)
    scales = args.scale or [1, 100]
    if args.out and len(scales) != 1:
        parser.error("--out takes one --scale")
    print(f"{'scale':>6} {'documents':>9} {'units':>7} {'places':>8} {'links':>8} "
          f"{'MB':>7} {'seconds':>8}")
    with tempfile.TemporaryDirectory(prefix="xinqu-corpus-") as tmp:
        for scale in scales:
            out = args.out or Path(tmp) / f"corpus-{scale}.gpkg"
            started = time.perf_counter()
            generate(scale, out)
            seconds = time.perf_counter() - started
            print(_summary(scale, out, seconds), flush=True)
    return 0


def _summary(scale: int, path: Path, seconds: float) -> str:
    def count(name: str) -> int:
        return pyogrio.read_info(path, layer=name)["features"]

    places = sum(count(layer) for layer in pyogrio.read_dataframe(path, layer="layers")["id"])
    return (f"{scale:6d} {count('documents'):9d} {count('units'):7d} {places:8d} "
            f"{count('links'):8d} {path.stat().st_size / 1e6:7.1f} {seconds:8.1f}")


if __name__ == "__main__":
    sys.exit(main())

"""The build: sources and facts in, one GeoPackage out.

gazetteer → geometry (full and display) → basemap → units → links → store. Every input
and the output are parameters, so tests build into a temporary data folder. Any bad input
stops the build with a BuildError whose one-line message names the file and the entry;
the store is written atomically, so the previous one stays in place.

The same inputs give the same store, byte for byte: the only date in it (`build_info`
`data_date`, and the last change GDAL records per table) is `data_date()`, the time
SOURCE_DATE_EPOCH gives (the reproducible-builds convention), else the newest document's
date: the date the data speaks for, not the time of the build.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from geo import boundaries
from geo.simplify import coordinate_count, simplify_for_display
from layers.documents.errors import SourceError
from layers.documents.loading import document_units
from layers.documents.registry import load_documents
from layers.gazetteer import LANGS, Gazetteer, GazetteerError, load_gazetteer
from layers.geometry import build_layer_frames, column_suffix, forms_coverage
from layers.geometry_basemap import basemap_frame, display_basemap, web_tolerances
from layers.linking import LinkingError
from layers.paths import DATA_DIR
from layers.progress import step
from layers.spatial_facts import as_columns, spatial_facts
from layers.store import TMP_SUFFIX, write_store
from layers.tables import ADDED, documents_table, link_frames, units_table
from layers.tempfiles import sweep_siblings
from layers.userdocs.registry import added_documents


class BuildError(RuntimeError):
    """Why the build stopped, in one line naming the file and entry at fault."""


@dataclass(frozen=True)
class BuildReport:
    """What a build wrote, for the CLI and the benchmark."""

    path: Path
    features: dict[str, int]
    units: int
    mentions: int
    links: int
    full_vertices: int
    display_vertices: int


def build(
    data_dir: Path = DATA_DIR,
    store_path: Path | None = None,
    sources_dir: Path | None = None,
    places_dir: Path | None = None,
    home: Path | None = None,
) -> BuildReport:
    """Build the store from `data_dir` (places/, layers.yaml, sources/, documents.yaml,
    linking/, basemap.yaml) into `store_path` (default data_dir/build/xinqu.gpkg); with
    `home`, the documents added to that instance folder go in too."""
    data_dir = Path(data_dir)
    store_path = Path(store_path) if store_path else data_dir / "build" / "xinqu.gpkg"
    sources_dir = Path(sources_dir) if sources_dir else data_dir / "sources"
    places_dir = Path(places_dir) if places_dir else data_dir / "places"
    sweep_siblings(store_path, TMP_SUFFIX)  # what killed builds left beside the store
    try:
        return _build(data_dir, store_path, sources_dir, places_dir, home)
    except (GazetteerError, boundaries.BoundaryError, SourceError, LinkingError) as error:
        raise BuildError(_one_line(error)) from error


def _build(data_dir: Path, store_path: Path, sources_dir: Path, places_dir: Path,
           home: Path | None) -> BuildReport:
    step("reading the documents")  # first: cheap, and a bad document stops the build early
    documents, units_list = documents_and_units(data_dir, sources_dir, home)
    units = units_table(units_list)
    step("reading the gazetteer")
    gazetteer = load_gazetteer(places_dir, layers_path=data_dir / "layers.yaml")
    step("drawing the layers")
    frames = build_layer_frames(gazetteer)
    layers = {lid: frame.set_index("id") for lid, frame in frames.items()}
    step("computing spatial facts of the new areas")
    layers["new-areas"] = layers["new-areas"].join(as_columns(spatial_facts(layers)))
    step("simplifying for display")
    display = {
        lid: _display(frame, gazetteer.layers[lid].display_tolerance_deg,
                      forms_coverage(gazetteer.in_layer(lid)))
        for lid, frame in layers.items()
    }
    step("drawing the basemap")
    basemap = basemap_frame(data_dir / "basemap.yaml")
    basemap_display = display_basemap(basemap, web_tolerances(data_dir / "map_style.yaml"))
    step("linking units to places")
    mentions, links = link_frames(units_list, gazetteer, layers, data_dir / "linking")
    meta = _layer_meta(gazetteer, layers, display)
    when = data_date(documents.get("date", ()))
    info = pd.DataFrame({"key": ["data_date", "build_id", "boundaries", "crs", "generation"],
                         "value": [when.isoformat(timespec="seconds"), build_id(layers, display),
                                   f"{boundaries.PACKAGE} {boundaries.VERSION}", "EPSG:4326",
                                   "0"]})
    step(f"writing {store_path}")
    write_store(store_path, layers, display, basemap, {
        "layers": meta, "documents": documents, "units": units, "mentions": mentions,
        "links": links, "build_info": info}, timestamp=when, basemap_display=basemap_display)
    return BuildReport(
        path=store_path,
        features={lid: len(frame) for lid, frame in layers.items()},
        units=len(units), mentions=len(mentions), links=len(links),
        full_vertices=int(meta["full_vertices"].sum()),
        display_vertices=int(meta["display_vertices"].sum()),
    )


def build_id(layers: dict[str, gpd.GeoDataFrame], display: dict[str, gpd.GeoDataFrame]) -> str:
    """A digest of the layers a build wrote: equal for equal geometry and attributes, so a
    reader can keep its geometry when only the documents changed (and byte-stable, unlike a
    build time)."""
    digest = hashlib.sha256()
    for frames in (layers, display):
        for layer_id, frame in frames.items():
            digest.update(layer_id.encode())
            digest.update(pd.util.hash_pandas_object(
                frame.drop(columns=frame.geometry.name).astype(str), index=True).values.tobytes())
            digest.update(b"".join(shapely.to_wkb(frame.geometry.values, hex=False)))
    return digest.hexdigest()[:16]


# The date of a build with neither SOURCE_DATE_EPOCH nor a dated document.
EPOCH = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def data_date(document_dates=()) -> dt.datetime:
    """The one date a build writes (UTC): $SOURCE_DATE_EPOCH (seconds) if set, else the
    newest of the documents' dates (`2024-03-18`, `2024-03` or `2023`, the first day of
    the month or year), else EPOCH."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return dt.datetime.fromtimestamp(int(epoch), dt.UTC)
        except (ValueError, OverflowError, OSError):
            raise BuildError(f"SOURCE_DATE_EPOCH: {epoch[:40]!r} is not a number of "
                             "seconds since 1970") from None
    dates = []
    for text in document_dates:
        match = re.fullmatch(r"(\d{4})(?:-(\d{1,2}))?(?:-(\d{1,2}))?", str(text).strip())
        if match:
            year, month, day = (int(g) if g else 1 for g in match.groups())
            try:
                dates.append(dt.datetime(year, month, day, tzinfo=dt.UTC))
            except ValueError:
                continue
    return max(dates, default=EPOCH)


def _display(frame: gpd.GeoDataFrame, tolerance: float, coverage: bool) -> gpd.GeoDataFrame:
    out = frame.copy()
    if tolerance > 0 and len(out):
        out["geometry"] = simplify_for_display(out.geometry.values, tolerance, coverage)
    return out


def _layer_meta(gazetteer: Gazetteer, layers: dict[str, gpd.GeoDataFrame],
                display: dict[str, gpd.GeoDataFrame]) -> pd.DataFrame:
    rows = []
    for meta in gazetteer.layers.values():
        row = {"id": meta.id, "geometry_type": meta.geometry, "order": meta.order}
        for lang in LANGS:
            row[f"title_{column_suffix(lang)}"] = meta.title[lang]
        for lang in LANGS:
            row[f"description_{column_suffix(lang)}"] = meta.description[lang]
        row["display_tolerance_deg"] = meta.display_tolerance_deg
        row["feature_count"] = len(layers[meta.id])
        row["full_vertices"] = coordinate_count(layers[meta.id].geometry.values)
        row["display_vertices"] = coordinate_count(display[meta.id].geometry.values)
        rows.append(row)
    return pd.DataFrame(rows)


def documents_and_units(data_dir: Path, sources_dir: Path,
                         home: Path | None) -> tuple[pd.DataFrame, list]:
    """The shipped documents (data_dir/documents.yaml) and then those added to `home`."""
    shipped = load_documents(data_dir / "documents.yaml")
    units = [unit for doc in shipped for unit in document_units(doc, sources_dir)]
    frames = [documents_table(shipped)]
    if home is not None:
        added = added_documents(home)
        units += [unit for _, doc_units in added for unit in doc_units]
        if added:
            frames.append(documents_table([doc for doc, _ in added], origin=ADDED))
    return pd.concat(frames, ignore_index=True), units


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text or type(error).__name__


def store_inputs(data_dir: Path = DATA_DIR) -> list[Path]:
    """Every file the store is built from: the data facts and sources, and the code that
    reads them (the same list the Makefile's store rule depends on)."""
    data_dir = Path(data_dir)
    code = Path(__file__).resolve().parent.parent
    patterns = [(data_dir, "sources/*"), (data_dir, "*.yaml"), (data_dir, "places/*.yaml"),
                (data_dir, "linking/*.yaml"), (code, "geo/*.py"), (code, "layers/*.py"),
                (code, "layers/*/*.py")]
    return sorted(p for base, pattern in patterns for p in base.glob(pattern) if p.is_file())


def store_is_stale(store_path: Path, data_dir: Path = DATA_DIR) -> bool:
    """True if the store is missing or older than any of its inputs."""
    store_path = Path(store_path)
    if not store_path.exists():
        return True
    built = store_path.stat().st_mtime
    return any(p.stat().st_mtime > built for p in store_inputs(data_dir))

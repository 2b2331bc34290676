"""What goes into an export, and writing it: layers as files for planners' own GIS.

The rows come from `layers.query.items` with the same bbox/unit/document filters as the
API, so a filter selects the same places everywhere. To each row this adds the ids of the
units linked to it; beside the layer it puts the place-unit link table (and, in a
GeoPackage, the units themselves), so a file is complete on its own. Files are built in
a directory the caller owns (a private folder per export inside the process's temporary
folder, layers.tempfiles, swept after a kill), never in the data folder.

The same request on the same store gives the same bytes in every format (so a response's
ETag is stable and a conditional request gets 304): every date written into a file (a
GeoPackage's last_change, a .dbf header, zip entries) is the store's `data_date`
(`export_time`), never the time of the export.

Shapefile policy (limits enforced by geo.formats.shapefile): field names come from
data/export-fields.yaml; a text value longer than a .dbf field (254 bytes) is left empty
in the .dbf and written whole to long_values.csv in the zip, and the full link table is
always there as links.dbf, so nothing is ever cut silently.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
from markupsafe import Markup
from pyproj import CRS

from geo.crs import WGS84, CRSError, crs_code, parse_crs
from geo.formats import Table
from geo.formats.csv import WKT_COLUMN, long_cells, write_csv
from geo.formats.geojson import write_geojson
from geo.formats.gpkg import write_gpkg
from geo.formats.kml import write_kml
from geo.formats.shapefile import fits, is_text, write_shapefiles, write_zip
from layers import export_cache, query, tempfiles
from layers.export_csv import csv_frame, cut_note
from layers.export_settings import (
    ALL,
    CELL_MAX,
    CSV_GEOMETRIES,
    LANGS,
    ExportError,
    ExportNotFound,
    Format,
    settings,
)
from layers.progress import step, track

# Lists in a cell are written as the store writes its own (adcodes, joins): comma-separated.
LIST_SEPARATOR = ", "
# The declared geometry type of each kind of layer (data/layers.yaml `geometry`), so that
# a layer the filters leave empty still opens as polygons, lines or points.
GEOMETRY_TYPES = {"polygon": "MultiPolygon", "line": "MultiLineString", "point": "Point"}


# --- requests -------------------------------------------------------------------------------

@dataclass(frozen=True)
class ExportRequest:
    """One export: a layer id (or ALL), a format id, the target CRS and the filters."""

    layer: str
    format: str
    crs: CRS
    bbox: tuple[float, float, float, float] | None = None
    unit: str | None = None
    document: str | None = None
    chapter: int | None = None  # a chapter number of `document`
    layers: tuple[str, ...] = ()  # the layer ids `layer` stands for
    geometry: str = "none"  # CSV only: one of CSV_GEOMETRIES
    crs_asked: str | None = None  # the CRS as asked for (None: the default), for cache keys


def make_request(store, layer: str, format: str, crs: str | None = None, bbox=None,
                 unit: str | None = None, document: str | None = None,
                 chapter=None, geometry: str | None = None) -> ExportRequest:
    """Check every part of an export request against the store; ExportError or QueryError
    (bad bbox/unit/document/chapter, as the API raises it) name the first thing wrong."""
    known = tuple(query.layer_ids(store))
    if layer != ALL and layer not in known:
        raise ExportNotFound("layer", f"no layer {layer!r}", valid=(*known, ALL))
    formats = settings().formats
    if format not in formats:
        raise ExportNotFound("format", f"no export format {format!r}", valid=tuple(formats))
    if layer == ALL and not formats[format].all_layers:
        raise ExportError("format", f"{format} holds one layer; all layers export as",
                          valid=tuple(f for f in formats if formats[f].all_layers))
    if geometry is not None and geometry not in CSV_GEOMETRIES:
        raise ExportError("geometry", f"no CSV geometry {geometry!r}", valid=CSV_GEOMETRIES)
    if geometry == "wkt" and format != "csv":
        raise ExportError("geometry", f"geometry=wkt is for CSV; {format} always holds the "
                          "geometry", valid=("csv",))
    try:
        target = parse_crs(crs if crs is not None else settings().default_crs)
    except CRSError as error:
        raise ExportError("crs", str(error)) from None
    bbox = query.check_bbox(bbox)
    chapter = query.check_chapter(store, document, chapter)
    if unit is not None or document is not None:
        query.places_linked(store, unit=unit, document=document)  # QueryError if unknown
    layers = known if layer == ALL else (layer,)
    return ExportRequest(layer=layer, format=format, crs=target, bbox=bbox, unit=unit,
                         document=document, chapter=chapter, layers=layers,
                         geometry=geometry or "none", crs_asked=crs)


# --- what goes in ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Selection:
    """The places of one layer that a request selects, with the units linked to each."""

    layer: str
    frame: gpd.GeoDataFrame  # a column per store column, plus units and n_units
    number_matched: int
    geometry_type: str | None  # as declared when no feature is selected


def table_name(layer: str) -> str:
    """File and table name of a layer: ArcGIS tools reject hyphens in table names."""
    return re.sub(r"[^A-Za-z0-9_]", "_", layer)


def select(store, layer: str, request: ExportRequest) -> Selection:
    """Every place of `layer` the request's filters select, through layers.query.items."""
    frames, units = [], {}
    offset, matched = 0, 0
    while True:
        page = query.items(store, layer, bbox=request.bbox, unit=request.unit,
                           document=request.document, chapter=request.chapter,
                           limit=query.LIMIT_MAX, offset=offset)
        frames.append(page.frame)
        units.update(page.units)
        matched = page.number_matched
        offset += page.number_returned
        if offset >= matched or page.number_returned == 0:
            break
    frame = frames[0] if len(frames) == 1 else pd.concat(frames)
    frame = _with_id_column(frame)
    # The units that name each place or a place inside it, as the API lists them; units
    # addressed to all new areas (`general`) are in the link table.
    linked = [list(units.get(place, [])) for place in frame["id"]]
    geometry = frame.geometry.name
    frame = frame.drop(columns=[geometry]).assign(
        units=[LIST_SEPARATOR.join(u) if u else None for u in linked],
        n_units=pd.array([len(u) for u in linked], dtype="int32"),
    ).assign(**{geometry: frame.geometry.values})
    frame = gpd.GeoDataFrame(frame, geometry=geometry, crs=page.frame.crs)
    kind = _layer_meta(store, layer).get("geometry_type", "")
    return Selection(layer=layer, frame=frame, number_matched=matched,
                     geometry_type=GEOMETRY_TYPES.get(kind))


def _with_id_column(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if "id" in frame.columns:
        return frame.reset_index(drop=True)
    return frame.rename_axis("id").reset_index()


def anchors(store, selection: Selection) -> gpd.GeoDataFrame | None:
    """The core points of a polygon layer's places (a new area's administrative centre), as a
    point layer of their own; None when the layer has none (the selection may have none).

    An approximate new area is drawn as whole districts, so its polygon alone overstates
    where it is; its core point says where it actually lies. Label points computed from
    the geometry (anchor_kind "representative point") carry no information and stay out.
    """
    whole = store.layers[selection.layer]
    if "anchor_kind" not in whole.columns or not (whole["anchor_kind"] == "core").any():
        return None
    frame = selection.frame
    frame = frame[frame["anchor_kind"] == "core"]
    keep = [c for c in ("id", "name_zh_hans", "name_zh_hant", "name_en", "extent",
                        "anchor_kind", "anchor_lon", "anchor_lat") if c in frame.columns]
    points = gpd.points_from_xy(frame["anchor_lon"], frame["anchor_lat"], crs=WGS84)
    return gpd.GeoDataFrame(pd.DataFrame(frame[keep]).reset_index(drop=True),
                            geometry=points, crs=WGS84)


def link_table(store, place_ids) -> pd.DataFrame:
    """Every place-unit link of these places (named, via and general), in document order."""
    links = store.links
    links = links[links["place_id"].isin(list(place_ids))]
    order = {uid: i for i, uid in enumerate(store.units.index)}
    columns = [c for c in ("unit_id", "place_id", "relation", "via_place_id") if c in links]
    links = links[columns].assign(_order=links["unit_id"].map(order))
    return (links.sort_values(["place_id", "_order", "relation"], kind="stable")
            .drop(columns="_order").reset_index(drop=True))


def unit_table(store, unit_ids) -> pd.DataFrame:
    """The units with these ids, every column of the store (titles and texts in 3 versions)."""
    units = store.units[store.units.index.isin(set(unit_ids))]
    return units.rename_axis("id").reset_index()


def _layer_meta(store, layer: str) -> dict[str, str]:
    meta = store.layer_meta
    if isinstance(meta, pd.DataFrame):
        row = meta.set_index("id").loc[layer] if "id" in meta.columns else meta.loc[layer]
        return {str(k): ("" if pd.isna(v) else str(v)) for k, v in row.items()}
    return {}


def _text(meta: dict[str, str], name: str, lang: str) -> str:
    return meta.get(f"{name}_{query.suffix(lang)}", "")


def layer_title(store, layer: str) -> str:
    meta = _layer_meta(store, layer)
    titles = [t for t in (_text(meta, "title", "zh-Hans"), _text(meta, "title", "en")) if t]
    return " · ".join(titles) or layer


def layer_description(store, layer: str, request: ExportRequest, crs: CRS) -> str:
    meta = _layer_meta(store, layer)
    parts = [t for t in (_text(meta, "description", "zh-Hans"),
                         _text(meta, "description", "en")) if t]
    return "\n".join([*parts, filter_note(request, crs)])


def filter_note(request: ExportRequest, crs: CRS) -> str:
    """One line saying what was exported: filters and CRS, for descriptions and READMEs."""
    parts = []
    if request.bbox is not None:
        parts.append("bbox=" + ",".join(f"{v:g}" for v in request.bbox))
    if request.unit:
        parts.append(f"unit={request.unit}")
    if request.document:
        parts.append(f"document={request.document}")
    if request.chapter is not None:
        parts.append(f"chapter={request.chapter}")
    selected = "places " + " ".join(parts) if parts else "all places"
    return f"xinqu export: {selected}; CRS {crs_code(crs)}"


# --- shapefile field names ------------------------------------------------------------------

def shapefile_names(columns, taken: set[str] | None = None) -> dict[str, str]:
    """Column -> .dbf field name: the chosen name from data/export-fields.yaml, else a
    mechanical one (cut to 10 characters, made unique); see `unmapped`."""
    chosen = settings().fields
    used = {t.lower() for t in (taken or set())}
    out: dict[str, str] = {}
    for column in columns:
        name = chosen[column][0] if column in chosen else re.sub(r"\W", "_", column)[:10]
        base, n = name, 1
        while name.lower() in used:
            suffix = f"_{n}"
            name, n = base[:10 - len(suffix)] + suffix, n + 1
        used.add(name.lower())
        out[column] = name
    return out


def unmapped(columns) -> list[str]:
    """Columns that have no chosen shapefile name in data/export-fields.yaml."""
    return [c for c in columns if c not in settings().fields]


@dataclass
class _Shapefiles:
    """Tables renamed for .dbf limits, and what was renamed or set aside."""

    tables: list[Table] = field(default_factory=list)
    field_map: list[dict[str, str]] = field(default_factory=list)
    long_values: list[dict[str, str]] = field(default_factory=list)

    def add(self, name: str, frame: pd.DataFrame, geometry_type: str | None = None) -> None:
        spatial = isinstance(frame, gpd.GeoDataFrame)
        geometry = frame.geometry.name if spatial else None
        columns = [c for c in frame.columns if c != geometry]
        names = shapefile_names(columns)
        frame = frame.copy()
        for column in columns:
            if not is_text(frame[column]):
                continue
            long = ~fits(frame[column])
            for position in long[long].index:
                key = frame.at[position, "id"] if "id" in frame.columns else position
                self.long_values.append({
                    "table": name, "id": str(key),
                    "field": names[column], "column": column,
                    "value": frame.at[position, column]})
            frame.loc[long, column] = None
        meanings = settings().fields
        for column in columns:
            self.field_map.append({
                "table": name, "field": names[column], "column": column,
                "meaning": meanings[column][1] if column in meanings else ""})
        renamed = frame.rename(columns=names)
        if spatial:
            renamed = gpd.GeoDataFrame(renamed, geometry=geometry, crs=frame.crs)
        self.tables.append(Table(name, renamed, geometry_type=geometry_type))


# --- writing --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Export:
    """A written export: the file, how to serve it, and what the user should be told."""

    path: Path | None  # None for an export read from the cache (its bytes are in memory)
    filename: str
    media_type: str
    crs: CRS  # the CRS of the coordinates in the file
    notes: tuple[str, ...]
    counts: dict[str, int]  # features written per layer


def wgs84_note(request: ExportRequest, format: Format) -> str | None:
    """The note a WGS 84-only format carries when another CRS was asked for."""
    if not format.wgs84_only or request.crs.equals(WGS84, ignore_axis_order=True):
        return None
    standard = {"geojson": "RFC 7946", "kml": "the KML standard (OGC 07-147r2)"}.get(
        format.id, "the format")
    return (f"Coordinates are WGS 84 longitude/latitude (EPSG:4326), as {standard} requires; "
            f"the CRS asked for ({crs_code(request.crs)}) was not applied to this "
            f"{format.id} file.")


def filename(request: ExportRequest, format: Format) -> str:
    code = "" if format.wgs84_only else "_" + re.sub(r"\W", "-", crs_code(request.crs))
    return f"xinqu_{table_name(request.layer)}{code}.{format.id}"


def write_export(store, request: ExportRequest, directory: Path) -> Export:
    """Write the export into `directory` (which the caller owns and cleans up)."""
    format = settings().formats[request.format]
    directory = Path(directory)
    selections = [select(store, layer, request)
                  for layer in track(request.layers, "selecting places")]
    counts = {s.layer: len(s.frame) for s in selections}
    note = wgs84_note(request, format)
    target = directory / filename(request, format)
    step(f"writing {target.name}")
    writer = {"shp.zip": _write_shapefile_zip, "gpkg": _write_gpkg, "geojson": _write_geojson,
              "kml": _write_kml, "csv": _write_csv}[format.id]
    try:
        more = writer(store, request, selections, target, note)
    except CRSError as error:  # the CRS parses but cannot hold these features
        raise ExportError("crs", str(error)) from None
    notes = tuple(n for n in (note, more) if n)
    return Export(path=target, filename=target.name, media_type=format.media_type,
                  crs=file_crs(request), notes=notes, counts=counts)


def file_crs(request: ExportRequest) -> CRS:
    """The CRS of the coordinates in the file: WGS 84 for a WGS 84-only format."""
    return WGS84 if settings().formats[request.format].wgs84_only else request.crs


@contextlib.contextmanager
def exported(store, request: ExportRequest, cache_dir: Path | None = None) -> Iterator[Export]:
    """Write the export in a private temporary directory, removed on leaving the block; two
    exports at once never see each other's files. The directory is inside this process's
    temporary folder (layers.tempfiles), so a killed process's files are swept later. A
    whole-layer export is kept in the export cache as well (`cache_name`; in `cache_dir`,
    by default the instance folder's, export_cache.folder())."""
    with tempfiles.scratch("export-") as directory:
        result = write_export(store, request, directory)
        name = cache_name(store, request)
        if name is not None:
            entry = export_cache.Entry(
                filename=result.filename, media_type=result.media_type,
                crs_code=crs_code(result.crs), counts=dict(result.counts),
                notes=result.notes, body=result.path.read_bytes())
            export_cache.put(name, entry, settings().cache_bytes, cache_dir)
        yield result


def cache_name(store, request: ExportRequest) -> str | None:
    """The export cache's name for this request, or None when it is not kept: a filtered
    export depends on more than the store, and a store without a stamp cannot be told
    apart from its next version."""
    filtered = (request.bbox, request.unit, request.document, request.chapter)
    store_id = export_cache.loaded_id(store)
    if store_id is None or any(f is not None for f in filtered):
        return None
    return export_cache.key(store_id, request.layer, request.format, request.crs_asked,
                            request.geometry)


# Dates in files when the store records none (a store built before `data_date`).
FALLBACK_TIME = dt.datetime(1980, 1, 1, tzinfo=dt.UTC)


def export_time(store) -> dt.datetime:
    """The one date every file exported from `store` carries: the store's `data_date`
    (layers.build), so exports change only when the data does."""
    text = (getattr(store, "build_info", None) or {}).get("data_date")
    try:
        when = dt.datetime.fromisoformat(str(text)) if text else FALLBACK_TIME
    except ValueError:
        return FALLBACK_TIME
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def export_bytes(store, request: ExportRequest,
                 cache_dir: Path | None = None) -> tuple[Export, bytes]:
    """The export as bytes in memory (its temporary files already removed): the kept one
    for a whole-layer export made before from the same store, else made (and kept; in
    `cache_dir`, by default the instance folder's)."""
    name = cache_name(store, request)
    kept = export_cache.get(name, cache_dir) if name is not None else None
    if kept is not None:
        tempfiles.process_dir()  # as a written export would: the first sweeps killed ones'
        return Export(path=None, filename=kept.filename, media_type=kept.media_type,
                      crs=file_crs(request), notes=kept.notes, counts=kept.counts), kept.body
    with exported(store, request, cache_dir) as export:
        return export, export.path.read_bytes()


def _write_shapefile_zip(store, request, selections, target: Path, note) -> None:
    shapefiles = _Shapefiles()
    place_ids: list[str] = []
    for selection in selections:
        name = table_name(selection.layer)
        shapefiles.add(name, selection.frame, selection.geometry_type)
        points = anchors(store, selection)
        if points is not None:
            shapefiles.add(f"{name}_anchors", points, "Point")
        place_ids += list(selection.frame["id"])
    shapefiles.add("links", link_table(store, place_ids))
    work = target.parent / "shapefiles"
    work.mkdir()
    when = export_time(store)
    files = write_shapefiles(shapefiles.tables, work, request.crs, when)
    files.append(work / "fields.csv")
    write_csv(Table("fields", pd.DataFrame(shapefiles.field_map)), files[-1])
    if shapefiles.long_values:
        files.append(work / "long_values.csv")
        write_csv(Table("long_values", pd.DataFrame(shapefiles.long_values)), files[-1])
    write_zip(files, target, when)


def _write_gpkg(store, request, selections, target: Path, note) -> None:
    tables: list[Table] = []
    place_ids: list[str] = []
    for selection in selections:
        name = table_name(selection.layer)
        title = layer_title(store, selection.layer)
        description = layer_description(store, selection.layer, request, request.crs)
        tables.append(Table(name, selection.frame, title, description,
                            selection.geometry_type))
        points = anchors(store, selection)
        if points is not None:
            tables.append(Table(f"{name}_anchors", points, f"{title} (core points)",
                                "The core point (administrative centre) of each place of "
                                f"{selection.layer} that has one\n"
                                f"{filter_note(request, request.crs)}", "Point"))
        place_ids += list(selection.frame["id"])
    links = link_table(store, place_ids)
    tables.append(Table("links", links, "Place–unit links",
                        "Every link between an exported place and a unit of the documents: "
                        "named (the unit names it), via (through a place inside it), "
                        "general (addressed to all new areas)"))
    tables.append(Table("units", unit_table(store, links["unit_id"]), "Units",
                        "The document units (measures, sections) linked to the exported "
                        "places: titles and texts in zh-Hans, zh-Hant and en"))
    write_gpkg(tables, target, request.crs, export_time(store))


def _write_geojson(store, request, selections, target: Path, note) -> None:
    (selection,) = selections
    description = layer_description(store, selection.layer, request, WGS84)
    if note:
        description = f"{note}\n{description}"
    write_geojson(Table(table_name(selection.layer), selection.frame), target, description)


def _write_kml(store, request, selections, target: Path, note) -> None:
    (selection,) = selections
    frame = selection.frame.copy()
    frame["kml_name"] = frame["name_zh_hans"].fillna(frame["name_en"])
    frame["kml_description"] = [
        placemark_html(store, row) for row in frame.drop(columns="geometry").to_dict("records")]
    description = layer_description(store, selection.layer, request, WGS84)
    if note:
        description = f"{note}\n{description}"
    write_kml(Table(table_name(selection.layer), frame, layer_title(store, selection.layer),
                    description), target, "kml_name", "kml_description")


def placemark_html(store, row: dict) -> str:
    """The balloon of a placemark: names, the note on its extent and the linked units; all
    text escaped."""
    names = [row.get(f"name_{query.suffix(lang)}") for lang in LANGS]
    html = Markup("<p><b>{}</b></p>").format(" · ".join(n for n in names if n))
    for lang in ("zh-Hans", "en"):  # what the outline is, as the map says it
        note = row.get(f"extent_note_{query.suffix(lang)}")
        if isinstance(note, str) and note:
            html += Markup("<p>{}</p>").format(note)
    unit_ids = (row.get("units") or "").split(LIST_SEPARATOR) if row.get("units") else []
    if unit_ids:
        items = Markup("").join(
            Markup("<li>{} {}</li>").format(uid, _unit_title(store, uid)) for uid in unit_ids)
        html += Markup("<p>{} ({}):</p><ul>{}</ul>").format(
            "关联条目 Linked units", len(unit_ids), items)
    return str(html)


def _unit_title(store, unit_id: str) -> str:
    if unit_id not in store.units.index:
        return ""
    row = store.units.loc[unit_id]
    titles = [str(row.get(f"title_{query.suffix(lang)}") or "") for lang in ("zh-Hans", "en")]
    return " / ".join(t for t in titles if t)


def _write_csv(store, request, selections, target: Path, note) -> str | None:
    """Excel-safe: no geometry column unless asked (a point per place instead), no cell over
    Excel's 32,767 characters; returns the note saying what was cut, if anything."""
    (selection,) = selections
    frame, cuts = csv_frame(selection.frame, selection.geometry_type, request.crs)
    wkt = request.geometry == "wkt"
    write_csv(Table(table_name(selection.layer), frame), target, request.crs, wkt=wkt)
    if wkt:  # the WKT's length is known once GDAL has written it
        too_long = [(int(row), n) for row, column, n in long_cells(target)
                    if column == WKT_COLUMN]
        if too_long:
            ids = [str(frame["id"].iloc[row - 1]) for row, _ in too_long]
            shown = ", ".join(ids[:5]) + (", …" if len(ids) > 5 else "")
            raise ExportError(
                "geometry", f"the WKT of {len(ids)} place(s) ({shown}) is longer "
                f"than a spreadsheet cell holds ({CELL_MAX:,} characters; the longest "
                f"{max(n for _, n in too_long):,}): take the outlines as GeoPackage, "
                "shapefile or GeoJSON, or this CSV without geometry", valid=("none",))
    return cut_note(cuts)

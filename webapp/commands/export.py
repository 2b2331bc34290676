"""`xinqu export`: a layer (or all) as a GIS file, as GET /export/<layer>.<format> serves it.

A whole-layer export (no filter) made before from the same store (by an export, or ahead by
`xinqu build` / `xinqu documents`, `keep_ahead`) is copied from the export cache
(layers.export_cache) without loading the store or the libraries that write exports:
the process then costs about what ogr2ogr does. Anything else, or a miss, opens the store
and writes the export (and keeps a whole-layer one for next time).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from layers import export_cache, paths, store_place, tempfiles
from webapp.commands import store_option
from webapp.errors import UsageError

# The formats `--help` lists: the ids in the file layers.export reads its formats from, read
# here without importing layers.export (geopandas), so that `xinqu export --help` is fast,
# and only when help is shown (_Help), so that copying a kept export needs no YAML parser.
FORMATS_PATH = paths.DATA_DIR / "export.yaml"
FILTERS = ("bbox", "unit", "document", "chapter")  # the options that make an export partial
PARTIAL_SUFFIX = ".partial"  # of the copy saved next to --out before it is renamed over it


class _Help(argparse.HelpFormatter):
    """Help whose format list is read from data/export.yaml when the help is printed."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        if action.dest == "format":
            return "one of: " + ", ".join(_format_ids())
        return super()._get_help_string(action)


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="write a layer (or all layers) as shapefile zip, GeoPackage, GeoJSON, "
                       "KML or CSV",
        description="Write layers as a GIS file, with the same filters as the API.",
        formatter_class=_Help)
    p.add_argument("--layer", required=True, help="a layer id, or 'all'")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help="one of the formats of data/export.yaml")
    p.add_argument("--crs", help="target CRS by code, e.g. EPSG:4490, EPSG:4548, ESRI:102025 "
                                 "(default EPSG:4326)")
    p.add_argument("--bbox", help="minlon,minlat,maxlon,maxlat (WGS 84)")
    p.add_argument("--unit", help="only places linked to this unit, e.g. ndrc-2024:6")
    p.add_argument("--document", help="only places linked to this document, e.g. ndrc-2024")
    p.add_argument("--chapter", help="only places linked to this chapter of --document")
    p.add_argument("--csv-geometry", choices=("none", "wkt"), dest="geometry",
                   help="CSV only: 'wkt' adds the geometry as WKT (refused for a place whose "
                        "WKT exceeds a spreadsheet cell); default 'none': a point per place "
                        "(anchor_lon/anchor_lat, or lon/lat)")
    p.add_argument("--out", required=True, type=Path,
                   help="file to write (or an existing directory to write it into)")
    store_option.add(p)
    p.set_defaults(func=run)


def _format_ids() -> list[str]:
    import yaml  # here: only help needs it (PyYAML's import is a fifth of a kept export)

    from layers import yamlio

    try:
        formats = yamlio.read(FORMATS_PATH)["formats"]  # libyaml
        return [f["id"] for f in formats]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ["(see data/export.yaml)"]


def _bbox(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",")]


def run(args) -> int:
    kept = _kept(args)
    if kept is not None:
        target = _target(args, kept.filename)
        _save(target, lambda partial: partial.write_bytes(kept.body), args.out)
        return _report(target, kept.crs_code, kept.counts, kept.notes)
    # Imported here, not at the top, to keep `xinqu --help`, the other commands and a kept
    # export light (pandas, geopandas, PROJ only when an export is written).
    from geo.crs import crs_code
    from layers import export, export_settings
    from layers.query import NotFound, QueryError

    store = store_option.open_chosen(args)
    try:
        wanted = export.make_request(store, args.layer, args.format, crs=args.crs,
                                     bbox=_bbox(args.bbox), unit=args.unit,
                                     document=args.document, chapter=args.chapter,
                                     geometry=args.geometry)
        with export.exported(store, wanted) as result:
            target = _target(args, result.filename)
            _save(target, lambda partial: shutil.copyfile(result.path, partial), args.out)
    except export_settings.ExportError as error:
        valid = f" (valid: {', '.join(error.valid)})" if error.valid else ""
        option = "csv-geometry" if error.param == "geometry" else error.param
        raise UsageError(f"--{option}: {error.message}{valid}") from None
    except QueryError as error:
        raise UsageError(f"--{error.param}: {error.message}") from None
    except NotFound as error:
        raise UsageError(str(error)) from None
    except OSError as error:  # writing the export in the temporary folder
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    return _report(target, crs_code(result.crs), result.counts, result.notes)


def _kept(args) -> export_cache.Entry | None:
    """The kept export this command asks for: a whole layer (no filter) of a GeoPackage
    store as it is now, made before by this code with these settings; else None."""
    if any(getattr(args, name) is not None for name in FILTERS):
        return None
    where = store_place.location(getattr(args, "store", None))
    store_id = None if isinstance(where, str) else export_cache.file_id(where)
    if store_id is None:  # a database, or no store (the full path says so)
        return None
    tempfiles.sweep()  # what a killed export left, as the first export of a process does
    return export_cache.get(export_cache.key(store_id, args.layer, args.format, args.crs,
                                             args.geometry))


def keep_ahead(store_path: Path, home: Path | None = None) -> None:
    """After a command replaced the instance's store at `store_path`: make and keep its
    whole-layer exports (layers.export_ahead), so that the first `xinqu export` or
    `/export/…` of the new store is a copy. Says what that cost; when it could not, a note
    on stderr why (the store is in place either way: a miss only costs the first export
    its writing)."""
    # Imported here: the store and the export's libraries load only when a store changed.
    from layers.export_ahead import make_ahead
    from layers.export_settings import ExportError
    from layers.store import StoreError
    from webapp.commands.output import emit

    try:
        done = make_ahead(store_path, home)
    except (ExportError, StoreError, OSError) as error:
        print(f"note: whole-layer exports not made ahead: {error}", file=sys.stderr)
        return
    if done.exports == 0:
        return  # none asked for (`made_ahead: []`), or a store without a stamp
    bound = "" if done.kept == done.exports else (
        f", {done.kept} of them kept (cache_mb in data/export.yaml holds no more)")
    emit(f"made {done.exports} whole-layer exports ahead ({done.bytes / 1e6:.1f} MB) in "
         f"{done.seconds:.1f}s{bound}")


def _target(args, filename: str) -> Path:
    return args.out / filename if args.out.is_dir() else args.out


def _report(target: Path, crs: str, counts: dict[str, int], notes) -> int:
    shown = ", ".join(f"{layer} {n}" for layer, n in counts.items())
    print(f"wrote {target} ({crs}; features: {shown})")
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _save(target: Path, write, out: Path) -> None:
    """Write next to the target (`write(partial)`), then rename over it: a failed export
    leaves no half file (the copy is named by this process, so a killed export's is removed
    by the next). UsageError naming `out` when it cannot be written."""
    from layers.progress import step  # light; imported with the rest of the saving

    if not target.parent.is_dir():
        raise UsageError(f"--out: no directory {target.parent}")
    step(f"saving {target}")
    try:
        partial = tempfiles.sibling(target, PARTIAL_SUFFIX)
        try:
            write(partial)
            os.replace(partial, target)
        finally:
            tempfiles.release(partial)
    except OSError as error:
        raise UsageError(f"cannot write {out}: {error.strerror or error}") from None

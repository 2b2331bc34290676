"""`xinqu export`: a layer (or all) as a GIS file, as GET /export/<layer>.<format> serves it."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import yaml

from layers import paths, tempfiles, yamlio
from webapp.commands import store_option
from webapp.errors import UsageError

# The formats `--help` lists: the ids in the file layers.export reads its formats from, read
# here without importing layers.export (geopandas), so that `xinqu export --help` is fast.
FORMATS_PATH = paths.DATA_DIR / "export.yaml"
PARTIAL_SUFFIX = ".partial"  # of the copy saved next to --out before it is renamed over it


def register(sub) -> None:
    p = sub.add_parser(
        "export", help="write a layer (or all layers) as shapefile zip, GeoPackage, GeoJSON, "
                       "KML or CSV",
        description="Write layers as a GIS file, with the same filters as the API.")
    p.add_argument("--layer", required=True, help="a layer id, or 'all'")
    p.add_argument("--format", required=True, metavar="FORMAT",
                   help="one of: " + ", ".join(_format_ids()))
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
    try:
        formats = yamlio.read(FORMATS_PATH)["formats"]  # libyaml: read on every run
        return [f["id"] for f in formats]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return ["(see data/export.yaml)"]


def _bbox(text: str | None) -> list[str] | None:
    return None if text is None else [part.strip() for part in text.split(",")]


def run(args) -> int:
    # Imported here, not at the top, to keep `xinqu --help` and the other commands light.
    from geo.crs import crs_code
    from layers import export
    from layers.progress import step
    from layers.query import NotFound, QueryError

    store = store_option.open_chosen(args)
    try:
        wanted = export.make_request(store, args.layer, args.format, crs=args.crs,
                                     bbox=_bbox(args.bbox), unit=args.unit,
                                     document=args.document, chapter=args.chapter,
                                     geometry=args.geometry)
        with export.exported(store, wanted) as result:
            target = args.out / result.filename if args.out.is_dir() else args.out
            step(f"saving {target}")
            _save(result.path, target)
    except export.ExportError as error:
        valid = f" (valid: {', '.join(error.valid)})" if error.valid else ""
        option = "csv-geometry" if error.param == "geometry" else error.param
        raise UsageError(f"--{option}: {error.message}{valid}") from None
    except QueryError as error:
        raise UsageError(f"--{error.param}: {error.message}") from None
    except NotFound as error:
        raise UsageError(str(error)) from None
    except OSError as error:
        raise UsageError(f"cannot write {args.out}: {error.strerror or error}") from None
    counts = ", ".join(f"{layer} {n}" for layer, n in result.counts.items())
    print(f"wrote {target} ({crs_code(result.crs)}; features: {counts})")
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    return 0


def _save(source: Path, target: Path) -> None:
    """Copy next to the target, then rename over it: a failed export leaves no half file
    (the copy is named by this process, so a killed export's is removed by the next)."""
    if not target.parent.is_dir():
        raise UsageError(f"--out: no directory {target.parent}")
    partial = tempfiles.sibling(target, PARTIAL_SUFFIX)
    try:
        shutil.copyfile(source, partial)
        os.replace(partial, target)
    finally:
        tempfiles.release(partial)

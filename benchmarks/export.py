"""How fast exports are: all layers to one zipped shapefile set and to one GeoPackage,
beside GDAL's ogr2ogr converting the built GeoPackage to the same outputs.

Prints the median of a few runs of each (wall-clock seconds). Our side runs as the
service does: the store already in memory, the file built in a temporary directory and
read back into memory. ogr2ogr (Debian's gdal-bin) reads the store from disk, as a
planner converting it by hand would. First, whole processes: `xinqu export` of one layer
to a GeoPackage (start-up and store loading included) beside ogr2ogr of that layer, by
wall-clock and by the CPU time the process used (steadier on a shared machine): a miss
(cold: the export cache of the instance folder is empty, so the export is written, and
kept), the first export after a build (the store replaced by a copy, a new stamp, as a
build replaces it, then its whole-layer exports made ahead as `xinqu build` makes them,
layers.export_ahead; what that adds to a build is printed too), and a repeat (copied from
the export cache, layers.export_cache); and the floor under a written export: a Python
process that only imports the libraries the export reads and writes with (geopandas with
pandas and numpy, pyogrio, pyproj). The processes run with their bytecode cached, as an
installed xinqu does (PYTHONDONTWRITEBYTECODE is dropped for them).
Run: .venv/bin/python benchmarks/export.py [runs]
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from layers import export, export_settings
from layers.export_ahead import make_ahead
from layers.paths import STORE_PATH
from layers.store import Store

GOAL = 1.5  # at most this many times ogr2ogr's time
LIBRARIES = "import geopandas, pyogrio, pyproj"  # what any export of the store loads
REPO = Path(__file__).resolve().parent.parent


def median_seconds(action, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def ours(store, format: str, crs: str):
    def run():
        export.export_bytes(store, export.make_request(store, export_settings.ALL, format, crs=crs))
    return run


def ogr2ogr(format: str, crs: str, tables: list[str], zipped_by: str):
    """ogr2ogr from the store to the same output, into a fresh temporary directory."""
    def run():
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            common = ["-t_srs", crs, "-lco", "ENCODING=UTF-8"] if format == "shp.zip" else [
                "-t_srs", crs]
            if format == "gpkg":
                target = folder / "all.gpkg"
                command = ["ogr2ogr", "-f", "GPKG", str(target), str(STORE_PATH), *tables,
                           *common]
            elif zipped_by == "gdal":
                target = folder / "all.shp.zip"
                command = ["ogr2ogr", "-f", "ESRI Shapefile", str(target), str(STORE_PATH),
                           *tables, *common]
            else:
                target = folder / "shp"
                command = ["ogr2ogr", "-f", "ESRI Shapefile", str(target), str(STORE_PATH),
                           *tables, *common]
            subprocess.run(command, check=True, capture_output=True)
            if format == "shp.zip" and zipped_by == "python":
                with zipfile.ZipFile(folder / "all.shp.zip", "w", zipfile.ZIP_DEFLATED) as z:
                    for file in sorted(target.iterdir()):
                        z.write(file, file.name)
                target = folder / "all.shp.zip"
            target.read_bytes()
    return run


def whole_process(layer: str, folder: Path,
                  store: Path = STORE_PATH) -> tuple[list[str], list[str]]:
    """The two commands a planner would type to get one layer as a GeoPackage: `xinqu
    export` (a whole process: start-up, store, export) and ogr2ogr."""
    xinqu = [sys.executable, "-m", "webapp.cli", "export", "--store", str(store),
             "--layer", layer, "--format", "gpkg", "--out", str(folder / "xinqu.gpkg")]
    gdal = ["ogr2ogr", "-f", "GPKG", "-overwrite", str(folder / "ogr.gpkg"), str(store),
            layer]
    return xinqu, gdal


def command_seconds(command: list[str], runs: int, env: dict | None = None,
                    first=None) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of a whole process (`first()` before each run)."""
    walls, cpus = [], []
    for _ in range(runs):
        if first is not None:
            first()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=REPO, env=env)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def main(runs: int = 5) -> int:
    if shutil.which("ogr2ogr") is None:
        print("ogr2ogr (gdal-bin) is not installed", file=sys.stderr)
        return 1
    start = time.perf_counter()
    store = Store.open(STORE_PATH)
    print(f"store opened in {time.perf_counter() - start:.2f} s (once per service start)")
    layers = list(store.layers)
    vertices = sum(int(store.layer_meta.loc[layer, "full_vertices"]) for layer in layers)
    print(f"{len(layers)} layers, {vertices} vertices at full resolution; median of {runs} runs")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    floor, floor_cpu = command_seconds([sys.executable, "-c", LIBRARIES], runs, env)
    print(f"floor of a written export: a process importing {LIBRARIES[len('import '):]}: "
          f"{floor:.2f} s (CPU {floor_cpu:.2f})")
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "home"  # an instance folder of its own: its own export cache
        env["XINQU_HOME"] = str(home)
        subprocess.run([sys.executable, "-m", "compileall", "-q", "geo", "layers", "webapp"],
                       cwd=REPO, env=env, check=True)  # bytecode, as an installed xinqu has

        built = home / STORE_PATH.name  # the instance's store, replaced as a build does
        home.mkdir(parents=True)
        shutil.copyfile(STORE_PATH, built)
        ahead: list = []  # what a build adds: layers.export_ahead.Ahead, one per build

        def empty_cache() -> None:
            shutil.rmtree(home / "cache" / "exports", ignore_errors=True)

        def after_build() -> None:
            """A new store (a new stamp) in place, then what `xinqu build` does next."""
            empty_cache()
            partial = built.with_name(f".{built.name}.new")
            shutil.copyfile(STORE_PATH, partial)
            os.replace(partial, built)
            ahead.append(make_ahead(built, home))

        for layer in ("new-areas", "partners"):
            xinqu, gdal = whole_process(layer, Path(folder), built)
            theirs, theirs_cpu = command_seconds(gdal, runs)
            cold = command_seconds(xinqu, runs, env, first=empty_cache)
            first = command_seconds(xinqu, runs, env, first=after_build)
            repeat = command_seconds(xinqu, runs, env)
            for label, (mine, mine_cpu) in (("miss (cold)", cold), ("first after build", first),
                                            ("repeat", repeat)):
                verdict = "ok" if mine / theirs <= GOAL else f"SLOWER than {GOAL}x"
                print(f"whole process, {layer:9} -> gpkg, {label:17}: `xinqu export` "
                      f"{mine:5.2f} s (CPU {mine_cpu:4.2f})   ogr2ogr {theirs:5.2f} s "
                      f"(CPU {theirs_cpu:4.2f})   ratio {mine / theirs:4.2f} "
                      f"(CPU {mine_cpu / theirs_cpu:4.2f})  {verdict}", flush=True)
        seconds = [done.seconds for done in ahead]
        print(f"added to a build: {ahead[0].exports} whole-layer exports made ahead "
              f"({ahead[0].bytes / 1e6:.1f} MB), median {statistics.median(seconds):.2f} s "
              f"(min {min(seconds):.2f}, max {max(seconds):.2f}; store read included)",
              flush=True)
    for crs in ("EPSG:4326", "EPSG:4548"):
        for format, tables, zipped_by in (
                ("shp.zip", [*layers, "links"], "gdal"),
                ("shp.zip", [*layers, "links"], "python"),
                ("gpkg", [*layers, "links", "units"], "")):
            ours(store, format, crs)()  # warm: PROJ's operation search, imports
            mine = median_seconds(ours(store, format, crs), runs)
            theirs = median_seconds(ogr2ogr(format, crs, tables, zipped_by), runs)
            ratio = mine / theirs
            how = {"gdal": " (GDAL zips)", "python": " (dir + zipfile)"}.get(zipped_by, "")
            verdict = "ok" if ratio <= GOAL else f"SLOWER than {GOAL}x"
            print(f"all layers -> {format:7} {crs:9}  xinqu {mine:6.2f} s   "
                  f"ogr2ogr{how:16} {theirs:6.2f} s   ratio {ratio:4.2f}  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))

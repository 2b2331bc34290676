"""How long xinqu takes to start: CLI help, the app's phases, and what the imports cost.

- `xinqu --help` and `xinqu export --help` as whole processes (wall and CPU seconds,
  median of a few runs): a command that only parses its arguments loads no heavy library;
- the app in a fresh process, by phase (CPU seconds): importing webapp.app, create_app
  (store, serialised layers, blueprints): what `xinqu serve` does before its workers fork
  and answer; then warm() as each of its workers runs it after the fork, in a thread,
  while it already answers (`warm(app, wait=False, later=False)`: the map pages rendered,
  the kept compressions read, cheap ones for what is not kept yet). On a first start over
  a store (a copy of it in a fresh folder: no snapshot of the opened store, no kept
  compressions; afterwards both are kept, as the server's background process does) and
  a restart (the snapshot and compressions read); also warm() waiting for the strong
  levels itself before the fork, as webapp.wsgi does;
- `python -X importtime` of `xinqu export --help` and of `create_app()`: the modules
  that cost most, cumulative.

Time to first answer of `xinqu serve`, beside pygeoapi's, is in benchmarks/peers.py.
Run: .venv/bin/python benchmarks/startup.py [runs]
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
from pathlib import Path

from layers import stores

REPO = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": str(REPO)}

PHASES = """
import sys, time
cpu = time.process_time
t = cpu()
from webapp.app import create_app, warm
from layers import stores
a = cpu()
app = create_app({"STORE_PATH": sys.argv[1] + "/xinqu.gpkg",
                  "XINQU_COMPRESSED_DIR": sys.argv[1] + "/compressed",
                  "XINQU_TEMPLATE_CACHE_DIR": sys.argv[1] + "/templates"})
b = cpu()
if sys.argv[2] == "wait":
    warm(app, wait=True)  # webapp.wsgi, before the fork
else:
    warm(app, wait=False, later=False)  # a worker of xinqu serve, after the fork
c = cpu()
print(f"{a - t:.3f} {b - a:.3f} {c - b:.3f}")
# what xinqu serve's background process keeps for the next start (not timed)
stores.keep(app.extensions["xinqu"].store)
warm(app, wait=True)
"""


def whole(command: list[str], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of a whole process."""
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, cwd=REPO, env=ENV, check=True, capture_output=True)
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return statistics.median(walls), statistics.median(cpus)


def heaviest_imports(code: str, top: int = 8) -> list[tuple[float, str]]:
    """The modules whose import took longest (cumulative seconds), from -X importtime."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], cwd=REPO,
                            env=ENV, capture_output=True, text=True, check=True)
    rows = []
    for line in result.stderr.splitlines():
        if not line.startswith("import time:") or "cumulative" in line:
            continue
        _, cumulative, name = line[len("import time:"):].split("|")
        if not name.startswith("  "):  # top-level imports only: their children add up to them
            rows.append((int(cumulative) / 1e6, name.strip()))
    return sorted(rows, reverse=True)[:top]


def main(runs: int = 5) -> int:
    python = sys.executable
    print(f"whole processes, median of {runs} (wall s, CPU s):")
    for label, command in (("python -c pass", [python, "-c", "pass"]),
                           ("xinqu --help", [python, "-m", "webapp.cli", "--help"]),
                           ("xinqu export --help",
                            [python, "-m", "webapp.cli", "export", "--help"])):
        wall, cpu = whole(command, runs)
        print(f"  {label:<22} {wall:6.2f} {cpu:6.2f}", flush=True)
    names = ("import webapp.app", "create_app", "warm")
    store = stores.location()
    # (label, how warm() is called, a fresh folder or the previous kind's): a first start
    # fills the folder (the store's snapshot and the strong compressions), the restart
    # reads it
    kinds = (("first start", "serve", True), ("restart", "serve", False),
             ("first start, warm() waiting", "wait", True))
    phases: dict[str, list[list[float]]] = {kind: [] for kind, _, _ in kinds}
    with tempfile.TemporaryDirectory() as scratch:
        for turn in range(max(1, runs // 2)):
            folder = Path(scratch)
            for n, (kind, how, fresh) in enumerate(kinds):
                if fresh:
                    folder = Path(scratch) / f"{turn}-{n}"
                    folder.mkdir()
                    shutil.copyfile(store, folder / "xinqu.gpkg")
                out = subprocess.run([python, "-c", PHASES, str(folder), how], cwd=REPO,
                                     env=ENV, check=True, capture_output=True,
                                     text=True).stdout.split()
                phases[kind].append([float(x) for x in out])
    for kind, rows in phases.items():
        print(f"app {kind} by phase (CPU s, median of {len(rows)}): " + ", ".join(
            f"{name} {statistics.median(p[i] for p in rows):.2f}"
            for i, name in enumerate(names)))
    for label, code in (("xinqu export --help",
                         "from webapp.cli import main\ntry: main(['export', '--help'])\n"
                         "except SystemExit: pass"),
                        ("create_app()", "from webapp import create_app\ncreate_app()")):
        print(f"heaviest top-level imports of {label} (cumulative s):")
        for seconds, name in heaviest_imports(code):
            print(f"  {seconds:6.3f}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))

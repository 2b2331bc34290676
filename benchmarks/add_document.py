"""How long adding one document takes, with 1 and with 1,000 documents already added.

A synthetic policy text of a few pages (three chapters of numbered measures naming new
areas and ports, about 2,600 characters, 25 units) is added to a temporary instance folder holding
a copy of the built store: first as the only added document, then after 1,000 others
(filled in batches). Prints the median wall-clock seconds of a few adds at each size,
in-process (`layers.userdocs.add_documents`, as the web upload runs it) and for the
whole `xinqu documents add` command (with Python's start-up), each as wall-clock time and
as CPU time (user + system: what the add costs when the machine is shared). The goal:
under 2 s, and about the same at 1,000 documents.
Run: .venv/bin/python benchmarks/add_document.py [runs]
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

from layers.paths import STORE_PATH
from layers.userdocs.intake import Options, add_documents

GOAL_SECONDS = 2.0
FILL = 1000
BATCH = 100
PLACES = ["浦东新区", "两江新区", "滨海新区", "雄安新区", "南沙新区", "舟山群岛新区", "上海港",
          "天津港", "宁波舟山港", "西咸新区", "贵安新区", "哈尔滨新区"]
CHAPTERS = ["总体要求", "重点任务", "保障措施"]
DIGITS = "一二三四五六七八九十"


def synthetic(n: int) -> str:
    """A numbered text of a few pages, different for every n."""
    lines = [f"关于推进国家级新区协同发展的若干措施（第{n}号）", "",
             "为推动国家级新区高质量发展，现提出以下措施。", ""]
    for c, chapter in enumerate(CHAPTERS):
        lines += [f"{DIGITS[c]}、{chapter}", ""]
        for i in range(8):
            a, b = PLACES[(n + c * 8 + i) % len(PLACES)], PLACES[(n + i * 5 + 3) % len(PLACES)]
            lines += [f"（{DIGITS[i]}）支持{a}与{b}深化合作。围绕产业协同、科技创新和对外开放，"
                      f"建立常态化协作机制，推动要素跨区域自由流动，形成优势互补、联动发展的格局。"
                      f"加强规划衔接和政策协调，共同培育先进制造业集群和现代服务业。", ""]
    return "\n".join(lines)


def write(folder: Path, n: int) -> Path:
    path = folder / f"plan-{n}.txt"
    path.write_text(synthetic(n), encoding="utf-8")
    return path


def timed_adds(home: Path, folder: Path, numbers: list[int]) -> tuple[float, float]:
    """Median (wall, CPU) seconds of adding each document in-process."""
    walls, cpus = [], []
    for n in numbers:
        path = write(folder, n)
        start, cpu = time.perf_counter(), time.process_time()
        add_documents([(path, path.name)], Options(id=f"plan-{n}"), home=home)
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def cli_add(home: Path, folder: Path, n: int) -> tuple[float, float]:
    """(wall, CPU) seconds of one `xinqu documents add`."""
    path = write(folder, n)
    env = {**os.environ, "XINQU_HOME": str(home), "CI": "true"}
    start, cpu = time.perf_counter(), _children_cpu()
    subprocess.run([sys.executable, "-m", "webapp.cli", "documents", "add", str(path),
                    "--id", f"plan-{n}"], env=env, check=True, capture_output=True)
    return time.perf_counter() - start, _children_cpu() - cpu


def figures(label: str, inproc: tuple[float, float], cli: tuple[float, float]) -> str:
    return (f"{label}: median add {inproc[0]:.2f} s wall / {inproc[1]:.2f} s CPU in-process; "
            f"the CLI {cli[0]:.2f} s wall / {cli[1]:.2f} s CPU")


def main(runs: int = 3) -> int:
    if not STORE_PATH.exists():
        print(f"no built store at {STORE_PATH}: run `xinqu build` first", file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory(prefix="xinqu-bench-") as tmp:
        home, folder = Path(tmp) / "home", Path(tmp) / "texts"
        home.mkdir()
        folder.mkdir()
        shutil.copyfile(STORE_PATH, home / "xinqu.gpkg")
        chars = len(synthetic(0))
        print(f"one document: {chars} characters, {len(CHAPTERS) * 8 + 1} units")
        first = timed_adds(home, folder, [0])[0]  # includes reading the gazetteer once
        small = timed_adds(home, folder, list(range(1, runs + 1)))
        small_cli = cli_add(home, folder, runs + 1)
        print(f"first add (loads the gazetteer and linker): {first:.2f} s wall")
        print(figures(f"with 1..{runs + 1} documents added", small, small_cli))

        next_n = runs + 2
        start = time.perf_counter()
        while next_n < FILL:
            numbers = list(range(next_n, min(next_n + BATCH, FILL)))
            files = [(write(folder, n), f"plan-{n}.txt") for n in numbers]
            add_documents(files, home=home)
            next_n += len(numbers)
            print(f"  filled to {next_n} documents ({time.perf_counter() - start:.0f} s)",
                  file=sys.stderr)
        size = (home / "xinqu.gpkg").stat().st_size / 1e6
        large = timed_adds(home, folder, list(range(FILL, FILL + runs)))
        large_cli = cli_add(home, folder, FILL + runs)
        print(figures(f"with {FILL} documents added (store {size:.0f} MB)", large, large_cli))
        worst = max(small[1], large[1], small_cli[1], large_cli[1])
        print(f"goal: under {GOAL_SECONDS:.1f} s of CPU per add: "
              f"{'met' if worst < GOAL_SECONDS else 'NOT met'} (worst {worst:.2f} s); "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 3))

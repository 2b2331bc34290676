"""Time to read a user's file into a document and units, per format, and on a long text.

Reads every test document of tests/fixtures/documents/user once cold (the first file of a
format pays for importing its library: trafilatura, python-docx, pypdf) and then warm
(best of 5), and a long unnumbered text (about 1 MB, 2,000 paragraphs, the size of a
long report) to show the time grows with the text and stays bounded. Goal: a document
of a few pages read in well under 1 s warm, so that adding one stays under 2 s.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from layers.documents.errors import SourceError
from layers.documents.ingest import read_document

USER = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "documents" / "user"


def _time(path: Path, runs: int = 1) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        read_document(path)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> int:
    files = sorted(p for p in USER.iterdir()
                   if p.is_file() and p.suffix != ".py" and p.name != "scan.pdf")
    print(f"{'file':34} {'bytes':>7} {'units':>5} {'cold ms':>8} {'warm ms':>8}")
    for path in files:
        try:
            cold = _time(path)
            warm = _time(path, runs=5)
            units = len(read_document(path)[1])
        except SourceError as error:
            print(f"{path.name:34} error: {error}")
            return 1
        print(f"{path.name:34} {path.stat().st_size:7d} {units:5d} "
              f"{cold * 1000:8.1f} {warm * 1000:8.1f}")
    paragraph = ("天府新区近日发布支持科技创新的措施，对新落户的重大创新平台给予支持，"
                 "并将深化与重庆两江新区的协同创新，共同服务成渝地区双城经济圈建设。")
    with tempfile.TemporaryDirectory(prefix="xinqu-bench-") as tmp:
        long = Path(tmp) / "long.txt"
        long.write_text("长篇报告\n" + "\n".join(f"第{i}段：{paragraph}" for i in range(2000)),
                        encoding="utf-8")
        started = time.perf_counter()
        _, units = read_document(long)
        took = time.perf_counter() - started
        print(f"long text: {long.stat().st_size / 1e6:.2f} MB, {len(units)} units, "
              f"{took:.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

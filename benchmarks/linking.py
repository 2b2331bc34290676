"""Place-linking throughput and memory on a large corpus, beside a bare automaton scan.

The corpus is the real units repeated in shuffled rounds (each copy with its own id) until
it holds the requested megabytes of UTF-8 text over all language versions. It is generated
and linked in chunks, so memory stays flat whatever the size. Each run happens in its own
forked process, so its peak memory is its own:

- corpus only: generating the copies and counting their bytes, no other work; every run
  below does the same, and only the time spent on each chunk once it is made counts as
  its own (the time to make the copies is a third of the raw scan's, and measured apart
  and taken off, its noise moved the raw scan's figure by a third);
- end to end: `Linker.link` on each chunk (normalisation with layers.textnorm, automaton
  scan, context rules, overlap resolution, general-unit rule, offsets, DataFrames);
- normalisation only: layers.textnorm.normalize_many on the texts of each of the
  linker's batches (the share of the end-to-end cost that belongs to the matching form);
- OpenCC only: the bare t2s conversion of the same zh-Hant texts, joined as the linker
  joins them: what converting them with OpenCC would cost (the normalisation converts by
  table look-up, layers.opencc_tables, and leaves to OpenCC only the texts holding a
  phrase it converts otherwise);
- raw scan: the bare automaton over the same display texts, text by text, no other work.

Throughput is measured on the process's CPU time, which other work on a shared machine
disturbs far less than wall-clock time (both are printed); each measurement is run
--repeat times and the run of least CPU time counts. The objects the children inherit
are frozen before forking (gc.freeze), so no child pays for copying their pages.

Run: .venv/bin/python benchmarks/linking.py [--sizes 50 100] [--chunk 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import dataclasses
import gc
import multiprocessing
import random
import resource
import sys
import time
from collections.abc import Callable, Iterator

from layers.documents.loading import load_units
from layers.documents.model import LANGS
from layers.gazetteer import load_gazetteer
from layers.linking import Linker
from layers.linking.linker import batches
from layers.linking.rules import family_of
from layers.progress import step
from layers.textnorm import MATCHING_CONVERSION, SEPARATOR, convert, normalize_many

MB = 1_000_000


def unit_bytes(unit) -> int:
    return sum(len(text.encode("utf-8")) for text in unit.text.values())


def corpus(units: list, megabytes: float, seed: int) -> Iterator[tuple]:
    """(copy, its bytes) for copies of `units` in shuffled rounds until `megabytes` of text
    have been yielded."""
    rng = random.Random(seed)
    target, total, copy = megabytes * MB, 0, 0
    order = [(unit, unit_bytes(unit)) for unit in units]
    while total < target:
        rng.shuffle(order)
        for unit, size in order:
            copy += 1
            total += size
            yield dataclasses.replace(unit, id=f"{unit.id}#{copy}"), size
            if total >= target:
                return


# CPU and wall seconds spent on the chunks while they were out (the run's own work, not
# making the copies); each measurement is a forked child, so these are its own.
WORK = {"cpu": 0.0, "wall": 0.0}


def chunks(items: Iterator, size: int) -> Iterator[list]:
    """`items` in lists of `size`; the time until each list is asked for again counts
    as work (WORK)."""
    chunk: list = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield from _timed(chunk)
            chunk = []
    if chunk:
        yield from _timed(chunk)


def _timed(chunk: list) -> Iterator[list]:
    cpu, wall = time.process_time(), time.perf_counter()
    yield chunk
    WORK["cpu"] += time.process_time() - cpu
    WORK["wall"] += time.perf_counter() - wall


def corpus_only(linker: Linker, units: Iterator, chunk: int) -> tuple[int, int]:
    done = count = 0
    for part in chunks(units, chunk):
        count += len(part)
        done += sum(size for _, size in part)
    return done, count


def end_to_end(linker: Linker, units: Iterator, chunk: int) -> tuple[int, int]:
    done = mentions = 0
    for part in chunks(units, chunk):
        links = linker.link(unit for unit, _ in part)
        mentions += len(links.mentions)
        done += sum(size for _, size in part)
    return done, mentions


def _versions(part: list) -> Iterator[tuple[str, list[str]]]:
    """Each language version's texts of each of the linker's batches of `part`."""
    for batch in batches(unit for unit, _ in part):
        for lang in LANGS:
            yield lang, [unit.text[lang] for unit in batch if unit.text.get(lang)]


def normalisation_only(linker: Linker, units: Iterator, chunk: int) -> tuple[int, int]:
    done = chars = 0
    for part in chunks(units, chunk):
        for lang, texts in _versions(part):
            chars += len(normalize_many(texts, lang).text)
        done += sum(size for _, size in part)
    return done, chars


def opencc_only(linker: Linker, units: Iterator, chunk: int) -> tuple[int, int]:
    done = chars = 0
    for part in chunks(units, chunk):
        for lang, texts in _versions(part):
            if lang in MATCHING_CONVERSION:
                chars += len(convert(SEPARATOR.join(texts), MATCHING_CONVERSION[lang]))
        done += sum(size for _, size in part)
    return done, chars


def raw_scan(linker: Linker, units: Iterator, chunk: int) -> tuple[int, int]:
    done = hits = 0
    automata = linker.automata
    for part in chunks(units, chunk):
        for unit, size in part:
            for lang, text in unit.text.items():
                for _ in automata[family_of(lang)].iter(text):
                    hits += 1
            done += size
    return done, hits


def _child(run: Callable, linker, units, megabytes, seed, chunk, queue) -> None:
    start_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    began, began_cpu = time.perf_counter(), time.process_time()
    done, count = run(linker, corpus(units, megabytes, seed), chunk)
    wall, cpu = time.perf_counter() - began, time.process_time() - began_cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    queue.put((done, count, wall, cpu, WORK["wall"], WORK["cpu"], start_rss, peak))


def measure(run: Callable, linker, units, megabytes, seed, chunk) -> dict:
    """Run one measurement in a forked child; its peak RSS is its own."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child,
                            args=(run, linker, units, megabytes, seed, chunk, queue))
    child.start()
    done, count, _, cpu, work_wall, work_cpu, start_rss, peak = queue.get()
    child.join()
    return {"mb": done / MB, "count": count, "all_seconds": cpu, "seconds": work_cpu,
            "wall": work_wall, "start_rss_mb": start_rss / 1024, "peak_rss_mb": peak / 1024}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=float, nargs="+", default=[50, 100],
                        help="corpus sizes in MB (default 50 100)")
    parser.add_argument("--chunk", type=int, default=2000, help="units linked per call")
    parser.add_argument("--seed", type=int, default=20240318)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each measurement; the one of least CPU time counts")
    args = parser.parse_args(argv)

    step("loading units, gazetteer and linking data")
    units = load_units()
    linker = Linker.load(load_gazetteer())
    linker.link(units)  # one-time set-up (tables built at first use) before the children fork
    # What exists now is the children's shared, read-only start: frozen, their collector
    # leaves it alone. Otherwise a child's first full collection writes to every object
    # it inherited, copying their pages (about 0.06 s per child, more for runs that
    # allocate more, as the linker does; counted as their work at every size).
    gc.freeze()
    print(f"corpus: {len(units)} units, {sum(map(unit_bytes, units)) / 1000:.1f} kB of text "
          f"per round, repeated and shuffled; chunks of {args.chunk} units")
    print("times are the process's CPU seconds (steady on a shared machine) spent on the chunks"
          " (not making the copies; 'all' counts that too), wall beside them; MB/s on the CPU"
          " time (corpus only: on 'all')")
    print(f"{'run':<20}{'MB':>8}{'CPU s':>9}{'wall s':>9}{'all s':>8}{'MB/s':>9}{'s per MB':>10}"
          f"{'peak RSS MB':>13}{'(at start)':>12}{'count':>12}")
    results: dict[tuple[str, float], dict] = {}
    runs = [("corpus only", corpus_only), ("raw scan", raw_scan),
            ("OpenCC only", opencc_only), ("normalisation only", normalisation_only),
            ("end to end", end_to_end)]
    first_only = {"OpenCC only", "normalisation only"}
    for size in args.sizes:
        for name, run in runs:
            if name in first_only and size != args.sizes[0]:
                continue
            step(f"{name}, {size:g} MB")
            key = "all_seconds" if run is corpus_only else "seconds"
            r = min((measure(run, linker, units, size, args.seed, args.chunk)
                     for _ in range(args.repeat)), key=lambda r: r[key])
            r["net"] = r[key]  # the run's own work (making the copies, for corpus only)
            r["mb_s"] = r["mb"] / r["net"] if r["net"] > 0 else float("inf")
            results[name, size] = r
            print(f"{name:<20}{r['mb']:>8.1f}{r['seconds']:>9.2f}{r['wall']:>9.2f}"
                  f"{r['all_seconds']:>8.2f}{r['mb_s']:>9.2f}{r['net'] / r['mb']:>10.4f}"
                  f"{r['peak_rss_mb']:>13.0f}{r['start_rss_mb']:>12.0f}{r['count']:>12}",
                  flush=True)
    print()
    for size in args.sizes:
        e2e, raw = results["end to end", size], results["raw scan", size]
        print(f"{size:g} MB: end to end runs at {e2e['mb_s'] / raw['mb_s']:.1%} of the raw "
              f"scan's throughput ({e2e['mb_s']:.2f} vs {raw['mb_s']:.2f} MB/s)")
    if len(args.sizes) > 1:
        small, large = args.sizes[0], args.sizes[-1]
        for name in ("end to end", "raw scan"):
            a, b = results[name, small], results[name, large]
            print(f"{name}: {b['net'] / a['net']:.2f}× the time for "
                  f"{b['mb'] / a['mb']:.2f}× the text (linear growth gives the same ratio)")
    first = args.sizes[0]
    e2e = results["end to end", first]
    for name in ("OpenCC only", "normalisation only"):
        part = results[name, first]
        print(f"{name} takes {part['net'] / e2e['net']:.0%} of the end-to-end time at "
              f"{first:g} MB")
    own = e2e["net"] - results["normalisation only", first]["net"]
    if own > 0:
        print(f"the linker's own work after normalisation runs at {e2e['mb'] / own:.2f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

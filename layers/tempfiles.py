"""Temporary files in one place per process, named by its pid, removed at start and on exit.

A process killed in the middle of an export or a build (kill -9, a worker timed out by
gunicorn, the OOM killer) runs no clean-up of its own, so each kind of temporary file
lives where the next process finds it and knows whether its owner is gone:

- scratch directories (exports) under `<tmp root>/xinqu-<pid>/`, the tmp root being
  tempfile.gettempdir() ($TMPDIR); `sweep()` removes the `xinqu-<pid>` folders of
  processes no longer alive, and the process removes its own at normal exit;
- a file written next to its target and renamed over it (the store, an exported file
  saved by the CLI) is named `.<stem>-<pid>-<n><suffix>`; `sweep_siblings()` removes those
  of dead processes, with SQLite's `-journal`, `-wal` and `-shm` beside them.

A folder or file named by this process's own pid that this process did not create comes
from an earlier process that had the same pid (pids are reused, and in a container the
same few come back on every start), so it is swept too.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

PREFIX = "xinqu-"
SQLITE_SIDECARS = ("-journal", "-wal", "-shm")

_lock = threading.Lock()
_counter = itertools.count()
_made: set[Path] = set()  # folders and files this process created (with its pid)
_made_pid = os.getpid()  # whose `_made` it is: a forked child starts afresh


def alive(pid: int) -> bool:
    """Whether a process with this pid exists (one we may not signal still exists)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _mine() -> set[Path]:
    global _made_pid
    if _made_pid != os.getpid():  # forked: the parent's files are the parent's
        _made.clear()
        _made_pid = os.getpid()
    return _made


def _stale(pid: int, path: Path) -> bool:
    """A temporary entry of `pid` that nobody will clean up: its process is gone, or it
    has our pid but we did not make it."""
    if pid == os.getpid():
        return path not in _mine()
    return not alive(pid)


def root() -> Path:
    """Where the per-process folders live: the system's temporary folder ($TMPDIR)."""
    return Path(tempfile.gettempdir())


def sweep(base: Path | None = None) -> list[Path]:
    """Remove the `xinqu-<pid>` folders of processes that are gone; return what went."""
    base = Path(base) if base is not None else root()
    removed = []
    with _lock:
        try:
            entries = list(base.iterdir())
        except OSError:
            return []
        for entry in entries:
            match = re.fullmatch(re.escape(PREFIX) + r"(\d+)", entry.name)
            if match and entry.is_dir() and _stale(int(match.group(1)), entry):
                shutil.rmtree(entry, ignore_errors=True)
                removed.append(entry)
    return removed


def process_dir(base: Path | None = None) -> Path:
    """This process's folder `<tmp root>/xinqu-<pid>/`, made on first use (after sweeping
    the folders of dead processes) and removed when the process exits normally."""
    base = Path(base) if base is not None else root()
    folder = base / f"{PREFIX}{os.getpid()}"
    with _lock:
        known = folder in _mine()
    if known and folder.is_dir():
        return folder
    sweep(base)
    with _lock:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        if folder not in _made:
            _made.add(folder)
            atexit.register(_remove_at_exit, folder, os.getpid())
    return folder


def _remove_at_exit(folder: Path, pid: int) -> None:
    if os.getpid() == pid:  # a forked child inherits the handler, not the folder
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def scratch(prefix: str) -> Iterator[Path]:
    """A private temporary folder inside this process's folder, removed on leaving the
    block (or, if the process is killed first, by the next process's sweep)."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir=process_dir()) as directory:
        yield Path(directory)


def sibling(target: Path, suffix: str) -> Path:
    """A new temporary path next to `target`, `.<stem>-<pid>-<n><suffix>`, for writing a
    file and renaming it over `target`; stale ones are swept first."""
    target = Path(target)
    sweep_siblings(target, suffix)
    with _lock:
        path = target.with_name(f".{target.stem}-{os.getpid()}-{next(_counter)}{suffix}")
        _mine().add(path)
    return path


def release(path: Path) -> None:
    """Remove a temporary file made by `sibling` and its SQLite side files, if still there."""
    path = Path(path)
    for name in (path.name, *(path.name + s for s in SQLITE_SIDECARS)):
        path.with_name(name).unlink(missing_ok=True)
    with _lock:
        _mine().discard(path)


def sweep_siblings(target: Path, suffix: str) -> list[Path]:
    """Remove the temporary files next to `target` (see `sibling`) whose process is gone,
    with their SQLite side files; return what went."""
    target = Path(target)
    pattern = re.compile(re.escape(f".{target.stem}-") + r"(\d+)-\d+"
                         + re.escape(suffix) + "(" + "|".join(SQLITE_SIDECARS) + ")?")
    removed = []
    try:
        entries = list(target.parent.iterdir())
    except OSError:
        return []
    with _lock:
        for entry in entries:
            match = pattern.fullmatch(entry.name)
            if not match:
                continue
            main = entry.with_name(entry.name[:len(entry.name) - len(match.group(2) or "")])
            if _stale(int(match.group(1)), main):
                entry.unlink(missing_ok=True)
                removed.append(entry)
    return removed

"""Temporary files live in one place per process and go after a kill (issue 15).

Real processes are killed with SIGKILL in the middle of their work (`xinqu export`, `xinqu
build`), once their temporary file is there; the next command must leave the folder clean.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest
from web_fixtures import free_port, wait_until_up

from layers import tempfiles
from layers.store import TMP_SUFFIX, Store

REPO = Path(__file__).resolve().parent.parent


def dead_pid() -> int:
    """The pid of a process that has exited."""
    process = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                             capture_output=True, text=True, check=True)
    pid = int(process.stdout)
    assert not tempfiles.alive(pid)
    return pid


def xinqu(*args: str, tmp_root: Path, **popen) -> subprocess.Popen:
    env = {**os.environ, "TMPDIR": str(tmp_root), "CI": "true"}
    return subprocess.Popen([sys.executable, "-m", "webapp.cli", *args], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)


def wait_for(find, process: subprocess.Popen, timeout: float) -> list[Path]:
    """Poll until `find()` returns something (or fail if the process ends first)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = find()
        if found:
            return found
        if process.poll() is not None:
            pytest.fail(f"process ended ({process.returncode}) before its temporary file "
                        f"appeared: {process.stderr.read()[-2000:]}")
        time.sleep(0.005)
    process.kill()
    pytest.fail(f"no temporary file after {timeout} s")


def kill(process: subprocess.Popen) -> None:
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL


# --- the helpers, on their own ---------------------------------------------------------------

def test_sweep_removes_folders_of_dead_processes_only(tmp_path):
    gone = tmp_path / f"xinqu-{dead_pid()}"
    (gone / "export-x").mkdir(parents=True)
    (gone / "export-x" / "half.gpkg").write_bytes(b"SQLite format 3\0")
    running = tmp_path / f"xinqu-{os.getppid()}"  # the process that started the tests
    running.mkdir()
    other = tmp_path / "xinqu-notes"
    other.mkdir()
    assert tempfiles.sweep(tmp_path) == [gone]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([running.name, other.name])


def test_a_folder_with_our_pid_that_we_did_not_make_is_stale(tmp_path):
    """Pids come back (in a container, the same few on every start): a folder named by our
    pid from before this process is not ours to keep."""
    before = tmp_path / f"xinqu-{os.getpid()}"
    (before / "export-old").mkdir(parents=True)
    folder = tempfiles.process_dir(tmp_path)
    assert folder == before and folder.is_dir()
    assert list(folder.iterdir()) == []  # the old content went with the sweep
    (folder / "mine").write_text("kept")
    assert tempfiles.process_dir(tmp_path) == folder
    assert tempfiles.sweep(tmp_path) == []
    assert (folder / "mine").exists()


def test_sibling_files_of_dead_processes_go_with_their_journals(tmp_path):
    target = tmp_path / "xinqu.gpkg"
    pid = dead_pid()
    stale = [tmp_path / f".xinqu-{pid}-0{TMP_SUFFIX}{side}" for side in ("", "-journal")]
    for path in stale:
        path.write_bytes(b"x")
    alive = tmp_path / f".xinqu-{os.getppid()}-3{TMP_SUFFIX}"
    alive.write_bytes(b"x")
    unrelated = tmp_path / f".other-{pid}-0{TMP_SUFFIX}"
    unrelated.write_bytes(b"x")
    mine = tempfiles.sibling(target, TMP_SUFFIX)
    assert mine.parent == tmp_path and mine.name.startswith(f".xinqu-{os.getpid()}-")
    assert not any(p.exists() for p in stale)
    assert alive.exists() and unrelated.exists()
    mine.write_bytes(b"x")
    assert tempfiles.sweep_siblings(target, TMP_SUFFIX) == []  # ours, in use
    tempfiles.release(mine)
    assert not mine.exists()


# --- killed processes ------------------------------------------------------------------------

def test_a_killed_export_leaves_nothing_after_the_next_export(store_path, tmp_path):
    tmp_root = tmp_path / "tmp"
    tmp_root.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    # A filter: a whole-layer export may be copied from the export cache, never written.
    first = xinqu("export", "--layer", "all", "--format", "gpkg", "--bbox=-180,-90,180,90",
                  "--out", str(out), tmp_root=tmp_root)
    scratch = tmp_root / f"xinqu-{first.pid}"
    found = wait_for(lambda: list(scratch.glob("export-*/*.gpkg")), first, timeout=120)
    kill(first)
    assert found[0].exists(), "the killed export left its file (what the next one sweeps)"
    second = xinqu("export", "--layer", "new-areas", "--format", "shp.zip", "--out",
                   str(out / "areas.shp.zip"), tmp_root=tmp_root)
    _, stderr = second.communicate(timeout=300)
    assert second.returncode == 0, stderr
    assert list(tmp_root.iterdir()) == []  # the killed one's swept, its own removed at exit
    assert [p.name for p in out.iterdir()] == ["areas.shp.zip"]


def test_a_killed_build_leaves_nothing_after_the_next_build(store_path, tmp_path):
    output = tmp_path / "build" / "xinqu.gpkg"
    tmp_root = tmp_path / "tmp"
    tmp_root.mkdir()
    first = xinqu("build", "--output", str(output), tmp_root=tmp_root)

    def writing() -> list[Path]:
        journal = list(output.parent.glob(f".xinqu-*{TMP_SUFFIX}-journal"))
        return journal or None

    wait_for(writing, first, timeout=600)  # SQLite is inside a write transaction
    kill(first)
    left = sorted(p.name for p in output.parent.iterdir())
    assert f".xinqu-{first.pid}-0{TMP_SUFFIX}" in left and not output.exists(), left
    second = xinqu("build", "--output", str(output), tmp_root=tmp_root)
    _, stderr = second.communicate(timeout=600)
    assert second.returncode == 0, stderr
    assert [p.name for p in output.parent.iterdir()] == ["xinqu.gpkg"]
    assert Store.open(output).layers["new-areas"].shape[0] == 19


def test_a_worker_killed_during_an_export_leaves_nothing_after_the_next(store_path,
                                                                          tmp_path):
    """The real server (gunicorn): a worker killed with SIGKILL in the middle of an export
    leaves its folder; the next export sweeps it, and a stopped server leaves nothing."""
    tmp_root = tmp_path / "tmp"
    tmp_root.mkdir()
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "webapp.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", "2"], cwd=REPO, stdout=sink, stderr=sink,
            env={**os.environ, "TMPDIR": str(tmp_root), "CI": "true"})
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/conformance?f=json", server, log)

        def download(path: str) -> None:
            try:
                with urllib.request.urlopen(f"{base}{path}", timeout=300) as response:
                    response.read()
            except OSError:
                pass  # the worker answering it was killed

        # A filter: a whole-layer export may be answered from the export cache, never written.
        first = threading.Thread(target=download,
                                 args=("/export/all.gpkg?bbox=-180,-90,180,90",))
        first.start()
        found = wait_for(lambda: list(tmp_root.glob("xinqu-*/export-*/*.gpkg")), server,
                         timeout=120)
        worker = int(found[0].parent.parent.name.removeprefix("xinqu-"))
        assert worker != server.pid
        os.kill(worker, signal.SIGKILL)
        first.join(timeout=300)
        assert found[0].exists(), "the killed worker left its export behind"
        download("/export/new-areas.gpkg")
        left = sorted(p.name for p in tmp_root.iterdir())
        assert f"xinqu-{worker}" not in left, left
        assert not list(tmp_root.glob("xinqu-*/export-*")), "no export of a live worker is left"
    finally:
        server.terminate()
        server.wait(timeout=60)
    assert list(tmp_root.iterdir()) == []  # workers that exit remove their own folders

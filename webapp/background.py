"""Work a forked child does at low priority while the server starts and answers.

Both the strong compressions (webapp.compression) and the background warm of `xinqu serve`
(webapp.app.warm_elsewhere) run this way: fork, lower the child's priority, run the job,
leave without running any exit handler of the parent's.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable

CHILD_NICE = 10  # below the workers: the children only use the cores they leave


def can_fork() -> bool:
    return hasattr(os, "fork")


def in_child(job: Callable[[], None], what: str) -> int:
    """Run `job` in a forked child at low priority; the child's pid (the child never
    returns: it exits 0 when `job` did, 1 after logging why not). Call it with no other
    thread running (a fork copies only the calling one), where `can_fork()`."""
    pid = os.fork()
    if pid:
        return pid
    status = 1
    try:
        with contextlib.suppress(OSError):
            os.nice(CHILD_NICE)
        job()
        status = 0
    except Exception:  # a child that failed only leaves the cheap levels in service
        logging.getLogger(__name__).exception("%s in the background failed", what)
    finally:
        os._exit(status)

"""Helper processes die with the process that started them.

A release build starts helper processes that write into its partial directory. If the
build is killed (SIGKILL leaves it no chance to clean up), an orphaned helper would go on
writing into a directory the next run has already removed, and recreate it. So the parent
gives each helper a pipe as stdin and never writes to it; the kernel closes the pipe when
the parent dies, however it dies, and the helper's watcher thread exits the process.
"""
from __future__ import annotations

import os
import threading

ENV = "SE_PIPELINE_LIFELINE"
#: Exit status of a helper whose parent went away (EX_SOFTWARE would mislead; 75 = EX_TEMPFAIL).
ORPHANED = 75


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a helper whose stdin is the parent's lifeline pipe."""
    return {**env, ENV: "stdin"}


def hold() -> None:
    """In a helper: exit as soon as the parent's lifeline closes (no-op when run by hand)."""
    if os.environ.get(ENV) != "stdin":
        return

    def watch() -> None:
        # Raw fd 0, not sys.stdin: a daemon thread blocked inside a buffered reader makes
        # interpreter shutdown abort ("could not acquire lock for <stdin>").
        while os.read(0, 4096):  # b"" only at end of file: the parent is gone
            pass
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()

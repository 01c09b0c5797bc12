"""Helper processes die with the process that started them.

A release build starts helper processes that write into its partial directory. If the
build is killed (SIGKILL leaves it no chance to clean up), an orphaned helper would go on
writing into a directory the next run has already removed, and recreate it. So the parent
gives each helper a pipe as stdin and never writes to it; the kernel closes the pipe when
the parent dies, however it dies, and the helper's watcher thread exits the process.
"""
from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
from dataclasses import dataclass

ENV = "SE_PIPELINE_LIFELINE"
#: Exit status of a helper whose parent went away (EX_SOFTWARE would mislead; 75 = EX_TEMPFAIL).
ORPHANED = 75


def child_env(env: dict[str, str]) -> dict[str, str]:
    """`env` for a helper whose stdin is the parent's lifeline pipe."""
    return {**env, ENV: "stdin"}


class HelperFailed(Exception):
    """A helper exited with an error; the message ends with its stderr (the traceback)."""


@dataclass
class Helper:
    """A helper process started by `spawn`, and what it does (for error messages)."""

    what: str
    process: subprocess.Popen

    def wait(self) -> None:
        """Wait for the helper to exit; raise `HelperFailed` unless it succeeded."""
        assert self.process.stdin is not None and self.process.stderr is not None
        err = self.process.stderr.read()  # until the helper exits; stdin (its lifeline) stays open
        self.process.wait()
        self.process.stdin.close()
        self.process.stderr.close()
        if self.process.returncode != 0:
            raise HelperFailed(f"{self.what} failed (exit {self.process.returncode}): "
                               f"{err.decode('utf-8', 'replace')[-2000:]}")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()


def spawn(what: str, module: str, *args: str) -> Helper:
    """Run `python -m module args…` as a helper: a module entry point rather than
    multiprocessing, so no caller's `__main__` is ever re-imported. Its stdin is the
    lifeline; stdout is discarded, stderr kept for the error `Helper.wait` raises."""
    from se_pipeline import PROJECT_ROOT

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    return Helper(what, subprocess.Popen([sys.executable, "-m", module, *args], env=child_env(env),
                                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))


def hold() -> None:
    """In a helper: exit as soon as the parent's lifeline closes (no-op when run by hand)."""
    if os.environ.get(ENV) != "stdin":
        return
    # A parent already gone (killed while this helper was starting) is seen here, before
    # any work: the watcher below may only get the GIL milliseconds later, time enough for
    # the helper to recreate a directory the next run has just removed. The parent never
    # writes, so a readable lifeline is one at end of file.
    if select.select([0], [], [], 0)[0] and not os.read(0, 4096):
        os._exit(ORPHANED)

    def watch() -> None:
        # Raw fd 0, not sys.stdin: a daemon thread blocked inside a buffered reader makes
        # interpreter shutdown abort ("could not acquire lock for <stdin>").
        while os.read(0, 4096):  # b"" only at end of file: the parent is gone
            pass
        os._exit(ORPHANED)

    threading.Thread(target=watch, name="lifeline", daemon=True).start()

"""Child processes of the release build, which die with the process that started them.

The release build starts child processes (`python -m <module>`: the per-enterprise
documents, the partner exports, the release's format check and SHACL validation) that
write into its partial release directory while it writes the datasets. If the build is
killed (SIGKILL leaves it no chance to clean up), an orphaned child would go on writing
into a directory the next run has already removed, and recreate it. Linux's parent-death
signal (`prctl(PR_SET_PDEATHSIG)`) closes that hole: the kernel kills the child when the
thread that started it exits. The child asks for it first thing (`die_with_parent`), then
checks that its parent is still the process that started it, which covers a parent that
died while the child was still starting.

The signal is tied to the starting *thread*: `start` and `ChildProcess.wait` must run in
the same thread, as `release.build.build_release` does. A module entry point rather than
`multiprocessing`, so no caller's `__main__` is ever re-imported.
"""
from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from typing import IO

#: The environment variable that tells a child which process started it (unset: run by hand).
PARENT_PID_ENV = "SE_PIPELINE_PARENT_PID"
#: `prctl` option number, from <linux/prctl.h>.
PR_SET_PDEATHSIG = 1
#: How much of a failed child's stderr (its traceback) goes into the error.
STDERR_TAIL = 2000


class ChildProcessFailed(Exception):
    """A child process exited with an error; the message ends with its stderr (the traceback)."""


@dataclass
class ChildProcess:
    """A child process started by `start`, what it does (for error messages), and the file
    its stderr goes to (a file, not a pipe: a chatty child can never block on a full pipe)."""

    description: str
    process: subprocess.Popen
    stderr: IO[bytes]

    def wait(self) -> None:
        """Wait for the child to exit; raise `ChildProcessFailed` unless it succeeded."""
        self.process.wait()
        self.stderr.seek(0)
        err = self.stderr.read()
        self.stderr.close()
        if self.process.returncode != 0:
            raise ChildProcessFailed(f"{self.description} failed (exit {self.process.returncode}): "
                                     f"{err.decode('utf-8', 'replace')[-STDERR_TAIL:]}")

    def kill(self) -> None:
        """Stop the child now (the build failed: its directory is about to go)."""
        self.process.kill()
        self.process.wait()
        self.stderr.close()


def start(description: str, module: str, *args: str) -> ChildProcess:
    """Run `python -m module args…` as a child of this process; stdout is discarded,
    stderr kept for the error `ChildProcess.wait` raises."""
    from se_pipeline import PROJECT_ROOT

    env = {**os.environ, PARENT_PID_ENV: str(os.getpid()),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")]))}
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen([sys.executable, "-m", module, *args], env=env,
                               stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
    return ChildProcess(description, process, stderr)


def die_with_parent() -> None:
    """In a child started by `start`: be killed when the parent dies (no-op when the module
    is run by hand, or where `prctl` does not exist)."""
    parent = os.environ.get(PARENT_PID_ENV)
    if parent is not None:
        die_with(int(parent))


def die_with(parent: int) -> None:
    """Be killed when process `parent`, which started this one, dies: also for a process
    forked by such a child (whose parent is that child, not the release build)."""
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)  # the process's own symbols: glibc's prctl
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_PDEATHSIG) failed")
    if os.getppid() != parent:  # the parent died before the signal was set: stop here
        os.kill(os.getpid(), signal.SIGKILL)

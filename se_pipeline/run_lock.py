"""One run per output folder at a time: `<output>/.run.lock`.

Two runs on one output folder share `state/` and the partial release being built, so
each would delete or overwrite the other's work. A run holds an exclusive `flock` on the
lock file for its whole life and writes its pid and start time into it, so a second run
can say who holds the folder. The kernel drops the lock when the holder's process ends,
however it ends, so a lock left by a killed run (a dead pid in the file) is taken over
without anyone deleting files; a live holder is never taken over.
"""
from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

LOCK_NAME = ".run.lock"
POLL_S = 0.5


class OutputBusy(RuntimeError):
    """Another live run holds the output folder; the message names it."""


def holder(lock_file: Path) -> dict[str, Any]:
    """What the lock file says about its (last) holder; {} if unreadable."""
    try:
        data = json.loads(lock_file.read_text(encoding="utf-8") or "{}")
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _describe(output_dir: Path, info: dict[str, Any]) -> str:
    who = f"pid {info.get('pid', '?')}"
    if info.get("host") and info["host"] != socket.gethostname():
        who += f" on {info['host']}"
    return (f"another se-pipeline run ({who}, started {info.get('started', 'at an unknown time')}) "
            f"is using {output_dir}; wait for it to finish, or pass --wait SECONDS")


@contextmanager
def run_lock(output_dir: Path, *, wait_s: float = 0.0, on_wait: Callable[[str], None] | None = None,
             sleep: Callable[[float], None] = time.sleep) -> Iterator[dict]:
    """Hold the output folder's run lock for the `with` block.

    Waits up to `wait_s` seconds for a live holder to finish (telling `on_wait` who it
    is waiting for, once), then raises `OutputBusy`. Yields what was written into the
    lock file (pid, start time, host, and `took_over_from`: the pid of a run that ended
    without releasing the folder)."""
    output_dir = Path(output_dir)
    output_dir.mkdir(parents=True, exist_ok=True)
    lock_file = output_dir / LOCK_NAME
    fd = os.open(lock_file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise OutputBusy(_describe(output_dir, holder(lock_file))) from None
                if on_wait is not None:
                    on_wait(_describe(output_dir, holder(lock_file)).split(";")[0])
                    on_wait = None
                sleep(min(POLL_S, max(0.0, deadline - time.monotonic())))
        previous = holder(lock_file)
        mine: dict[str, Any] = {
            "pid": os.getpid(),
            "started": datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z"),
            "host": socket.gethostname(),
        }
        if previous.get("pid"):
            mine["took_over_from"] = previous["pid"]  # its run ended without releasing (killed)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (json.dumps(mine) + "\n").encode("utf-8"), 0)
        try:
            yield mine
        finally:
            os.ftruncate(fd, 0)  # an empty file: nobody holds it
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)

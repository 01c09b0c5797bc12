"""Process-wide settings for the processes that run the pipeline's stages.

Priority: the release build's critical path is its own process (datasets, census,
re-read); the document and export helpers only have to be done by the time it needs
them. On 2 cores, four processes at one priority slow the build's own work by half
(3x10^4 enterprises, two document writers: the datasets took 34-47 s to write in four
runs, against 14-24 s in nine runs with the helpers at nice 10; benchmarks/README.md); the helpers lower theirs
(`background`), so they take what the build leaves, and both cores once it waits.

Garbage collection: the stages allocate millions of short-lived containers (rows,
statements, documents) while holding large long-lived ones (frames, Dagster's
definitions), and CPython's default young-generation threshold (700 allocations) runs a
collection every few hundred of them. Measured on `se-pipeline run` at 3x10^4 synthetic
enterprises (benchmarks/README.md): the collector took ~7 % of all CPU samples (perf);
a threshold of 100,000 cut the run from 147 s to 127 s wall (173 s to 160 s user CPU)
with the same peak RSS. Cycles are still collected, only in larger batches.
"""
from __future__ import annotations

import gc
import os
import sys
from typing import NoReturn

YOUNG_THRESHOLD = 100_000


def tune_gc() -> None:
    """Collect the young generation every `YOUNG_THRESHOLD` allocations (idempotent)."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(older, 50), max(oldest, 50))


#: `nice` increment of the release's helpers (CFS: a nice-10 process gets ~1/10 of the
#: CPU a nice-0 one gets while both want it, all of it when nothing else runs).
HELPER_NICENESS = 10


def background() -> None:
    """Lower this process's priority (a helper of the release build; see above)."""
    import os

    os.nice(HELPER_NICENESS)


def give_back_memory(*, collect: bool = True) -> None:
    """Return memory freed so far to the system, in a process that goes on.

    A process that runs several stages, or loads one graph after another into a store,
    keeps what it freed mapped by the allocators (glibc's heap, Arrow's mimalloc pool)
    unless asked: an in-memory Oxigraph store of 4.7M statements (1.57 GB) left 1.28 GB
    resident after it was dropped, 0.07 GB after `malloc_trim`. Held, it counts in the
    run's peak beside the other processes. Only free memory is returned; `collect` first
    frees what only the cycle collector would."""
    import ctypes

    import pyarrow

    if collect:
        gc.collect()
    pyarrow.default_memory_pool().release_unused()
    # The process's own symbols (no library search, which runs `ldconfig`); glibc only.
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)


def exit_now(code: int) -> NoReturn:
    """End this process with `code` at once, once stdout, stderr and logging are flushed.

    Interpreter shutdown frees every object one at a time and joins leftover threads: the
    CLI spent 0.88 s on it after a run of 3x10^4 enterprises, time the caller waits for
    the process that holds Dagster's definitions and a run's frames. The kernel takes the
    memory back at once. Only for a process's entry point, once every file it wrote is
    closed: buffers of files still open are lost."""
    import logging

    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # closed, or a broken pipe: nothing more can be said
            pass
    os._exit(code)

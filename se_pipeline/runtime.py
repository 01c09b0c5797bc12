"""Process settings for the processes that run the pipeline's stages, each called
explicitly by the entry point of the process it applies to (never at import time, so
Dagster's webserver and code server keep the interpreter's defaults).

Priority: the release build's critical path is its own process (datasets, statistics,
re-read); the document and export writers only have to be done by the time it needs
them. On two cores, four processes at one priority slow the build's own work by about
half, so the writers lower theirs (`run_in_background`): they take what the build leaves,
and both cores once it waits.

Garbage collection: the stages allocate millions of short-lived containers (rows,
statements, documents) while holding large long-lived ones (frames, Dagster's
definitions), and CPython's default young-generation threshold (700 allocations) runs a
collection every few hundred of them. `tune_gc` collects in larger batches; cycles are
still collected. What both settings measured is in benchmarks/README.md.
"""
from __future__ import annotations

import gc
import os

YOUNG_THRESHOLD = 100_000

#: `nice` increment of the release's writers (CFS: a nice-10 process gets about a tenth of
#: the CPU a nice-0 one gets while both want it, all of it when nothing else runs).
BACKGROUND_NICENESS = 10


def tune_gc() -> None:
    """Collect the young generation every `YOUNG_THRESHOLD` allocations (idempotent)."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(older, 50), max(oldest, 50))


def run_in_background() -> None:
    """Lower this process's priority (a writer beside the release build; see above)."""
    os.nice(BACKGROUND_NICENESS)


def give_back_memory(*, collect: bool = True) -> None:
    """Return memory freed so far to the system, in a process that goes on.

    A process that loads one graph after another into a store keeps what it freed mapped
    by the allocators (glibc's heap, Arrow's memory pool) unless asked; held, it counts in
    the run's peak beside the other processes. Only free memory is returned; `collect`
    first frees what only the cycle collector would."""
    import ctypes

    import pyarrow

    if collect:
        gc.collect()
    pyarrow.default_memory_pool().release_unused()
    # The process's own symbols (no library search, which runs `ldconfig`); glibc only.
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is not None:
        trim(0)

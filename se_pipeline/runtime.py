"""Process-wide settings for the processes that run the pipeline's stages.

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

YOUNG_THRESHOLD = 100_000


def tune_gc() -> None:
    """Collect the young generation every `YOUNG_THRESHOLD` allocations (idempotent)."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, max(older, 50), max(oldest, 50))

"""What creating files costs here, fresh and right after a deletion: the figure behind
`benchmarks.run.settle_disk`.

    python -m benchmarks.file_creation DIR [--files 210000] [--folders 7] [--bytes 3000] [--drop-caches]

Creates `--files` files of `--bytes` bytes spread over `--folders` folders under DIR
(`se_pipeline.files.write_file`, read-only, as the document writers create them), four
times: on a settled disk (`settle_disk` first); right after removing the first set;
with `--drop-caches` (root only), after removing the second set, `sync` and dropping the
caches; after removing the last set and `settle_disk`. A release of 3x10^4
enterprises creates about 210,000 files in seven `id/` folders. Prints seconds, system
CPU and microseconds per file for each. DIR is removed at the end. The two settlings
take six minutes each (`--settle-seconds`).
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from benchmarks.run import SETTLE_S, settle_disk
from se_pipeline.files import write_file


def create(root: Path, files: int, folders: int, data: bytes) -> tuple[float, float]:
    """Wall and system seconds to create the files."""
    for k in range(folders):
        (root / f"folder-{k}").mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    for i in range(files):
        write_file(root / f"folder-{i % folders}" / f"file-{i}.html", data, read_only=True)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


def _drop_caches() -> bool:
    """Write dirty pages back and drop the clean caches, if this process may (root)."""
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w", encoding="ascii") as f:
            f.write("3\n")
    except OSError:
        return False
    return True


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.file_creation", description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="an empty or missing folder on the file system to measure")
    ap.add_argument("--files", type=int, default=210_000)
    ap.add_argument("--folders", type=int, default=7)
    ap.add_argument("--bytes", type=int, default=3000)
    ap.add_argument("--drop-caches", action="store_true", help="also time a set after dropping the caches (root only)")
    ap.add_argument("--settle-seconds", type=float, default=SETTLE_S, help=f"the wait of settle_disk ({SETTLE_S})")
    args = ap.parse_args(argv)
    data = b"x" * args.bytes
    sets = iter(("a", "b", "c", "d"))
    rows = []

    def measure(label: str) -> None:
        folder = args.dir / next(sets)
        rows.append((label, *create(folder, args.files, args.folders, data)))
        shutil.rmtree(folder)

    try:
        settle_disk(args.settle_seconds)
        measure("on a settled disk")
        measure("right after removing as many files")
        if args.drop_caches and _drop_caches():
            measure("after removing them, sync and dropping the caches")
        settle_disk(args.settle_seconds)
        measure(f"after removing them, sync and {args.settle_seconds:g} s")
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)
    for label, wall, system in rows:
        print(f"{args.files:,} files in {args.folders} folders {label}: {wall:.2f} s wall, {system:.2f} s system, "
              f"{1e6 * wall / args.files:.1f} us a file")
    return 0


if __name__ == "__main__":
    sys.exit(main())

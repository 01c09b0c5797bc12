"""What creating files costs here, fresh and right after a deletion: the figure behind
`benchmarks.run.drop_caches`.

    python -m benchmarks.file_creation DIR [--files 210000] [--folders 7] [--bytes 3000] [--drop-caches]

Creates `--files` files of `--bytes` bytes spread over `--folders` folders under DIR
(plain `os.open` + `os.write`, as `se_pipeline.files.write_file`), three times: on a
quiet file system; right after removing the first set; and after removing the second
set and `sync`, with `--drop-caches` (root only) also after dropping the caches. A
release of 3x10^4 enterprises creates about 210,000 files in seven `id/` folders. Prints
seconds, system CPU and microseconds per file for each. DIR is removed at the end.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import time
from pathlib import Path

from benchmarks.run import drop_caches

_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC


def create(root: Path, files: int, folders: int, data: bytes) -> tuple[float, float]:
    """Wall and system seconds to create the files."""
    for k in range(folders):
        (root / f"folder-{k}").mkdir(parents=True)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_stime
    start = time.perf_counter()
    for i in range(files):
        fd = os.open(root / f"folder-{i % folders}" / f"file-{i}.html", _NEW, 0o444)
        try:
            os.write(fd, data)
        finally:
            os.close(fd)
    return time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_stime - before


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.file_creation", description=__doc__.splitlines()[0])
    ap.add_argument("dir", type=Path, help="an empty or missing folder on the file system to measure")
    ap.add_argument("--files", type=int, default=210_000)
    ap.add_argument("--folders", type=int, default=7)
    ap.add_argument("--bytes", type=int, default=3000)
    ap.add_argument("--drop-caches", action="store_true", help="drop the caches before the third set (root only)")
    args = ap.parse_args(argv)
    data = b"x" * args.bytes
    rows = []
    try:
        rows.append(("on a quiet file system", *create(args.dir / "a", args.files, args.folders, data)))
        shutil.rmtree(args.dir / "a")
        rows.append(("right after removing as many files", *create(args.dir / "b", args.files, args.folders, data)))
        shutil.rmtree(args.dir / "b")
        if args.drop_caches and drop_caches():
            label = "after removing them, sync and dropping the caches"
        else:
            os.sync()
            label = "after removing them and sync" + (" (caches not dropped: needs root)" if args.drop_caches else "")
        rows.append((label, *create(args.dir / "c", args.files, args.folders, data)))
    finally:
        shutil.rmtree(args.dir, ignore_errors=True)
    for label, wall, system in rows:
        print(f"{args.files:,} files in {args.folders} folders {label}: {wall:.2f} s wall, {system:.2f} s system, "
              f"{1e6 * wall / args.files:.1f} us a file")
    return 0


if __name__ == "__main__":
    sys.exit(main())

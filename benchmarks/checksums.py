"""SHA256SUMS' bookkeeping alone: digest lines sorted on disk and merged (what the release
does, `release.digest_files`) against one dict of every path and a sorted list of them (what it did).

`python -m benchmarks.checksums N [--workdir DIR]` writes N digest lines as the document
writers record them (absolute paths, writer order), then runs each way in its own process
and prints its time and `ru_maxrss`; both must give the same bytes. N = 4×10^6 is a release
of about 10^6 enterprises' documents and profiles.
"""
from __future__ import annotations

import argparse
import filecmp
import hashlib
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

SUFFIXES = (".ttl", ".jsonld", ".html", ".fr.html", ".es.html", ".pt.html")
RELEASE = "/release"


def make(target: Path, n: int) -> None:
    with open(target, "w", encoding="utf-8") as out:
        for i in range(n):
            rel = f"id/source{i % 7}/R{(i * 7919) % n:07d}{SUFFIXES[i % 6]}"
            out.write(f"{hashlib.sha256(rel.encode()).hexdigest()}  {RELEASE}/{rel}\n")


def one_way(way: str, work: Path) -> None:
    from se_pipeline.files import read_digests
    from se_pipeline.release.digest_files import digest_lines, sort_lines

    t0 = time.perf_counter()
    if way == "sorted":
        sort_lines(digest_lines(work / "written", under=RELEASE), work / way, work)
    else:
        written = read_digests(work / "written", under=RELEASE)
        with open(work / way, "w", encoding="utf-8") as out:
            out.writelines(f"{written[p]}  {p}\n" for p in sorted(written, key=lambda p: p.replace("/", "\0")))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{way}: {time.perf_counter() - t0:.1f} s, ru_maxrss {peak:.0f} MB", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.checksums", description=__doc__.splitlines()[0])
    ap.add_argument("n", type=int)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/se-bench-checksums"))
    ap.add_argument("--way", choices=("sorted", "dict"), help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.way:
        one_way(args.way, args.workdir)
        return 0
    shutil.rmtree(args.workdir, ignore_errors=True)
    args.workdir.mkdir(parents=True)
    try:
        make(args.workdir / "written", args.n)
        for way in ("sorted", "dict"):
            subprocess.run([sys.executable, "-m", "benchmarks.checksums", str(args.n), "--workdir", str(args.workdir),
                            "--way", way], check=True)
        same = filecmp.cmp(args.workdir / "sorted", args.workdir / "dict", shallow=False)
        print(f"{args.n} lines: {'the same bytes' if same else 'DIFFERENT bytes'}")
        return 0 if same else 1
    finally:
        shutil.rmtree(args.workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())

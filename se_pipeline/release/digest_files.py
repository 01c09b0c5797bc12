"""Digest files (`sha256sum` lines) sorted and merged on disk, so SHA256SUMS of a release
with millions of files is written without a dict or a list of all their paths.

Every writer of many small files (the document writers, the partner exports) records the
SHA-256 of each file it writes as it writes it (`files.save_digests`). Those lines are
sorted here in bounded runs (`RUN_LINES` at a time) and merged (`heapq.merge`), in the
order `release.publish.release_files` lists a release: path-component order, "/" read as
the lowest character.
"""
from __future__ import annotations

import heapq
import os
import tempfile
from pathlib import Path
from typing import Iterable, Iterator

#: Lines sorted in memory at once: about 60 MB of strings.
RUN_LINES = 200_000


def path_order(line: str) -> str:
    """The sort key of a `sha256sum` line ("<64 hex>  <path>\\n"): its path, "/" as NUL
    (see `release.publish.release_files`)."""
    return line[66:].replace("/", "\0")


def digest_lines(source: Path, under: str | None = None) -> Iterator[str]:
    """The lines of a digest file, with paths relative to `under` (a folder the paths
    are in) when given; lines of other paths are an error (they would escape the release)."""
    prefix = None if under is None else under.rstrip(os.sep) + os.sep
    with open(source, encoding="utf-8") as lines:
        for line in lines:
            if prefix is None:
                yield line
                continue
            digest, _, path = line.partition("  ")
            if not path.startswith(prefix):
                raise ValueError(f"{source}: {path.rstrip()} is not under {under}")
            yield f"{digest}  {path[len(prefix):].replace(os.sep, '/')}"


def sort_lines(lines: Iterable[str], target: Path, scratch: Path) -> int:
    """Write `lines` to `target` in `path_order`, holding `RUN_LINES` of them at a time
    (sorted runs in `scratch`, then merged); returns how many lines."""
    runs: list[Path] = []
    count = 0
    batch: list[str] = []

    def spill() -> None:
        batch.sort(key=path_order)
        fd, name = tempfile.mkstemp(prefix="run-", dir=scratch)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.writelines(batch)
        runs.append(Path(name))
        batch.clear()

    for line in lines:
        batch.append(line)
        count += 1
        if len(batch) >= RUN_LINES:
            spill()
    if batch or not runs:
        spill()
    merge_files(runs, target)
    for run in runs:
        run.unlink()
    return count


def merge_lines(sorted_files: list[Path], extra: Iterable[str] = ()) -> Iterator[str]:
    """The lines of digest files already in `path_order` (and of `extra`, sorted alike), merged."""
    handles = [open(p, encoding="utf-8") for p in sorted_files]
    try:
        yield from heapq.merge(*handles, extra, key=path_order)
    finally:
        for h in handles:
            h.close()


def merge_files(sorted_files: list[Path], target: Path, extra: Iterable[str] = ()) -> None:
    """Merge digest files already in `path_order` (and `extra` sorted lines) into `target`."""
    with open(target, "w", encoding="utf-8") as out:
        out.writelines(merge_lines(sorted_files, extra))


class SortedDigests:
    """A digest file in `path_order` read forward, one folder prefix at a time: the
    digests of the files under `murmurations/<source>--` for one source, then the next,
    without holding the file (10^6 profiles). Asking for a prefix earlier than the last
    one reads the file again from its start."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lines: Iterator[str] | None = None
        self._peek: str | None = None
        self._last = ""
        self._file = None

    def _open(self) -> None:
        self.close()
        self._file = open(self.path, encoding="utf-8") if self.path and self.path.is_file() else None
        self._lines = iter(self._file) if self._file is not None else iter(())
        self._peek = None

    def close(self) -> None:
        if getattr(self, "_file", None) is not None:
            self._file.close()
            self._file = None

    def under(self, prefix: str) -> dict[str, str]:
        """{path: digest} of the lines whose path starts with `prefix`."""
        key = prefix.replace("/", "\0")
        if self._lines is None or key < self._last:
            self._open()
        self._last = key
        found: dict[str, str] = {}
        assert self._lines is not None
        while True:
            line = self._peek if self._peek is not None else next(self._lines, None)
            self._peek = None
            if line is None:
                return found
            path = line[66:].rstrip("\n")
            if path.startswith(prefix):
                found[path] = line[:64]
            elif path.replace("/", "\0") > key:
                self._peek = line
                return found

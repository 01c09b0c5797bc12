"""Writing many small files (a release holds ~4 files per enterprise), and reading large
line-based files in blocks of whole lines.

Plain `os.open` + `os.write` calls from the calling thread, in order: a thread pool was
slower in wall time and used several times the CPU (futures and GIL hand-offs, threads
spinning on the folder's lock in the kernel), and pathlib's `write_bytes` many times the
user time of the plain calls (benchmarks/README.md, "Figures behind choices in the code").
"""
from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Iterator

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_NEW = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
READ_ONLY = 0o444


def write_file(path: Path | str, data: bytes, *, read_only: bool = False) -> str:
    """Create or replace `path` with `data` (no fsync: a release is synced once, as a whole).

    `read_only` creates a new file (it must not exist) already read-only, as a finished
    release's files are: one `chmod` per file less when the release is made permanent
    (~4 files per enterprise; the descriptor open here may still write).

    Returns the SHA-256 of `data` (hex): the bytes are in hand, so the release's SHA256SUMS
    takes it instead of reading ~4 small files per enterprise back."""
    fd = os.open(path, _NEW, READ_ONLY) if read_only else os.open(path, _FLAGS, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path | str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def save_digests(digests: dict[str, str], target: Path, *, append: bool = False,
                 under: Path | str | None = None) -> None:
    """`digests` (file path -> SHA-256) as `sha256sum` lines, for `read_digests`; `append`
    adds them to the lines already in `target`; with `under` (a folder every path is in),
    the paths are written relative to it ("/" separated), so they stay true when the
    folder is moved."""
    prefix = None if under is None else os.fspath(under).rstrip(os.sep) + os.sep

    def name(path: str) -> str:
        if prefix is None:
            return path
        if not path.startswith(prefix):
            raise ValueError(f"{path} is not under {under}")
        return path[len(prefix):].replace(os.sep, "/")

    with target.open("a" if append else "w", encoding="utf-8") as out:
        out.writelines(f"{d}  {name(p)}\n" for p, d in digests.items())


def read_digests(source: Path, under: Path | str | None = None) -> dict[str, str]:
    """The digests `save_digests` wrote (file path -> SHA-256), read line by line; with
    `under`, only the files under that folder, keyed by their path relative to it ("/"
    separated, as `release.publish.release_files` lists them). A release of 10^6
    enterprises has 4x10^6 of them, so neither the whole text nor its split lines are
    held, and the keys are the short paths the release lists."""
    prefix = None if under is None else os.fspath(under).rstrip(os.sep) + os.sep
    digests: dict[str, str] = {}
    with open(source, encoding="utf-8") as lines:
        for line in lines:
            digest, _, path = line.rstrip("\n").partition("  ")
            if prefix is None:
                digests[path] = digest
            elif path.startswith(prefix):
                digests[path[len(prefix):].replace(os.sep, "/")] = digest
    return digests


def line_blocks(path: Path | str, size: int = 1 << 20) -> Iterator[bytes]:
    """The file in blocks of whole lines (the last one may lack its newline): `size` bytes
    and the rest of the line they end in. Blocks of about a megabyte stay in the CPU's
    cache and reuse their memory (larger ones were slower: benchmarks/README.md)."""
    with open(path, "rb") as f:
        while chunk := f.read(size):
            if not chunk.endswith(b"\n"):
                chunk += f.readline()
            yield chunk

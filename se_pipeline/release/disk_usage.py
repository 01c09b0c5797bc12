"""Disk used by releases whose files are shared through hard links, each file counted once.

An incremental release hard-links the documents of unchanged enterprises from the
previous release, so `du -s` of one release says little: most of its bytes may also be
another release's. A file is an inode, not a path; these functions count each inode once:

* `release_size`: what a release holds, and what it adds on disk to the previous release
  (its inodes that the previous release does not link), for the catalog. It lists the
  release once (a directory entry carries its inode number) and stats only the files it
  does not share with the previous release, whose sizes and inodes come from that
  release's `FileIndex` (its ledger keeps it): a daily release that hard-links most of its
  files costs one listing, not a `stat` per file nor a listing of the release before;
* `freed_by_removing`: what removing some releases gives back, for `prune`: an inode's
  bytes are freed only when every one of its links is among the removed paths (its link
  count, `st_nlink`, says how many there are anywhere on the file system, so a link kept
  by a release that stays, or by anything else, keeps the bytes).

Bytes are the files' sizes (`st_size`, what `dcat:byteSize` states); `disk_bytes` is what
the file system allocates for them (`st_blocks` x 512, what `du` and `df` show), larger
for the many small files of a release. Symbolic links are neither followed nor counted.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["FileIndex", "Freed", "ReleaseSize", "checksum_line_bytes", "files_of", "freed_by_removing", "release_size"]


def files_of(root: Path | str) -> Iterator[os.DirEntry[str]]:
    """Every regular file under `root`, at any depth, without following symbolic links."""
    stack = [os.fspath(root)]
    while stack:
        with os.scandir(stack.pop()) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    yield entry


def _stamp(directory: Path | str) -> tuple[int, int]:
    st = os.stat(directory)
    return st.st_dev, st.st_ino


@dataclass(frozen=True)
class FileIndex:
    """A release's files as inode numbers (sorted, each once) with their sizes, and the
    (device, inode) of the release folder they were taken from.

    The next release's size is computed from it (`release_size`): a file that release
    hard-links is one of these inodes, and its size is the one here, since a release's
    files are read-only and never rewritten. It holds only files that stay as they are:
    the top-level files are added once the release is final (`with_top_level`), as some
    of them (the catalog, the pages that list it) are written after it is measured. A
    release folder restored or copied has another inode, and its index is not used."""

    release: tuple[int, int]
    inodes: np.ndarray
    sizes: np.ndarray

    def with_top_level(self, release_dir: Path) -> "FileIndex":
        """This index and the files directly in `release_dir`, once none is written again
        (its folder keeps its inode when it is renamed to its final name)."""
        top = [e.stat(follow_symlinks=False) for e in os.scandir(release_dir) if e.is_file(follow_symlinks=False)]
        inodes = np.concatenate([self.inodes, np.array([st.st_ino for st in top], dtype=np.uint64)])
        sizes = np.concatenate([self.sizes, np.array([st.st_size for st in top], dtype=np.int64)])
        unique, first = np.unique(inodes, return_index=True)
        return FileIndex(_stamp(release_dir), unique, sizes[first])

    def save(self, path: Path) -> None:
        with path.open("wb") as out:
            np.savez(out, release=np.array(self.release, dtype=np.uint64), inodes=self.inodes, sizes=self.sizes)

    @classmethod
    def load(cls, path: Path, release_dir: Path) -> "FileIndex | None":
        """The index saved at `path`, if it was taken from `release_dir` as it is now."""
        try:
            with np.load(path) as kept:
                release = tuple(int(x) for x in kept["release"])
                index = cls((release[0], release[1]), kept["inodes"], kept["sizes"])
        except (OSError, ValueError, KeyError):
            return None
        same = (len(index.inodes) == len(index.sizes) and index.inodes.dtype == np.uint64
                and index.sizes.dtype == np.int64)
        return index if same and release_dir.is_dir() and index.release == _stamp(release_dir) else None


_NO_INODES = np.zeros(0, dtype=np.uint64)


@dataclass(frozen=True)
class ReleaseSize:
    """One release's files, each inode once: all of them, and those it adds on disk."""

    files: int
    bytes: int
    added_files: int
    added_bytes: int
    checksum_lines: int = 0
    """Bytes of the `sha256sum` lines that list every path of the release (links included)."""
    index: FileIndex | None = field(default=None, compare=False, repr=False)
    """The release's files below its top level (`FileIndex`), for the next release."""


#: Directory entries held at once: a source's `id/` folder holds six files per enterprise.
_ENTRIES_AT_ONCE = 50_000


def _folders(root: str) -> Iterator[tuple[str, list[os.DirEntry[str]]]]:
    """(folder relative to `root`, "" for `root` itself; regular files of it) for every
    folder under `root`, at most `_ENTRIES_AT_ONCE` files at a time, without following
    symbolic links."""
    stack = [""]
    while stack:
        relative = stack.pop()
        files: list[os.DirEntry[str]] = []
        with os.scandir(os.path.join(root, relative) if relative else root) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(f"{relative}/{entry.name}" if relative else entry.name)
                elif entry.is_file(follow_symlinks=False):
                    files.append(entry)
                    if len(files) == _ENTRIES_AT_ONCE:
                        yield relative, files
                        files = []
        yield relative, files


def release_size(directory: Path, previous: Path | None = None,
                 previous_files: FileIndex | None = None) -> ReleaseSize:
    """The size of `directory` counting hard-linked files once, and the part of it not
    shared by hard link with `previous` (all of it when there is no previous release).

    Hard links never cross file systems, so on `previous`'s device an inode number
    identifies a file. With `previous_files` (the previous release's `FileIndex`, taken
    from that very folder), a file this release shares with it is neither stat'ed nor is
    the previous release listed; without it the previous release is listed (no file of
    it opened or stat'ed) and every file of this one is stat'ed. Either way the result
    carries this release's own index (`ReleaseSize.index`)."""
    root = os.fspath(directory)
    device = os.stat(root).st_dev
    known, known_sizes = _NO_INODES, None
    if previous is not None and previous.is_dir() and _stamp(previous)[0] == device:
        if previous_files is not None and previous_files.release == _stamp(previous):
            known, known_sizes = previous_files.inodes, previous_files.sizes
        else:
            known = np.unique(np.fromiter((e.inode() for e in files_of(previous)), dtype=np.uint64))
    found_inodes, found_sizes, found_shared, below = [], [], [], []
    lines = 0
    for relative, files in _folders(root):
        inodes = np.fromiter((e.inode() for e in files), dtype=np.uint64, count=len(files))
        at = np.minimum(np.searchsorted(known, inodes), max(len(known) - 1, 0))
        shared = known[at] == inodes if len(known) else np.zeros(len(files), dtype=bool)
        sizes = np.zeros(len(files), dtype=np.int64)
        if known_sizes is not None:
            sizes[shared] = known_sizes[at[shared]]
            unknown = np.flatnonzero(~shared)
        else:
            unknown = range(len(files))
        for i in unknown:
            sizes[i] = files[i].stat(follow_symlinks=False).st_size
        # A SHA256SUMS line per path, a folder at a time: its line with an empty file name,
        # plus each name's bytes.
        lines += (checksum_line_bytes(f"{relative}/" if relative else "") * len(files)
                  + sum(len(e.name.encode("utf-8", "surrogateescape")) for e in files))
        found_inodes.append(inodes)
        found_sizes.append(sizes)
        found_shared.append(shared)
        below.append(np.full(len(files), bool(relative)))
    inodes = np.concatenate(found_inodes)
    unique, first = np.unique(inodes, return_index=True)  # each inode once, however many links
    sizes, shared = np.concatenate(found_sizes)[first], np.concatenate(found_shared)[first]
    deep = np.concatenate(below)[first]
    index = FileIndex(_stamp(root), unique[deep], sizes[deep])
    return ReleaseSize(len(unique), int(sizes.sum()), int((~shared).sum()), int(sizes[~shared].sum()), lines, index)


def checksum_line_bytes(relative_path: str) -> int:
    """The length of `<sha256 hex>  <path>\n`, a line of SHA256SUMS (`publish.write_checksums_from`)."""
    return 64 + 2 + len(relative_path.replace(os.sep, "/").encode("utf-8", "surrogateescape")) + 1


@dataclass(frozen=True)
class Freed:
    """What removing some directories gives back: inodes whose last link goes with them."""

    files: int
    bytes: int
    disk_bytes: int
    kept_by_other_links: int
    """Inodes under the removed directories that stay, linked from elsewhere."""


def freed_by_removing(directories: Iterable[Path]) -> Freed:
    """The bytes freed by removing `directories` (together), each inode counted once."""
    links: dict[tuple[int, int], list[int]] = {}  # inode -> [links seen, st_nlink, size, blocks]
    for directory in directories:
        for entry in files_of(directory):
            st = entry.stat(follow_symlinks=False)
            found = links.get((st.st_dev, st.st_ino))
            if found is None:
                links[(st.st_dev, st.st_ino)] = [1, st.st_nlink, st.st_size, st.st_blocks]
            else:
                found[0] += 1
    files = size = blocks = kept = 0
    for seen, nlink, st_size, st_blocks in links.values():
        if seen >= nlink:
            files += 1
            size += st_size
            blocks += st_blocks
        else:
            kept += 1
    return Freed(files, size, blocks * 512, kept)

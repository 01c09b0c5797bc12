"""Disk used by releases whose files are shared through hard links, each file counted once.

An incremental release hard-links the documents of unchanged enterprises from the
previous release, so `du -s` of one release says little: most of its bytes may also be
another release's. A file is an inode, not a path; these functions count each inode once:

* `release_size`: what a release holds, and what it adds on disk to the previous release
  (its inodes that the previous release does not link), for the catalog. Given the
  previous release's own size (its ledger keeps it), only the files that differ between
  the two are stat'ed: both are listed (a directory entry carries its inode number), and
  the size is the previous one less the files gone plus the files new — a daily release
  that hard-links most of its files costs a listing, not a `stat` per file;
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
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Freed", "ReleaseSize", "checksum_line_bytes", "files_of", "freed_by_removing", "release_size"]


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


@dataclass(frozen=True)
class ReleaseSize:
    """One release's files, each inode once: all of them, and those it adds on disk."""

    files: int
    bytes: int
    added_files: int
    added_bytes: int
    checksum_lines: int = 0
    """Bytes of the `sha256sum` lines that list every path of the release (links included)."""


def release_size(directory: Path, previous: Path | None = None,
                 previous_size: tuple[int, int] | None = None) -> ReleaseSize:
    """The size of `directory` counting hard-linked files once, and the part of it not
    shared by hard link with `previous` (all of it when there is no previous release).

    The previous release is only listed (a directory entry carries its inode number; no
    file of it is opened or stat'ed): hard links never cross file systems, so an inode
    number of the previous release's device identifies the file. With `previous_size`
    (its files and bytes, each inode once, as this function gave them), the files both
    hold are not stat'ed either (`_size_from_previous`)."""
    if (previous_size is not None and previous is not None and previous.is_dir()
            and os.stat(previous).st_dev == os.stat(directory).st_dev):
        return _size_from_previous(directory, previous, previous_size)
    shared: set[int] = set()
    device = None
    if previous is not None and previous.is_dir():
        device = os.stat(previous).st_dev
        shared = {entry.inode() for entry in files_of(previous)}
    seen: set[tuple[int, int]] = set()
    files = size = added_files = added = lines = 0
    skip = len(os.fspath(directory)) + 1
    for entry in files_of(directory):
        lines += checksum_line_bytes(entry.path[skip:])
        st = entry.stat(follow_symlinks=False)
        key = (st.st_dev, st.st_ino)
        if key in seen:
            continue
        seen.add(key)
        files += 1
        size += st.st_size
        if st.st_dev != device or st.st_ino not in shared:
            added_files += 1
            added += st.st_size
    return ReleaseSize(files, size, added_files, added, lines)


def _size_from_previous(directory: Path, previous: Path, previous_size: tuple[int, int]) -> ReleaseSize:
    """`release_size` from the previous release's: both are listed, and only the inodes of
    one that the other does not hold are stat'ed (releases are read-only: a shared file
    has the size it had). Both on one file system, so an inode number is a file."""
    before = {entry.inode() for entry in files_of(previous)}
    seen: set[int] = set()
    added_files = added = lines = 0
    skip = len(os.fspath(directory)) + 1
    for entry in files_of(directory):
        lines += checksum_line_bytes(entry.path[skip:])
        inode = entry.inode()
        if inode in seen:
            continue
        seen.add(inode)
        if inode not in before:
            added_files += 1
            added += entry.stat(follow_symlinks=False).st_size
    gone_files = gone = 0
    for entry in files_of(previous):
        inode = entry.inode()
        if inode not in seen:
            seen.add(inode)  # counted once, however many links it has there
            gone_files += 1
            gone += entry.stat(follow_symlinks=False).st_size
    files, size = previous_size
    return ReleaseSize(files - gone_files + added_files, size - gone + added, added_files, added, lines)


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

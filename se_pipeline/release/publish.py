"""Write-once release directories and the atomic `latest` switch.

A release is assembled in `releases/.partial-<id>/`, checked, then renamed to
`releases/<id>/` and only then does `latest` move — by renaming a fresh symlink over
the old one, which POSIX makes atomic. A crash (even SIGKILL) at any moment leaves
`latest` pointing at the previous complete release; a leftover `.partial-*` is never
published and is cleaned at the next run.
"""
from __future__ import annotations

import os
import shutil
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator, Mapping

from se_pipeline.files import sha256_file
from se_pipeline.release.digest_files import merge_lines
from se_pipeline.release.errors import ReleaseError

PARTIAL_PREFIX = ".partial-"


def new_release_id(releases_dir: Path, now: datetime | None = None) -> str:
    """UTC timestamp id, unique within `releases_dir` (suffix -2, -3 … on collision)."""
    stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    rid, n = stamp, 1
    while (releases_dir / rid).exists() or (releases_dir / f"{PARTIAL_PREFIX}{rid}").exists():
        n += 1
        rid = f"{stamp}-{n}"
    return rid


def release_id_of(directory: Path) -> str:
    """The id of a release from its directory, final or still partial."""
    return directory.name.removeprefix(PARTIAL_PREFIX)


def start_release(releases_dir: Path, release_id: str) -> Path:
    releases_dir.mkdir(parents=True, exist_ok=True)
    for leftover in releases_dir.glob(PARTIAL_PREFIX + "*"):
        shutil.rmtree(leftover, ignore_errors=True)
    partial = releases_dir / f"{PARTIAL_PREFIX}{release_id}"
    partial.mkdir()
    return partial


def release_files(directory: Path) -> list[str]:
    """Every file under `directory`, as relative POSIX paths in path-component order.

    `os.walk` on strings: a release holds about four files per enterprise, and pathlib's
    `rglob` + `is_file` + `relative_to` lists them several times slower (same list, same
    order; benchmarks/README.md); checksums and the read-only marks each list the tree once.
    """
    root = os.fspath(directory)
    found: list[str] = []
    for folder, _, names in os.walk(root):
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        found.extend(prefix + name for name in names)
    # Path-component order: "/" as NUL (below every character a name can hold) sorts
    # like comparing the components, without a list of them per file (4x10^6 files).
    found.sort(key=lambda p: p.replace("/", "\0"))
    return found


def _count_files(folder: str) -> int:
    """Files under `folder`, counted while listed (never a list of a folder's names:
    `id/<source>/` holds six files per enterprise)."""
    n = 0
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                n += _count_files(entry.path)
            else:
                n += 1
    return n


def write_checksums_from(directory: Path, sorted_digests: list[Path], covered: tuple[str, ...],
                         known: Mapping[str, str] | None = None) -> list[str]:
    """SHA256SUMS of the release in `directory`, streamed: the files under the top-level
    folders `covered` (documents, profiles: millions at 10^6 enterprises) from digest files
    already sorted in `digest_files.path_order` (paths relative to the release), merged
    with every other file (a few dozen, hashed here unless `known` has their digest).

    The covered folders are not listed, only counted, and the count must equal their
    digest lines: a file the digests miss (or one listed twice) stops the release.
    Returns SHA256SUMS and the other files (relative paths): those the release marks
    read-only, as the covered ones were created so."""
    root = os.fspath(directory)
    known = known or {}
    others: list[str] = []
    for folder, dirs, names in os.walk(root):
        rel = os.path.relpath(folder, root)
        if rel == ".":
            dirs[:] = [d for d in dirs if d not in covered]
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        others.extend(prefix + name for name in names if prefix or name != "SHA256SUMS")
    others.sort(key=lambda p: p.replace("/", "\0"))
    extra = [f"{known.get(rel) or sha256_file(os.path.join(root, rel))}  {rel}\n" for rel in others]
    listed: dict[str, int] = {}

    def counted(lines: Iterator[str]) -> Iterator[str]:
        for line in lines:
            top = line[66:].split("/", 1)[0]
            listed[top] = listed.get(top, 0) + 1
            yield line

    with (directory / "SHA256SUMS").open("w", encoding="utf-8") as out:
        out.writelines(counted(merge_lines(sorted_digests, extra)))
    for top in covered:
        on_disk = _count_files(os.path.join(root, top)) if os.path.isdir(os.path.join(root, top)) else 0
        if on_disk != listed.get(top, 0):
            raise ReleaseError(f"{top}/ holds {on_disk} files but {listed.get(top, 0)} have a digest: "
                               "SHA256SUMS would not cover the release")
    return ["SHA256SUMS", *others]


def _flush_to_disk() -> None:
    """Every written file and directory entry on stable storage before the rename.

    One sync(2) instead of an fsync per file: a release holds about four files per
    enterprise (static documents, Murmurations profiles), and an fsync each costs seconds
    per 10^4 enterprises (benchmarks/README.md).
    """
    os.sync()


def flush_in_background() -> threading.Thread:
    """Start the flush of what is written so far, while the last small files are made:
    the sync before the rename (`finish_release`) then has little left."""
    flusher = threading.Thread(target=os.sync, name="release flush", daemon=True)
    flusher.start()
    return flusher


def finish_release(partial: Path, release_id: str, files: list[str] | None = None) -> Path:
    """Make a checked partial release permanent (read-only) under its final name.

    `files` (relative paths, as `write_checksums_from` returns them) are the files to mark
    read-only, the others having been created so; without it every file is marked."""
    final = partial.parent / release_id
    if final.exists():
        raise ReleaseError(f"release {release_id} already exists; releases are write-once")
    _flush_to_disk()
    os.replace(partial, final)
    root = os.fspath(final)
    for rel in release_files(final) if files is None else files:
        os.chmod(os.path.join(root, rel), 0o444)
    return final


def switch_latest(output_dir: Path, release_dir: Path) -> None:
    """Point `output_dir/latest` at `release_dir` atomically (relative symlink)."""
    link = output_dir / "latest"
    tmp = output_dir / f".latest-{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(os.path.relpath(release_dir, output_dir), tmp)
    os.replace(tmp, link)
    fd = os.open(output_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

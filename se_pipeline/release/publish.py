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
from typing import Collection, Mapping

from se_pipeline.files import sha256_file
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


def write_checksums(directory: Path, known: Mapping[str, str] | None = None) -> list[str]:
    """SHA256SUMS in `sha256sum -c` format over every file of the release (recursively);
    returns every file of the release, SHA256SUMS included (see `release_files`).

    `known` maps relative paths (as `release_files` gives them) to digests taken when
    the bytes were written; every other file is read and hashed here."""
    root = os.fspath(directory)
    known = known or {}
    files = release_files(directory)
    if "SHA256SUMS" in files:
        files.remove("SHA256SUMS")
    with (directory / "SHA256SUMS").open("w", encoding="utf-8") as out:
        for rel in files:
            out.write(f"{known.get(rel) or sha256_file(os.path.join(root, rel))}  {rel}\n")
    files.insert(0, "SHA256SUMS")
    return files


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


def finish_release(partial: Path, release_id: str, files: list[str] | None = None,
                   read_only: Collection[str] = ()) -> Path:
    """Make a checked partial release permanent (read-only) under its final name.

    `files` (relative paths, as `write_checksums` returns them) saves listing the tree
    again; those in `read_only` were created read-only and are not marked again."""
    final = partial.parent / release_id
    if final.exists():
        raise ReleaseError(f"release {release_id} already exists; releases are write-once")
    _flush_to_disk()
    os.replace(partial, final)
    root = os.fspath(final)
    for rel in release_files(final) if files is None else files:
        if rel not in read_only:
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

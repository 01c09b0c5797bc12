"""What a release keeps about its own files for the next one: `state/_release/<release-id>/`.

* `profiles.sha256` — the SHA-256 of every Murmurations profile, paths relative to the
  release, in `digest_files.path_order`;
* `documents/<source>.tsv` — per enterprise of the source: its key (everything its `id/`
  documents are made from but concept labels, `access.static_docs.record_key`) and the
  SHA-256 of each of its files; `documents/<source>.concepts` the labels its documents showed;
* `parts.json` — per graph of the datasets: the SHA-256 of the N-Triples file it was made
  from, where its bytes are in dataset.nq.gz (one gzip member), dataset.ttl and
  dataset.jsonld with their SHA-256, and its statistics (`release.build.PartRecord`);
* `records/<n>.tsv` — a source graph's record digests (`release.changelog`);
* `files.npz` — the inode and size of each of the release's files (`disk_usage.FileIndex`),
  from which the next release's size on disk is taken (`disk_usage.release_size`).

The next release copies an unchanged graph's byte ranges from `latest`'s datasets, and
hard-links an enterprise's files from `latest` when its key is unchanged, and takes their
digests from here, instead of rendering and hashing them again.
Only the ledger of the release `latest` points at is kept; a release without one (older,
or its ledger lost) only means the next release renders everything.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from se_pipeline.release.disk_usage import FileIndex
from se_pipeline.settings import Settings

PROFILES = "profiles.sha256"
DOCUMENTS = "documents"
PARTS = "parts.json"
FILES = "files.npz"
RECORDS = "records"
#: Bumped when what `parts.json` holds, or how a part's bytes are written, changes: an
#: older ledger's parts are then not reused.
PARTS_VERSION = 2


def ledgers_dir(settings: Settings) -> Path:
    return settings.state_dir / "_release"


def latest_ledger(settings: Settings) -> tuple[Path, Path] | None:
    """(the release `latest` points at, its ledger), if it has one."""
    if not settings.latest.is_dir():
        return None
    release = settings.latest.resolve()
    ledger = ledgers_dir(settings) / release.name
    return (release, ledger) if ledger.is_dir() else None


def keep(settings: Settings, release_id: str, made: Path) -> None:
    """Make `made` (a folder in the build's work area) the ledger of `release_id`, and
    drop every other release's."""
    root = ledgers_dir(settings)
    root.mkdir(parents=True, exist_ok=True)
    target = root / release_id
    shutil.rmtree(target, ignore_errors=True)
    os.replace(made, target)
    for other in os.listdir(root):
        if other != release_id:
            shutil.rmtree(root / other, ignore_errors=True)


def read_parts(ledger: Path, made_with: str, release: Path, files: tuple[str, ...]) -> dict[str, dict] | None:
    """{graph: its part record} of a ledger, or None when its parts cannot be reused: it has
    none (or an older kind), they were written by other code or libraries (`made_with`),
    or one of `release`'s `files` they point into is not as the ledger left it (missing,
    restored, edited: another size or modification time)."""
    try:
        kept = json.loads((ledger / PARTS).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (not isinstance(kept, dict) or kept.get("version") != PARTS_VERSION
            or kept.get("made_with") != made_with or kept.get("files") != _file_stamps(release, files)):
        return None
    return {part["graph"]: part for part in kept["parts"]}


def write_parts(ledger: Path, parts: list[dict], made_with: str, release: Path, files: tuple[str, ...]) -> None:
    """The part records, with what they were made with and the stamps of the `files` of
    `release` they point into (taken now: the files are not written again)."""
    (ledger / PARTS).write_text(json.dumps({"version": PARTS_VERSION, "made_with": made_with,
                                            "files": _file_stamps(release, files), "parts": parts}),
                                encoding="utf-8")


def _file_stamps(release: Path, files: tuple[str, ...]) -> dict[str, list[int]] | None:
    """{name: [size, modification time in ns]} of each file, or None if one is missing."""
    try:
        return {name: [st.st_size, st.st_mtime_ns] for name in files for st in [os.stat(release / name)]}
    except OSError:
        return None


def read_files(ledger: Path, release: Path) -> FileIndex | None:
    """The ledger's index of `release`'s files, if it keeps one taken from that folder."""
    return FileIndex.load(ledger / FILES, release)


def write_files(ledger: Path, index: FileIndex) -> None:
    index.save(ledger / FILES)

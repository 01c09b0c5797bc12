"""What a release keeps about its own files for the next one: `state/_release/<release-id>/`.

* `profiles.sha256` — the SHA-256 of every Murmurations profile, paths relative to the
  release, in `digest_files.path_order`;
* `documents/<source>.tsv` — per enterprise of the source: its document key (everything
  its `id/` documents are made from, `access.static_docs.document_key`) and the SHA-256
  of each of its files.

The next release hard-links an enterprise's files from `latest` when its key is
unchanged, and takes their digests from here, instead of rendering and hashing them again.
Only the ledger of the release `latest` points at is kept; a release without one (older,
or its ledger lost) only means the next release renders everything.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from se_pipeline.settings import Settings

PROFILES = "profiles.sha256"
DOCUMENTS = "documents"


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

"""Partner exports written ahead of the release (the `partner_exports` asset), moved into it.

The exports need the sources' last good rows and nothing the links or the release
compute, so they are a step of their own (their memory goes back before the release's
under the multiprocess executor, which runs them apart from the links: `run.LARGE_MEMORY`).
The release then moves them into its directory (one `rename` per top-level entry: ~1 profile per enterprise
is never copied) instead of writing them beside its own work.

A staged set is moved in only if its key matches the data the release publishes: the
base IRI, and the name and content digest of each source's last good canonical rows.
Otherwise (a source refreshed in between, nothing staged, a set already moved in) the
release writes the exports itself, as it always could; so staging only ever saves time.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path

from se_pipeline.release.exports import write_partner_exports
from se_pipeline.release.exports.parts import SourceParts
from se_pipeline.state import GoodFrames, SourceState

#: Under the output directory: the one staged set (`files/`, `manifest.json` and `DIGESTS`).
STAGED = Path("work") / "exports-staged"
#: The profiles' SHA-256 (`sha256sum` lines, paths relative to `files/`), written as they are.
DIGESTS = "profiles.sha256"


def staged_dir(output_dir: Path) -> Path:
    return Path(output_dir) / STAGED


def key(state_dir: Path, sources: list[str], base_iri: str) -> str:
    """What the exports are made from: the base IRI and each source's good rows' digest."""
    h = hashlib.sha256(base_iri.encode("utf-8"))
    for name in sorted(sources):
        rows = SourceState.of(Path(state_dir), name).good / "canonical.parquet"
        h.update(b"\0" + name.encode("utf-8") + b"\0")
        if rows.is_file():
            with rows.open("rb") as f:
                h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def stage(output_dir: Path, state_dir: Path, sources: list[str], base_iri: str,
          previous: tuple[Path, Path] | None = None) -> int:
    """Write the exports of `sources` to the staged set, replacing any earlier one (built
    beside it, then renamed: a killed run leaves no half set to move in); returns how many
    files were written. `previous` (a release folder and its sorted profile digests): a
    profile equal to that release's is a hard link to it."""
    target = staged_dir(output_dir)
    building = target.with_name(f".{target.name}-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    files = building / "files"
    building.mkdir(parents=True)
    # The key of the rows before they are read: rows replaced meanwhile then fail to match,
    # rather than match exports made partly from the rows they replaced.
    made_from = key(state_dir, sources, base_iri)
    stats: dict[str, int] = {}
    earlier, earlier_digests = previous or (None, None)
    written = write_partner_exports(GoodFrames(state_dir, sources), files, base_iri, building / DIGESTS,
                                    read_only=True, previous=earlier, previous_digests=earlier_digests, stats=stats,
                                    parts=SourceParts(state_dir, base_iri))
    (building / "manifest.json").write_text(json.dumps({"key": made_from, "profiles": stats}), encoding="utf-8")
    shutil.rmtree(target, ignore_errors=True)
    building.rename(target)
    return written


def move_into(output_dir: Path, state_dir: Path, sources: list[str], base_iri: str, target_dir: Path,
              digests_to: Path) -> dict[str, int] | None:
    """Move the staged set into `target_dir` if it was made from exactly this data, and
    its profiles' digests (`sha256sum` lines, paths relative to `target_dir`) to the file
    `digests_to`; returns how many profiles were hard-linked and written ({linked,
    written}), or None (nothing usable staged: the caller writes the exports). A set that
    does not match is removed."""
    staged = staged_dir(output_dir)
    try:
        manifest = json.loads((staged / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if manifest.get("key") != key(state_dir, sources, base_iri) or not (staged / DIGESTS).is_file():
        shutil.rmtree(staged, ignore_errors=True)
        return None
    files = staged / "files"
    os.replace(staged / DIGESTS, digests_to)  # paths relative to files/, as in the release
    for entry in sorted(os.listdir(files)):
        os.rename(files / entry, Path(target_dir) / entry)  # same file system: output/
    shutil.rmtree(staged, ignore_errors=True)
    return dict(manifest.get("profiles") or {})

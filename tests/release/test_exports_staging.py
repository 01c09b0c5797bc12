"""Partner exports staged ahead of the release are moved in only if made from its data."""
from __future__ import annotations

import hashlib
from pathlib import Path

from se_pipeline.release.exports import staging
from se_pipeline.settings import Settings
from se_pipeline.state import SourceState, read_frame, write_frame

from .conftest import ingest_and_gate, publish, specs

EXPORTS = ("standard.csv", "vocabs.json", "enterprises.geojson", "murmurations")


def _exports(release: Path) -> dict[str, bytes]:
    return {p.relative_to(release).as_posix(): p.read_bytes()
            for name in EXPORTS for p in ([release / name] if (release / name).is_file() else (release / name).rglob("*"))
            if p.is_file()}


def _stage(settings: Settings) -> None:
    names = [s.name for s in specs()]
    assert staging.stage(settings.output_dir, settings.state_dir, names, settings.base_iri) > len(names)


def test_staged_exports_are_moved_in_and_equal_what_the_release_writes(settings: Settings) -> None:
    ingest_and_gate(settings)
    written = publish(settings)
    assert not written.exports_staged
    _stage(settings)
    moved_in = publish(settings)
    assert moved_in.exports_staged
    assert not staging.staged_dir(settings.output_dir).exists()  # used once
    assert _exports(moved_in.path) == _exports(written.path) and any(n.startswith("murmurations/") for n in _exports(written.path))
    sums = dict(reversed(line.split("  ")) for line in (moved_in.path / "SHA256SUMS").read_text().splitlines())
    for name, data in _exports(moved_in.path).items():
        assert sums[name] == hashlib.sha256(data).hexdigest()
        assert (moved_in.path / name).stat().st_mode & 0o222 == 0
    assert not publish(settings).exports_staged  # nothing staged any more: written again


def test_exports_staged_from_other_data_are_dropped_and_written_again(settings: Settings) -> None:
    """A source refreshed between staging and release (here: one record fewer) changes the
    key: the release writes the exports from the data it publishes and drops the stale set."""
    ingest_and_gate(settings)
    _stage(settings)
    rows = SourceState.of(settings.state_dir, "coops_uk").good / "canonical.parquet"
    frame = read_frame(rows)
    write_frame(rows, frame.iloc[1:])
    result = publish(settings)
    assert not result.exports_staged
    assert not staging.staged_dir(settings.output_dir).exists()
    profiles = list((result.path / "murmurations").rglob("*.json"))
    csv_lines = (result.path / "standard.csv").read_text(encoding="utf-8").splitlines()
    _stage(settings)  # staged from the data as it is now: the same files as the release wrote
    fresh = staging.staged_dir(settings.output_dir) / "files"
    assert len(list((fresh / "murmurations").rglob("*.json"))) == len(profiles)
    assert (fresh / "standard.csv").read_text(encoding="utf-8").splitlines() == csv_lines


def test_a_set_staged_for_other_sources_is_not_used(settings: Settings) -> None:
    ingest_and_gate(settings)
    assert staging.stage(settings.output_dir, settings.state_dir, ["wfto"], settings.base_iri) > 0
    assert not publish(settings).exports_staged

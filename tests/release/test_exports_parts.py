"""Partner exports taking unchanged sources' shares from state (`exports.parts`) are byte
for byte the exports written from scratch; a share that cannot be trusted is made again."""
from __future__ import annotations

import json
from pathlib import Path

from se_pipeline.files import read_digests
from se_pipeline.release import ledger
from se_pipeline.release.exports import write_partner_exports
from se_pipeline.release.exports.parts import FOLDER, PROFILES, SourceParts
from se_pipeline.settings import Settings
from se_pipeline.state import GoodFrames, SourceState, read_frame, write_frame

from .conftest import SOURCES, ingest_and_gate, publish


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _export(settings: Settings, target: Path, *, incremental: bool) -> dict[str, int]:
    """The exports of the state's sources into `target`, from the kept shares and `latest`
    (incremental) or from the rows alone; returns the stats."""
    stats: dict[str, int] = {}
    earlier = ledger.latest_ledger(settings) if incremental else None
    assert earlier is not None or not incremental
    write_partner_exports(GoodFrames(settings.state_dir, SOURCES), target, settings.base_iri, target.with_suffix(".sha256"),
                          read_only=True, stats=stats,
                          previous=earlier[0] if earlier else None,
                          previous_digests=earlier[1] / ledger.PROFILES if earlier else None,
                          parts=SourceParts(settings.state_dir, settings.base_iri) if incremental else None)
    return stats


def _change_coops_uk(settings: Settings) -> None:
    """One record withdrawn, one renamed, in coops_uk's good rows."""
    rows = SourceState.of(settings.state_dir, "coops_uk").good / "canonical.parquet"
    frame = read_frame(rows).iloc[1:].reset_index(drop=True)
    frame.loc[0, "name"] = "Renamed Co-operative"
    write_frame(rows, frame)


def test_unchanged_sources_are_taken_from_their_kept_share_and_the_files_equal_a_cold_export(
        settings: Settings, tmp_path: Path) -> None:
    ingest_and_gate(settings)
    publish(settings)  # its exports (a child process) keep each source's share
    assert {p.name for p in (settings.state_dir / FOLDER).iterdir()} == set(SOURCES)
    _change_coops_uk(settings)
    stats = _export(settings, tmp_path / "incremental", incremental=True)
    assert stats["sources_kept"] == len(SOURCES) - 1  # wfto's share kept, coops_uk's made again
    _export(settings, tmp_path / "cold", incremental=False)
    incremental, cold = _files(tmp_path / "incremental"), _files(tmp_path / "cold")
    assert incremental == cold
    assert "Renamed Co-operative" in incremental["standard.csv"].decode("utf-8")
    assert any(name.startswith("murmurations/wfto") for name in incremental)
    assert read_digests(tmp_path / "incremental.sha256") == read_digests(tmp_path / "cold.sha256")
    # coops_uk's share now holds the changed rows, but `latest` lacks their renamed
    # record's profile: it is made again (and still the same bytes).
    again = _export(settings, tmp_path / "again", incremental=True)
    assert again["sources_kept"] == len(SOURCES) - 1
    assert _files(tmp_path / "again") == cold


def test_a_kept_share_whose_profiles_the_previous_release_lacks_is_made_again(settings: Settings, tmp_path: Path) -> None:
    ingest_and_gate(settings)
    publish(settings)
    share = settings.state_dir / FOLDER / "wfto" / PROFILES
    lines = share.read_text(encoding="utf-8").splitlines()
    share.write_text("\n".join(["0" * 64 + line[64:] for line in lines[:1]] + lines[1:]) + "\n", encoding="utf-8")
    stats = _export(settings, tmp_path / "incremental", incremental=True)
    assert stats["sources_kept"] == len(SOURCES) - 1  # coops_uk kept; wfto's digest does not match: made again
    _export(settings, tmp_path / "cold", incremental=False)
    assert _files(tmp_path / "incremental") == _files(tmp_path / "cold")


def test_a_share_made_by_other_code_or_base_is_not_used(settings: Settings, tmp_path: Path) -> None:
    ingest_and_gate(settings)
    publish(settings)
    made = settings.state_dir / FOLDER / "wfto" / "made_from.json"
    made.write_text(json.dumps({"made_from": "older code"}), encoding="utf-8")
    (settings.state_dir / FOLDER / "coops_uk" / "made_from.json").unlink()
    assert _export(settings, tmp_path / "incremental", incremental=True)["sources_kept"] == 0
    assert SourceParts(settings.state_dir, "https://example.org/other/").kept(
        "wfto", SourceParts(settings.state_dir, "https://example.org/other/").made_from("wfto")) is None

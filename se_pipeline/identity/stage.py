"""Reconciliation across sources: the body of the `enterprise_links` Dagster asset.

Reads every enabled source's last good canonical rows (plus the renumberings the gate
stage found), finds the links (`match.find_links`, curated decisions from
`identity/decisions.yaml` winning), and writes the links graph for the release.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from se_pipeline import PROJECT_ROOT
from se_pipeline.code_digest import code_digest
from se_pipeline.identity.decisions import load_decisions
from se_pipeline.identity.links_rdf import write_links
from se_pipeline.identity.match import MATCH_COLUMNS, clusters, empty_links, find_links
from se_pipeline.settings import Settings
from se_pipeline.state import GoodFrames, SourceState

DECISIONS = PROJECT_ROOT / "identity" / "decisions.yaml"


@dataclass
class LinkOutcome:
    links: pd.DataFrame
    clusters: int
    triples: int
    path: Path
    reused: bool = False  # the inputs were those of the links already written: not matched again


def links_path(settings: Settings) -> Path:
    return settings.state_dir / "_identity" / "links.nt"


def match_frames(settings: Settings, sources: list[str]) -> tuple[GoodFrames, list[pd.DataFrame]]:
    """The last good canonical rows of each source that has them, the matcher's columns
    only, each read when the matcher asks for it (`state.GoodFrames`): it builds its keys
    one source at a time, so the frames are not all held beside its peak (measured in
    benchmarks/README.md), and the links' RDF reads them again afterwards (parquet is
    cheap to re-read). Also the renumberings the sources' gates found."""
    good = {name: state for name in sources if (state := SourceState.of(settings.state_dir, name)).has_good()}
    moved = [pd.read_parquet(state.good / "renumbered.parquet") for state in good.values()
             if (state.good / "renumbered.parquet").is_file()]
    return GoodFrames(settings.state_dir, good, columns=MATCH_COLUMNS), moved


def links_key(settings: Settings, sources: list[str], decisions_file: Path) -> str:
    """What the links are made from: the code, the base IRI, the curated decisions, and
    each source's last good rows and renumberings (their bytes)."""
    h = hashlib.sha256(f"{code_digest()}\0{settings.base_iri}\0".encode("utf-8"))
    h.update(decisions_file.read_bytes() if decisions_file.is_file() else b"")
    for name in sorted(sources):
        good = SourceState.of(settings.state_dir, name).good
        for part in ("canonical.parquet", "renumbered.parquet"):
            h.update(f"\0{name}/{part}\0".encode("utf-8"))
            if good.is_dir() and (good / part).is_file():
                with (good / part).open("rb") as f:
                    h.update(hashlib.file_digest(f, "sha256").digest())
    return h.hexdigest()


def link_sources(settings: Settings, sources: list[str], decisions_file: Path = DECISIONS) -> LinkOutcome:
    """Match the sources' last good rows and write the links graph; when the rows, the
    decisions and the code are those the links on disk were made from (`links_key`,
    kept beside them), they are reused as they are: matching 10^6 records takes minutes,
    and a daily run where nothing changed should not."""
    path = links_path(settings)
    made = path.with_suffix(".json")
    key = links_key(settings, sources, decisions_file)
    try:
        before = json.loads(made.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        before = {}
    if before.get("key") == key and path.is_file() and path.with_suffix(".parquet").is_file():
        return LinkOutcome(pd.read_parquet(path.with_suffix(".parquet")), int(before["clusters"]),
                           int(before["triples"]), path, reused=True)
    made.unlink(missing_ok=True)
    frames, moved = match_frames(settings, sources)
    parts = [empty_links() if not frames else find_links(frames, load_decisions(decisions_file, base=settings.base_iri), base=settings.base_iri)]
    parts += [m for m in moved if len(m)]
    links = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    records = pd.concat(list(frames.values()), ignore_index=True) if frames else pd.DataFrame()
    triples = write_links(path, links, records, settings.base_iri) if len(links) else _empty(path)
    groups = len(set(clusters(links[links["decision"] == "same"]).values()))
    links.to_parquet(path.with_suffix(".parquet"), index=False)
    made.write_text(json.dumps({"key": key, "clusters": groups, "triples": triples}), encoding="utf-8")
    return LinkOutcome(links, groups, triples, path)


def _empty(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return 0

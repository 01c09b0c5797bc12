"""Reconciliation across sources: the body of the `enterprise_links` Dagster asset.

Reads every enabled source's last good canonical rows (plus the renumberings the gate
stage found), finds the links (`match.find_links`, curated decisions from
`identity/decisions.yaml` winning), and writes the links graph for the release.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from se_pipeline import PROJECT_ROOT
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


def link_sources(settings: Settings, sources: list[str], decisions_file: Path = DECISIONS) -> LinkOutcome:
    frames, moved = match_frames(settings, sources)
    parts = [empty_links() if not frames else find_links(frames, load_decisions(decisions_file, base=settings.base_iri), base=settings.base_iri)]
    parts += [m for m in moved if len(m)]
    links = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    records = pd.concat(list(frames.values()), ignore_index=True) if frames else pd.DataFrame()
    path = links_path(settings)
    triples = write_links(path, links, records, settings.base_iri) if len(links) else _empty(path)
    groups = len(set(clusters(links[links["decision"] == "same"]).values()))
    links.to_parquet(path.with_suffix(".parquet"), index=False)
    return LinkOutcome(links, groups, triples, path)


def _empty(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return 0

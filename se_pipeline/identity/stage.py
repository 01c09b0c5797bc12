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

import numpy as np
import pandas as pd

from se_pipeline import PROJECT_ROOT
from se_pipeline.code_digest import code_digest
from se_pipeline.identity.decisions import load_decisions
from se_pipeline.identity.links_rdf import write_links
from se_pipeline.identity.match import (MATCH_COLUMNS, Matched, clusters, combine_keys, find_links_since,
                                        match_keys_frame, source_keys)
from se_pipeline.settings import Settings
from se_pipeline.state import GoodFrames, SourceState, write_json

#: What the next match starts from, under `state/_identity/`: each source's keys, the
#: candidate pairs (positions in those keys) and the scored ones, and what they were made
#: from (written last).
MATCH_STATE = "match"

DECISIONS = PROJECT_ROOT / "identity" / "decisions.yaml"


@dataclass
class LinkOutcome:
    links: pd.DataFrame
    clusters: int
    triples: int
    path: Path
    reused: bool = False  # the inputs were those of the links already written: not matched again
    rescored: int | None = None  # records whose keys changed since the match kept (None: matched from scratch)


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
    matched, rescored = _match(settings, frames, decisions_file)
    links = matched.links
    parts = [links] + [m for m in moved if len(m)]
    links = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    records = pd.concat(list(frames.values()), ignore_index=True) if frames else pd.DataFrame()
    triples = write_links(path, links, records, settings.base_iri) if len(links) else _empty(path)
    groups = len(set(clusters(links[links["decision"] == "same"]).values()))
    links.to_parquet(path.with_suffix(".parquet"), index=False)
    made.write_text(json.dumps({"key": key, "clusters": groups, "triples": triples}), encoding="utf-8")
    return LinkOutcome(links, groups, triples, path, rescored=rescored)


def _match(settings: Settings, frames: GoodFrames, decisions_file: Path = DECISIONS) -> tuple[Matched, int | None]:
    """Match the sources' rows, from the previous match where it is usable (same code,
    base IRI and thresholds: `_match_made_from`): a source whose good rows are those its
    kept keys were made from reuses them, the others' keys are made again, and only what
    the records whose keys changed can alter is scored (`match.find_links_since`).
    Returns the match and how many records were rescored (None: matched from scratch).
    Then keeps this match for the next run."""
    folder = settings.state_dir / "_identity" / MATCH_STATE
    made_from = _match_made_from(settings)
    try:
        kept = json.loads((folder / "made_from.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        kept = {}
    kept_rows: dict[str, str] = kept.get("rows", {})
    usable = (kept.get("made_from") == made_from and (folder / "scored.parquet").is_file()
              and (folder / "candidates.npz").is_file() and set(kept.get("order", [])) == set(kept_rows)
              and all((folder / f"{name}.keys.parquet").is_file() for name in kept_rows))
    if not usable:
        kept_rows = {}
    (folder / "made_from.json").unlink(missing_ok=True)  # what follows rewrites the keys
    folder.mkdir(parents=True, exist_ok=True)
    rows = {name: _rows_digest(settings, name) for name in frames}
    parts: dict[str, pd.DataFrame] = {}
    changed: set[str] = set()
    earlier: dict[str, pd.DataFrame] = {}
    for name in sorted(set(kept_rows) | set(frames)):
        stored = folder / f"{name}.keys.parquet"
        before = pd.read_parquet(stored) if name in kept_rows else None
        if before is not None:
            earlier[name] = before
        if name not in frames:
            stored.unlink(missing_ok=True)
            continue
        if before is not None and kept_rows[name] == rows[name]:
            parts[name] = before
            continue
        source_keys(name, frames[name], settings.base_iri).to_parquet(stored, index=False)
        parts[name] = pd.read_parquet(stored)  # as every later run reads them
        changed |= _changed_iris(before, parts[name])
    keys = combine_keys([parts[name] for name in frames], settings.base_iri)
    decisions = load_decisions(decisions_file, base=settings.base_iri)
    if usable:
        with np.load(folder / "candidates.npz") as stored_candidates:
            candidates = {evidence: stored_candidates[evidence] for evidence in stored_candidates.files}
        # The earlier keys in the order of the earlier match: its candidates are positions in them.
        before_match = Matched(links=pd.DataFrame(), candidates=candidates,
                               keys=combine_keys([earlier[name] for name in kept["order"]], settings.base_iri),
                               scored=pd.read_parquet(folder / "scored.parquet"))
        matched = find_links_since(before_match, keys, changed, decisions, base=settings.base_iri)
        rescored: int | None = len(changed)
    else:
        matched, rescored = match_keys_frame(keys, decisions, base=settings.base_iri), None
    matched.scored.to_parquet(folder / "scored.parquet", index=False)
    with (folder / "candidates.npz").open("wb") as out:
        np.savez(out, **matched.candidates)
    write_json(folder / "made_from.json", {"made_from": made_from, "rows": rows, "order": list(frames)})
    return matched, rescored


def _match_made_from(settings: Settings) -> str:
    """What makes a kept match usable: the code (the matcher and its thresholds) and the base IRI."""
    return hashlib.sha256(f"{code_digest()}\0{settings.base_iri}".encode("utf-8")).hexdigest()


def _rows_digest(settings: Settings, name: str) -> str:
    with (SourceState.of(settings.state_dir, name).good / "canonical.parquet").open("rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _changed_iris(before: pd.DataFrame | None, now: pd.DataFrame) -> set[str]:
    """IRIs of `now`'s records that `before` (the same source's earlier keys) lacks or keys differently."""
    if before is None:
        return set(now["iri"])
    old = dict(zip(before["iri"], _row_texts(before)))
    return {iri for iri, text in zip(now["iri"], _row_texts(now)) if old.get(iri) != text}


def _row_texts(keys: pd.DataFrame) -> list[str]:
    """Each key row as comparable text (lists as lists, NaN as None)."""
    def plain(v: object) -> object:
        if hasattr(v, "tolist") and not isinstance(v, str):
            return v.tolist()
        return None if isinstance(v, float) and v != v else v
    columns = [c for c in keys.columns if c != "r"]
    return [repr([plain(v) for v in row]) for row in zip(*(keys[c] for c in columns))]


def _empty(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("", encoding="utf-8")
    return 0

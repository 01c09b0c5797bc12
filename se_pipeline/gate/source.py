"""One source through RDF and the SHACL gate, then promotion of what passed to last good.

The body of each `<source>_graph` Dagster asset. Records that violate a shape are
quarantined (source, record id, line, reason) and removed with all their triples; only a
graph that conforms after that is promoted to `state/<source>/good/`, which is all a
release is ever built from. A partner's records (`sources/dcat_catalog`) are gated as
the partner wrote them, not rebuilt from the canonical rows.
"""
from __future__ import annotations

import hashlib
import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd

from se_pipeline.code_digest import code_digest
from se_pipeline.files import sha256_file
from se_pipeline.gate.shacl import gate_ntriples, shapes_digest, violations_table
from se_pipeline.identity.history import renumbered, withdrawn
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.identity.match import empty_links
from se_pipeline.quarantine import QuarantineRecord, read_quarantine, write_quarantine
from se_pipeline.rdf.enterprises import write_enterprises
from se_pipeline.settings import Settings
from se_pipeline.sources.dcat_catalog.harvest import RECORDS_FILE
from se_pipeline.sources.dcat_catalog.records import gated_lines, outside_our_namespace
from se_pipeline.state import SourceState, read_frame, read_json, write_frame, write_json


@dataclass
class GateOutcome:
    source: str
    status: str  # "promoted" | "stale" | "unchanged" | "rejected" | "disabled"
    enterprises: int = 0
    quarantined_by_shapes: int = 0
    conforms: bool = True
    violations_markdown: str = ""
    withdrawn: int = 0
    renumbered: int = 0
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "status": self.status, "enterprises": self.enterprises,
            "quarantined_by_shapes": self.quarantined_by_shapes, "conforms": self.conforms, "message": self.message,
            "withdrawn": self.withdrawn, "renumbered": self.renumbered,
        }


def _history(state: SourceState, current: pd.DataFrame, settings: Settings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Records the last good copy had and this run lacks (republished as withdrawn, never
    deleted), and records renumbered by the source (linked old -> new)."""
    if not state.has_good():
        return current.iloc[0:0].assign(withdrawn_on=pd.Series(dtype="object")), empty_links()
    previous = read_frame(state.good / "canonical.parquet")
    if (state.good / "withdrawn.parquet").is_file():
        earlier = pd.read_parquet(state.good / "withdrawn.parquet")
        previous = pd.concat([previous, earlier[[c for c in earlier.columns if c in previous.columns or c == "withdrawn_on"]]],
                             ignore_index=True)
    gone = withdrawn(previous, current, on=date.today().isoformat())
    moved = renumbered(previous, current, settings.base_iri)
    gone.to_parquet(state.run / "withdrawn.parquet", index=False)
    moved.to_parquet(state.run / "renumbered.parquet", index=False)
    return gone, moved


#: Beside a graph that gave no SHACL result at all: the SHA-256 of each enterprise's lines
#: in it (`<IRI>\t<digest>` lines), what the next gate of the source compares with.
BLOCKS = "blocks.tsv"


def _made_with(settings: Settings) -> str:
    """What a gate's verdicts hold for: the code (the RDF writer, the validator, the shapes) and the base IRI."""
    return hashlib.sha256(f"{code_digest()}\0{shapes_digest()}\0{settings.base_iri}".encode("utf-8")).hexdigest()


def _kept_blocks(state: SourceState, settings: Settings) -> dict[str, str] | None:
    """{enterprise IRI: SHA-256 of its lines} of the last good graph, if that graph gave no
    SHACL result at all (nothing quarantined, no warning) under this code and base IRI:
    then an enterprise whose lines are the same gives none now, and only the others need
    the shapes. None (validate everything) otherwise, and from older code's state."""
    gate = read_json(state.good / "gate.json")
    if (gate.get("made_with") != _made_with(settings) or gate.get("results") != 0 or gate.get("quarantined") != 0
            or not gate.get("conforms_before")):
        return None
    try:
        with (state.good / BLOCKS).open(encoding="utf-8") as lines:
            return dict(line.rstrip("\n").split("\t", 1) for line in lines)
    except (OSError, ValueError):
        return None


def _keep_blocks(state: SourceState, blocks: dict[str, str]) -> None:
    path = state.run / BLOCKS
    if not blocks:
        path.unlink(missing_ok=True)
        return
    with path.open("w", encoding="utf-8") as out:
        out.writelines(f"{e}\t{d}\n" for e, d in blocks.items())


def gate_source(source: str, settings: Settings) -> GateOutcome:
    """RDF + SHACL gate for this run's canonical rows of `source`; promote if they pass."""
    state = SourceState.of(settings.state_dir, source)
    status = read_json(state.run / "status.json")
    if status.get("disabled"):
        return GateOutcome(source, "disabled", message="source disabled in the configuration")
    if not status.get("ok"):
        msg = f"source failed this run ({status.get('error', 'not fetched')}); last good copy kept"
        return GateOutcome(source, "stale", message=msg, conforms=state.has_good())
    if status.get("not_modified") and state.has_good():
        return GateOutcome(source, "unchanged", message="source unchanged since last good (HTTP 304)")
    t0 = time.perf_counter()
    frame = read_frame(state.run / "canonical.parquet")
    harvested = state.run / RECORDS_FILE
    trespassing: list[QuarantineRecord] = []
    if harvested.is_file():
        frame, trespassing = outside_our_namespace(frame, settings.base_iri)
    gone, moved = _history(state, frame, settings)
    candidate = state.run / "candidate.nt"
    changed = state.run / "changed.nt"
    changed.unlink(missing_ok=True)
    blocks: dict[str, str] = {}
    with candidate.open("w", encoding="utf-8") as out:
        if harvested.is_file():  # a partner's records: its own statements under its own IRIs
            iris = [enterprise_iri(s, r, settings.base_iri) for s, r in zip(frame["source"], frame["record_id"])]
            records = {i: (r, int(n)) for i, r, n in zip(iris, frame["record_id"], frame["line"])}
            out.writelines(gated_lines(harvested, source, dict(zip(iris, frame["name"]))))
            records |= write_enterprises(gone[[*frame.columns, "withdrawn_on"]], out, settings.base_iri)
        else:
            known = _kept_blocks(state, settings)
            if known is not None:  # withdrawn records are validated again, whatever their lines
                for e in (enterprise_iri(s, r, settings.base_iri) for s, r in zip(gone["source"], gone["record_id"])):
                    known.pop(e, None)
            with (changed.open("w", encoding="utf-8") if known is not None else nullcontext()) as again:
                # withdrawn rows carry `withdrawn_on`: their sep:withdrawnOn is written with the
                # record's other lines (a record's lines stay together; see `access.doc_partitions`)
                records = write_enterprises(pd.concat([frame, gone[[*frame.columns, "withdrawn_on"]]],
                                                      ignore_index=True), out,
                                            settings.base_iri, digests=blocks, known=known, changed=again)
    t1 = time.perf_counter()
    result = gate_ntriples(candidate, state.run / "graph.nt", source=source, records=records,
                           changed=changed if changed.is_file() else None)
    t2 = time.perf_counter()
    candidate.unlink()
    changed.unlink(missing_ok=True)
    _keep_blocks(state, blocks if result.conforms_before and not result.violations and not result.quarantine else {})
    outcome_extra = {"withdrawn": len(gone), "renumbered": len(moved)}
    rejected_ids = {q.record_id for q in result.quarantine}
    if rejected_ids or trespassing:
        write_frame(state.run / "canonical.parquet", frame[~frame["record_id"].isin(rejected_ids)])
    write_quarantine(state.run / "quarantine.csv",
                     read_quarantine(state.run / "quarantine.csv") + trespassing + result.quarantine)
    table = violations_table(result.violations)
    # What the verdict is about, so the release need not validate the same bytes again.
    reached_on = {"graph_sha256": sha256_file(state.run / "graph.nt"), "shapes_sha256": shapes_digest()} \
        if result.conforms_after else {}
    write_json(state.run / "gate.json", {**reached_on, "made_with": _made_with(settings), "results": len(result.violations),
        "conforms_before": result.conforms_before, "conforms_after": result.conforms_after,
        "kept_enterprises": result.kept_enterprises, "quarantined": len(result.quarantine),
        "violations_markdown": table, "seconds": {"rdf": t1 - t0, "shacl": t2 - t1}, **outcome_extra,
    })
    outcome = GateOutcome(
        source, "rejected", enterprises=result.kept_enterprises, quarantined_by_shapes=len(result.quarantine),
        conforms=result.conforms_after, violations_markdown=table, seconds={"rdf": t1 - t0, "shacl": t2 - t1},
        withdrawn=len(gone), renumbered=len(moved),
    )
    if result.conforms_after:
        state.promote()
        outcome.status = "promoted"
        outcome.message = f"{result.kept_enterprises} records passed the gate; {len(result.quarantine)} quarantined"
    else:
        outcome.message = "graph still violates the shapes after quarantine; last good copy kept"
    return outcome

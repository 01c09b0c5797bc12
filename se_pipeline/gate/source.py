"""One source through RDF and the SHACL gate, then promotion of what passed to last good.

The body of each `<source>_graph` Dagster asset. Records that violate a shape are
quarantined (source, record id, line, reason) and removed with all their triples; only a
graph that conforms after that is promoted to `state/<source>/good/`, which is all a
release is ever built from.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from se_pipeline.gate.shacl import gate_ntriples, violations_table
from se_pipeline.quarantine import read_quarantine, write_quarantine
from se_pipeline.rdf.enterprises import write_enterprises
from se_pipeline.settings import Settings
from se_pipeline.state import SourceState, read_frame, read_json, write_frame, write_json


@dataclass
class GateOutcome:
    source: str
    status: str  # "promoted" | "stale" | "unchanged" | "rejected" | "disabled"
    enterprises: int = 0
    quarantined_by_shapes: int = 0
    conforms: bool = True
    violations_markdown: str = ""
    message: str = ""
    seconds: dict[str, float] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "status": self.status, "enterprises": self.enterprises,
            "quarantined_by_shapes": self.quarantined_by_shapes, "conforms": self.conforms, "message": self.message,
        }


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
    candidate = state.run / "candidate.nt"
    records = write_enterprises(frame, candidate, settings.base_iri)
    t1 = time.perf_counter()
    result = gate_ntriples(candidate, state.run / "graph.nt", source=source, records=records)
    t2 = time.perf_counter()
    candidate.unlink()
    rejected_ids = {q.record_id for q in result.quarantine}
    if rejected_ids:
        write_frame(state.run / "canonical.parquet", frame[~frame["record_id"].isin(rejected_ids)])
    write_quarantine(state.run / "quarantine.csv", read_quarantine(state.run / "quarantine.csv") + result.quarantine)
    table = violations_table(result.violations)
    write_json(state.run / "gate.json", {
        "conforms_before": result.conforms_before, "conforms_after": result.conforms_after,
        "kept_enterprises": result.kept_enterprises, "quarantined": len(result.quarantine),
        "violations_markdown": table, "seconds": {"rdf": t1 - t0, "shacl": t2 - t1},
    })
    outcome = GateOutcome(
        source, "rejected", enterprises=result.kept_enterprises, quarantined_by_shapes=len(result.quarantine),
        conforms=result.conforms_after, violations_markdown=table, seconds={"rdf": t1 - t0, "shacl": t2 - t1},
    )
    if result.conforms_after:
        state.promote()
        outcome.status = "promoted"
        outcome.message = f"{result.kept_enterprises} records passed the gate; {len(result.quarantine)} quarantined"
    else:
        outcome.message = "graph still violates the shapes after quarantine; last good copy kept"
    return outcome

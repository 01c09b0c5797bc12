"""The SHACL gate: validate a source's candidate graph, quarantine violating enterprises.

Shapes live in `shapes/*.ttl` (one file per concern, every shape a stable IRI under
SHAPES_NS). Validation runs pyshacl with inference off (about 7x faster, and the shapes
need no entailment: every type they target is asserted by the RDF writer).

An enterprise is the unit of quarantine: a violation on `E` or on one of its hash nodes
(`E#address`) withholds every triple whose subject is `E` or `E#...`, so a published
enterprise is always complete and conforming; the rest of the source still goes out.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyshacl
import rdflib

from se_pipeline import SHAPES_DIR
from se_pipeline.gate.errors import GateError
from se_pipeline.gate.ntriples import owner_of, read_ntriples, write_without
from se_pipeline.gate.violations import Violation, local_name, violations_from_report, violations_table
from se_pipeline.namespaces import DCTERMS, SE_BASE, SH
from se_pipeline.quarantine import QuarantineRecord

__all__ = [
    "SHAPES_NS", "GateError", "GateResult", "Violation", "gate_ntriples", "load_shapes",
    "report_turtle", "validate", "violations_table",
]

#: Namespace of our shape IRIs, e.g. SHAPES_NS + "EnterpriseNameShape".
SHAPES_NS = SE_BASE + "shapes/"
#: Longest offending value quoted in a quarantine reason (a 100 kB description stays readable).
MAX_VALUE_IN_REASON = 120


@lru_cache(maxsize=1)
def load_shapes() -> rdflib.Graph:
    """All `shapes/*.ttl` as one graph, parsed once per process (callers must not mutate it)."""
    files = sorted(SHAPES_DIR.glob("*.ttl"))
    if not files:
        raise GateError(f"no shapes found in {SHAPES_DIR}")
    shapes = rdflib.Graph()
    for f in files:
        shapes.parse(f, format="turtle")
    return shapes


def _run(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    # advanced=True: the language-tag shapes are SHACL-SPARQL; allow_warnings: only
    # sh:Violation makes a graph non-conforming.
    conforms, report, _ = pyshacl.validate(
        data, shacl_graph=load_shapes(), inference="none", advanced=True, allow_warnings=True,
        abort_on_first=False,
    )
    return bool(conforms), report


def validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph, list[Violation]]:
    """(conforms, pyshacl results graph, flat list of results) for `data`."""
    conforms, report = _run(data)
    return conforms, report, violations_from_report(report)


def report_turtle(data: rdflib.Graph) -> bytes:
    """The validation report of `data` as Turtle: one sh:ValidationReport, one sh:conforms."""
    _, report = _run(data)
    n = len(list(report.triples((None, rdflib.URIRef(SH + "conforms"), None))))
    if n != 1:  # pyshacl's contract; a report with 0 or 2 verdicts would be meaningless
        raise GateError(f"validation report has {n} sh:conforms triples")
    report.bind("sh", SH)
    return report.serialize(format="turtle").encode("utf-8")


@dataclass
class GateResult:
    """Outcome of `gate_ntriples`; `conforms_after` is what the blocking Dagster check asserts."""

    conforms_before: bool
    kept_enterprises: int
    quarantine: list[QuarantineRecord]
    violations: list[Violation]
    conforms_after: bool = False
    seconds: dict[str, float] = field(default_factory=dict)


def _value_text(value: str | None) -> str:
    if value is None:
        return "missing"
    shown = value if len(value) <= MAX_VALUE_IN_REASON else value[:MAX_VALUE_IN_REASON] + f"… ({len(value)} chars)"
    return repr(shown)  # repr makes control characters and trailing spaces visible


def _field(v: Violation) -> str:
    return local_name(v.path) if v.path else local_name(v.shape)


def _quarantine_record(
    source: str, owner: str, found: list[Violation], records: dict[str, tuple[str, int]], data: rdflib.Graph,
) -> QuarantineRecord:
    """One record per enterprise: every field that failed and every reason, deduplicated in order."""
    if owner in records:
        record_id, line = records[owner]
    else:  # not one of this run's records: best effort from the graph itself
        ident = data.value(rdflib.URIRef(owner), rdflib.URIRef(DCTERMS + "identifier"))
        record_id, line = (str(ident) if ident is not None else owner), 0
    fields = list(dict.fromkeys(_field(v) for v in found))
    reasons = list(dict.fromkeys(f"{_field(v)}: {v.message} (value: {_value_text(v.value)})" for v in found))
    return QuarantineRecord(source, record_id, line, "|".join(fields), "; ".join(reasons))


def gate_ntriples(
    nt_path: Path, out_path: Path, *, source: str, records: dict[str, tuple[str, int]],
) -> GateResult:
    """Validate `nt_path`, write the conforming part to `out_path`, quarantine the rest.

    `records` maps enterprise IRI -> (record_id, line) so a quarantined enterprise points
    back at the source file. Only sh:Violation results quarantine; warnings are reported.
    The written file is re-read and re-validated (`conforms_after`) unless nothing was
    removed from an input that already conformed (then it holds the very same triples).
    """
    t0 = time.perf_counter()
    triples, data = read_ntriples(nt_path)
    t1 = time.perf_counter()
    conforms_before, _, violations = validate(data)
    t2 = time.perf_counter()
    by_owner: dict[str, list[Violation]] = {}
    for v in violations:
        if v.severity != "Violation" or v.focus_node.startswith("_:"):
            continue  # warnings are reported, not quarantined; blank nodes have no owner
        owner = owner_of(v.focus_node, records)
        # A literal focus node (e.g. text where an address node belongs) is not removable by
        # itself; the enterprise holding it fails its own property shape and is removed.
        if owner in records or (rdflib.URIRef(owner), None, None) in data:
            by_owner.setdefault(owner, []).append(v)
    quarantine = [_quarantine_record(source, o, found, records, data) for o, found in sorted(by_owner.items())]
    write_without(triples, set(by_owner), out_path)
    kept = sum(1 for e in records if e not in by_owner)
    result = GateResult(conforms_before, kept, quarantine, violations)
    if conforms_before and not by_owner:
        result.conforms_after = True
    else:
        _, written = read_ntriples(out_path)
        result.conforms_after, _, _ = validate(written)
    result.seconds = {"parse": t1 - t0, "validate": t2 - t1, "filter_and_revalidate": time.perf_counter() - t2}
    return result

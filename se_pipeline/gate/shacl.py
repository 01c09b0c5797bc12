"""The SHACL gate: validate a source's candidate graph, quarantine violating enterprises.

Shapes live in `shapes/*.ttl` (one file per concern, every shape a stable IRI under
SHAPES_NS). Validation runs the streaming validator `gate.fast` (the shapes compiled to
Python checks, pyshacl's verdicts result for result, in bounded memory); a shape using a
SHACL construct `gate.fast` does not implement is validated by pyshacl instead, and a
warning names the shape and the construct. Set `SE_PIPELINE_SHACL=pyshacl` to run pyshacl
itself for every shape (inference off: the shapes need no entailment, every type they
target is asserted by the RDF writer), e.g. to rule the fast validator out when a verdict
looks wrong (docs/validation.md).

An enterprise is the unit of quarantine: a violation on `E` or on one of its hash nodes
(`E#address`) withholds every triple whose subject is `E` or `E#...`, so a published
enterprise is always complete and conforming; the rest of the source still goes out.
"""
from __future__ import annotations

import hashlib
import os
import shutil
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox
import rdflib

from se_pipeline import SHAPES_DIR
from se_pipeline.gate import fast
from se_pipeline.gate.errors import GateError
from se_pipeline.gate.ntriples import owner_of, read_ntriples, write_without
from se_pipeline.gate.violations import (
    Violation, local_name, violation_order, violations_from_report, violations_table,
)
from se_pipeline.namespaces import DCTERMS, SE_BASE, SH
from se_pipeline.quarantine import QuarantineRecord

__all__ = [
    "SHAPES_NS", "GateError", "GateResult", "Violation", "backend", "fast_file", "fast_validator", "gate_ntriples",
    "load_shapes", "parse_nt", "report_turtle", "validate", "violation_order", "violations_table",
]

#: Namespace of our shape IRIs, e.g. SHAPES_NS + "EnterpriseNameShape".
SHAPES_NS = SE_BASE + "shapes/"
#: Longest offending value quoted in a quarantine reason (a 100 kB description stays readable).
MAX_VALUE_IN_REASON = 120


@lru_cache(maxsize=1)
def shapes_digest() -> str:
    """SHA-256 over the shapes files (names and bytes): a gate's verdict holds only for the
    shapes it was reached with. Taken once per process, like the shapes themselves, so it
    names the shapes this process validates with even if the files change meanwhile."""
    h = hashlib.sha256()
    for f in sorted(SHAPES_DIR.glob("*.ttl")):
        h.update(f.name.encode("utf-8") + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


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


def backend() -> str:
    """"fast" (default) or "pyshacl", from the environment variable SE_PIPELINE_SHACL."""
    name = os.environ.get("SE_PIPELINE_SHACL", "fast").strip().lower() or "fast"
    if name not in ("fast", "pyshacl"):
        raise GateError(f"SE_PIPELINE_SHACL must be 'fast' or 'pyshacl', not {name!r}")
    return name


@lru_cache(maxsize=1)
def fast_validator() -> fast.Validator:
    """The shapes compiled once per process; a shape using a construct `gate.fast` does not
    implement is validated by pyshacl (a warning names it and the construct)."""
    return fast.Validator(load_shapes())


def to_violation(r: fast.Result) -> Violation:
    return Violation(fast.term_text(r.focus) or "", r.path, fast.term_text(r.value), fast.term_text(r.shape) or "",
                     r.message, r.severity)


def fast_violations(results: list[fast.Result]) -> list[Violation]:
    return sorted((to_violation(r) for r in results), key=violation_order)


def _fast_results(data: rdflib.Graph) -> list[fast.Result] | None:
    """Fast results for an rdflib graph; None when the data needs pyshacl (rdfs:subClassOf)."""
    if backend() != "fast":
        return None
    validator = fast_validator()
    try:
        results = validator.whole((fast.from_rdflib(s), str(p), fast.from_rdflib(o)) for s, p, o in data)
    except fast.UnsupportedData:
        return None
    return results + validator.delegated_results(data)


def _run(data: rdflib.Graph) -> tuple[bool, rdflib.Graph]:
    return fast.pyshacl_validate(data, load_shapes())


def validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph, list[Violation]]:
    """(conforms, SHACL results graph, flat list of results) for `data`."""
    results = _fast_results(data)
    if results is not None:
        conforms = fast.conforms(results)
        return conforms, fast.report_graph(results, conforms), fast_violations(results)
    conforms, report = _run(data)
    return conforms, report, violations_from_report(report)


def report_turtle(data: rdflib.Graph) -> bytes:
    """The validation report of `data` as Turtle: one sh:ValidationReport, one sh:conforms."""
    results = _fast_results(data)
    if results is not None:
        report = fast.report_graph(results, fast.conforms(results))
    else:
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
    source: str, owner: str, found: list[Violation], records: dict[str, tuple[str, int]],
    identifiers: dict[str, str],
) -> QuarantineRecord:
    """One record per enterprise: every field that failed and every reason, deduplicated in order."""
    if owner in records:
        record_id, line = records[owner]
    else:  # not one of this run's records: best effort from the graph itself
        record_id, line = identifiers.get(owner, owner), 0
    fields = list(dict.fromkeys(_field(v) for v in found))
    reasons = list(dict.fromkeys(f"{_field(v)}: {v.message} (value: {_value_text(v.value)})" for v in found))
    return QuarantineRecord(source, record_id, line, "|".join(fields), "; ".join(reasons))


def _by_owner(
    violations: list[Violation], records: dict[str, tuple[str, int]], is_subject: Callable[[set[str]], set[str]],
) -> dict[str, list[Violation]]:
    """Violations per removable enterprise (Violation severity, not on blank nodes)."""
    by_owner: dict[str, list[Violation]] = {}
    for v in violations:
        if v.severity != "Violation" or v.focus_node.startswith("_:"):
            continue  # warnings are reported, not quarantined; blank nodes have no owner
        by_owner.setdefault(owner_of(v.focus_node, records), []).append(v)
    # A literal focus node (e.g. text where an address node belongs) is not removable by
    # itself; the enterprise holding it fails its own property shape and is removed.
    unknown = {o for o in by_owner if o not in records}
    present = is_subject(unknown) if unknown else set()
    return {o: found for o, found in by_owner.items() if o in records or o in present}


def parse_nt(path: Path) -> Iterator[ox.Quad]:
    """Strict parse; statements in the default graph (N-Triples and triples serialise alike)."""
    try:
        yield from ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    except (SyntaxError, ValueError, OSError) as e:
        raise GateError(f"cannot read N-Triples {path}: {e}") from e


def fast_file(path: Path) -> list[fast.Result]:
    """Stream `path` through the fast validator (whole-graph fallback if not grouped)."""
    return fast.validate_ox(fast_validator(), lambda: parse_nt(path))


def gate_ntriples(
    nt_path: Path, out_path: Path, *, source: str, records: dict[str, tuple[str, int]],
    changed: Path | None = None,
) -> GateResult:
    """Validate `nt_path`, write the conforming part to `out_path`, quarantine the rest.

    `records` maps enterprise IRI -> (record_id, line) so a quarantined enterprise points
    back at the source file. Only sh:Violation results quarantine; warnings are reported.
    The written file is re-read and re-validated (`conforms_after`) unless nothing was
    removed from an input that already conformed (then it holds the very same triples).

    The fast backend streams: the input is read twice (validate, then filter) and never
    held in memory; `SE_PIPELINE_SHACL=pyshacl` uses one rdflib graph + pyshacl.

    `changed` (fast backend only): the lines of `nt_path` to validate, every other
    enterprise's lines being known to give no result at all under these shapes (they are
    byte for byte those of a graph that gave none, `gate.source`). The shapes the fast
    validator runs look at one enterprise and its own `#` nodes at a time (`gate.fast`),
    so the results are those of validating `nt_path` whole; when some shape goes to
    pyshacl instead (`fast.Validator.delegated`), which could compare enterprises,
    `nt_path` is validated whole.
    """
    if backend() == "fast":
        try:
            return _gate_fast(nt_path, out_path, source=source, records=records, changed=changed)
        except fast.UnsupportedData:
            pass  # rdfs:subClassOf in the data: pyshacl follows it, so let pyshacl decide
    return _gate_pyshacl(nt_path, out_path, source=source, records=records)


def _stream_without(nt_path: Path, removed: set[str], out_path: Path) -> None:
    """`ntriples.write_without`, streaming: Oxigraph re-parses and re-writes, nothing is held.
    With nothing to remove the input (already parsed strictly by the validator) is copied."""
    out_path.parent.mkdir(parents=True, exist_ok=True)
    if not removed:
        shutil.copyfile(nt_path, out_path)
        return

    def kept() -> Iterator[ox.Quad]:
        for t in parse_nt(nt_path):
            s = t.subject
            if isinstance(s, ox.NamedNode) and (s.value in removed or s.value.partition("#")[0] in removed):
                continue
            yield t

    ox.serialize(kept(), output=str(out_path), format=ox.RdfFormat.N_TRIPLES)


def _gate_fast(nt_path: Path, out_path: Path, *, source: str, records: dict[str, tuple[str, int]],
               changed: Path | None = None) -> GateResult:
    t0 = time.perf_counter()
    if fast_validator().delegated:  # pyshacl's shapes are not known to look at one enterprise only
        changed = None
    results = fast_file(changed if changed is not None else nt_path)
    conforms_before = fast.conforms(results)
    violations = fast_violations(results)
    t1 = time.perf_counter()
    identifiers: dict[str, str] = {}

    def is_subject(candidates: set[str]) -> set[str]:
        found = set()
        ident = DCTERMS + "identifier"
        for t in parse_nt(nt_path):
            s = t.subject
            if isinstance(s, ox.NamedNode) and s.value in candidates:
                found.add(s.value)
                if t.predicate.value == ident and s.value not in identifiers:
                    identifiers[s.value] = t.object.value
        return found

    by_owner = _by_owner(violations, records, is_subject)
    quarantine = [_quarantine_record(source, o, found, records, identifiers) for o, found in sorted(by_owner.items())]
    _stream_without(nt_path, set(by_owner), out_path)
    kept = sum(1 for e in records if e not in by_owner)
    result = GateResult(conforms_before, kept, quarantine, violations)
    if conforms_before and not by_owner:
        result.conforms_after = True
    else:
        result.conforms_after = fast.conforms(fast_file(out_path))
    result.seconds = {"parse": 0.0, "validate": t1 - t0, "filter_and_revalidate": time.perf_counter() - t1}
    return result


def _gate_pyshacl(nt_path: Path, out_path: Path, *, source: str, records: dict[str, tuple[str, int]]) -> GateResult:
    t0 = time.perf_counter()
    triples, data = read_ntriples(nt_path)
    t1 = time.perf_counter()
    conforms_before, _, violations = _pyshacl_validate(data)
    t2 = time.perf_counter()
    identifiers: dict[str, str] = {}

    def is_subject(candidates: set[str]) -> set[str]:
        found = {o for o in candidates if (rdflib.URIRef(o), None, None) in data}
        for o in found:
            ident = data.value(rdflib.URIRef(o), rdflib.URIRef(DCTERMS + "identifier"))
            if ident is not None:
                identifiers[o] = str(ident)
        return found

    by_owner = _by_owner(violations, records, is_subject)
    quarantine = [_quarantine_record(source, o, found, records, identifiers) for o, found in sorted(by_owner.items())]
    write_without(triples, set(by_owner), out_path)
    kept = sum(1 for e in records if e not in by_owner)
    result = GateResult(conforms_before, kept, quarantine, violations)
    if conforms_before and not by_owner:
        result.conforms_after = True
    else:
        _, written = read_ntriples(out_path)
        result.conforms_after, _, _ = _pyshacl_validate(written)
    result.seconds = {"parse": t1 - t0, "validate": t2 - t1, "filter_and_revalidate": time.perf_counter() - t2}
    return result


def _pyshacl_validate(data: rdflib.Graph) -> tuple[bool, rdflib.Graph, list[Violation]]:
    conforms, report = _run(data)
    return conforms, report, violations_from_report(report)

"""SHACL on what a release actually published (re-read from its N-Quads, not from memory).

Each source's named graph is validated on its own, with inference off: the shapes are
per-enterprise, so per-graph validation gives the same verdicts as one call over the
union at a fraction of the memory, and stays linear in the number of sources.

The default (fast) backend streams the N-Quads through `gate.fast` block by block
(graph, enterprise) in bounded memory; `SE_PIPELINE_SHACL=pyshacl` builds one rdflib
graph per named graph and runs pyshacl on it.
"""
from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox
import rdflib

from se_pipeline import lifeline
from se_pipeline.gate import fast
from se_pipeline.gate.shacl import backend, fast_validator, fast_violations, validate, violations_table
from se_pipeline.gate.violations import Violation
from se_pipeline.namespaces import SE_GRAPH, SH
from se_pipeline.runtime import tune_gc

VOCABULARY_GRAPH = SE_GRAPH + "vocabulary"
#: Results listed in shacl-report.ttl (the Markdown summary counts all of them).
MAX_REPORTED_RESULTS = 1000


def _graphs(nq_gz: Path) -> dict[str, list[ox.Quad]]:
    graphs: dict[str, list[ox.Quad]] = {}
    with gzip.open(nq_gz, "rb") as f:
        for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
            graphs.setdefault(q.graph_name.value, []).append(q)
    return graphs


def _to_rdflib(quads: list[ox.Quad]) -> rdflib.Graph:
    g = rdflib.Graph()
    data = ox.serialize((q.triple for q in quads), format=ox.RdfFormat.N_TRIPLES)
    g.parse(data=data, format="nt")
    return g


def _quads(nq_gz: Path) -> Iterator[ox.Quad]:
    with gzip.open(nq_gz, "rb") as f:
        yield from ox.parse(f, format=ox.RdfFormat.N_QUADS)


def _validate_pyshacl(nq_gz: Path) -> tuple[bool, list[Violation]]:
    conforms_all = True
    violations: list[Violation] = []
    for name, quads in _graphs(nq_gz).items():
        if name == VOCABULARY_GRAPH:
            continue
        conforms, _, found = validate(_to_rdflib(quads))
        conforms_all &= conforms
        violations += found
    return conforms_all, violations


def _validate_fast(nq_gz: Path) -> tuple[bool, list[Violation]] | None:
    try:
        results = fast.validate_ox(fast_validator(), lambda: _quads(nq_gz), frozenset({VOCABULARY_GRAPH}))
    except fast.UnsupportedData:
        return None
    return fast.conforms(results), fast_violations(results)


def report_turtle(conforms: bool, violations: list[Violation], limit: int = MAX_REPORTED_RESULTS) -> bytes:
    """A SHACL validation report: one sh:ValidationReport with exactly one sh:conforms and
    up to `limit` sh:ValidationResult (focus node, path, value, shape, severity, message)."""
    sh = rdflib.Namespace(SH)
    report = rdflib.Graph()
    report.bind("sh", SH)
    node = rdflib.URIRef("https://w3id.org/se-pipeline/shacl-report")
    report.add((node, rdflib.RDF.type, sh.ValidationReport))
    report.add((node, sh.conforms, rdflib.Literal(conforms)))
    for i, v in enumerate(violations[:limit]):
        r = rdflib.URIRef(f"https://w3id.org/se-pipeline/shacl-report#r{i}")
        report.add((node, sh.result, r))
        report.add((r, rdflib.RDF.type, sh.ValidationResult))
        focus = rdflib.BNode(v.focus_node[2:]) if v.focus_node.startswith("_:") else rdflib.URIRef(v.focus_node)
        report.add((r, sh.focusNode, focus))
        if v.path:
            report.add((r, sh.resultPath, rdflib.URIRef(v.path)))
        if v.value is not None:
            report.add((r, sh.value, rdflib.Literal(v.value)))
        report.add((r, sh.resultMessage, rdflib.Literal(v.message)))
        report.add((r, sh.sourceShape, rdflib.URIRef(v.shape)))
        report.add((r, sh.resultSeverity, rdflib.URIRef(SH + v.severity)))
    return report.serialize(format="turtle").encode("utf-8")


def validate_release(nq_gz: Path) -> tuple[bool, bytes, str]:
    """(conforms, report as Turtle with one sh:conforms, Markdown summary of violations)."""
    outcome = _validate_fast(nq_gz) if backend() == "fast" else None
    conforms_all, violations = outcome if outcome is not None else _validate_pyshacl(nq_gz)
    return conforms_all, report_turtle(conforms_all, violations), violations_table(violations)


@dataclass
class PendingValidation:
    """`validate_release` running in a helper process (see `start_release_validation`)."""

    helper: lifeline.Helper
    summary_path: Path

    def result(self) -> tuple[bool, str]:
        """Wait; (conforms, Markdown summary). Raises `lifeline.HelperFailed` on a crash."""
        self.helper.wait()
        outcome = json.loads(self.summary_path.read_text(encoding="utf-8"))
        self.summary_path.unlink()
        return outcome["conforms"], outcome["summary"]


def start_release_validation(nq_gz: Path, report: Path) -> PendingValidation:
    """Start `validate_release(nq_gz)` in a helper process that writes the report to
    `report`: the release build re-reads its datasets on one core while this validates
    on the other (~10 s per 700k quads each on this project's 2-core machine)."""
    summary = report.with_name(f".{report.name}.summary.json")
    helper = lifeline.spawn("release SHACL", "se_pipeline.gate.release_shacl", str(nq_gz), str(report), str(summary))
    return PendingValidation(helper, summary)


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.gate.release_shacl NQ_GZ REPORT_TTL SUMMARY_JSON`."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 3:
        print(main.__doc__, file=sys.stderr)
        return 2
    nq_gz, report, summary = map(Path, args)
    lifeline.hold()
    tune_gc()
    conforms, turtle, table = validate_release(nq_gz)
    report.write_bytes(turtle)
    summary.write_text(json.dumps({"conforms": conforms, "summary": table}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

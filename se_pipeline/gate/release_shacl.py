"""SHACL on what a release publishes: every graph the release gate proves published.

Each named graph is validated on its own, with inference off: the shapes are
per-enterprise, so per-graph validation gives the same verdicts as one call over the
union at a fraction of the memory, and stays linear in the number of sources.

During a build (`start_release_validation`) the helper reads each graph from the file
the release is built from. The release gate re-reads the published N-Quads, Turtle and
JSON-LD and requires exactly the statements of those files (fingerprints of the statistics
taken from them), so validating the files validates what is published, without a
parse of the whole `dataset.nq.gz` only to skip most of it (benchmarks/README.md,
"Figures behind choices in the code"). `validate_release` checks a release
directory's published N-Quads directly (`se-pipeline validate RELEASE_DIR`).

The default (fast) backend streams statements through `gate.fast` block by block
(graph, enterprise) in bounded memory; `SE_PIPELINE_SHACL=pyshacl` builds one rdflib
graph per named graph and runs pyshacl on it.

A graph whose file is byte for byte the one its source's gate passed, under the very same
shapes (`gated_graphs`), is not validated again: a second run would repeat the same
checks on the same triples. Everything else (the links graph, a graph changed since its
gate, any graph after the shapes changed) is validated here. The vocabulary graph (our
own concept labels, written by the build) is not an enterprise graph and is skipped.
"""
from __future__ import annotations

import argparse
import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import pyoxigraph as ox
import rdflib

from se_pipeline import child_processes
from se_pipeline.gate import fast
from se_pipeline.files import sha256_file
from se_pipeline.gate.shacl import (
    backend, fast_file, fast_validator, fast_violations, parse_nt, shapes_digest, validate, violation_order,
    violations_table,
)
from se_pipeline.gate.violations import Violation
from se_pipeline.namespaces import SE_GRAPH, SH
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH
from se_pipeline.runtime import tune_gc
from se_pipeline.state import read_json

#: Results listed in shacl-report.ttl (the Markdown summary counts all of them).
MAX_REPORTED_RESULTS = 1000


def gated_graphs(parts: Iterable[tuple[str, Path]]) -> frozenset[str]:
    """The graphs of `parts` (graph name, N-Triples file in `state/<source>/good/`) whose
    file is the one their source's gate passed (`gate.json` beside it), under the shapes
    this process validates with."""
    digest = shapes_digest()
    gated = set()
    for graph, path in parts:
        verdict = read_json(path.parent / "gate.json")
        if verdict.get("conforms_after") is True and verdict.get("shapes_sha256") == digest \
                and verdict.get("graph_sha256") == sha256_file(path):
            gated.add(graph)
    return frozenset(gated)


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


def _validate_pyshacl(nq_gz: Path, skip: frozenset[str]) -> tuple[bool, list[Violation]]:
    conforms_all = True
    violations: list[Violation] = []
    for name, quads in _graphs(nq_gz).items():
        if name in skip:
            continue
        conforms, _, found = validate(_to_rdflib(quads))
        conforms_all &= conforms
        violations += found
    return conforms_all, violations


def _validate_fast(nq_gz: Path, skip: frozenset[str]) -> tuple[bool, list[Violation]] | None:
    try:
        results = fast.validate_ox(fast_validator(), lambda: _quads(nq_gz), skip)
    except fast.UnsupportedData:
        return None
    return fast.conforms(results), fast_violations(results)


def _validate_parts(parts: list[tuple[str, Path]]) -> tuple[bool, list[Violation]]:
    """Each part's N-Triples file validated as its own graph, as the source gate does
    (fast backend, or pyshacl where the data needs it or the environment asks for it)."""
    conforms_all = True
    violations: list[Violation] = []
    for _, path in parts:
        results = None
        if backend() == "fast":
            try:
                results = fast_file(path)
            except fast.UnsupportedData:
                results = None
        if results is not None:
            conforms, found = fast.conforms(results), fast_violations(results)
        else:
            strict = ox.serialize(parse_nt(path), format=ox.RdfFormat.N_TRIPLES)
            conforms, _, found = validate(rdflib.Graph().parse(data=strict, format="nt"))
        conforms_all &= conforms
        violations += found
    violations.sort(key=violation_order)
    return conforms_all, violations


def report_turtle(conforms: bool, violations: list[Violation], limit: int = MAX_REPORTED_RESULTS,
                  gated: frozenset[str] = frozenset()) -> bytes:
    """A SHACL validation report: one sh:ValidationReport with exactly one sh:conforms and
    up to `limit` sh:ValidationResult (focus node, path, value, shape, severity, message);
    an rdfs:comment names the graphs `gated` (validated by their source's gate)."""
    sh = rdflib.Namespace(SH)
    report = rdflib.Graph()
    report.bind("sh", SH)
    node = rdflib.URIRef("https://w3id.org/se-pipeline/shacl-report")
    report.add((node, rdflib.RDF.type, sh.ValidationReport))
    report.add((node, sh.conforms, rdflib.Literal(conforms)))
    if gated:
        report.add((node, rdflib.RDFS.comment, rdflib.Literal(_gated_note(gated))))
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


def validate_release(nq_gz: Path, gated: frozenset[str] = frozenset()) -> tuple[bool, bytes, str]:
    """(conforms, report as Turtle with one sh:conforms, Markdown summary of violations)
    of a release's published N-Quads. Graphs in `gated` (see `gated_graphs`) and the
    vocabulary graph are not validated."""
    skip = gated | {VOCABULARY_GRAPH}
    outcome = _validate_fast(nq_gz, skip) if backend() == "fast" else None
    conforms_all, violations = outcome if outcome is not None else _validate_pyshacl(nq_gz, skip)
    return conforms_all, report_turtle(conforms_all, violations, gated=gated), _summary(violations, gated)


def validate_release_parts(parts: list[tuple[str, Path]]) -> tuple[bool, bytes, str]:
    """What `validate_release` gives for the release built from `parts` (graph name,
    N-Triples file), read from the parts' files: those their gate passed (`gated_graphs`)
    and the vocabulary graph are not validated."""
    gated = gated_graphs(parts)
    todo = [(g, p) for g, p in parts if g not in gated and g != VOCABULARY_GRAPH]
    conforms_all, violations = _validate_parts(todo)
    return conforms_all, report_turtle(conforms_all, violations, gated=gated), _summary(violations, gated)


def _summary(violations: list[Violation], gated: frozenset[str]) -> str:
    return violations_table(violations) + (f"\n\n{_gated_note(gated)}" if gated else "")


def _gated_note(gated: frozenset[str]) -> str:
    return ("Validated by their source's gate (same bytes, same shapes), not again here: "
            + ", ".join(sorted(g.removeprefix(SE_GRAPH) for g in gated)) + ".")


@dataclass
class PendingValidation:
    """`validate_release` running in a helper process (see `start_release_validation`)."""

    helper: child_processes.ChildProcess
    summary_path: Path

    def result(self) -> tuple[bool, str]:
        """(conforms, Markdown summary), once `helper.wait()` returned (it raises
        `child_processes.ChildProcessFailed` if the check crashed)."""
        outcome = json.loads(self.summary_path.read_text(encoding="utf-8"))
        self.summary_path.unlink()
        return outcome["conforms"], outcome["summary"]


def start_release_validation(report: Path, parts: Iterable[tuple[str, Path]]) -> PendingValidation:
    """Start `validate_release_parts(parts)` in a helper process that writes the report to
    `report`: it needs nothing the build computes, so it runs beside the datasets'
    writing from the start. `parts` are the graphs' names and the files the release is
    built from."""
    summary = report.with_name(f".{report.name}.summary.json")
    helper = child_processes.start("release SHACL", "se_pipeline.gate.release_shacl", str(report), str(summary),
                            *(a for graph, path in parts for a in ("--part", graph, str(path))))
    return PendingValidation(helper, summary)


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.gate.release_shacl REPORT_TTL SUMMARY_JSON [--part GRAPH NT]...`."""
    parser = argparse.ArgumentParser(prog="python -m se_pipeline.gate.release_shacl", description=main.__doc__)
    parser.add_argument("report", type=Path)
    parser.add_argument("summary", type=Path)
    parser.add_argument("--part", nargs=2, action="append", default=[], metavar=("GRAPH", "NT"),
                        help="a graph the release is built from, and its N-Triples file (repeatable)")
    args = parser.parse_args(argv)
    report, summary = args.report, args.summary
    child_processes.die_with_parent()
    tune_gc()
    conforms, turtle, table = validate_release_parts([(g, Path(p)) for g, p in args.part])
    report.write_bytes(turtle)
    summary.write_text(json.dumps({"conforms": conforms, "summary": table}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())

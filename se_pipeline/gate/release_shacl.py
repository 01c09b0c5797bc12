"""SHACL on what a release actually published (re-read from its N-Quads, not from memory).

Each source's named graph is validated on its own, with inference off: the shapes are
per-enterprise, so per-graph validation gives the same verdicts as one call over the
union at a fraction of the memory, and stays linear in the number of sources.
"""
from __future__ import annotations

import gzip
from pathlib import Path

import pyoxigraph as ox
import rdflib

from se_pipeline.gate.shacl import report_turtle, validate, violations_table
from se_pipeline.namespaces import SE_GRAPH, SH

VOCABULARY_GRAPH = SE_GRAPH + "vocabulary"


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


def validate_release(nq_gz: Path) -> tuple[bool, bytes, str]:
    """(conforms, report as Turtle with one sh:conforms, Markdown summary of violations)."""
    conforms_all = True
    violations = []
    for name, quads in _graphs(nq_gz).items():
        if name == VOCABULARY_GRAPH:
            continue
        conforms, _, found = validate(_to_rdflib(quads))
        conforms_all &= conforms
        violations += found
    report = rdflib.Graph()
    node = rdflib.URIRef("https://w3id.org/se-pipeline/shacl-report")
    report.add((node, rdflib.RDF.type, rdflib.URIRef(SH + "ValidationReport")))
    report.add((node, rdflib.URIRef(SH + "conforms"), rdflib.Literal(conforms_all)))
    for i, v in enumerate(violations[:1000]):
        r = rdflib.URIRef(f"https://w3id.org/se-pipeline/shacl-report#r{i}")
        report.add((node, rdflib.URIRef(SH + "result"), r))
        report.add((r, rdflib.RDF.type, rdflib.URIRef(SH + "ValidationResult")))
        report.add((r, rdflib.URIRef(SH + "focusNode"), rdflib.URIRef(v.focus_node)))
        report.add((r, rdflib.URIRef(SH + "resultMessage"), rdflib.Literal(v.message)))
        report.add((r, rdflib.URIRef(SH + "sourceShape"), rdflib.URIRef(v.shape)))
    return conforms_all, report.serialize(format="turtle").encode("utf-8"), violations_table(violations)

"""Fixture loading for the gate tests: one pyshacl call per folder, results per file."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import rdflib

from se_pipeline.gate.shacl import SHAPES_NS, validate
from se_pipeline.namespaces import SH

FIXTURES = Path(__file__).parent / "fixtures"
_FAILS = re.compile(r"^# fails: (\S+) (\S+)\s*$", re.M)
SHP = rdflib.Namespace(SH)


@dataclass
class Fixture:
    path: Path
    graph: rdflib.Graph
    expected: set[tuple[str, str]]  # (shape IRI, constraint component IRI)

    @property
    def nodes(self) -> set[rdflib.term.Node]:
        return set(self.graph.subjects()) | set(self.graph.objects())


def load_folder(name: str) -> list[Fixture]:
    out = []
    for path in sorted((FIXTURES / name).glob("*.ttl")):
        text = path.read_text(encoding="utf-8")
        g = rdflib.Graph()
        g.parse(data=text, format="turtle")
        expected = {(SHAPES_NS + s, SH + c + "ConstraintComponent") for s, c in _FAILS.findall(text)}
        out.append(Fixture(path, g, expected))
    return out


def validate_together(fixtures: list[Fixture]) -> tuple[bool, rdflib.Graph]:
    """Union of the fixtures (disjoint IRIs; blank nodes stay distinct) validated once."""
    union = rdflib.Graph()
    for f in fixtures:
        union += f.graph
    conforms, report, _ = validate(union)
    return conforms, report


def results_for(report: rdflib.Graph, fixture: Fixture) -> set[tuple[str, str]]:
    """(sourceShape, sourceConstraintComponent) of results whose focus node is in the fixture."""
    nodes = fixture.nodes
    found = set()
    for r in report.objects(None, SHP.result):
        if report.value(r, SHP.focusNode) in nodes:
            found.add((str(report.value(r, SHP.sourceShape)), str(report.value(r, SHP.sourceConstraintComponent))))
    return found

"""The shapes themselves: valid fixtures conform, each invalid fixture fails for exactly
its declared (shape, constraint) reasons, and every constraint of every shape is covered.

All fixtures of a folder are validated in one pyshacl call (see fixtures/README.md).
"""
from __future__ import annotations

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline import SHAPES_DIR
from se_pipeline.gate.shacl import SHAPES_NS, load_shapes
from se_pipeline.namespaces import SH

from .helpers import SHP, Fixture, load_folder, results_for, validate_together

INVALID = load_folder("invalid")
VALID = load_folder("valid")

#: SHACL parameter -> the constraint component it belongs to (extend when a shape uses a new one).
COMPONENTS = {
    "minCount": "MinCount", "maxCount": "MaxCount", "datatype": "Datatype", "nodeKind": "NodeKind",
    "minLength": "MinLength", "maxLength": "MaxLength", "pattern": "Pattern", "minInclusive": "MinInclusive",
    "maxInclusive": "MaxInclusive", "class": "Class", "or": "Or", "sparql": "SPARQL", "in": "In",
    "hasValue": "HasValue", "languageIn": "LanguageIn", "node": "Node", "lessThan": "LessThan",
}
NOT_CONSTRAINTS = {
    "path", "name", "description", "message", "severity", "property", "targetClass", "targetNode",
    "targetSubjectsOf", "targetObjectsOf", "target", "flags", "order", "group", "deactivated",
}


def shape_iris() -> set[rdflib.URIRef]:
    g = load_shapes()
    return {s for t in (SHP.NodeShape, SHP.PropertyShape) for s in g.subjects(rdflib.RDF.type, t)}


def constraints_of(shape: rdflib.URIRef) -> set[tuple[str, str]]:
    out = set()
    for p in set(load_shapes().predicates(shape)):
        if not str(p).startswith(SH):
            continue
        local = str(p)[len(SH):]
        if local in NOT_CONSTRAINTS:
            continue
        assert local in COMPONENTS, f"{shape} uses sh:{local}; add it to COMPONENTS and cover it with a fixture"
        out.add((str(shape), SH + COMPONENTS[local] + "ConstraintComponent"))
    return out


@pytest.fixture(scope="module")
def invalid_report() -> rdflib.Graph:
    return validate_together(INVALID)[1]


def test_shape_files_are_strict_turtle() -> None:
    files = sorted(SHAPES_DIR.glob("*.ttl"))
    assert len(files) >= 7
    for f in files:
        assert list(ox.parse(path=str(f), format=ox.RdfFormat.TURTLE)), f


def test_shapes_have_stable_iris_names_and_messages() -> None:
    g = load_shapes()
    shapes = shape_iris()
    assert shapes
    for s in shapes:
        assert isinstance(s, rdflib.URIRef) and str(s).startswith(SHAPES_NS), s
        assert g.value(s, SHP.name) is not None, f"{s} has no sh:name"
    for s in g.subjects(rdflib.RDF.type, SHP.PropertyShape):
        assert g.value(s, SHP.message) is not None, f"{s} has no sh:message"
    # every shape is typed: a property shape reached by sh:property must be declared as one
    for ps in g.objects(None, SHP.property):
        assert ps in shapes, ps


def test_load_shapes_is_cached() -> None:
    assert load_shapes() is load_shapes()


def test_valid_fixtures_conform() -> None:
    conforms, report = validate_together(VALID)
    problems = {f.path.name: results_for(report, f) for f in VALID if results_for(report, f)}
    assert conforms and not problems, problems


@pytest.mark.parametrize("fixture", INVALID, ids=[f.path.stem for f in INVALID])
def test_invalid_fixture_fails_for_declared_reason(fixture: Fixture, invalid_report: rdflib.Graph) -> None:
    assert fixture.expected, f"{fixture.path.name} declares no '# fails: <Shape> <Component>' line"
    assert results_for(invalid_report, fixture) == fixture.expected


def test_fixture_names_follow_the_convention() -> None:
    for f in INVALID:
        shape = SHAPES_NS + f.path.stem.split("--")[0]
        assert any(s == shape for s, _ in f.expected), f"{f.path.name}: file name shape is not among its failures"


def test_fixtures_use_disjoint_iris() -> None:
    """Needed for validating a folder in one call: no IRI subject is shared between fixtures."""
    seen: dict[rdflib.term.Node, str] = {}
    for f in INVALID + VALID:
        for s in set(f.graph.subjects()):
            if isinstance(s, rdflib.URIRef):
                assert s not in seen, f"{s} in {seen.get(s)} and {f.path.name}"
                seen[s] = f.path.name


def test_every_shape_and_constraint_is_covered_by_a_failing_fixture() -> None:
    g = load_shapes()
    declared = set().union(*(f.expected for f in INVALID))
    failed_shapes = {s for s, _ in declared}
    missing = []
    for shape in sorted(shape_iris()):
        own = constraints_of(shape)
        missing += sorted(own - declared)
        properties = {str(p) for p in g.objects(shape, SHP.property)}
        if str(shape) not in failed_shapes and not (properties & failed_shapes):
            missing.append((str(shape), "(no failing fixture at all)"))
    assert not missing, missing

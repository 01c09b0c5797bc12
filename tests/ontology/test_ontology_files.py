"""The ontology files parse strictly and declare every sep: term the pipeline publishes.

A term used in data but not declared is invisible to reasoners and documentation; a term
declared without labels in our four languages breaks the multilingual promise of a release.
"""
from __future__ import annotations

import re
from collections import defaultdict

import pyoxigraph as ox
import pytest

from tests.ontology.ontology_testlib import LANGS, ONTOLOGY_FILES, REPO_ROOT, parse
from se_pipeline import ONTOLOGY_DIR
from se_pipeline.namespaces import OWL, RDF, RDF_TYPE, RDFS, SEP, SKOS

ONTOLOGY = ONTOLOGY_DIR / "se-pipeline.ttl"
DECLARING_TYPES = {OWL + "Class", OWL + "ObjectProperty", OWL + "DatatypeProperty", RDF + "Property"}
#: The terms the architecture and the brief of this ontology require.
REQUIRED_TERMS = {
    "legalFormLabel", "practice", "status", "statusDate", "memberCount", "workerCount", "countDate",
    "memberOf", "Membership", "hasMembership", "member", "organisation", "startDate", "endDate",
    "registryIdentifier", "SupportOrganisation", "withdrawn", "withdrawnOn", "outlet", "Outlet", "domain",
}


def test_expected_files_exist() -> None:
    names = {p.relative_to(ONTOLOGY_DIR).as_posix() for p in ONTOLOGY_FILES}
    assert {"se-pipeline.ttl", "essglobal-labels.ttl", "taxonomy/practice.ttl", "taxonomy/status.ttl"} <= names


@pytest.mark.parametrize("path", ONTOLOGY_FILES, ids=lambda p: p.name)
def test_parses_strictly(path) -> None:
    triples = parse(path)
    assert triples, f"{path} is empty"
    # no relative IRI slipped through (Oxigraph resolves them only against a base)
    for t in triples:
        for term in (t.subject, t.predicate, t.object):
            if isinstance(term, ox.NamedNode):
                assert re.match(r"^[a-z][a-z0-9+.-]*:", term.value), term


def _declarations() -> dict[str, dict[str, list[ox.Literal | ox.NamedNode]]]:
    by_s: dict[str, dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for t in parse(ONTOLOGY):
        if isinstance(t.subject, ox.NamedNode):
            by_s[t.subject.value][t.predicate.value].append(t.object)
    return by_s


def test_required_and_architecture_terms_are_declared() -> None:
    decl = _declarations()
    declared = {s[len(SEP):] for s, props in decl.items()
                if s.startswith(SEP) and {o.value for o in props[RDF_TYPE]} & DECLARING_TYPES}
    arch = (REPO_ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    used = set(re.findall(r"\bsep:([A-Za-z][A-Za-z0-9]*)", arch))
    assert REQUIRED_TERMS - declared == set()
    assert used - declared == set(), "terms in docs/architecture.md not declared in ontology/se-pipeline.ttl"


def test_every_sep_term_is_labelled_and_defined() -> None:
    for s, props in _declarations().items():
        if not s.startswith(SEP) or s == SEP:
            continue
        labels = {o.language: o.value for o in props[RDFS + "label"] if isinstance(o, ox.Literal)}
        assert all(labels.get(lang, "").strip() for lang in LANGS), f"{s} lacks a label in one of {LANGS}: {labels}"
        assert len(set(labels[lang] for lang in LANGS)) > 1, f"{s}: labels are copies, not translations"
        defs = [o for o in props[SKOS + "definition"] if isinstance(o, ox.Literal) and o.language == "en"]
        assert defs and defs[0].value.strip(), f"{s} lacks an English skos:definition"
        assert [o.value for o in props[RDFS + "isDefinedBy"]] == [SEP], s


def test_concept_valued_essglobal_properties_are_object_properties() -> None:
    """ESSGlobal declares them as datatype properties; our ontology states the intended use."""
    decl = _declarations()
    for local in ("organisationalStructure", "primarySector", "economicSector", "baseMembershipType",
                  "qualifier", "legalForm"):
        props = decl["http://purl.org/essglobal/vocab/" + local]
        assert {o.value for o in props[RDF_TYPE]} == {OWL + "ObjectProperty"}, local
        assert [o.value for o in props[RDFS + "range"]] == [SKOS + "Concept"], local


def test_support_organisation_is_an_sse_initiative() -> None:
    props = _declarations()[SEP + "SupportOrganisation"]
    assert "http://purl.org/essglobal/vocab/SSEInitiative" in {o.value for o in props[RDFS + "subClassOf"]}
    assert props[RDFS + "comment"], "the decision must be documented"

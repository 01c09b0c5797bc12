"""`rdf.vocabulary` gives a release the labels of exactly the concepts it uses.

Why: a release must be readable offline in four languages without dragging along every
concept we know; the triples must also be stable so releases are reproducible.
"""
from __future__ import annotations

import pyoxigraph as ox

from se_pipeline.namespaces import ESS_STANDARD, RDF_TYPE, SEP, SEPT, SKOS
from se_pipeline.rdf.vocabulary import concept_triples, ontology_triples, used_concepts

PRACTICE = SEPT + "practice/"
ESS_OS = "http://purl.org/essglobal/standard/organisational-structure/"


def _by(triples: list[ox.Triple], s: str, p: str) -> set:
    return {t.object for t in triples if t.subject.value == s and t.predicate.value == p}


def test_used_concept_comes_with_labels_scheme_and_ancestors() -> None:
    out = concept_triples({PRACTICE + "GreenWorkerCoop"})
    labels = _by(out, PRACTICE + "GreenWorkerCoop", SKOS + "prefLabel")
    assert {lit.language for lit in labels} == {"en", "fr", "es", "pt"}
    assert _by(out, PRACTICE + "GreenWorkerCoop", SKOS + "definition")
    # ancestors are described, so skos:broader never dangles
    for ancestor in ("WorkerCoop", "Cooperative"):
        assert _by(out, PRACTICE + ancestor, SKOS + "prefLabel")
    assert ox.NamedNode(SKOS + "ConceptScheme") in _by(out, PRACTICE, RDF_TYPE)
    # the scheme lists only described top concepts
    assert {n.value for n in _by(out, PRACTICE, SKOS + "hasTopConcept")} == {PRACTICE + "Cooperative"}
    # unrelated concepts are not included
    assert not _by(out, PRACTICE + "FoodHub", SKOS + "prefLabel")


def test_essglobal_concept_gets_our_labels_and_unknown_iris_are_ignored() -> None:
    out = concept_triples({ESS_OS + "OS10", "https://example.org/not-a-concept", SEP + "practice"})
    langs = {lit.language for lit in _by(out, ESS_OS + "OS10", SKOS + "prefLabel")}
    assert {"fr", "es", "pt"} <= langs
    assert _by(out, ESS_OS + "OS10", SKOS + "inScheme") == {ox.NamedNode(ESS_OS)}
    assert all(t.subject.value in {ESS_OS, ESS_OS + "OS10"} for t in out)


def test_output_is_sorted_unique_and_cache_safe() -> None:
    a = concept_triples({PRACTICE + "FoodHub", PRACTICE + "WorkerCoop"})
    assert a == sorted(set(a), key=lambda t: (str(t.subject), str(t.predicate), str(t.object)))
    a.clear()
    assert concept_triples({PRACTICE + "FoodHub", PRACTICE + "WorkerCoop"})
    assert concept_triples(set()) == []


def test_ontology_triples_hold_ontology_and_taxonomies() -> None:
    triples = ontology_triples()
    subjects = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    assert {SEP + "practice", SEP + "SupportOrganisation", PRACTICE + "WorkerCoop", SEPT + "status/Withdrawn"} <= subjects
    triples.clear()
    assert ontology_triples()


def test_used_concepts_are_concept_objects_in_any_graph_but_not_classes() -> None:
    s, p = ox.NamedNode("https://x.org/id/1"), ox.NamedNode("https://x.org/p")
    worker = SEPT + "practice/WorkerCoop"
    sector = ESS_STANDARD + "activities-ica/ICA10"
    store = ox.Store()
    store.extend([
        ox.Quad(s, p, ox.NamedNode(worker), ox.NamedNode("https://x.org/g1")),         # named graph
        ox.Quad(s, p, ox.NamedNode(sector)),                                            # default graph
        ox.Quad(s, ox.NamedNode(RDF_TYPE), ox.NamedNode(SEPT + "practice/AsClass")),    # a class, not a use
        ox.Quad(s, p, ox.Literal(SEPT + "practice/Literal")),                           # a string
        ox.Quad(s, p, ox.NamedNode("https://elsewhere.org/concept/X")),                 # not our bases
    ])
    assert used_concepts(store) == {worker, sector}

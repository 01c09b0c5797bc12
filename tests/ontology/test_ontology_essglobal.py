"""Every ESSGlobal IRI we write exists in the ESSGlobal reference, and every concept of the
schemes we use gets a label in en, fr, es and pt (reference labels + ours).

Why: a mistyped ESSGlobal IRI silently breaks interoperability with partner maps, and a concept
without a Portuguese label shows up blank on a Brazilian map.
"""
from __future__ import annotations

from collections import defaultdict

import pyoxigraph as ox

from tests.ontology.ontology_testlib import (
    ESSGLOBAL_BASE, LABELLED_SCHEMES, LANGS, ONTOLOGY_FILES, RDF_TYPE, SKOS, STANDARD, parse, reference_triples,
)
from se_pipeline import ONTOLOGY_DIR

LABELS_FILE = ONTOLOGY_DIR / "essglobal-labels.ttl"


def _reference_subjects() -> set[str]:
    return {t.subject.value for t in reference_triples() if isinstance(t.subject, ox.NamedNode)}


def test_every_essglobal_iri_in_ontology_exists_in_reference() -> None:
    known = _reference_subjects()
    unknown: dict[str, set[str]] = defaultdict(set)
    for path in ONTOLOGY_FILES:
        for t in parse(path):
            for term in (t.subject, t.predicate, t.object):
                if isinstance(term, ox.NamedNode) and term.value.startswith(ESSGLOBAL_BASE) and term.value not in known:
                    unknown[path.name].add(term.value)
    assert not unknown, f"ESSGlobal IRIs absent from the reference: {dict(unknown)}"


def test_labels_file_only_describes_reference_concepts_and_schemes() -> None:
    ref = reference_triples()
    concepts = {t.subject.value for t in ref if t.predicate.value == RDF_TYPE and t.object.value == SKOS + "Concept"}
    schemes = {t.subject.value for t in ref if t.predicate.value == RDF_TYPE and t.object.value == SKOS + "ConceptScheme"}
    for t in parse(LABELS_FILE):
        s = t.subject.value
        assert s in concepts or s in schemes, s
        assert any(s.startswith(STANDARD + name + "/") for name in LABELLED_SCHEMES), s


def _labels(triples) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = defaultdict(dict)
    for t in triples:
        if t.predicate.value == SKOS + "prefLabel" and isinstance(t.object, ox.Literal) and t.object.value.strip():
            out[t.subject.value].setdefault((t.object.language or "").lower(), t.object.value)
    return out


def test_labels_file_adds_only_what_the_reference_lacks() -> None:
    ref = _labels(reference_triples())
    ref_defs = {t.subject.value for t in reference_triples()
                if t.predicate.value == SKOS + "definition" and t.object.value.strip()
                and (t.object.language or "").lower() == "en"}
    for t in parse(LABELS_FILE):
        if t.predicate.value == SKOS + "prefLabel":
            lang = t.object.language
            assert lang in LANGS, t
            assert t.object.value.strip(), t
            assert lang not in ref.get(t.subject.value, {}), f"reference already labels {t.subject} in {lang}"
        if t.predicate.value == SKOS + "definition":
            assert t.subject.value not in ref_defs, f"reference already defines {t.subject}"


def test_every_concept_of_used_schemes_has_four_labels_and_a_definition() -> None:
    ref = list(reference_triples())
    ours = parse(LABELS_FILE)
    labels = _labels(ref + ours)
    defined = {t.subject.value for t in ref + ours
               if t.predicate.value == SKOS + "definition" and t.object.value.strip()
               and (t.object.language or "").lower() == "en"}
    checked = 0
    for t in ref:
        if t.predicate.value == RDF_TYPE and t.object.value == SKOS + "Concept":
            iri = t.subject.value
            if not any(iri.startswith(STANDARD + name + "/") for name in LABELLED_SCHEMES):
                continue
            missing = [lang for lang in LANGS if lang not in labels.get(iri, {})]
            assert not missing, f"{iri} has no label in {missing}"
            assert iri in defined, f"{iri} has no English definition"
            checked += 1
    assert checked >= 80  # the five schemes hold 88 concepts today

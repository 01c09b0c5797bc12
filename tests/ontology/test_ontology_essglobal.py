"""Every ESSGlobal IRI we write exists in the ESSGlobal reference, and every concept of the
schemes we use gets a label in en, fr, es and pt from OUR files alone.

Why: a mistyped ESSGlobal IRI silently breaks interoperability with partner maps, and a concept
without a Portuguese (or English) label shows up blank on a map. The reference sits in ../shared/
on development machines only, so releases built elsewhere carry only the labels of our files.
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


def test_labels_file_has_one_label_per_language_and_only_missing_definitions() -> None:
    """Labels are all ours (one per language); definitions only where the reference gives none."""
    ref_defs = {t.subject.value for t in reference_triples()
                if t.predicate.value == SKOS + "definition" and t.object.value.strip()
                and (t.object.language or "").lower() == "en"}
    seen: dict[str, list[str]] = defaultdict(list)
    for t in parse(LABELS_FILE):
        if t.predicate.value == SKOS + "prefLabel":
            lang = t.object.language
            assert lang in LANGS, t
            assert t.object.value.strip(), t
            seen[t.subject.value].append(lang)
        if t.predicate.value == SKOS + "definition":
            assert t.subject.value not in ref_defs, f"reference already defines {t.subject}"
    doubles = {s: langs for s, langs in seen.items() if len(langs) != len(set(langs))}
    assert not doubles, f"more than one prefLabel in a language: {doubles}"


def test_our_files_alone_label_every_concept_in_four_languages() -> None:
    """Holds without the reference (on a user's machine): every concept and scheme we describe."""
    ours = parse(LABELS_FILE)
    labels = _labels(ours)
    subjects = {t.subject.value for t in ours if t.predicate.value == RDF_TYPE
                and t.object.value in (SKOS + "Concept", SKOS + "ConceptScheme")}
    for name in LABELLED_SCHEMES:
        assert STANDARD + name + "/" in subjects, f"scheme {name} missing from {LABELS_FILE.name}"
    for iri in sorted(subjects):
        missing = [lang for lang in LANGS if lang not in labels.get(iri, {})]
        assert not missing, f"{iri} has no label of ours in {missing}"
    am = [s for s in subjects if s.startswith(STANDARD + "activities-modified/AM")]
    assert len(am) >= 16, am


def test_every_concept_of_used_schemes_has_four_labels_and_a_definition() -> None:
    """Every concept the reference lists in those schemes: labels from OUR file alone, and an
    English definition (ours, or the reference's)."""
    ref = list(reference_triples())
    ours = parse(LABELS_FILE)
    labels = _labels(ours)
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
            assert not missing, f"{iri} has no label of ours in {missing}"
            assert iri in defined, f"{iri} has no English definition"
            checked += 1
    assert checked >= 100  # the six schemes hold 88 + 16 concepts today

"""Our ontology and concept labels, as triples a release can carry.

A release is only readable if the concepts it uses come with their labels (en, fr, es,
pt), definitions and scheme: a partner's map should not have to dereference
`sept:practice/WorkerCoop` to show "Coopérative de travail associé". The files under
`ontology/` (our OWL ontology, our SKOS taxonomies and our labels for ESSGlobal concepts)
are the single source of that text; this module parses them once with Oxigraph's strict
Turtle parser and hands out the relevant triples.
"""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox

from se_pipeline import ONTOLOGY_DIR
from se_pipeline.namespaces import ESS_STANDARD, RDF_TYPE, SE_GRAPH, SEPT, SKOS

ONTOLOGY_FILE = "se-pipeline.ttl"
ESSGLOBAL_LABELS_FILE = "essglobal-labels.ttl"
TAXONOMY_DIR = "taxonomy"

#: Properties of a concept that travel with a release (labels, definitions, hierarchy, mappings).
CONCEPT_PREDICATES: frozenset[str] = frozenset(
    [RDF_TYPE] + [SKOS + p for p in (
        "prefLabel", "altLabel", "definition", "scopeNote", "notation", "inScheme", "topConceptOf",
        "broader", "related", "exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch",
    )]
)
#: Where the concepts a record points at live (ESSGlobal standard schemes, our taxonomies).
CONCEPT_BASES: tuple[str, ...] = (ESS_STANDARD, SEPT)
_BROADER = SKOS + "broader"
_IN_SCHEME = (SKOS + "inScheme", SKOS + "topConceptOf")
_HAS_TOP = SKOS + "hasTopConcept"
_SKOS_CONCEPT = SKOS + "Concept"
_PREF_LABEL = SKOS + "prefLabel"
#: The release's named graph of `concept_triples` (labels of the concepts its data uses).
VOCABULARY_GRAPH = SE_GRAPH + "vocabulary"


def _parse(path: Path) -> list[ox.Triple]:
    """Strict Turtle parse (a syntax error must fail the build, not drop triples)."""
    return [q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)]


def _taxonomy_files(root: Path) -> list[Path]:
    return sorted((root / TAXONOMY_DIR).glob("*.ttl"))


@lru_cache(maxsize=4)
def _ontology(root: Path) -> tuple[ox.Triple, ...]:
    files = [root / ONTOLOGY_FILE, *_taxonomy_files(root)]
    return tuple(t for f in files for t in _parse(f))


@lru_cache(maxsize=4)
def _by_subject(root: Path) -> dict[str, tuple[ox.Triple, ...]]:
    """Every triple of the taxonomies and ESSGlobal labels, indexed by subject IRI."""
    files = [*_taxonomy_files(root), root / ESSGLOBAL_LABELS_FILE]
    index: dict[str, list[ox.Triple]] = {}
    for f in files:
        for t in _parse(f):
            if isinstance(t.subject, ox.NamedNode):
                index.setdefault(t.subject.value, []).append(t)
    return {k: tuple(v) for k, v in index.items()}


def _is_concept(triples: tuple[ox.Triple, ...]) -> bool:
    return any(t.predicate.value == RDF_TYPE and t.object.value == _SKOS_CONCEPT for t in triples)


def _sort_key(t: ox.Triple) -> tuple[str, str, str]:
    return (str(t.subject), str(t.predicate), str(t.object))


def ontology_triples(root: Path | None = None) -> list[ox.Triple]:
    """The whole ontology and our taxonomies (practice, status), e.g. to publish beside a release.

    Parsed once per process; a fresh list is returned so callers may mutate it.
    """
    return list(_ontology(Path(root or ONTOLOGY_DIR)))


_USED_CONCEPTS = (
    "SELECT DISTINCT ?o WHERE { ?s ?p ?o FILTER(isIRI(?o) && ?p != <" + RDF_TYPE + "> && ("
    + " || ".join(f'STRSTARTS(STR(?o), "{base}")' for base in CONCEPT_BASES) + ")) }"
)


def used_concepts(store: ox.Store) -> set[str]:
    """The concepts `store`'s statements point at, in any graph: objects under
    `CONCEPT_BASES`, except as a class (`rdf:type`). The release statistics and the
    static-document writer both take the concepts to label from here. A SPARQL query, so
    the scan over every statement runs in Oxigraph, not in Python."""
    return {row["o"].value for row in store.query(_USED_CONCEPTS, use_default_graph_as_union=True)}


def vocabulary_quads(store: ox.Store, graph: str) -> list[ox.Quad]:
    """`concept_triples` of every concept `store` uses, as quads in `graph`."""
    g = ox.NamedNode(graph)
    return [ox.Quad(t.subject, t.predicate, t.object, g) for t in concept_triples(used_concepts(store))]


def concept_triples(used_iris: set[str], root: Path | None = None) -> list[ox.Triple]:
    """Label/definition/scheme/hierarchy/mapping triples for the concepts a release uses.

    `used_iris` may hold any IRIs (the objects of a release); those that are concepts in our
    taxonomies or in `essglobal-labels.ttl` are described, together with their broader
    ancestors (so every `skos:broader` target has labels too) and the ConceptSchemes they
    belong to. `skos:hasTopConcept` is kept only towards described concepts, so the output
    never names a concept it does not describe. Unknown IRIs are ignored: checking that
    every concept exists is the SHACL gate's job. Sorted, for reproducible releases.
    """
    index = _by_subject(Path(root or ONTOLOGY_DIR))
    todo = [i for i in used_iris if i in index and _is_concept(index[i])]
    concepts: set[str] = set()
    while todo:
        iri = todo.pop()
        if iri in concepts:
            continue
        concepts.add(iri)
        todo.extend(t.object.value for t in index[iri]
                    if t.predicate.value == _BROADER and t.object.value in index)
    out: list[ox.Triple] = []
    schemes: set[str] = set()
    for iri in concepts:
        for t in index[iri]:
            if t.predicate.value in CONCEPT_PREDICATES:
                out.append(t)
                if t.predicate.value in _IN_SCHEME:
                    schemes.add(t.object.value)
    for scheme in schemes:
        for t in index.get(scheme, ()):
            if t.predicate.value != _HAS_TOP or t.object.value in concepts:
                out.append(t)
    return sorted(set(out), key=_sort_key)


def scheme_concepts(scheme: str, root: Path | None = None) -> list[str]:
    """Every concept our vocabulary files put in `scheme` (`skos:inScheme`), sorted: a
    partner's map loads a whole scheme, not only the concepts one release uses."""
    return sorted(subject for subject, triples in _by_subject(Path(root or ONTOLOGY_DIR)).items()
                  if _is_concept(triples) and any(t.predicate.value in _IN_SCHEME and t.object.value == scheme
                                                  for t in triples))


def vocabulary_labels(iri: str, root: Path | None = None) -> list[tuple[str | None, str]]:
    """(language, label) of every `skos:prefLabel` our vocabulary files give `iri` (a
    concept or scheme; none for other IRIs): the labels `concept_triples` carries for it,
    looked up for one IRI at a time."""
    return [(t.object.language, t.object.value) for t in _by_subject(Path(root) if root else ONTOLOGY_DIR).get(iri, ())
            if t.predicate.value == _PREF_LABEL and isinstance(t.object, ox.Literal)]

"""Four-language labels (en, fr, es, pt) for the concepts an export uses.

Labels come from the project's own files (`ontology/taxonomy/*.ttl`,
`ontology/essglobal-labels.ttl`) through `se_pipeline.rdf.vocabulary`, so an export says exactly
what the release's vocabulary graph says, whatever machine builds it. A language still missing
falls back to the English label, then to the concept's code (last IRI segment), so a partner's
map never shows an empty legend.
"""
from __future__ import annotations

import pyoxigraph as ox

from se_pipeline.namespaces import SKOS
from se_pipeline.rdf.vocabulary import concept_triples

LANGUAGES = ("en", "fr", "es", "pt")
_LABEL_PREDICATES = (SKOS + "prefLabel", "http://purl.org/dc/elements/1.1/title", "http://purl.org/dc/terms/title")


def _collect(triples: list[ox.Triple] | tuple[ox.Triple, ...], into: dict[str, dict[str, str]]) -> None:
    """prefLabel before dc:title, first non-empty value per (subject, language)."""
    for pred in _LABEL_PREDICATES:
        for t in triples:
            if t.predicate.value != pred or not isinstance(t.object, ox.Literal) or not t.object.language:
                continue
            text = " ".join(t.object.value.split())
            lang = t.object.language.lower().split("-")[0]
            if text and lang in LANGUAGES:
                into.setdefault(t.subject.value, {}).setdefault(lang, text)


def code_of(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def labels_for(iris: set[str]) -> dict[str, dict[str, str]]:
    """IRI -> {lang: label} with every language of LANGUAGES filled (see module docstring)."""
    own: dict[str, dict[str, str]] = {}
    _collect(concept_triples(set(iris)), own)
    out: dict[str, dict[str, str]] = {}
    for iri in iris:
        found = own.get(iri, {})
        english = found.get("en") or code_of(iri)
        out[iri] = {lang: found.get(lang) or english for lang in LANGUAGES}
    return out

"""Four-language labels (en, fr, es, pt) for the concepts an export uses.

Where labels come from, in order, per language:
1. the project's own files (`ontology/taxonomy/*.ttl`, `ontology/essglobal-labels.ttl`) through
   `se_pipeline.rdf.vocabulary` — the same text the release's vocabulary graph carries;
2. the ESSGlobal reference (`../shared/reference/essglobal/standard/*.ttl`), when present
   (developer machines; `essglobal-labels.ttl` only fills what the reference lacks);
3. the English label; 4. the concept's code (last IRI segment).
"""
from __future__ import annotations

from functools import lru_cache

import pyoxigraph as ox

from se_pipeline import PROJECT_ROOT
from se_pipeline.namespaces import SKOS

LANGUAGES = ("en", "fr", "es", "pt")
_LABEL_PREDICATES = (SKOS + "prefLabel", "http://purl.org/dc/elements/1.1/title", "http://purl.org/dc/terms/title")
REFERENCE_DIR = PROJECT_ROOT.parent / "shared" / "reference" / "essglobal" / "standard"


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


@lru_cache(maxsize=1)
def _reference() -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    if REFERENCE_DIR.is_dir():
        for path in sorted(REFERENCE_DIR.glob("*.ttl")):
            try:
                _collect([q.triple for q in ox.parse(path=str(path), format=ox.RdfFormat.TURTLE)], labels)
            except (SyntaxError, OSError):
                continue
    return labels


def _project(iris: set[str]) -> dict[str, dict[str, str]]:
    labels: dict[str, dict[str, str]] = {}
    try:
        from se_pipeline.rdf.vocabulary import concept_triples
    except ImportError:  # the vocabulary module is optional for exports
        return labels
    _collect(concept_triples(iris), labels)
    return labels


def code_of(iri: str) -> str:
    return iri.rstrip("/").rsplit("/", 1)[-1].rsplit("#", 1)[-1]


def labels_for(iris: set[str]) -> dict[str, dict[str, str]]:
    """IRI -> {lang: label} with every language of LANGUAGES filled (see module docstring)."""
    own, ref = _project(set(iris)), _reference()
    out: dict[str, dict[str, str]] = {}
    for iri in iris:
        found = {**ref.get(iri, {}), **own.get(iri, {})}
        english = found.get("en") or code_of(iri)
        out[iri] = {lang: found.get(lang) or english for lang in LANGUAGES}
    return out

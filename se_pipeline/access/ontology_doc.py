"""A static HTML page documenting our ontology and taxonomies, generated from the Turtle files.

Why generated: the Turtle under `ontology/` is the single source of truth; a hand-written page
would drift from it. The page is self-contained (inline CSS, no scripts, fonts or remote
resources) so it can be published beside a release or opened offline. This module prepares
the data (`collect`, `page`); `access/templates/ontology.html` makes the markup, escaping every
string from the data and linking only http(s) IRIs, because labels and IRIs are data a
contributor (or a compromised source) could fill with markup.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyoxigraph as ox

from se_pipeline.access.pages import DEFAULT_LANG, LANGS, file_alternates, file_name, render
from se_pipeline.namespaces import DFC, OWL, PREFIXES, RDF, RDF_TYPE, RDFS, SCHEMA, SEP, SKOS
from se_pipeline.rdf.profile import PROFILE
from se_pipeline.rdf.vocabulary import ontology_triples


_PREFIXES: dict[str, str] = {**PREFIXES, "dfc-b": DFC, "regorg": "http://www.w3.org/ns/regorg#",
                             "adms": "http://www.w3.org/ns/adms#"}
_KINDS = {OWL + "Class": "Class", OWL + "ObjectProperty": "Object property",
          OWL + "DatatypeProperty": "Datatype property", RDF + "Property": "Property"}
#: The links of a term the page shows, in page order: (key the template names them by, predicate).
_RELATIONS = (("domain", RDFS + "domain"), ("range", RDFS + "range"), ("domainIncludes", SCHEMA + "domainIncludes"),
              ("rangeIncludes", SCHEMA + "rangeIncludes"), ("subClassOf", RDFS + "subClassOf"),
              ("subPropertyOf", RDFS + "subPropertyOf"), ("equivalentProperty", OWL + "equivalentProperty"),
              ("inverseOf", OWL + "inverseOf"), ("seeAlso", RDFS + "seeAlso"))
_MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")

#: The example shown on the page; tests reason over it with the ontology (it must stay consistent).
EXAMPLE_TURTLE = """\
@prefix xsd:       <http://www.w3.org/2001/XMLSchema#> .
@prefix schema:    <https://schema.org/> .
@prefix dcterms:   <http://purl.org/dc/terms/> .
@prefix geo:       <http://www.w3.org/2003/01/geo/wgs84_pos#> .
@prefix essglobal: <http://purl.org/essglobal/vocab/> .
@prefix ess-os:    <http://purl.org/essglobal/standard/organisational-structure/> .
@prefix ess-ica:   <http://purl.org/essglobal/standard/activities-ica/> .
@prefix ess-bmt:   <http://purl.org/essglobal/standard/base-membership-type/> .
@prefix ess-q:     <http://purl.org/essglobal/standard/qualifiers/> .
@prefix ess-lf:    <http://purl.org/essglobal/standard/legal-form/> .
@prefix sep:       <https://w3id.org/se-pipeline/ontology/> .
@prefix sept:      <https://w3id.org/se-pipeline/taxonomy/> .
@prefix id:        <https://w3id.org/se-pipeline/id/> .

# A fictional worker co-operative bakery, member of a fictional national federation.
<https://w3id.org/se-pipeline/id/example/RB-042> a essglobal:SSEInitiative ;
    schema:name "Riverside Bakery Workers' Co-operative" ;
    schema:alternateName "Riverside Bakery" ;
    dcterms:description "A worker-owned bakery using organic, locally milled flour."@en ;
    dcterms:identifier "RB-042" ;
    dcterms:source <https://w3id.org/se-pipeline/source/example> ;
    essglobal:organisationalStructure ess-os:OS60 ;
    essglobal:primarySector ess-ica:ICA250 ;
    essglobal:economicSector ess-ica:ICA240 ;
    essglobal:baseMembershipType ess-bmt:BMT30 ;
    essglobal:qualifier ess-q:Organic ;
    essglobal:legalForm ess-lf:L2 ;
    sep:legalFormLabel "Society" ;
    sep:practice <https://w3id.org/se-pipeline/taxonomy/practice/WorkerCoop> ;
    sep:status <https://w3id.org/se-pipeline/taxonomy/status/Active> ;
    sep:statusDate "2024-03-31"^^xsd:date ;
    schema:foundingDate "1998-06-01"^^xsd:date ;
    sep:memberCount "12"^^xsd:integer ;
    sep:workerCount "15"^^xsd:integer ;
    sep:countDate "2024-03-31"^^xsd:date ;
    sep:memberOf <https://w3id.org/se-pipeline/id/example/FED-1> ;
    sep:hasMembership <https://w3id.org/se-pipeline/id/example/RB-042#membership-FED-1> ;
    sep:registryIdentifier "fca:99999R" ;
    sep:domain "riverside-bakery.coop" ;
    schema:url <https://riverside-bakery.coop/> ;
    schema:email "hello@riverside-bakery.coop" ;
    schema:telephone "+44 1632 960000" ;
    geo:lat "52.0700"^^xsd:decimal ;
    geo:long "-1.1300"^^xsd:decimal ;
    schema:dateModified "2024-04-02"^^xsd:date ;
    sep:outlet <https://w3id.org/se-pipeline/id/example/RB-042-shop> ;
    essglobal:hasAddress <https://w3id.org/se-pipeline/id/example/RB-042#address> .

<https://w3id.org/se-pipeline/id/example/RB-042#address> a essglobal:Address , schema:PostalAddress ;
    schema:streetAddress "1 Mill Lane" ;
    schema:addressLocality "Riverside" ;
    schema:postalCode "ZZ1 1ZZ" ;
    schema:addressCountry "GB" .

<https://w3id.org/se-pipeline/id/example/RB-042#membership-FED-1> a sep:Membership ;
    sep:member <https://w3id.org/se-pipeline/id/example/RB-042> ;
    sep:organisation <https://w3id.org/se-pipeline/id/example/FED-1> ;
    sep:startDate "2001-01-15"^^xsd:date .

<https://w3id.org/se-pipeline/id/example/RB-042-shop> a essglobal:LocationOfSale ;
    schema:name "Riverside Bakery - High Street shop" ;
    sep:status <https://w3id.org/se-pipeline/taxonomy/status/Active> .

<https://w3id.org/se-pipeline/id/example/FED-1> a essglobal:SSEInitiative , essglobal:Network ;
    schema:name "Example National Federation of Worker Co-operatives" ;
    sep:practice <https://w3id.org/se-pipeline/taxonomy/practice/NationalFederation> ;
    essglobal:organisationalStructure ess-os:OS180 .
"""


@dataclass
class Term:
    """A class or property as the page shows it."""

    iri: str
    kind: str
    labels: dict[str, str] = field(default_factory=dict)
    definition: str = ""
    comment: str = ""
    links: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    @property
    def relations(self) -> list[tuple[str, list[str]]]:
        """(key, IRIs) of the links the page shows (`_RELATIONS`), those the term has."""
        return [(key, self.links[p]) for key, p in _RELATIONS if self.links.get(p)]


@dataclass
class Concept:
    """A SKOS concept as the page shows it."""

    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    definition: str = ""
    broader: list[str] = field(default_factory=list)
    matches: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Scheme:
    """A SKOS concept scheme with its concepts, in hierarchy order (concept, depth)."""

    iri: str
    labels: dict[str, str] = field(default_factory=dict)
    definition: str = ""
    concepts: list[tuple[Concept, int]] = field(default_factory=list)

    @property
    def rows(self) -> list[tuple[Concept, int, str]]:
        """(concept, depth, code) in hierarchy order; the code is the concept's IRI after
        the scheme's, or its CURIE when it lies elsewhere."""
        return [(c, depth, c.iri[len(self.iri):] if c.iri.startswith(self.iri) else curie(c.iri))
                for c, depth in self.concepts]


def curie(iri: str) -> str:
    """Shortest prefixed name for an IRI (for display only)."""
    best = iri
    for prefix, ns in _PREFIXES.items():
        if iri.startswith(ns) and len(iri) - len(ns) + len(prefix) + 1 < len(best):
            best = f"{prefix}:{iri[len(ns):]}"
    return best


def _anchor(iri: str) -> str:
    return "t-" + "".join(c if c.isalnum() else "-" for c in curie(iri))


def _lang(lit: ox.Literal) -> str:
    return (lit.language or "").lower()


def collect(triples: Iterable[ox.Triple]) -> tuple[list[Term], list[Scheme]]:
    """Group triples into documented terms and concept schemes (pure, for testing)."""
    by_s: dict[str, list[ox.Triple]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.NamedNode):
            by_s[t.subject.value].append(t)
    terms: list[Term] = []
    concepts: dict[str, Concept] = {}
    schemes: dict[str, Scheme] = {}
    members: dict[str, list[str]] = defaultdict(list)
    for s, ts in by_s.items():
        types = {t.object.value for t in ts if t.predicate.value == RDF_TYPE}
        labels, definition, comment = _texts(ts)
        kind = next((_KINDS[k] for k in _KINDS if k in types), None)
        if kind:
            term = Term(s, kind, labels, definition, comment)
            for t in ts:
                if isinstance(t.object, ox.NamedNode) and t.predicate.value != RDF_TYPE \
                        and t.predicate.value != RDFS + "isDefinedBy":
                    term.links[t.predicate.value].append(t.object.value)
            terms.append(term)
        if SKOS + "ConceptScheme" in types:
            schemes[s] = Scheme(s, labels, definition)
        if SKOS + "Concept" in types:
            c = Concept(s, labels, definition)
            for t in ts:
                p = t.predicate.value
                if p == SKOS + "broader":
                    c.broader.append(t.object.value)
                elif p.startswith(SKOS) and p[len(SKOS):] in _MATCHES:
                    c.matches.append((p[len(SKOS):], t.object.value))
                elif p == SKOS + "inScheme":
                    members[t.object.value].append(s)
            concepts[s] = c
    for iri, scheme in schemes.items():
        scheme.concepts = _tree([concepts[c] for c in members.get(iri, []) if c in concepts])
    terms.sort(key=lambda t: (not t.iri.startswith(SEP), t.kind != "Class", curie(t.iri).lower()))
    return terms, sorted(schemes.values(), key=lambda s: s.iri)


def _texts(ts: list[ox.Triple]) -> tuple[dict[str, str], str, str]:
    labels: dict[str, str] = {}
    definition = comment = ""
    for t in ts:
        if not isinstance(t.object, ox.Literal):
            continue
        p, lang = t.predicate.value, _lang(t.object)
        if p in (RDFS + "label", SKOS + "prefLabel") and lang in LANGS:
            labels.setdefault(lang, t.object.value)
        elif p == SKOS + "definition" and lang == "en":
            definition = t.object.value
        elif p == RDFS + "comment" and lang in ("en", ""):
            comment = t.object.value
    return labels, definition, comment


def _tree(concepts: list[Concept]) -> list[tuple[Concept, int]]:
    """Depth-first order from the top concepts; a concept with two parents is listed once."""
    known = {c.iri: c for c in concepts}
    children: dict[str, list[Concept]] = defaultdict(list)
    roots: list[Concept] = []
    for c in concepts:
        parents = [b for b in c.broader if b in known]
        (children[parents[0]] if parents else roots).append(c)
    out: list[tuple[Concept, int]] = []
    seen: set[str] = set()

    def walk(c: Concept, depth: int) -> None:
        if c.iri in seen:
            return
        seen.add(c.iri)
        out.append((c, depth))
        for child in sorted(children[c.iri], key=lambda x: x.iri):
            walk(child, depth + 1)

    for root in sorted(roots, key=lambda x: x.iri):
        walk(root, 0)
    for c in concepts:  # cycles: never lose a concept
        walk(c, 0)
    return out


def page(terms: list[Term], schemes: list[Scheme], example: str = EXAMPLE_TURTLE) -> dict[str, Any]:
    """What `templates/ontology.html` shows: our terms, then the external ones, the concept
    schemes, the example and the prefixes (pure, for testing)."""
    return {
        "namespace": SEP, "langs": LANGS, "curie": curie, "anchor": _anchor,
        "ours": [t for t in terms if t.iri.startswith(SEP)],
        "external": [t for t in terms if not t.iri.startswith(SEP)],
        "schemes": schemes,
        "documented": frozenset([t.iri for t in terms] + [s.iri for s in schemes]),
        "example": example,
        "prefixes": sorted(_PREFIXES.items()),
        "profile": PROFILE,
    }


def render_html(triples: Iterable[ox.Triple], example: str = EXAMPLE_TURTLE, lang: str = DEFAULT_LANG,
                name: str = "ontology.html") -> str:
    """The whole page in language `lang` as a string (pure: no file or network access);
    `name` is its file's name, which its links to the other languages derive from."""
    return render("ontology.html", lang, file_alternates(name), **page(*collect(triples), example))


def write_ontology_html(path: Path) -> None:
    """Write the documentation page for the ontology files under `ONTOLOGY_DIR` in every
    language: `path` (English) and its siblings `ontology.<lang>.html` (`pages.file_name`)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    triples = list(ontology_triples())
    for lang in LANGS:
        target = path.with_name(file_name(path.name, lang))
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(render_html(triples, lang=lang, name=path.name), encoding="utf-8")
        tmp.replace(target)

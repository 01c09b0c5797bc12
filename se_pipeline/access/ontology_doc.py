"""A static HTML page documenting our ontology and taxonomies, generated from the Turtle files.

Why generated: the Turtle under `ontology/` is the single source of truth; a hand-written page
would drift from it. The page is self-contained (inline CSS, no scripts, fonts or remote
resources) so it can be published beside a release or opened offline. Every string that comes
from the data is HTML-escaped, and only http(s) IRIs become links, because labels and IRIs are
data a contributor (or a compromised source) could fill with markup.
"""
from __future__ import annotations

import html
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import pyoxigraph as ox

from se_pipeline.namespaces import DFC, OWL, PREFIXES, RDF, RDF_TYPE, RDFS, SCHEMA, SEP, SKOS
from se_pipeline.rdf.profile import PROFILE
from se_pipeline.rdf.vocabulary import ontology_triples

LANGS: tuple[str, ...] = ("en", "fr", "es", "pt")
_PREFIXES: dict[str, str] = {**PREFIXES, "dfc-b": DFC, "regorg": "http://www.w3.org/ns/regorg#",
                             "adms": "http://www.w3.org/ns/adms#"}
_KINDS = {OWL + "Class": "Class", OWL + "ObjectProperty": "Object property",
          OWL + "DatatypeProperty": "Datatype property", RDF + "Property": "Property"}
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


def _e(text: str) -> str:
    return html.escape(text, quote=True)


def curie(iri: str) -> str:
    """Shortest prefixed name for an IRI (for display only)."""
    best = iri
    for prefix, ns in _PREFIXES.items():
        if iri.startswith(ns) and len(iri) - len(ns) + len(prefix) + 1 < len(best):
            best = f"{prefix}:{iri[len(ns):]}"
    return best


def _link(iri: str, local: bool = False) -> str:
    """An escaped link to an IRI; non-http(s) IRIs (javascript:, data:) are shown, never linked."""
    text = _e(curie(iri))
    if local:
        return f'<a href="#{_e(_anchor(iri))}">{text}</a>'
    if iri.startswith(("http://", "https://")):
        return f'<a href="{_e(iri)}">{text}</a>'
    return f"<code>{text}</code>"


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


def _labels_cells(labels: dict[str, str]) -> str:
    return "".join(f'<td lang="{lang}">{_e(labels.get(lang, ""))}</td>' for lang in LANGS)


def _term_section(term: Term, documented: frozenset[str] = frozenset()) -> str:
    """One class or property; IRIs documented on the page link to their section."""
    rows = [("Kind", _e(term.kind)), ("IRI", _link(term.iri))]
    rows.append(("Labels", " · ".join(f'<span lang="{lang}">{_e(term.labels[lang])}</span> <small>({lang})</small>'
                                      for lang in LANGS if lang in term.labels)))
    if term.definition:
        rows.append(("Definition", _e(term.definition)))
    if term.comment:
        rows.append(("Note", _e(term.comment)))
    names = {RDFS + "domain": "Domain", RDFS + "range": "Range", SCHEMA + "domainIncludes": "Used on",
             SCHEMA + "rangeIncludes": "Values from", RDFS + "subClassOf": "Subclass of",
             RDFS + "subPropertyOf": "Subproperty of", OWL + "equivalentProperty": "Equivalent to",
             OWL + "inverseOf": "Inverse of", RDFS + "seeAlso": "See also"}
    for p, name in names.items():
        if term.links.get(p):
            rows.append((name, ", ".join(_link(o, local=o in documented) for o in term.links[p])))
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows if v)
    return f'<section id="{_e(_anchor(term.iri))}"><h3>{_e(curie(term.iri))}</h3><table class="term">{body}</table></section>'


def _concept_table(scheme: Scheme) -> str:
    """One scheme as a table: code, labels in every language, definition, broader, mappings."""
    head = "".join(f"<th>{lang}</th>" for lang in LANGS)
    rows = []
    for c, depth in scheme.concepts:
        code = c.iri[len(scheme.iri):] if c.iri.startswith(scheme.iri) else curie(c.iri)
        broader = ", ".join(_link(b, local=True) for b in c.broader)
        matches = "<br>".join(f"{_e(p)} {_link(o)}" for p, o in sorted(c.matches))
        rows.append(
            f'<tr id="{_e(_anchor(c.iri))}"><td class="code" style="padding-left:{0.4 + 1.2 * depth:.1f}em">'
            f'{_link(c.iri)}<br><small>{_e(code)}</small></td>{_labels_cells(c.labels)}'
            f"<td>{_e(c.definition)}</td><td>{broader}</td><td>{matches}</td></tr>"
        )
    title = scheme.labels.get("en") or curie(scheme.iri)
    return (f'<section id="{_e(_anchor(scheme.iri))}"><h3>{_e(title)}</h3><p>{_link(scheme.iri)} — {_e(scheme.definition)}</p>'
            f'<table class="concepts"><thead><tr><th>Concept</th>{head}<th>Definition</th><th>Broader</th>'
            f'<th>Mappings</th></tr></thead><tbody>{"".join(rows)}</tbody></table></section>')


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2em auto;max-width:80em;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.6em}h2{border-bottom:2px solid #2a6;padding-bottom:.2em;margin-top:2em}h3{margin-bottom:.3em}
table{border-collapse:collapse;margin:.5em 0 1.5em;width:100%}th,td{border:1px solid #ccc;padding:.3em .4em;vertical-align:top;text-align:left}
table.term th{width:9em;background:#f4f8f5}table.concepts thead th{background:#e8f3ec}td.code{white-space:nowrap}
pre{background:#f6f6f6;border:1px solid #ddd;padding:1em;overflow-x:auto;font-size:.85em}a{color:#155}small{color:#666}
"""


def _profile_section() -> str:
    """The ESSGlobal profile (`rdf.profile.PROFILE`) as one table."""
    rows = "".join(f"<tr><td><code>{_e(t.property)}</code></td><td>{_e(t.node)}</td><td>{_e(t.value)}</td>"
                   f"<td>{_e(t.read_by)}</td></tr>" for t in PROFILE)
    return ('<h2 id="essglobal-profile">The ESSGlobal profile partners read</h2>'
            "<p>Beside the terms above, every record also carries the properties Digital Commons' ESSGlobal data "
            "and the Mykomap map's SPARQL queries read (docs/essglobal-profile.md).</p>"
            "<table><thead><tr><th>Property</th><th>On</th><th>Value</th><th>Read by</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def render_html(triples: Iterable[ox.Triple], example: str = EXAMPLE_TURTLE) -> str:
    """The whole page as a string (pure: no file or network access)."""
    terms, schemes = collect(triples)
    ours = [t for t in terms if t.iri.startswith(SEP)]
    external = [t for t in terms if not t.iri.startswith(SEP)]
    documented = frozenset([t.iri for t in terms] + [s.iri for s in schemes])
    toc = "".join(f'<li><a href="#{_e(_anchor(s.iri))}">{_e(s.labels.get("en") or curie(s.iri))}</a></li>' for s in schemes)
    prefixes = "".join(f"<tr><td><code>{_e(p)}:</code></td><td>{_e(ns)}</td></tr>" for p, ns in sorted(_PREFIXES.items()))
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>se-pipeline ontology and taxonomies</title>", f"<style>{_CSS}</style></head><body>",
        "<h1>se-pipeline ontology and taxonomies</h1>",
        f"<p>Namespace {_link(SEP)}. Our terms extend the ESSGlobal vocabulary (RIPESS); the section "
        "“External terms as we use them” states how we use ESSGlobal, schema.org, Dublin Core and WGS84 "
        "terms, including ESSGlobal properties that ESSGlobal declares as datatype properties but whose values "
        "are SKOS concepts. Labels are given in English, French, Spanish and Portuguese.</p>",
        f'<ul><li><a href="#classes-properties">Our classes and properties</a></li>'
        f'<li><a href="#external">External terms as we use them</a></li>'
        f'<li><a href="#essglobal-profile">The ESSGlobal profile partners read</a></li><li>Concept schemes<ul>{toc}</ul></li>'
        f'<li><a href="#example">Example enterprise</a></li><li><a href="#prefixes">Prefixes</a></li></ul>',
        '<h2 id="classes-properties">Our classes and properties</h2>', *(_term_section(t, documented) for t in ours),
        '<h2 id="external">External terms as we use them</h2>', *(_term_section(t, documented) for t in external),
        _profile_section(),
        '<h2 id="schemes">Concept schemes</h2>', *(_concept_table(s) for s in schemes),
        '<h2 id="example">Example enterprise (Turtle)</h2>', f"<pre>{_e(example)}</pre>",
        f'<h2 id="prefixes">Prefixes</h2><table>{prefixes}</table>',
        "</body></html>",
    ]
    return "\n".join(parts) + "\n"


def write_ontology_html(path: Path) -> None:
    """Write the documentation page for the ontology files under `ONTOLOGY_DIR`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html(ontology_triples()), encoding="utf-8")
    tmp.replace(path)

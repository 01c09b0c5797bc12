"""The document behind an enterprise IRI: its description as Turtle, JSON-LD or HTML.

The description is CBD-style: every triple (any graph) whose subject is the enterprise
IRI or its `#address` node. The HTML page adds, for display only, the labels of the
concepts it points at (from the release's vocabulary graph, four languages) and the
names of the records it is linked to by `owl:sameAs` in either direction.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable, Iterable, Mapping

import pyoxigraph as ox

from se_pipeline.namespaces import DCTERMS, OWL, PREFIXES, RDF_TYPE, SCHEMA, SKOS
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH
from se_pipeline.release import jsonld

LANGS = ("en", "fr", "es", "pt")
NAME = SCHEMA + "name"
SAME_AS = OWL + "sameAs"


@dataclass
class Description:
    """What is known about one IRI, as plain data (terms pickle, so it crosses processes)."""

    iri: str
    statements: tuple[ox.Triple, ...] = ()                            # the CBD, in document order
    labels: dict[str, dict[str, str]] = field(default_factory=dict)   # concept -> lang -> label
    same_as: list[tuple[str, str]] = field(default_factory=list)      # (other IRI, its name)

    @property
    def found(self) -> bool:
        return bool(self.statements)

    def triples(self) -> list[ox.Triple]:
        return list(self.statements)


def describe(store: ox.Store, iri: str, label_cache: dict[str, dict[str, str]] | None = None,
             names: Mapping[str, str] | None = None) -> Description:
    """The description of `iri` from `store` (empty if the IRI is not a subject).

    `names` (IRI -> schema:name) gives the names of linked records the store does not
    hold, when it holds one source's graph rather than the release (`access.doc_partitions`).
    `label_cache` (concept IRI -> labels) lets a caller describing many IRIs of one store
    look each concept's labels up once instead of once per enterprise.
    """
    named = ox.NamedNode
    subject = named(iri)
    statements = [q.triple for s in (subject, named(address_of(iri)))
                  for q in store.quads_for_pattern(s, None, None, None)]
    incoming = [q.subject.value for q in store.quads_for_pattern(None, named(SAME_AS), subject, None)
                if type(q.subject) is named]
    cache = {} if label_cache is None else label_cache

    def labels_of(concept: str) -> dict[str, str]:
        found = cache.get(concept)
        if found is None:
            found = cache[concept] = _labels_of(store, named(concept))
        return found

    def name_of(other: str) -> str:
        for q in store.quads_for_pattern(named(other), named(NAME), None, None):
            return q.object.value
        return (names or {}).get(other, "")

    return description(iri, statements, incoming, labels_of, name_of)


def address_of(iri: str) -> str:
    """The IRI of a record's address node."""
    return iri.split("#", 1)[0] + "#address"


def description(iri: str, statements: Iterable[ox.Triple], incoming_same_as: Iterable[str],
                labels_of: Callable[[str], dict[str, str]], name_of: Callable[[str], str]) -> Description:
    """The description of `iri` from what is known about it, wherever that was gathered
    (a store, or a record's lines in its graph file: `access.doc_partitions`), so every
    document is made by this one function.

    `statements` may hold any triples (duplicates, other subjects: only those of `iri`
    and its address node count); `incoming_same_as` are the IRIs that point at `iri` by
    `owl:sameAs`; `labels_of(concept)` and `name_of(record)` look up what a page shows
    for the IRIs it links to.
    """
    named = ox.NamedNode
    address = address_of(iri)
    # One order whatever order the statements came in (documents are reproducible):
    # the IRI's own statements first, types first, then by property and value; a
    # statement held by several graphs once. The same pass looks up the labels of the
    # concepts pointed at and notes outgoing `owl:sameAs` (one pass over the terms).
    keyed: dict[tuple[int, bool, str, str], ox.Triple] = {}
    labels: dict[str, dict[str, str]] = {}
    others: dict[str, str] = {}
    for t in statements:
        s = t.subject
        if type(s) is not named:
            continue
        v = s.value
        rank = 0 if v == iri else 1 if v == address else -1
        if rank < 0:
            continue
        p = t.predicate.value
        o = t.object
        key = (rank, p != RDF_TYPE, p, str(o))
        if key in keyed:
            continue
        keyed[key] = t
        if type(o) is named:
            if p == SAME_AS:
                if rank == 0:
                    others[o.value] = ""
                continue
            found = labels_of(o.value)
            if found:
                labels[o.value] = found
    if not keyed:
        return Description(iri)
    for other in incoming_same_as:
        others[other] = ""
    others.pop(iri, None)
    for other in others:
        others[other] = name_of(other)
    return Description(iri, tuple(keyed[k] for k in sorted(keyed)), labels, sorted(others.items()))


def is_typed(d: Description) -> bool:
    """Whether the IRI itself has an `rdf:type` (what makes it a record with documents):
    types sort first among its own statements."""
    return bool(d.statements) and d.statements[0].predicate.value == RDF_TYPE and d.statements[0].subject.value == d.iri


def pick_labels(candidates: Iterable[tuple[str | None, str, bool]]) -> dict[str, str]:
    """A concept's label per language (in `LANGS`; no language tag reads as English) from
    (language, label, from our vocabulary) candidates: our vocabulary's label first, then
    the smallest, so the choice does not depend on the order the labels were read in."""
    best: dict[str, tuple[bool, str]] = {}
    for lang, value, ours in candidates:
        lang = lang or "en"
        if lang in LANGS:
            rank = (not ours, value)
            if lang not in best or rank < best[lang]:
                best[lang] = rank
    return {lang: best[lang][1] for lang in LANGS if lang in best}


def _labels_of(store: ox.Store, concept: ox.NamedNode) -> dict[str, str]:
    vocabulary = ox.NamedNode(VOCABULARY_GRAPH)
    return pick_labels((q.object.language, q.object.value, q.graph_name == vocabulary)
                       for q in store.quads_for_pattern(concept, ox.NamedNode(SKOS + "prefLabel"), None, None)
                       if isinstance(q.object, ox.Literal))


def to_turtle(d: Description) -> bytes:
    return ox.serialize(d.triples(), format=ox.RdfFormat.TURTLE, prefixes=PREFIXES)


def jsonld_document(triples: Iterable[ox.Triple]) -> dict:
    """Statements as one JSON-LD document with our terms and the context it uses embedded:
    one framed object for one record (`release.jsonld.document`)."""
    return jsonld.document(triples)


_JSON = {"ensure_ascii": False, "separators": (",", ":")}


def to_jsonld(d: Description) -> bytes:
    """The record's JSON-LD document: one object, its address embedded, plain JSON values
    (`doc["name"]`, `doc["address"]["postalCode"]`), its context embedded."""
    return json.dumps(jsonld.frame(d.iri, d.statements), **_JSON).encode("utf-8")


@lru_cache(maxsize=1 << 14)
def _curie(iri: str) -> str:
    best = ""
    for prefix, ns in PREFIXES.items():
        if iri.startswith(ns) and len(ns) > len(PREFIXES.get(best, "")) and "/" not in iri[len(ns):]:
            best = prefix
    return f"{best}:{iri[len(PREFIXES[best]):]}" if best else iri


def local_href(iri: str, base_iri: str, suffix: str = "") -> str:
    """A link to another record: relative (on this server / in this folder) when it is ours."""
    if iri.startswith(base_iri):
        return "/id/" + iri[len(base_iri):] + suffix
    return iri


@lru_cache(maxsize=1 << 14)
def _named_html(value: str, base_iri: str, labels: tuple[tuple[str, str], ...]) -> str:
    """A link to an IRI, shown by its labels when it has some (concepts), else its CURIE.
    Cached: a release links the same few hundred concepts from every page."""
    e = html.escape
    href = local_href(value, base_iri)
    if labels:
        by = dict(labels)
        main = by.get("en") or labels[0][1]
        more = " · ".join(f"{lang}: {by[lang]}" for lang in LANGS if lang in by and lang != "en")
        extra = f' <span class="i18n">{e(more)}</span>' if more else ""
        return f'<a href="{e(href)}" title="{e(value)}">{e(main)}</a>{extra}'
    return f'<a href="{e(href)}">{e(_curie(value))}</a>'


@lru_cache(maxsize=1 << 10)
def _literal_suffix(language: str | None, datatype: str | None) -> str:
    if language:
        return f' <span class="dt">@{html.escape(language)}</span>'
    if datatype and datatype != "http://www.w3.org/2001/XMLSchema#string":
        return f' <span class="dt">{html.escape(_curie(datatype))}</span>'
    return ""


def _value_html(term: ox.NamedNode | ox.Literal | ox.BlankNode, d: Description, base_iri: str) -> str:
    if isinstance(term, ox.NamedNode):
        return _named_html(term.value, base_iri, tuple(d.labels.get(term.value, {}).items()))
    if isinstance(term, ox.Literal):
        datatype = term.datatype
        return html.escape(term.value).replace("\n", "<br>") + _literal_suffix(
            term.language, datatype.value if datatype else None)
    return html.escape(str(term))


@lru_cache(maxsize=1 << 10)
def _row_head(predicate: str) -> str:
    return f"<tr><th>{html.escape(_curie(predicate))}</th><td>"


PAGE_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{width:14rem;color:#555;font-weight:600}.dt,.i18n{color:#777;font-size:.85em}code{font-size:.9em}
a{color:#0b57d0}.formats a{margin-right:1rem}
"""


_SOURCE = DCTERMS + "source"


def _row_order(row: tuple[str, object]) -> tuple[bool, bool, str]:
    """Types first, then the name, then by property (stable: values keep their order)."""
    p = row[0]
    return p != RDF_TYPE, p != NAME, p


def to_html(d: Description, base_iri: str, *, formats: dict[str, str] | None = None) -> bytes:
    """A human-readable page (escaped throughout; no scripts, no external resources)."""
    e = html.escape
    main: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]] = []
    addr: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]] = []
    for t in d.statements:  # each term's value read once
        (main if t.subject.value == d.iri else addr).append((t.predicate.value, t.object))
    names = [o.value for p, o in main if p == NAME]
    title = names[0] if names else d.iri
    source = next((o.value for p, o in main if p == _SOURCE), "")

    def rows(keyed: list[tuple[str, ox.NamedNode | ox.Literal | ox.BlankNode]]) -> str:
        out = []
        for p, o in sorted(keyed, key=_row_order):
            if p == SAME_AS:
                continue
            out.append(f"{_row_head(p)}{_value_html(o, d, base_iri)}</td></tr>")
        return "\n".join(out)

    same = "".join(
        f'<li><a href="{e(local_href(o, base_iri))}">{e(n or o)}</a> <code>{e(o)}</code></li>' for o, n in d.same_as)
    links = " ".join(f'<a href="{e(href)}">{e(label)}</a>' for label, href in (formats or {}).items())
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{PAGE_CSS}</style></head><body>",
        f"<h1>{e(title)}</h1>", f"<p><code>{e(d.iri)}</code></p>",
    ]
    if source:
        parts.append(f'<p>Source: <a href="{e(source)}">{e(source.rsplit("/", 1)[-1])}</a></p>')
    if links:
        parts.append(f'<p class="formats">Also as: {links}</p>')
    parts.append(f"<table>{rows(main)}</table>")
    if addr:
        parts.append(f"<h2>Address</h2><table>{rows(addr)}</table>")
    if d.same_as:
        parts.append(f"<h2>The same enterprise in other sources</h2><ul>{same}</ul>")
    parts.append("</body></html>")
    return "\n".join(parts).encode("utf-8")


def enterprise_iris(store: ox.Store, base_iri: str) -> list[str]:
    """Every subject IRI under `base_iri` without a fragment (enterprises, networks, outlets)."""
    out: set[str] = set()
    for q in store.quads_for_pattern(None, ox.NamedNode(RDF_TYPE), None, None):
        s = q.subject
        if isinstance(s, ox.NamedNode) and s.value.startswith(base_iri) and "#" not in s.value:
            out.add(s.value)
    return sorted(out)

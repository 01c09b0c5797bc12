"""Our JSON-LD: a context with a term per property, a streaming dataset writer, framed documents.

Developers read our JSON with `json.load`, not a JSON-LD library, so the context
(`context()`, published in every release as `context.jsonld` and at `CONTEXT_IRI`) gives
every property we use a short term (`name`, `postalCode`, `lat`), coerces IRI values
(`"@type": "@id"`) and typed literals (`"@type": xsd:date`, …) so values are plain JSON
strings, and makes repeatable properties always arrays (`"@container": "@set"`). A value
that does not fit its term's coercion (a language-tagged text, an IRI where text is usual)
stays an explicit `{"@value"…}` / `{"@id"…}` object, so expansion never reinterprets it;
a property without a term keeps a compact IRI key. docs/partners.md lists the terms.

* `write_jsonld` streams the whole release (`dataset.jsonld`): one graph object per named
  graph, one flat node object per subject, the full context embedded (no network needed).
  It puts "@type" first in every object: the release gate re-reads big files with
  Oxigraph's JSON-LD parser in the streaming profile, which needs that.
* `frame` gives the document of one enterprise (`id/<source>/<id>.jsonld`): ONE object,
  its address (and any other `#fragment` node it points at) embedded, with the context of
  just the terms it uses embedded so the file stands alone.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from json.encoder import encode_basestring as _quote  # json.dumps' quoting (C), ensure_ascii=False
from pathlib import Path
from typing import IO, Any, Iterable

import pyoxigraph as ox

from se_pipeline.namespaces import (
    DC, DCTERMS, ESSGLOBAL, FOAF, GEO, GR, OS_SPATIAL, OWL, PREFIXES, RDF_TYPE, SCHEMA, SEP, SKOS, VCARD, XSD,
)

#: Where the context is published (w3id redirect to the latest release's `context.jsonld`).
CONTEXT_IRI = "https://w3id.org/se-pipeline/context.jsonld"
CONTEXT_FILE = "context.jsonld"
XSD_STRING = XSD + "string"
ID = "@id"
SET = "set"
_DATE, _INTEGER, _DECIMAL, _BOOLEAN = XSD + "date", XSD + "integer", XSD + "decimal", XSD + "boolean"

#: term -> (property IRI, coercion: "@id" | datatype IRI | None for text, "set" if always an array)
TERMS: dict[str, tuple[str, str | None, str | None]] = {
    # the enterprise (docs/architecture.md)
    "name": (SCHEMA + "name", None, None),
    "alternateName": (SCHEMA + "alternateName", None, SET),
    "description": (DCTERMS + "description", None, None),
    "identifier": (DCTERMS + "identifier", None, None),
    "source": (DCTERMS + "source", ID, None),
    "organisationalStructure": (ESSGLOBAL + "organisationalStructure", ID, SET),
    "primarySector": (ESSGLOBAL + "primarySector", ID, None),
    "economicSector": (ESSGLOBAL + "economicSector", ID, SET),
    "baseMembershipType": (ESSGLOBAL + "baseMembershipType", ID, None),
    "qualifier": (ESSGLOBAL + "qualifier", ID, SET),
    "legalForm": (ESSGLOBAL + "legalForm", ID, None),
    "legalFormLabel": (SEP + "legalFormLabel", None, None),
    "practice": (SEP + "practice", ID, SET),
    "status": (SEP + "status", ID, None),
    "statusDate": (SEP + "statusDate", _DATE, None),
    "foundingDate": (SCHEMA + "foundingDate", _DATE, None),
    "dissolutionDate": (SCHEMA + "dissolutionDate", _DATE, None),
    "memberCount": (SEP + "memberCount", _INTEGER, None),
    "workerCount": (SEP + "workerCount", _INTEGER, None),
    "countDate": (SEP + "countDate", _DATE, None),
    "memberOf": (SEP + "memberOf", ID, SET),
    "registryIdentifier": (SEP + "registryIdentifier", None, SET),
    "url": (SCHEMA + "url", ID, SET),
    "email": (SCHEMA + "email", None, None),
    "telephone": (SCHEMA + "telephone", None, None),
    "lat": (GEO + "lat", _DECIMAL, None),
    "long": (GEO + "long", _DECIMAL, None),
    "geocodePrecision": (SEP + "geocodePrecision", ID, None),
    "geocodedBy": (SEP + "geocodedBy", ID, None),
    "dateModified": (SCHEMA + "dateModified", _DATE, None),
    "sameAs": (SCHEMA + "sameAs", ID, SET),
    "outlet": (SEP + "outlet", ID, SET),
    "outletOf": (SEP + "outletOf", ID, None),
    "domain": (SEP + "domain", None, SET),
    "withdrawn": (SEP + "withdrawn", _BOOLEAN, None),
    "withdrawnOn": (SEP + "withdrawnOn", _DATE, None),
    "hasMembership": (SEP + "hasMembership", ID, SET),
    "member": (SEP + "member", ID, None),
    "organisation": (SEP + "organisation", ID, None),
    "startDate": (SEP + "startDate", _DATE, None),
    "endDate": (SEP + "endDate", _DATE, None),
    "address": (ESSGLOBAL + "hasAddress", ID, None),
    "streetAddress": (SCHEMA + "streetAddress", None, None),
    "addressLocality": (SCHEMA + "addressLocality", None, None),
    "addressRegion": (SCHEMA + "addressRegion", None, None),
    "postalCode": (SCHEMA + "postalCode", None, None),
    "addressCountry": (SCHEMA + "addressCountry", None, None),
    # the ESSGlobal profile Digital Commons' tools read (docs/essglobal-profile.md)
    "gr:name": (GR + "name", None, None),
    "homepage": (FOAF + "homepage", ID, None),
    "hasEmail": (VCARD + "hasEmail", ID, None),
    "within": (OS_SPATIAL + "within", ID, None),
    "street-address": (VCARD + "street-address", None, None),
    "locality": (VCARD + "locality", None, None),
    "region": (VCARD + "region", None, None),
    "postal-code": (VCARD + "postal-code", None, None),
    "country-name": (VCARD + "country-name", None, None),
    # provenance of values and links between records (graph `links`)
    "hasRecord": (SEP + "hasRecord", ID, SET),
    "valueSource": (SEP + "valueSource", ID, SET),
    "field": (SEP + "field", None, None),
    "value": (SEP + "value", None, None),
    "fromRecord": (SEP + "fromRecord", ID, None),
    "sameAsRecord": (OWL + "sameAs", ID, SET),
    "subjectRecord": (SEP + "subjectRecord", ID, None),
    "objectRecord": (SEP + "objectRecord", ID, None),
    "evidence": (SEP + "evidence", None, None),
    "score": (SEP + "score", _DECIMAL, None),
    "decision": (SEP + "decision", None, None),
    # concepts and schemes (graph `vocabulary`)
    "prefLabel": (SKOS + "prefLabel", None, SET),
    "altLabel": (SKOS + "altLabel", None, SET),
    "definition": (SKOS + "definition", None, SET),
    "scopeNote": (SKOS + "scopeNote", None, SET),
    "notation": (SKOS + "notation", None, SET),
    "inScheme": (SKOS + "inScheme", ID, SET),
    "topConceptOf": (SKOS + "topConceptOf", ID, SET),
    "hasTopConcept": (SKOS + "hasTopConcept", ID, SET),
    "broader": (SKOS + "broader", ID, SET),
    "narrower": (SKOS + "narrower", ID, SET),
    "related": (SKOS + "related", ID, SET),
    "exactMatch": (SKOS + "exactMatch", ID, SET),
    "closeMatch": (SKOS + "closeMatch", ID, SET),
    "broadMatch": (SKOS + "broadMatch", ID, SET),
    "narrowMatch": (SKOS + "narrowMatch", ID, SET),
    "relatedMatch": (SKOS + "relatedMatch", ID, SET),
    "title": (DCTERMS + "title", None, SET),
    "dc:title": (DC + "title", None, SET),
    "creator": (DCTERMS + "creator", None, SET),
}
#: class term -> class IRI (values of "@type")
CLASSES: dict[str, str] = {
    "SSEInitiative": ESSGLOBAL + "SSEInitiative", "LocationOfSale": ESSGLOBAL + "LocationOfSale",
    "Network": ESSGLOBAL + "Network", "Address": ESSGLOBAL + "Address", "PostalAddress": SCHEMA + "PostalAddress",
    "SupportOrganisation": SEP + "SupportOrganisation", "Membership": SEP + "Membership", "Link": SEP + "Link",
    "Attribution": SEP + "Attribution", "Concept": SKOS + "Concept", "ConceptScheme": SKOS + "ConceptScheme",
}
_BY_IRI = {iri: term for term, (iri, _, _) in TERMS.items()}
_CLASS_BY_IRI = {iri: term for term, iri in CLASSES.items()}
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Longest namespace first so `ess-os:` wins over a shorter overlapping one.
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def _definition(term: str) -> dict[str, str] | str:
    iri, coercion, container = TERMS[term]
    if coercion is None and container is None:
        return iri
    out = {"@id": iri}
    if coercion:
        out["@type"] = coercion
    if container:
        out["@container"] = "@set"
    return out


def context() -> dict[str, Any]:
    """The whole @context: our prefixes (for compact IRIs of anything without a term), a
    term per property (see `TERMS`) and per class."""
    return {**PREFIXES, **{t: _definition(t) for t in TERMS}, **CLASSES}


#: `context()` built once, for `_context_of`, which reads it for every document written.
_FULL_CONTEXT: dict[str, Any] = context()


def write_context(path: Path) -> None:
    """`context.jsonld`: the context as a document of its own (what `CONTEXT_IRI` serves)."""
    path.write_text(json.dumps({"@context": context()}, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


@lru_cache(maxsize=1 << 14)
def compact(iri: str) -> str:
    """`prefix:local` when a declared prefix covers `iri` (cached: called per statement)."""
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


@lru_cache(maxsize=1 << 12)
def key_of(predicate: str) -> tuple[str, str | None, bool]:
    """(key, coercion, always an array) of a property: its term, else its compact IRI."""
    term = _BY_IRI.get(predicate)
    if term is None:
        return compact(predicate), None, False
    _, coercion, container = TERMS[term]
    return term, coercion, container == SET


@lru_cache(maxsize=1 << 12)
def type_of(iri: str) -> str:
    """A class IRI as "@type" value: its term, else its compact IRI."""
    return _CLASS_BY_IRI.get(iri) or compact(iri)


def _id(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def value(term: ox.NamedNode | ox.BlankNode | ox.Literal, coercion: str | None) -> Any:
    """The JSON value of `term` under a key with `coercion`: a plain string when the
    coercion says what it is, else an explicit object (never reinterpreted)."""
    kind = type(term)
    if kind is ox.NamedNode or kind is ox.BlankNode:
        return _id(term) if coercion == ID else {"@id": _id(term)}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    datatype = term.datatype.value
    if datatype == XSD_STRING:
        return term.value if coercion is None else {"@value": term.value}
    if datatype == coercion:
        return term.value
    return {"@type": datatype, "@value": term.value}  # "@type" first: streaming profile


def value_text(term: ox.NamedNode | ox.BlankNode | ox.Literal, coercion: str | None,
               colon: str = ": ", comma: str = ", ") -> str:
    """`json.dumps(value(term, coercion), ensure_ascii=False, separators=(comma, colon))`,
    built as text (this runs once per statement of the release)."""
    kind = type(term)
    if kind is ox.NamedNode or kind is ox.BlankNode:
        text = _quote(_id(term))
        return text if coercion == ID else '{"@id"' + colon + text + "}"
    if term.language:
        return '{"@value"' + colon + _quote(term.value) + comma + '"@language"' + colon + _quote(term.language) + "}"
    datatype = term.datatype.value
    if datatype == XSD_STRING:
        return _quote(term.value) if coercion is None else '{"@value"' + colon + _quote(term.value) + "}"
    if datatype == coercion:
        return _quote(term.value)
    return '{"@type"' + colon + _quote(datatype) + comma + '"@value"' + colon + _quote(term.value) + "}"


@lru_cache(maxsize=1 << 12)
def _key_text(predicate: str) -> tuple[str, str | None, bool]:
    key, coercion, always = key_of(predicate)
    return ", " + _quote(key) + ": ", coercion, always


def _node_text(sid: str, types: list[str], values: dict[str, tuple[bool, list[str]]]) -> str:
    """`json.dumps({"@type": types, "@id": sid, **values}, ensure_ascii=False)` ("@type"
    only if there are types), from already quoted parts; `values` is keyed by `_key_text`
    and holds (always an array, value texts)."""
    head = '{"@type": [' + ", ".join(types) + '], "@id": ' if types else '{"@id": '
    return head + sid + "".join(
        key + ("[" + ", ".join(vs) + "]" if always or len(vs) > 1 else vs[0])
        for key, (always, vs) in values.items()) + "}"


def jsonld_head() -> str:
    """The text of dataset.jsonld before its first graph object."""
    return '{"@context": ' + json.dumps(context(), ensure_ascii=False) + ',\n "@graph": ['


#: The text of dataset.jsonld after its last graph object; graph objects are separated by ",".
JSONLD_TAIL = "\n]}\n"
JSONLD_SEPARATOR = ","


def write_jsonld(graphs: Iterable[tuple[ox.NamedNode | ox.BlankNode | ox.DefaultGraph, Iterable[ox.Quad | ox.Triple]]],
                 out: IO[str]) -> int:
    """Write each (graph name, its statements) as one graph object of one JSON-LD document;
    returns the number of statements written. A graph without statements is left out.
    The document is `jsonld_head()`, the graph objects (`write_graph_object`) joined by
    `JSONLD_SEPARATOR`, then `JSONLD_TAIL`: a release made of stored graph objects is the
    same bytes."""
    out.write(jsonld_head())
    count = 0
    sep = ""
    for graph, statements in graphs:
        text = _SeparatedOut(out, sep)
        count += write_graph_object(graph, statements, text)
        if text.started:
            sep = JSONLD_SEPARATOR
    out.write(JSONLD_TAIL)
    return count


class _SeparatedOut:
    """Writes `sep` before the first text it is given (none if it is given none)."""

    def __init__(self, out: IO[str], sep: str) -> None:
        self._out, self._sep, self.started = out, sep, False

    def write(self, text: str) -> int:
        if not self.started:
            self.started = True
            self._out.write(self._sep)
        return self._out.write(text)


def write_graph_object(graph: ox.NamedNode | ox.BlankNode | ox.DefaultGraph, statements: Iterable[ox.Quad | ox.Triple],
                       out: IO[str]) -> int:
    """Write one graph object (nothing if it has no statements); returns the statements written.

    Statements come grouped by subject (as the release's stores give them: `release.part_slices`):
    each run of one subject becomes one node object. This loop runs once per statement of
    the release, so it touches each statement's terms once and builds the node's JSON as
    text, quoting with the C function `json.dumps` itself uses (the same bytes as dumping a
    dict per node, without the dicts).
    """
    named = ox.NamedNode
    count = 0
    header = ("\n  {" + ("" if type(graph) is ox.DefaultGraph else f'"@id": {_quote(_id(graph))}, ')
              + '"@graph": [')
    node_sep = header
    subject: object = None
    sid = ""
    values: dict[str, tuple[bool, list[str]]] = {}
    types: list[str] = []
    for q in statements:
        s = q.subject
        if s != subject:
            if subject is not None:
                # "@type" first: JSON-LD's streaming profile (which Oxigraph re-reads in
                # constant memory at the release gate) requires it before other keys.
                out.write(node_sep + _node_text(sid, types, values))
                node_sep = ",\n   "
            else:
                node_sep += "\n   "
            subject, sid, values, types = s, _quote(_id(s)), {}, []
        o = q.object
        if type(o) is named and q.predicate.value == RDF_TYPE:
            types.append(_quote(type_of(o.value)))
        else:
            key, coercion, always = _key_text(q.predicate.value)
            found = values.get(key)
            if found is None:
                values[key] = (always, [value_text(o, coercion)])
            else:
                found[1].append(value_text(o, coercion))
        count += 1
    if subject is not None:
        out.write(node_sep + _node_text(sid, types, values) + "\n  ]}")
    return count


def _nodes(triples: Iterable[ox.Triple]) -> dict[str, dict[str, Any]]:
    """One node object per subject ("@type" first), values as `value` gives them; every
    key but "@type"/"@id" holds a list until `_settle`. (Runs for every record's document:
    each term is looked at once, by exact type.)"""
    named = ox.NamedNode
    nodes: dict[str, dict[str, Any]] = {}
    for t in triples:
        s = t.subject
        sid = s.value if type(s) is named else f"_:{s.value}"
        node = nodes.get(sid)
        if node is None:
            node = nodes[sid] = {"@type": [], "@id": sid}
        p = t.predicate.value
        o = t.object
        if p == RDF_TYPE and type(o) is named:
            node["@type"].append(type_of(o.value))
        else:
            key, coercion, _ = key_of(p)
            found = node.get(key)
            if found is None:
                node[key] = [value(o, coercion)]
            else:
                found.append(value(o, coercion))
    for node in nodes.values():
        if not node["@type"]:
            del node["@type"]
    return nodes


def _settle(node: dict[str, Any]) -> dict[str, Any]:
    """A single value of a term that is not a set becomes a scalar (`doc["name"]`)."""
    for key, values in node.items():
        if key in ("@type", "@id") or not isinstance(values, list):
            continue
        term = TERMS.get(key)
        if len(values) == 1 and not (term and term[2] == SET):
            node[key] = values[0]
    return node


def _context_of(nodes: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """The part of `context()` that node objects use (`_names_of`)."""
    return _context_of_names(_names_of(nodes))


def _names_of(nodes: Iterable[dict[str, Any]]) -> frozenset[str]:
    """What the context of node objects is made from: their keys and "@type" values (the
    terms, and the prefixes of compact IRIs, they use: a document then stands alone,
    small). Value objects (`{"@id"…}`, `{"@value"…}`) use none: only the nodes' own keys
    are read, not a walk of the whole document."""
    names: set[str] = set()
    for node in nodes:
        names.update(node)
        names.update(node.get("@type", ()))
    return frozenset(names)


@lru_cache(maxsize=1 << 10)
def _context_of_names(names: frozenset[str]) -> dict[str, Any]:
    """The context of keys and types `names` (cached: a release's records use a few
    sets of terms; callers only read the dict)."""
    used: set[str] = set()
    for name in names:
        if name.startswith("@"):
            continue
        if name in TERMS or name in CLASSES:
            used.add(name)
        head, colon, _ = name.partition(":")
        if colon and head in PREFIXES:
            used.add(head)
    return {k: v for k, v in _FULL_CONTEXT.items() if k in used}


def frame(iri: str, triples: Iterable[ox.Triple]) -> dict[str, Any]:
    """The document of one record: the node of `iri`, each `<iri>#fragment` node it points
    at embedded where it is first pointed at, any other node under "@included", and the
    context it needs embedded ("@context" first)."""
    names, body = _framed(iri, triples)
    return {"@context": _context_of_names(names), **body}


#: `json.dumps(…, ensure_ascii=False, separators=(",", ":"))`, its encoder made once.
_COMPACT = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def frame_json(iri: str, triples: Iterable[ox.Triple]) -> str:
    """`frame(iri, triples)` as compact JSON text (`_COMPACT`), the very text of dumping
    it: its context's text (most of a record's document) is made once per set of terms
    (`_context_text`), and followed by the record's own members."""
    names, body = _framed(iri, triples)
    return '{"@context":' + _context_text(names) + "," + _COMPACT.encode(body)[1:]  # body has "@id": never "{}"


@lru_cache(maxsize=1 << 10)
def _context_text(names: frozenset[str]) -> str:
    return _COMPACT.encode(_context_of_names(names))


def _framed(iri: str, triples: Iterable[ox.Triple]) -> tuple[frozenset[str], dict[str, Any]]:
    """(what the document's context is made of, its framed object without the context)."""
    nodes = _nodes(triples)
    names = _names_of(nodes.values())
    root = nodes.pop(iri, {"@id": iri})
    own = iri + "#"

    def embed(node: dict[str, Any]) -> dict[str, Any]:
        for key, values in node.items():
            if key in ("@type", "@id"):
                continue
            for i, v in enumerate(values):
                ref = _reference(key, v)
                if ref is not None and ref.startswith(own) and ref in nodes:
                    values[i] = embed(nodes.pop(ref))
        return _settle(node)

    body = embed(root)
    rest = [_settle(n) for n in nodes.values()]
    if rest:
        body["@included"] = rest
    return names, body


def _reference(key: str, v: Any) -> str | None:
    """The IRI a value points at (a string under an `@id` term, or `{"@id": …}`), if any."""
    if isinstance(v, str):
        term = TERMS.get(key)
        return v if term and term[1] == ID else None
    if isinstance(v, dict) and len(v) == 1:
        return v.get("@id")
    return None


def document(triples: Iterable[ox.Triple]) -> dict[str, Any]:
    """Any statements as one JSON-LD document: framed (`frame`) when their IRI subjects are
    one record and its `#fragment` nodes, else flat node objects under "@graph"."""
    triples = list(triples)
    owners = {t.subject.value.partition("#")[0] for t in triples if isinstance(t.subject, ox.NamedNode)}
    if len(owners) == 1:
        return frame(owners.pop(), triples)
    nodes = [_settle(n) for n in _nodes(triples).values()]
    return {"@context": _context_of(nodes), "@graph": nodes}

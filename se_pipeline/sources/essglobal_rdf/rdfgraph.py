"""Reading RDF payloads (Turtle, JSON-LD) into a raw string frame, driven by the mapping.

Partner RDF is read *as RDF* (Oxigraph's strict parsers), never as "JSON that looks like
RDF": prefixes, `@context`s and blank nodes then mean what they say. The mapping file
(`source.yaml`) names, for each raw column, the property paths to read
(`properties: {name: ["gr:name", "schema:name"], street: ["essglobal:hasAddress/vcard:street-address"]}`,
the first path that yields a value wins, each path a `/`-separated list of CURIEs over the
source's `prefixes:`), so a steward adds a spelling without touching code. Shared by
`essglobal_rdf` and `ofn` (DFC JSON-LD).
"""
from __future__ import annotations

from typing import Any, Iterable

import pyoxigraph as ox

from se_pipeline.namespaces import RDF_TYPE
from se_pipeline.sources.errors import SourceFormatError

#: Separator of several values in one raw cell (code tables split on it). `|` cannot
#: occur unescaped in an IRI, and literal values holding it are rare enough to accept.
MULTI = "|"


def detect_format(text: str, url: str = "") -> ox.RdfFormat:
    """JSON-LD when the document is JSON (first non-blank character `{` or `[`), else
    Turtle; a `.jsonld`/`.json`/`.ttl` extension only breaks no tie: content decides,
    because partners serve Turtle as `text/plain` and JSON-LD as `.json`."""
    head = text.lstrip("\ufeff \t\r\n")[:1]
    if head in ("{", "["):
        return ox.RdfFormat.JSON_LD
    if url.lower().split("?", 1)[0].endswith((".jsonld", ".json")) and not head:
        return ox.RdfFormat.JSON_LD
    return ox.RdfFormat.TURTLE


def substitute_contexts(doc: Any, bundled: dict[str, Any], source: str) -> Any:
    """Replace remote `@context` URLs by bundled copies (no network at parse time).

    `bundled` maps a context URL to the JSON value of its `@context`. An unknown remote
    context is a format error naming the URL (the steward adds a bundled copy), never a
    silent fetch.
    """
    def ctx(value: Any) -> Any:
        if isinstance(value, str):
            key = value.strip()
            for url, local in bundled.items():
                if key.rstrip("/#") == url.rstrip("/#"):
                    return local
            raise SourceFormatError(source, f"remote JSON-LD @context {key!r} has no bundled copy")
        if isinstance(value, list):
            return [ctx(v) for v in value]
        return value

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (ctx(v) if k == "@context" else walk(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(doc)


def parse_graph(text: str, fmt: ox.RdfFormat, base: str | None, source: str) -> list[ox.Triple]:
    """Strict parse; a syntax error is a SourceFormatError with the parser's position."""
    try:
        return [q.triple for q in ox.parse(text.encode("utf-8"), format=fmt, base_iri=base or None)]
    except (SyntaxError, ValueError) as e:
        raise SourceFormatError(source, f"not valid {fmt.name}: {e}") from None


class Graph:
    """A subject-indexed view of a parsed graph with CURIE property paths."""

    def __init__(self, triples: Iterable[ox.Triple], prefixes: dict[str, str]) -> None:
        self.prefixes = prefixes
        self.by_subject: dict[ox.NamedNode | ox.BlankNode, list[ox.Triple]] = {}
        for t in triples:
            self.by_subject.setdefault(t.subject, []).append(t)

    def expand(self, curie: str) -> str:
        if "://" in curie:
            return curie
        prefix, _, local = curie.partition(":")
        if prefix not in self.prefixes:
            raise ValueError(f"unknown prefix {prefix!r} in {curie!r}")
        return self.prefixes[prefix] + local

    def of_types(self, classes: Iterable[str]) -> list[ox.NamedNode | ox.BlankNode]:
        """Subjects typed with any of `classes` (CURIEs or IRIs), in document order."""
        wanted = {self.expand(c) for c in classes}
        return [s for s, ts in self.by_subject.items()
                if any(t.predicate.value == RDF_TYPE and t.object.value in wanted for t in ts)]

    def objects(self, subject: Any, predicate: str) -> list[Any]:
        return [t.object for t in self.by_subject.get(subject, ()) if t.predicate.value == predicate]

    def path(self, subject: Any, path: str) -> list[Any]:
        """Objects reached from `subject` along `p1/p2/…` (CURIEs), in document order."""
        nodes = [subject]
        for step in path.split("/"):
            iri = self.expand(step.strip())
            nodes = [o for n in nodes for o in self.objects(n, iri)]
        return nodes

    def values(self, subject: Any, paths: list[str]) -> list[str]:
        """String values of the first path that yields any (literals as their lexical
        form, IRIs as IRIs; blank nodes are not values)."""
        for p in paths:
            found = [o.value for o in self.path(subject, p) if isinstance(o, (ox.Literal, ox.NamedNode))]
            if found:
                return list(dict.fromkeys(found))
        return []


def rows_from_graph(graph: Graph, classes: list[str], properties: dict[str, list[str] | str],
                    multi: set[str] | frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """One raw row per typed subject: `__iri__` (None for a blank node) and each mapped
    column — its first value, or for the `multi` columns all values joined with MULTI."""
    rows = []
    for s in graph.of_types(classes):
        row: dict[str, Any] = {"__iri__": s.value if isinstance(s, ox.NamedNode) else None}
        for col, paths in properties.items():
            vals = graph.values(s, paths if isinstance(paths, list) else [paths])
            row[col] = (MULTI.join(vals) if col in multi else vals[0]) if vals else None
        rows.append(row)
    return rows

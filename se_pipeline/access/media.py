"""Content negotiation for the endpoint: which formats each kind of answer has, and picking one.

An Accept header that names nothing we can produce is answered 406 (`choose` returns None)
rather than with a default the client did not ask for; no Accept, `*/*` or a matching
`type/*` gets the default. SPARQLWrapper's `format=` parameter wins over Accept when it
names a known format.
"""
from __future__ import annotations

from typing import Any

import pyoxigraph as ox

# name -> (media type, oxigraph format); the first entry of each table is the default.
TABULAR: dict[str, tuple[str, Any]] = {
    "json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    "xml": ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    "csv": ("text/csv", ox.QueryResultsFormat.CSV),
    "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
}
GRAPH: dict[str, tuple[str, Any]] = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    "n3": ("text/n3", ox.RdfFormat.N3),
}
# Accept media types understood for each kind of answer.
TABULAR_MEDIA = {
    "application/sparql-results+json": "json", "application/json": "json", "text/javascript": "json",
    "application/javascript": "json", "application/sparql-results+xml": "xml", "application/xml": "xml",
    "text/xml": "xml", "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "turtle", "application/turtle": "turtle", "application/x-turtle": "turtle",
    "application/n-triples": "ntriples", "text/plain": "ntriples", "application/ld+json": "jsonld",
    "application/x-json+ld": "jsonld", "application/json": "jsonld", "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml", "text/xml": "rdfxml", "text/n3": "n3", "text/rdf+n3": "n3",
}
# `format=` parameter values (as SPARQLWrapper and browsers' hand-written URLs send them).
TABULAR_PARAM = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
GRAPH_PARAM = {"turtle": "turtle", "ttl": "turtle", "n3": "n3", "nt": "ntriples", "ntriples": "ntriples",
               "n-triples": "ntriples", "json-ld": "jsonld", "jsonld": "jsonld", "json": "jsonld",
               "xml": "rdfxml", "rdf": "rdfxml", "rdf+xml": "rdfxml", "rdfxml": "rdfxml"}


def parse_accept(accept: str | None) -> list[str]:
    """Media ranges of an Accept header, best first (stable for equal q), q=0 dropped."""
    out: list[tuple[str, float, int]] = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        out.append((fields[0].lower(), q, i))
    out.sort(key=lambda t: (-t[1], t[2]))
    return [m for m, q, _ in out if q > 0]


def choose(accept: str | None, media: dict[str, str], default: str, *,
           fmt: str | None = None, params: dict[str, str] | None = None) -> str | None:
    """The format name to answer with, or None when the client accepts nothing we produce (406)."""
    if fmt and params and fmt.lower() in params:
        return params[fmt.lower()]
    ranges = parse_accept(accept)
    if not (accept or "").strip():
        return default
    for mtype in ranges:
        if mtype in media:
            return media[mtype]
        if mtype == "*/*":
            return default
        if mtype.endswith("/*"):
            kind = mtype[:-1]
            if any(m.startswith(kind) for m in media):
                return next(name for m, name in media.items() if m.startswith(kind))
    return None


def acceptable(media: dict[str, str]) -> str:
    """The media types of a table, for a 406 message."""
    return ", ".join(dict.fromkeys(media))

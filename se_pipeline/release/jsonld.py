"""Streaming JSON-LD writer with a real, embedded `@context`.

Oxigraph writes expanded JSON-LD without a context; developers expect compact keys
(`schema:name`) and a context that needs no network to expand. We stream quads grouped
by graph and subject (the order our N-Triples writers produce) into
`{"@context": …, "@graph": [{"@id": <graph>, "@graph": [nodes…]}]}`.
Values are always explicit objects (`{"@id"}`, `{"@value", "@language"|"@type"}`), so
expansion can never reinterpret a value; keys are compact IRIs only where the prefix is
declared in the context.
"""
from __future__ import annotations

import json
import re
from functools import lru_cache
from typing import IO, Iterable

import pyoxigraph as ox

from se_pipeline.namespaces import PREFIXES, RDF_TYPE, XSD

XSD_STRING = XSD + "string"
_LOCAL = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
# Longest namespace first so `ess-os:` wins over a shorter overlapping one.
_BY_LENGTH = sorted(PREFIXES.items(), key=lambda kv: -len(kv[1]))


def context() -> dict[str, str]:
    """The @context: our prefixes (all end in '/' or '#', so JSON-LD 1.1 uses them as prefixes)."""
    return dict(PREFIXES)


@lru_cache(maxsize=1 << 14)
def compact(iri: str) -> str:
    """`prefix:local` when a declared prefix covers `iri` (cached: called per statement)."""
    for prefix, ns in _BY_LENGTH:
        if iri.startswith(ns) and _LOCAL.match(iri[len(ns):]):
            return f"{prefix}:{iri[len(ns):]}"
    return iri


def _value(term: ox.NamedNode | ox.BlankNode | ox.Literal) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    if term.language:
        return {"@value": term.value, "@language": term.language}
    if term.datatype.value == XSD_STRING:
        return {"@value": term.value}
    return {"@type": term.datatype.value, "@value": term.value}  # "@type" first: streaming profile


def _id(term: ox.NamedNode | ox.BlankNode) -> str:
    return term.value if isinstance(term, ox.NamedNode) else f"_:{term.value}"


def write_jsonld(quads: Iterable[ox.Quad], out: IO[str]) -> int:
    """Write quads as one JSON-LD document; returns the number of quads written."""
    out.write('{"@context": ')
    out.write(json.dumps(context(), ensure_ascii=False))
    out.write(',\n "@graph": [')
    count = 0
    graph: object = None
    subject: object = None
    node: dict[str, list] | None = None
    first_graph = True
    first_node = True

    def flush() -> None:
        nonlocal first_node
        if node is not None:
            out.write("" if first_node else ",")
            out.write("\n   ")
            # "@type" first: JSON-LD's streaming profile (which Oxigraph re-reads in
            # constant memory at the release gate) requires it before other keys.
            ordered = {"@type": node["@type"], **node} if "@type" in node else node
            out.write(json.dumps(ordered, ensure_ascii=False))
            first_node = False

    for q in quads:
        g = q.graph_name
        if g != graph:
            flush()
            node, subject = None, None
            if graph is not None:
                out.write("\n  ]}")
            out.write("" if first_graph else ",")
            first_graph, first_node = False, True
            gid = _id(g) if not isinstance(g, ox.DefaultGraph) else None
            out.write("\n  {" + (f'"@id": {json.dumps(gid, ensure_ascii=False)}, ' if gid else "") + '"@graph": [')
            graph = g
        if q.subject != subject:
            flush()
            subject = q.subject
            node = {"@id": _id(q.subject)}
        assert node is not None
        if q.predicate.value == RDF_TYPE and isinstance(q.object, ox.NamedNode):
            node.setdefault("@type", []).append(q.object.value)
        else:
            node.setdefault(compact(q.predicate.value), []).append(_value(q.object))
        count += 1
    flush()
    if graph is not None:
        out.write("\n  ]}")
    out.write("\n]}\n")
    return count

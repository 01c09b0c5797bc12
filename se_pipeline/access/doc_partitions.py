"""A release's graph files split by source, so static documents are written one source
at a time: the memory of one source's graph, not of the release (an in-memory Oxigraph
store held ~365 B per quad at 3x10^4 enterprises, 265 MB; at that rate the 23.9M quads
of 10^6 would need ~8.7 GB).

A document (`access.describe`) is the CBD of one record IRI `<base><source>/<id>` and its
`#address` from *any* graph, plus the labels of the concepts it uses and the names of the
records linked to it by `owl:sameAs` either way. A source's own graph holds almost all of
it; one streaming pass over every file finds the rest and routes it to its owner:

* statements whose subject is another source's record (the outlets graph says things
  about `coops_uk` records; the links graph's `owl:sameAs` and `dcterms:replaces`) go
  to that source;
* `owl:sameAs` statements also go to the source of their object (the incoming link);
* `skos:prefLabel` statements go to every source (concept labels, whichever graph);
* `schema:name` of every subject goes to a names table (for the linked records).

The sources can be shared out among `n` writers (`shares`): each routes every file but
loads and describes only its share's sources, so two writers fill both cores.

Each file is N-Triples with one statement per line (Oxigraph's or our writer's output):
lines are prefiltered as bytes and only the candidates are parsed, strictly. A line that
starts with the source's own record prefix is its own; one whose subject is another
source's record, and any line naming one of the three predicates above or holding an
escape, is parsed and routed; any other line (a link node's, a concept's) has no owner.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

import pyoxigraph as ox

from se_pipeline.namespaces import OWL, SCHEMA, SE_GRAPH, SKOS
from se_pipeline.rdf.vocabulary import vocabulary_quads
from se_pipeline.runtime import give_back_memory

_NAME = SCHEMA + "name"
_SAME_AS = OWL + "sameAs"
_PREF_LABEL = SKOS + "prefLabel"
_MARKERS = tuple(f"<{p}>".encode("utf-8") for p in (_NAME, _SAME_AS, _PREF_LABEL)) + (b"\\u", b"\\U")
_BLOCK = 1 << 24


def owner(iri: str, base_iri: str) -> str | None:
    """The source segment of a record IRI (or of its `#fragment` nodes), None if not ours."""
    if not iri.startswith(base_iri):
        return None
    rest = iri[len(base_iri):].split("#", 1)[0]
    segment, sep, name = rest.rpartition("/")
    return segment if sep and segment and name else None


@dataclass
class Routed:
    """What the pass over every file found for the sources' stores."""

    extras: dict[str, list[ox.Quad]] = field(default_factory=dict)  # owner -> statements held elsewhere
    labels: list[ox.Quad] = field(default_factory=list)               # every skos:prefLabel
    names: dict[str, str] = field(default_factory=dict)               # subject -> first schema:name
    own: dict[str, int] = field(default_factory=dict)                 # part graph -> own statement lines


def _segment(graph: str) -> str:
    return graph.rsplit("/", 1)[-1]


def _lines_to_route(path: Path, base_iri: str, own_segment: str) -> tuple[list[bytes], int]:
    """(the lines of `path` that need parsing, without their newline; how many lines are
    the source's own: their subject is one of its records).

    A line needs parsing if it names a marker, or if its subject is another source's
    record; any other subject (a link node, a concept, a blank node) has no owner to
    route to. The file is read in blocks of whole lines; markers are found with
    `bytes.find` over the block and a line's only Python-level test is two `startswith`
    (six `in` tests per line took 3.8 s of a 4.8 s pass at 3x10^4 enterprises under cProfile, and
    parsing every line of the links graph most of the rest). File order is kept (the
    first `schema:name` of a subject wins)."""
    base = f"<{base_iri}".encode("utf-8")
    own_prefix = base + own_segment.encode("utf-8") + b"/"
    candidates: list[bytes] = []
    own = 0
    rest = b""
    with open(path, "rb") as f:
        while True:
            chunk = f.read(_BLOCK)
            block = rest + chunk
            cut = len(block) if not chunk else block.rfind(b"\n") + 1
            block, rest = block[:cut], block[cut:]
            lines = block.split(b"\n")
            if block.endswith(b"\n"):
                lines.pop()  # the empty string after the last newline
            owned = block.count(b"\n" + own_prefix) + block.startswith(own_prefix)
            own += owned
            picked = set() if owned == len(lines) else {  # a source's graph is nearly always all its own
                i for i, line in enumerate(lines) if line.startswith(base) and not line.startswith(own_prefix)}
            for marker in _MARKERS:
                at, index, counted = block.find(marker), 0, 0
                while at >= 0:
                    index += block.count(b"\n", counted, at)
                    counted = at
                    picked.add(index)
                    at = block.find(marker, at + len(marker))
            candidates += [lines[i] for i in sorted(picked)]
            if not chunk:
                return candidates, own


def route(parts: list[tuple[str, Path]], base_iri: str) -> Routed:
    """One pass over the parts' files (graph name, N-Triples path)."""
    routed = Routed()
    for graph, path in parts:
        own_segment = _segment(graph)
        try:
            candidates, routed.own[graph] = _lines_to_route(path, base_iri, own_segment)
        except OSError as e:  # name the file: the caller only sees a path otherwise
            raise OSError(f"cannot read graph <{graph}> from {path}: {e}") from e
        g = ox.NamedNode(graph)
        for t in ox.parse(b"\n".join(candidates), format=ox.RdfFormat.N_TRIPLES):
            quad = ox.Quad(t.subject, t.predicate, t.object, g)
            p = t.predicate.value
            targets = set()
            if isinstance(t.subject, ox.NamedNode):
                if p == _NAME:
                    routed.names.setdefault(t.subject.value, t.object.value)
                targets.add(owner(t.subject.value, base_iri))
            if p == _SAME_AS and isinstance(t.object, ox.NamedNode):
                targets.add(owner(t.object.value, base_iri))
            if p == _PREF_LABEL:
                routed.labels.append(quad)
            for target in targets - {None, own_segment}:
                routed.extras.setdefault(target, []).append(quad)
    return routed


def shares(parts: list[tuple[str, Path]], n: int) -> list[set[str]]:
    """The parts' source segments dealt out to `n` writers, largest file first to the
    writer with the fewest bytes so far (the same answer in every writer: it depends only
    on the parts and their files' sizes). Segments with no graph of their own go to the
    first writer (see `source_stores`)."""
    load = [0] * n
    dealt: list[set[str]] = [set() for _ in range(n)]
    sized = sorted(((path.stat().st_size if path.is_file() else 0, _segment(graph)) for graph, path in parts),
                   key=lambda x: (-x[0], x[1]))
    for size, segment in sized:
        k = load.index(min(load))
        dealt[k].add(segment)
        load[k] += size
    return dealt


def source_stores(parts: list[tuple[str, Path]], base_iri: str,
                  share: tuple[int, int] = (0, 1)) -> Iterator[tuple[str, ox.Store, Routed]]:
    """(source segment, store) for every source that has records, one store at a time:
    its own graph file, the statements routed to it, every concept label, and the
    vocabulary graph of the concepts it uses (the same `rdf.vocabulary` code the release
    build uses). Graphs with no records of their own (links) are only routed, never loaded.
    `share` = (i, n): only the sources `shares(parts, n)[i]` deals to writer i."""
    i, n = share
    mine = shares(parts, n)[i]
    routed = route(parts, base_iri)
    loaded: set[str] = set()
    for graph, path in parts:
        segment = _segment(graph)
        if not routed.own.get(graph):
            continue
        loaded.add(segment)
        if segment not in mine:
            continue
        store = ox.Store()
        store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
        yield segment, _completed(store, routed, segment), routed
        del store  # the caller drops its reference too: one source's store alive at a time
        give_back_memory(collect=False)  # and its memory goes back before the next one's load
    if i == 0:
        for segment in sorted(set(routed.extras) - loaded):  # records typed only in others' graphs
            yield segment, _completed(ox.Store(), routed, segment), routed


def _completed(store: ox.Store, routed: Routed, segment: str) -> ox.Store:
    store.extend(routed.extras.get(segment, []))
    store.extend(routed.labels)
    store.extend(vocabulary_quads(store, SE_GRAPH + "vocabulary"))
    return store

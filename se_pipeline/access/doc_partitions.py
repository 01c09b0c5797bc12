"""A release's graph files split by source and by record, so static documents are
written one record at a time, straight from the files: no store of the release (an
in-memory Oxigraph store held ~365 B per quad at 3x10^4 enterprises; the 23.9M quads of
10^6 would need ~8.7 GB), nor of one source (coops_uk at 10^6, 4.7M statements: 31-38 s
to load, 1.6 GB).

A document (`access.describe`) is the CBD of one record IRI `<base><source>/<id>` and its
`#address` from *any* graph, plus the labels of the concepts it uses and the names of the
records linked to it by `owl:sameAs` either way. A source's own graph holds almost all of
it; one streaming pass over every file finds the rest and routes it to its owner:

* statements whose subject is another source's record (the outlets graph says things
  about `coops_uk` records; the links graph's `owl:sameAs` and `dcterms:replaces`) go
  to that source;
* `owl:sameAs` statements also go to the source of their object (the incoming link),
  even from that source's own file (the record it points at may come earlier in it);
* `skos:prefLabel` statements go to every source (concept labels, whichever graph);
* `schema:name` of every subject goes to a names table (for the linked records).

The sources can be shared out among `n` writers (`shares`): each routes every file but
loads and describes only its share's sources, so two writers fill both cores.

Each file is N-Triples with one statement per line (Oxigraph's or our writer's output):
lines are prefiltered as bytes and only the candidates are parsed, strictly. A line that
starts with the source's own record prefix is its own; one whose subject is another
source's record, and any line naming one of the three predicates above or holding an
escape, is parsed and routed; any other line (a link node's, a concept's) has no owner.

A source's own file then gives its records one after the other (`record_statements`):
our RDF writer puts a record's statements and its address's on consecutive lines, and
the gate's filter keeps their order. A file that does not (`NotGrouped`, e.g. a last
good graph written by older code) is described from a store of the source instead
(`SourcePart.store`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import pyoxigraph as ox

from se_pipeline.access.describe import Description, address_of, description, pick_labels
from se_pipeline.namespaces import OWL, SCHEMA, SKOS
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH, vocabulary_labels, vocabulary_quads

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
            targets.discard(own_segment)  # its own lines are read with its file
            if p == _SAME_AS and isinstance(t.object, ox.NamedNode):
                targets.add(owner(t.object.value, base_iri))
            if p == _PREF_LABEL:
                routed.labels.append(quad)
            for target in targets - {None}:
                routed.extras.setdefault(target, []).append(quad)
    return routed


def shares(parts: list[tuple[str, Path]], n: int) -> list[set[str]]:
    """The parts' source segments dealt out to `n` writers, largest file first to the
    writer with the fewest bytes so far (the same answer in every writer: it depends only
    on the parts and their files' sizes). Segments with no graph of their own go to the
    first writer (see `source_parts`)."""
    load = [0] * n
    dealt: list[set[str]] = [set() for _ in range(n)]
    sized = sorted(((path.stat().st_size if path.is_file() else 0, _segment(graph)) for graph, path in parts),
                   key=lambda x: (-x[0], x[1]))
    for size, segment in sized:
        k = load.index(min(load))
        dealt[k].add(segment)
        load[k] += size
    return dealt


class NotGrouped(ValueError):
    """A record's statements are not on consecutive lines of its graph file."""


def record_statements(path: Path, prefix: str) -> Iterator[tuple[str, list[ox.Triple]]]:
    """(record IRI, its statements) for every record under `prefix` (`<base><source>/`)
    in the N-Triples file `path`, in file order, parsed strictly: the statements whose
    subject is the record or one of its `#fragment` nodes. Other subjects (link nodes,
    concepts, other sources' records) are skipped. Raises `NotGrouped` when a record's
    statements come back after another record's, before anything of that record is lost
    (its earlier statements were already given)."""
    done: set[str] = set()
    current = address = ""
    group: list[ox.Triple] = []
    for t in ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES):
        s = t.subject
        v = s.value
        if v != current and v != address:  # a record's next statement: no string work
            if type(s) is not ox.NamedNode or not v.startswith(prefix):
                continue
            key = v.partition("#")[0]
            if key != current:
                if "/" in key[len(prefix):]:  # not a record of this source (see `owner`)
                    continue
                if current:
                    yield current, group
                    done.add(current)
                if key in done:
                    raise NotGrouped(f"{path}: the statements of <{key}> are not on consecutive lines")
                current, address, group = key, address_of(key), []
        group.append(t)
    if current:
        yield current, group


class ConceptLabels:
    """`labels_of` for `describe.description` without a store: a concept's labels from our
    vocabulary (what the release's vocabulary graph gives it) and from every
    `skos:prefLabel` routed from the data, chosen as `describe.pick_labels` chooses them
    from a store. Each concept is looked up once per writer."""

    def __init__(self, label_quads: list[ox.Quad]) -> None:
        self.data: dict[str, list[tuple[str | None, str, bool]]] = {}
        vocabulary = ox.NamedNode(VOCABULARY_GRAPH)
        for q in label_quads:
            if isinstance(q.object, ox.Literal):
                self.data.setdefault(q.subject.value, []).append(
                    (q.object.language, q.object.value, q.graph_name == vocabulary))
        self.cache: dict[str, dict[str, str]] = {}

    def __call__(self, concept: str) -> dict[str, str]:
        found = self.cache.get(concept)
        if found is None:
            ours = [(lang, value, True) for lang, value in vocabulary_labels(concept)]
            found = self.cache[concept] = pick_labels(ours + self.data.get(concept, []))
        return found


@dataclass
class SourcePart:
    """One source's share of the documents: its graph file (None if its records are only
    described in other graphs) and what the routing pass found for it."""

    segment: str
    graph: str | None
    path: Path | None
    base_iri: str
    routed: Routed

    def descriptions(self, labels_of: Callable[[str], dict[str, str]]) -> Iterator[Description]:
        """The description of every record of the source: those of its file in file order,
        then those only other graphs hold. Linked records' names come from the routing
        pass's names table."""
        prefix = f"{self.base_iri}{self.segment}/"
        extras, incoming = _by_record(self.routed.extras.get(self.segment, []), prefix)
        names = self.routed.names

        def name_of(other: str) -> str:
            return names.get(other, "")

        if self.path is not None:
            for iri, statements in record_statements(self.path, prefix):
                yield description(iri, statements + extras.pop(iri, []), incoming.pop(iri, ()), labels_of, name_of)
        for iri in sorted(extras):
            yield description(iri, extras[iri], incoming.get(iri, ()), labels_of, name_of)

    def store(self) -> ox.Store:
        """The source as one store (its file, what was routed to it, concept labels and
        its vocabulary graph), for `describe.describe`: the way to describe a file whose
        records are not grouped."""
        store = ox.Store()
        if self.path is not None:
            store.load(path=str(self.path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(self.graph))
        store.extend(self.routed.extras.get(self.segment, []))
        store.extend(self.routed.labels)
        store.extend(vocabulary_quads(store, VOCABULARY_GRAPH))
        return store


def _by_record(quads: list[ox.Quad], prefix: str) -> tuple[dict[str, list[ox.Triple]], dict[str, list[str]]]:
    """Statements routed to a source, by the record they describe (their subject's), and
    the IRIs that point at each of its records by `owl:sameAs`."""
    statements: dict[str, list[ox.Triple]] = {}
    incoming: dict[str, list[str]] = {}
    for q in quads:
        s, o = q.subject, q.object
        if type(s) is not ox.NamedNode:
            continue
        if s.value.startswith(prefix):
            statements.setdefault(s.value.partition("#")[0], []).append(q.triple)
        if q.predicate.value == _SAME_AS and type(o) is ox.NamedNode and o.value.startswith(prefix):
            incoming.setdefault(o.value, []).append(s.value)
    return statements, incoming


def source_parts(parts: list[tuple[str, Path]], base_iri: str, share: tuple[int, int] = (0, 1)) -> Iterator[SourcePart]:
    """Every source that has records, for writer `share` = (i, n): the sources
    `shares(parts, n)[i]` deals to it; the first writer also takes the sources whose
    records are only described in others' graphs. Graphs with no records of their own
    (links) are only routed."""
    i, n = share
    mine = shares(parts, n)[i]
    routed = route(parts, base_iri)
    with_files: set[str] = set()
    for graph, path in parts:
        segment = _segment(graph)
        if not routed.own.get(graph):
            continue
        with_files.add(segment)
        if segment in mine:
            yield SourcePart(segment, graph, path, base_iri, routed)
    if i == 0:
        for segment in sorted(set(routed.extras) - with_files):
            yield SourcePart(segment, None, None, base_iri, routed)

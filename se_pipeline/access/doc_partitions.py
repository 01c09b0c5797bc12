"""A release's graph files split by source and by record, so static documents are
written one record at a time, straight from the files: no store of the release, nor of
one source (an in-memory store grows with its statements; what each would cost at 10^6
enterprises, and what a writer holds instead: benchmarks/README.md, "Figures behind
choices in the code").

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
* `schema:name` of every record linked by `owl:sameAs` goes to a names table (a
  first quick pass over the files finds them).

The sources can be shared out among `n` writers (`shares`): the files are routed once,
and each writer describes only its share's sources, so two writers fill both cores.

Each file is N-Triples with one statement per line (Oxigraph's or our writer's output):
lines are prefiltered as bytes and only the candidates are parsed, strictly. A line that
starts with the source's own record prefix is its own; one whose subject is another
source's record, and any line naming one of the three predicates above or holding an
escape, is parsed and routed; any other line (a link node's, a concept's) has no owner.

A source's own file then gives its records one after the other (`record_lines`):
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
from se_pipeline.files import line_blocks
from se_pipeline.namespaces import ESSGLOBAL, OWL, RDF_TYPE, SCHEMA, SKOS
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH, vocabulary_labels, vocabulary_quads

_NAME = SCHEMA + "name"
_SAME_AS = OWL + "sameAs"
_PREF_LABEL = SKOS + "prefLabel"
_NAME_MARKER, _SAME_AS_MARKER = (f"<{p}>".encode("utf-8") for p in (_NAME, _SAME_AS))
_MARKERS = (_NAME_MARKER, _SAME_AS_MARKER, f"<{_PREF_LABEL}>".encode("utf-8"))
#: The end of an enterprise's type statement: a record with documents, counted per file
#: to share the writers' work.
_ENTERPRISE_MARKER = f"> <{RDF_TYPE}> <{ESSGLOBAL}SSEInitiative> .".encode("utf-8")
_BLOCK = 1 << 20
#: Up to this many sources, two writers' shares are the best split, tried exhaustively.
_EXACT_SHARES_UP_TO = 16


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
    names: dict[str, str] = field(default_factory=dict)               # sameAs end -> first schema:name
    own: dict[str, int] = field(default_factory=dict)                 # part graph -> own statement lines
    enterprises: dict[str, int] = field(default_factory=dict)         # part graph -> enterprises typed in it

    def enterprises_by_segment(self) -> dict[str, int]:
        """Enterprises typed in each source segment's graphs: the writers' work (`shares`)."""
        work: dict[str, int] = {}
        for graph, n in self.enterprises.items():
            work[_segment(graph)] = work.get(_segment(graph), 0) + n
        return work


def _segment(graph: str) -> str:
    return graph.rsplit("/", 1)[-1]


def _blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks of whole lines of about `_BLOCK` bytes (`files.line_blocks`)."""
    return line_blocks(path, _BLOCK)


def _line_around(block: bytes, at: int) -> tuple[int, int]:
    """(start, end) of the line of `block` holding position `at`, without its newline."""
    end = block.find(b"\n", at)
    return block.rfind(b"\n", 0, at) + 1, len(block) if end < 0 else end


def _marked(block: bytes, marker: bytes, found: dict[int, bytes], keep: Callable[[bytes], bool] | None = None) -> None:
    """Add to `found` (line start -> line, without its newline) each line of `block`
    holding `marker` (and passing `keep`): the lines around the marker's hits, found with
    `bytes.find`, never a split of the block into lines."""
    at = block.find(marker)
    while at >= 0:
        start, end = _line_around(block, at)
        if start not in found:
            line = block[start:end]
            if keep is None or keep(line):
                found[start] = line
        at = block.find(marker, end)


def _escaped(block: bytes, found: dict[int, bytes]) -> None:
    """Add to `found` each line of `block` holding a `\\u` or `\\U` escape (its terms must
    be parsed to be compared). One search for the backslash, rare in our files: `find`
    looks for one byte much faster than for two."""
    at = block.find(b"\\")
    while at >= 0:
        if block[at + 1:at + 2] in (b"u", b"U"):
            start, end = _line_around(block, at)
            found.setdefault(start, block[start:end])
            at = block.find(b"\\", end)
        else:  # another escape (a backslash, a quote): look again after it
            at = block.find(b"\\", at + 2)


def _same_as_ends(parts: list[tuple[str, Path]]) -> set[str]:
    """The IRIs at either end of an `owl:sameAs` statement in any part: the records whose
    names a document shows (the only names the routing keeps)."""
    ends: set[str] = set()
    for graph, path in parts:
        try:
            for block in _blocks(path):
                found: dict[int, bytes] = {}
                _marked(block, _SAME_AS_MARKER, found)
                for t in ox.parse(b"\n".join(found.values()), format=ox.RdfFormat.N_TRIPLES):
                    if t.predicate.value == _SAME_AS:
                        ends.update(x.value for x in (t.subject, t.object) if type(x) is ox.NamedNode)
        except OSError as e:  # name the file: the caller only sees a path otherwise
            raise OSError(f"cannot read graph <{graph}> from {path}: {e}") from e
    return ends


def _lines_to_route(path: Path, base_iri: str, own_segment: str, named: set[str]) -> tuple[list[bytes], int, int]:
    """(the lines of `path` that need parsing, without their newline; how many lines are
    the source's own: their subject is one of its records; how many enterprises it types).

    A line needs parsing if it names a marker (`schema:name` only when its subject is
    in `named`), or if its subject is another source's record; any other subject (a link
    node, a concept, a blank node) has no owner to route to. The file is read in blocks
    of whole lines; markers are found with `bytes.find` over the block and only a block
    that is not all the source's own is split into lines (splitting every block, and
    finding each marker's line number, was most of the pass: benchmarks/README.md).
    File order is kept (the first `schema:name` of a subject wins)."""
    base = f"<{base_iri}".encode("utf-8")
    own_prefix = base + own_segment.encode("utf-8") + b"/"
    candidates: list[bytes] = []
    own = enterprises = 0

    def is_named(line: bytes) -> bool:  # subject bytes are the IRI (escapes are parsed anyway)
        return line[1:line.find(b">")].decode("utf-8", "replace") in named

    for block in _blocks(path):
        lines = block.count(b"\n") + (not block.endswith(b"\n"))
        owned = block.count(b"\n" + own_prefix) + block.startswith(own_prefix)
        own += owned
        enterprises += block.count(_ENTERPRISE_MARKER)
        picked: dict[int, bytes] = {}
        if owned != lines:  # a source's graph is nearly always all its own
            at = 0
            for line in block.split(b"\n"):
                if line.startswith(base) and not line.startswith(own_prefix):
                    picked[at] = line
                at += len(line) + 1
        for marker in _MARKERS:
            _marked(block, marker, picked, is_named if marker == _NAME_MARKER else None)
        _escaped(block, picked)
        candidates += [picked[at] for at in sorted(picked)]
    return candidates, own, enterprises


def route(parts: list[tuple[str, Path]], base_iri: str) -> Routed:
    """One pass over the parts' files (graph name, N-Triples path), after a quick one
    for the ends of `owl:sameAs` links (whose names are kept: not every record's)."""
    routed = Routed()
    named = _same_as_ends(parts)
    for graph, path in parts:
        own_segment = _segment(graph)
        try:
            candidates, routed.own[graph], routed.enterprises[graph] = _lines_to_route(path, base_iri, own_segment, named)
        except OSError as e:  # name the file: the caller only sees a path otherwise
            raise OSError(f"cannot read graph <{graph}> from {path}: {e}") from e
        g = ox.NamedNode(graph)
        for t in ox.parse(b"\n".join(candidates), format=ox.RdfFormat.N_TRIPLES):
            quad = ox.Quad(t.subject, t.predicate, t.object, g)
            p = t.predicate.value
            targets = set()
            if isinstance(t.subject, ox.NamedNode):
                if p == _NAME and t.subject.value in named:
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


def shares(work: dict[str, int], n: int) -> list[set[str]]:
    """Source segments shared out among `n` writers by their `work` (enterprises: a writer's
    time goes with the documents it writes, three files each), so that the busiest
    writer has as little as possible: for two writers (the release's case) the best split,
    tried exhaustively up to `_EXACT_SHARES_UP_TO` segments; otherwise the largest first
    to the least loaded. The same answer in every writer: it depends only on `work`.

    Shared by file size (the largest first), one of two writers finished long after the
    other (benchmarks/README.md)."""
    order = sorted(work, key=lambda s: (-work[s], s))
    if n == 2 and 0 < len(order) <= _EXACT_SHARES_UP_TO:
        total = sum(work.values())
        # The largest segment stays with writer 0 (the mirror split is the same); of
        # equally good splits the first mask found is kept.
        best_load, best_mask = total, 0
        for mask in range(1 << (len(order) - 1)):
            load = work[order[0]] + sum(work[s] for k, s in enumerate(order[1:]) if mask >> k & 1)
            if max(load, total - load) < best_load:
                best_load, best_mask = max(load, total - load), mask
        first = {order[0]} | {s for k, s in enumerate(order[1:]) if best_mask >> k & 1}
        return [first, set(order) - first]
    load = [0] * n
    shared: list[set[str]] = [set() for _ in range(n)]
    for segment in order:
        k = load.index(min(load))
        shared[k].add(segment)
        load[k] += work[segment]
    return shared


def record_lines(path: Path, prefix: str) -> Iterator[tuple[str, list[bytes]]]:
    """(record IRI, its lines without their newline) for every record under `prefix`
    (`<base><source>/`) in the N-Triples file `path`, in file order, not parsed: the lines
    whose subject is the record or one of its `#fragment` nodes. Other subjects (link
    nodes, concepts, other sources' records) are skipped. Raises `NotGrouped` when a
    record's lines come back after another record's (its earlier lines were already
    given), or when a subject is written with an escape (our writers never do: a file
    from elsewhere is described from a store instead)."""
    start = b"<" + prefix.encode("utf-8")
    skip = len(start) - 1  # where a record's id starts in its IRI
    done: set[bytes] = set()
    current = fragments = b"\0"  # the record being read (none yet), and how its fragments start
    group: list[bytes] = []
    for block in _blocks(path):
        for line in block.split(b"\n"):
            if not line.startswith(start):
                continue
            subject = line[1:line.index(b">")]
            if subject != current and not subject.startswith(fragments):  # a record's next line: no more work
                if b"\\" in subject:
                    raise NotGrouped(f"{path}: <{subject.decode('utf-8', 'replace')}> is written with an escape")
                key = subject.partition(b"#")[0]
                if b"/" in key[skip:]:  # not a record of this source (see `owner`)
                    continue
                if group:
                    yield current.decode("utf-8"), group
                    done.add(current)
                if key in done:
                    raise NotGrouped(f"{path}: the statements of <{key.decode('utf-8')}> are not on consecutive lines")
                current, fragments, group = key, key + b"#", []
            group.append(line)
    if group:
        yield current.decode("utf-8"), group


class NotGrouped(ValueError):
    """A record's statements are not on consecutive lines of its graph file."""


class ConceptLabels:
    """`labels_of` for `describe.description` without a store: a concept's labels from our
    vocabulary (what the release's vocabulary graph gives it) and from every
    `skos:prefLabel` routed from the data, chosen as `describe.pick_labels` chooses them
    from a store. Each concept is looked up once per writer; an IRI without labels (an
    address node, a web page: mostly one per record) is not kept, so the cache stays the
    size of the vocabulary however many records a writer describes."""

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
            candidates = [(lang, value, True) for lang, value in vocabulary_labels(concept)]
            candidates += self.data.get(concept, ())
            if not candidates:
                return {}
            found = self.cache[concept] = pick_labels(candidates)
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

    def records(self) -> Iterator[tuple[str, list[bytes], list[ox.Triple], list[str]]]:
        """(record IRI, its lines in the source's file, the statements other graphs hold
        about it, the IRIs that point at it by `owl:sameAs`) of every record of the source:
        those of its file in file order, then those only other graphs hold."""
        prefix = f"{self.base_iri}{self.segment}/"
        extras, incoming = _by_record(self.routed.extras.get(self.segment, []), prefix)
        if self.path is not None:
            for iri, lines in record_lines(self.path, prefix):
                yield iri, lines, extras.pop(iri, []), incoming.pop(iri, [])
        for iri in sorted(extras):
            yield iri, [], extras[iri], incoming.get(iri, [])

    def describe(self, iri: str, lines: list[bytes], extras: list[ox.Triple], incoming: list[str],
                 labels_of: Callable[[str], dict[str, str]]) -> Description:
        """The description of a record from what `records` gave for it (its lines parsed
        strictly); linked records' names come from the routing pass's names table."""
        statements = list(ox.parse(b"\n".join(lines), format=ox.RdfFormat.N_TRIPLES)) if lines else []
        return description(iri, statements + extras, incoming, labels_of, self.name_of)

    def name_of(self, other: str) -> str:
        return self.routed.names.get(other, "")

    def descriptions(self, labels_of: Callable[[str], dict[str, str]]) -> Iterator[Description]:
        """The description of every record of the source (`records`, `describe`)."""
        for record in self.records():
            yield self.describe(*record, labels_of)

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


def source_parts(parts: list[tuple[str, Path]], base_iri: str, share: tuple[int, int] = (0, 1),
                 routed: Routed | None = None) -> Iterator[SourcePart]:
    """Every source that has records, for writer `share` = (i, n): the sources `shares`
    deals to it by the enterprises each file types; the first writer also takes the
    sources whose records are only described in others' graphs. Graphs with no records
    of their own (links) are only routed (`routed`: the parts' `route`, if already made)."""
    i, n = share
    routed = route(parts, base_iri) if routed is None else routed
    mine = shares(routed.enterprises_by_segment(), n)[i]
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

"""A partner's records: grouped from its dump, updated by its event stream, kept as N-Triples.

A record is an `essglobal:SSEInitiative` named by an IRI, with the statements about it
and about its `#fragment` nodes (address, memberships) and the blank nodes they reach,
taken from the graph(s) in which the partner types it (its source's graph in a dump of
ours; never its links or vocabulary graphs). That is also what one member of our event
stream carries (release/ldes.py), so a member replaces a record whole.

Statements are kept exactly as the partner wrote them, unknown terms included: our copy
is `partner.nt` (sorted, so equal data gives equal bytes). Only when the graph is gated
for our release is `dcterms:source` (which in our data names *our* source dataset)
pointed at the partner's dataset in our catalog, the partner's value kept as
`prov:wasDerivedFrom`, `schema:name` / `dcterms:identifier` added where the partner
has none, and its blank nodes named as nodes of their record (`gated_lines`).
"""
from __future__ import annotations

import gzip
import hashlib
import io
from collections import defaultdict
from pathlib import Path
from typing import Iterable, Iterator

import pyoxigraph as ox

import pandas as pd

from se_pipeline.acquire.ldes import Member
from se_pipeline.identity.iri import enterprise_iri
from se_pipeline.namespaces import DCTERMS, ESSGLOBAL, PROV, RDF_TYPE, SCHEMA, SE_SOURCE
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.dcat_catalog.catalog import parsed
from se_pipeline.sources.errors import SourceFormatError

Records = dict[str, list[ox.Triple]]
_INITIATIVE = ox.NamedNode(ESSGLOBAL + "SSEInitiative")
_TYPE = ox.NamedNode(RDF_TYPE)
_SOURCE = ox.NamedNode(DCTERMS + "source")
_DERIVED = ox.NamedNode(PROV + "wasDerivedFrom")
_NAME = ox.NamedNode(SCHEMA + "name")
_IDENTIFIER = ox.NamedNode(DCTERMS + "identifier")


def owner(subject: ox.NamedNode | ox.BlankNode) -> str | None:
    """The record IRI a named subject belongs to (`<E>` and `<E#…>` are record E's)."""
    return subject.value.partition("#")[0] if isinstance(subject, ox.NamedNode) else None


def parse_dump(data: bytes, fmt: ox.RdfFormat, gz: bool, base: str, source: str, max_bytes: int) -> Records:
    """The records of a dump (bytes already checked against their checksum). A gzipped
    dump is decompressed up to `max_bytes` (the source's byte cap): a checksum vouches for
    the partner's bytes, not for what they expand to."""
    if gz:
        try:
            with gzip.GzipFile(fileobj=io.BytesIO(data)) as f:
                data = f.read(max_bytes + 1)
        except (OSError, EOFError) as e:
            raise SourceFormatError(source, f"{base}: not gzip ({type(e).__name__})",
                                    public=f"{base}: not gzip") from None
        if len(data) > max_bytes:
            raise SourceFormatError(source, f"{base}: expands to more than {max_bytes} bytes; refused")
    return records_of(parsed(data, fmt, base, base, source))


def records_of(store: ox.Store) -> Records:
    """Every initiative of `store` with its statements, from the graphs that type it."""
    graphs_of: dict[str, set] = defaultdict(set)
    for q in store.quads_for_pattern(None, _TYPE, _INITIATIVE, None):
        if isinstance(q.subject, ox.NamedNode):
            graphs_of[q.subject.value].add(q.graph_name)
    found: dict[str, set[ox.Triple]] = {iri: set() for iri in graphs_of}
    blank_edges: dict[tuple, list[ox.Quad]] = defaultdict(list)
    for q in store:
        if isinstance(q.subject, ox.BlankNode):
            blank_edges[(q.subject, q.graph_name)].append(q)
            continue
        rec = owner(q.subject)
        if rec in found and q.graph_name in graphs_of[rec]:
            found[rec].add(q.triple)
    for rec, triples in found.items():  # blank nodes reached from the record, in the same graphs
        todo = [(t.object, g) for t in triples if isinstance(t.object, ox.BlankNode) for g in graphs_of[rec]]
        seen = set()
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            for q in blank_edges.get(key, ()):
                triples.add(q.triple)
                if isinstance(q.object, ox.BlankNode):
                    todo.append((q.object, key[1]))
    return {rec: sorted(found[rec], key=str) for rec in sorted(found)}


def apply_members(records: Records, members: Iterable[Member]) -> dict[str, int]:
    """Apply stream members (oldest first) to `records` in place: a member's statements
    replace the record; a withdrawal without statements removes it. Returns counts."""
    counts = {"updated": 0, "added": 0, "withdrawn": 0, "removed": 0}
    for m in members:
        statements = sorted({t for t in m.statements if owner(t.subject) == m.version_of
                             or isinstance(t.subject, ox.BlankNode)}, key=str)
        if m.deleted and not statements:
            counts["removed"] += records.pop(m.version_of, None) is not None
            continue
        counts["withdrawn" if m.deleted else "updated" if m.version_of in records else "added"] += 1
        records[m.version_of] = statements
    return counts


def leave_out_republished(records: Records, republished: Iterable[str]) -> int:
    """Remove, in place, the records whose `dcterms:source` is one of `republished` (the
    partner's datasets it harvested from another catalog: `catalog.republished`). Taken
    second-hand they would be in our release twice when we also harvest their publisher
    (each a point on a partner's map), and under the licence and attribution of the
    partner that passed them on. Returns how many."""
    left_out = {ox.NamedNode(d) for d in republished}
    if not left_out:
        return 0
    gone = [rec for rec, triples in records.items()
            if any(t.predicate == _SOURCE and t.object in left_out and t.subject.value == rec for t in triples
                   if isinstance(t.subject, ox.NamedNode))]
    for rec in gone:
        del records[rec]
    return len(gone)


def write_records(records: Records, path: Path) -> bytes:
    """`records` as N-Triples (records in IRI order), written to `path`; returns the bytes."""
    body = "".join(f"{t} .\n" for rec in sorted(records) for t in records[rec]).encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    return body


def read_records(path: Path) -> Records:
    """What `write_records` wrote (our last good copy of the partner's records)."""
    store = ox.Store()
    store.bulk_load(path=str(path), format=ox.RdfFormat.N_TRIPLES)
    return records_of(store)


def gated_lines(path: Path, source: str, names: dict[str, str]) -> Iterator[str]:
    """N-Triples lines of the records named in `names` ({IRI: the name we read}) for our
    graph, record by record (each record's lines together, as our own graphs have them):
    the partner's statements, `dcterms:source` of each record pointed at our dataset of
    the partner, and what our shapes require when the partner's vocabulary spells it
    otherwise (ESSGlobal's `gr:name`, no identifier): `schema:name` (the name we read) and
    `dcterms:identifier` (the partner's IRI).

    The blank nodes a record reaches are published as its `#genid-…` nodes (`skolem_iris`):
    a blank node's label means nothing outside one parse, so the release gate, which
    compares what every format re-reads, could not prove them (pyld relabels them), and
    the changelog and the event stream, which take a record as its IRI and its `#fragment`
    nodes, would leave them out."""
    ours = ox.NamedNode(SE_SOURCE + source)
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
    skolem = skolem_iris(triples, names.keys())
    own: dict[str, list[ox.Triple]] = defaultdict(list)
    fragments: dict[str, set[ox.Triple]] = defaultdict(set)
    for t in triples:
        subject = skolem.get(t.subject) if isinstance(t.subject, ox.BlankNode) else t.subject
        rec = owner(subject) if subject is not None else None
        if rec not in names:
            continue
        o = skolem.get(t.object, t.object) if isinstance(t.object, ox.BlankNode) else t.object
        if subject.value == rec:
            own[rec].append(ox.Triple(subject, t.predicate, o))
        else:
            fragments[rec].add(ox.Triple(subject, t.predicate, o))
    for rec in sorted(names):
        s = ox.NamedNode(rec)
        named = identified = False
        for t in own.get(rec, ()):
            if t.predicate == _SOURCE:
                if t.object != ours:
                    yield f"{ox.Triple(s, _DERIVED, t.object)} .\n"
                continue
            named |= t.predicate == _NAME
            identified |= t.predicate == _IDENTIFIER
            yield f"{t} .\n"
        yield f"{ox.Triple(s, _SOURCE, ours)} .\n"
        if not named:
            yield f"{ox.Triple(s, _NAME, ox.Literal(names[rec]))} .\n"
        if not identified:
            yield f"{ox.Triple(s, _IDENTIFIER, ox.Literal(rec))} .\n"
        yield from sorted(f"{t} .\n" for t in fragments.get(rec, ()))  # each node's lines together


#: Blank nodes nested deeper than this below a record keep their label in their digest.
_DIGEST_DEPTH = 32


def skolem_iris(triples: list[ox.Triple], records: Iterable[str]) -> dict[ox.BlankNode, ox.NamedNode]:
    """An IRI for every blank node a record of `records` reaches: `<record>#genid-<digest>`,
    the record being the first (in IRI order) that reaches it, the digest that of what the
    node says (its statements, its own blank nodes' digests in place of their labels). The
    same data gives the same IRIs in every harvest, whatever labels the partner's dump or
    our parser gave (RDF 1.1 Concepts §3.5, skolemisation). Nodes that say the same thing
    under one record become one node; a node in a cycle of blank nodes, or deeper than
    `_DIGEST_DEPTH`, is told apart by its label in this harvest. Not Oxigraph's
    `Dataset.canonicalize`: its only algorithm is documented as unstable across versions
    (these IRIs are published and compared release to release) and exponential in the
    worst case on a partner's blank nodes; this digest is linear in them."""
    keep = set(records)
    about: dict[ox.BlankNode, list[ox.Triple]] = defaultdict(list)
    roots: list[tuple[str, ox.BlankNode]] = []
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            about[t.subject].append(t)
        elif isinstance(t.object, ox.BlankNode) and owner(t.subject) in keep:
            roots.append((owner(t.subject), t.object))  # type: ignore[arg-type]
    owners: dict[ox.BlankNode, str] = {}
    for rec, root in sorted(roots, key=lambda r: r[0]):
        todo = [root]
        while todo:
            node = todo.pop()
            if node not in owners:
                owners[node] = rec
                todo += [t.object for t in about.get(node, ()) if isinstance(t.object, ox.BlankNode)]
    digests: dict[ox.BlankNode, str] = {}

    def digest(node: ox.BlankNode, path: tuple[ox.BlankNode, ...]) -> str:
        if node in digests:
            return digests[node]
        if node in path or len(path) >= _DIGEST_DEPTH:
            return str(node)
        lines = sorted(f"{t.predicate} {digest(t.object, path + (node,)) if isinstance(t.object, ox.BlankNode) else t.object}"
                       for t in about.get(node, ()))
        found = digests[node] = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()[:16]
        return found

    return {node: ox.NamedNode(f"{rec}#genid-{digest(node, ())}") for node, rec in owners.items()}


def outside_our_namespace(frame: pd.DataFrame, base: str) -> tuple[pd.DataFrame, list[QuarantineRecord]]:
    """The partner's rows whose IRI is not under our `base`, and the others quarantined: a
    partner cannot describe records in our namespace (it would overwrite ours). Two
    instances therefore need different `base_iri`s."""
    iris = [enterprise_iri(s, r, base) for s, r in zip(frame["source"], frame["record_id"])]
    ours = pd.Series([i.startswith(base) for i in iris], index=frame.index, dtype=bool)
    refused = [QuarantineRecord(str(s), str(r), int(n), "iri", f"the partner's IRI is in our own namespace {base}")
               for s, r, n in zip(frame["source"][ours], frame["record_id"][ours], frame["line"][ours])]
    return frame[~ours], refused

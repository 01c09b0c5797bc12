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
`prov:wasDerivedFrom`, and `schema:name` / `dcterms:identifier` added where the partner
has none (`gated_lines`).
"""
from __future__ import annotations

import gzip
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
    graph: the partner's statements, `dcterms:source` of each record pointed at our
    dataset of the partner, and what our shapes require when the partner's vocabulary
    spells it otherwise (ESSGlobal's `gr:name`, no identifier): `schema:name` (the name
    we read) and `dcterms:identifier` (the partner's IRI)."""
    ours = ox.NamedNode(SE_SOURCE + source)
    named: set[str] = set()
    identified: set[str] = set()
    triples = list(ox.parse(path=str(path), format=ox.RdfFormat.N_TRIPLES))
    reached = _blank_nodes_reached(triples, names.keys())
    for t in triples:
        rec = owner(t.subject)
        if rec is None:
            if t.subject in reached:  # a blank node of a record we keep
                yield f"{t} .\n"
            continue
        if rec not in names:
            continue
        if t.subject.value == rec:
            if t.predicate == _SOURCE:
                if t.object != ours:
                    yield f"{ox.Triple(t.subject, _DERIVED, t.object)} .\n"
                continue
            if t.predicate == _NAME:
                named.add(rec)
            elif t.predicate == _IDENTIFIER:
                identified.add(rec)
        yield f"{t} .\n"
    for rec in sorted(names):
        s = ox.NamedNode(rec)
        yield f"{ox.Triple(s, _SOURCE, ours)} .\n"
        if rec not in named:
            yield f"{ox.Triple(s, _NAME, ox.Literal(names[rec]))} .\n"
        if rec not in identified:
            yield f"{ox.Triple(s, _IDENTIFIER, ox.Literal(rec))} .\n"


def _blank_nodes_reached(triples: list[ox.Triple], records: Iterable[str]) -> set[ox.BlankNode]:
    keep = set(records)
    edges: dict[ox.BlankNode, list[ox.BlankNode]] = defaultdict(list)
    todo: list[ox.BlankNode] = []
    for t in triples:
        if isinstance(t.object, ox.BlankNode):
            if isinstance(t.subject, ox.BlankNode):
                edges[t.subject].append(t.object)
            elif owner(t.subject) in keep:
                todo.append(t.object)
    reached: set[ox.BlankNode] = set()
    while todo:
        node = todo.pop()
        if node not in reached:
            reached.add(node)
            todo += edges.get(node, [])
    return reached


def outside_our_namespace(frame: pd.DataFrame, base: str) -> tuple[pd.DataFrame, list[QuarantineRecord]]:
    """The partner's rows whose IRI is not under our `base`, and the others quarantined: a
    partner cannot describe records in our namespace (it would overwrite ours). Two
    instances therefore need different `base_iri`s."""
    iris = [enterprise_iri(s, r, base) for s, r in zip(frame["source"], frame["record_id"])]
    ours = pd.Series([i.startswith(base) for i in iris], index=frame.index, dtype=bool)
    refused = [QuarantineRecord(str(s), str(r), int(n), "iri", f"the partner's IRI is in our own namespace {base}")
               for s, r, n in zip(frame["source"][ours], frame["record_id"][ours], frame["line"][ours])]
    return frame[~ours], refused

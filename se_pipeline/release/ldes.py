"""`changes.ttl` + `changes/<release-id>/<n>.trig`: the release's changes as a Linked Data Event Stream.

Partners who keep a copy of our data should not diff whole dumps: every release publishes
what changed since the previous one as members of an LDES (https://w3id.org/ldes/specification,
paged with TREE relations, https://w3id.org/tree/specification), which any LDES client
replays, and `se_pipeline.acquire.ldes` reads incrementally.

* A member is one *version* of an enterprise description: IRI `<enterprise>#v-<release-id>`,
  `dcterms:isVersionOf` the enterprise, `prov:generatedAtTime` the release's time (the
  stream's `ldes:timestampPath`), typed `as:Create` (new record), `as:Update` (changed)
  or `as:Delete` (withdrawn by its source, or gone from the release). Its statements —
  the record's triples exactly as in `dataset.nq.gz`, subjects unchanged — are the named
  graph of the member's IRI (TREE's member extraction takes the member graph), so a
  client replaces its copy of the record with that graph; a withdrawal still carries the
  withdrawn description (status, date), a record gone entirely carries none.
* Which records changed is what `changelog.csv` says (`release.changelog`). When the
  previous release has no stream (the first release, or one made before streams), the
  stream starts with every record of this release, so it alone replicates the data.
* One page per release, split every `PAGE_MEMBERS` members. Pages never change: the next
  release hard-links them into its own `changes/` (releases are write-once), so every
  release holds the whole stream. `changes.ttl` (the `ldes:EventStream` and its root
  `tree:Node`) lists every page with two relations on the timestamp, `>=` and `<=` the
  page's time, so a client that has seen everything up to time T fetches only the pages
  above T. Member times never go backwards (LDES §4.1): a release in the same second as
  the previous one is stamped a second after it.
* Links between the stream's documents are relative IRIs, so the same bytes work at
  whatever URL the release is hosted (`/release/<id>/`, `/release/latest/`, loopback).

Member statements are routed record by record from `dataset.nq.gz` through bucket files
of at most `BUCKET_RECORDS` records, so memory is one bucket's lines, however many
records changed.
"""
from __future__ import annotations

import csv
import gzip
import os
import re
import shutil
import tempfile
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, Iterable, Iterator

import pyoxigraph as ox

from se_pipeline.namespaces import DCTERMS, PREFIXES as DATA_PREFIXES, PROV, RDF_TYPE, SE_GRAPH, SEP, SEPT, XSD
from se_pipeline.rdf.terms import iri
from se_pipeline.release.changelog import NOT_RECORDS
from se_pipeline.release.errors import ReleaseError
from se_pipeline.release.gate import gzip_members

LDES = "https://w3id.org/ldes#"
TREE = "https://w3id.org/tree#"
AS = "https://www.w3.org/ns/activitystreams#"
LDES_SPEC = "https://w3id.org/ldes/specification"
EVENT_STREAM_FILE = "changes.ttl"
PAGES_DIR = "changes"
#: Members per page: small enough for a client to fetch and parse in one go.
PAGE_MEMBERS = 1000
#: Records whose statements are grouped in memory at once.
BUCKET_RECORDS = 50_000
TIMESTAMP = PROV + "generatedAtTime"
VERSION_OF = DCTERMS + "isVersionOf"
CREATE, UPDATE, DELETE = AS + "Create", AS + "Update", AS + "Delete"
PREFIXES = {"ldes": LDES, "tree": TREE, "as": AS, "dcterms": DCTERMS, "prov": PROV, "xsd": XSD}
ALL_PREFIXES = {**DATA_PREFIXES, **PREFIXES}

#: Documents are serialised against this base and the `@base` line dropped, which leaves
#: the links between them relative (no other IRI shares the scheme).
_PLACEHOLDER = "x-se-stream://release/"
_PAGE_PATH = re.compile(r"^changes/[0-9A-Za-z-]+/[1-9][0-9]*\.trig$")
_GRAPH_PREFIX = b" <" + SE_GRAPH.encode("utf-8")
_WITHDRAWN = f"<{SEP}status> <{SEPT}status/Withdrawn> .".encode("utf-8")
_KIND = {"added": CREATE, "changed": UPDATE, "removed": DELETE}


def stream_iri(base_iri: str) -> str:
    """The stream's IRI, under the instance's data base (each instance has its own stream)."""
    return base_iri + "changes"


def member_iri(record: str, release_id: str) -> str:
    return f"{record}#v-{release_id}"


@dataclass(frozen=True)
class Page:
    """One page of the stream: its path in the release and its members' time."""

    path: str
    time: datetime


@dataclass
class StreamResult:
    """What `write_event_stream` did: pages written for this release, pages carried over."""

    pages: list[Page] = field(default_factory=list)
    carried: list[Page] = field(default_factory=list)
    members: int = 0
    started: bool = False  # the stream starts with this release (every record is a member)


def _xsd_time(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _relative_document(statements: Iterable[ox.Triple | ox.Quad], url: str, fmt: ox.RdfFormat) -> bytes:
    """Serialise against the placeholder `url` and drop the `@base` line: the document's
    own links become relative to wherever it is served."""
    text = ox.serialize(statements, format=fmt, prefixes=PREFIXES, base_iri=_PLACEHOLDER + url)
    head, _, rest = text.partition(b"\n")
    if not head.startswith(b"@base ") or _PLACEHOLDER.encode() in rest:
        raise ReleaseError(f"could not write {url} with relative links")
    return rest


def previous_pages(release_dir: Path | None) -> list[Page] | None:
    """The pages listed by a release's `changes.ttl`, oldest first; None when it has no stream."""
    if release_dir is None or not (release_dir / EVENT_STREAM_FILE).is_file():
        return None
    store = ox.Store()
    store.load(path=str(release_dir / EVENT_STREAM_FILE), format=ox.RdfFormat.TURTLE,
               base_iri=_PLACEHOLDER + EVENT_STREAM_FILE)
    times: dict[str, datetime] = {}
    for row in store.query(f"SELECT ?n ?v WHERE {{ ?r <{TREE}node> ?n ; <{TREE}value> ?v ; "
                           f"a <{TREE}GreaterThanOrEqualToRelation> }}"):
        path = row["n"].value.removeprefix(_PLACEHOLDER)
        if not _PAGE_PATH.match(path) or not (release_dir / path).is_file():
            raise ReleaseError(f"{release_dir / EVENT_STREAM_FILE} lists a page that is not in the release: {path}")
        times[path] = datetime.fromisoformat(row["v"].value)
    return sorted((Page(p, t) for p, t in times.items()), key=lambda page: (page.time, page.path))


def _carry(pages: list[Page], previous: Path, target: Path) -> None:
    """Hard-link the earlier pages (copy across file systems); they are immutable."""
    for page in pages:
        dest = target / page.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(previous / page.path, dest)
        except OSError:
            shutil.copyfile(previous / page.path, dest)


def _wanted(release_dir: Path, records: Iterable[tuple[str, bytes]] | None) -> dict[tuple[str, bytes], str]:
    """{(source, record IRI): change}: every record of the release (`records`) when the
    stream starts here, else the changelog's rows."""
    if records is not None:
        return {key: "added" for key in records}
    wanted: dict[tuple[str, bytes], str] = {}
    with (release_dir / "changelog.csv").open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["change"] in _KIND:
                wanted[(row["source"], row["record"].encode("utf-8"))] = row["change"]
    return wanted


#: Bytes of decompressed N-Quads split into lines at once (a line per Python call was
#: most of a first release's stream, which routes every line).
_BLOCK = 1 << 20


def _line_blocks(nq_gz: Path, members: list[tuple[int, int]] | None = None) -> Iterator[list[bytes]]:
    """The lines of a gzipped file (without their newline), a block of them at a time;
    with `members`, of those (offset, length) gzip members of it only."""
    if members is None:
        with gzip.open(nq_gz, "rb") as f:
            yield from _blocks_of(f)
        return
    with nq_gz.open("rb") as raw:
        for f in gzip_members(raw, members):
            yield from _blocks_of(f)


def _blocks_of(f: BinaryIO) -> Iterator[list[bytes]]:
    rest = b""
    while block := f.read(_BLOCK):
        lines = (rest + block).split(b"\n")
        rest = lines.pop()
        yield lines
    if rest:
        yield [rest]


def _statements(nq_gz: Path, wanted: dict[tuple[str, bytes], str], work: Path,
                members: list[tuple[int, int]] | None = None) -> Iterator[tuple[tuple[str, bytes], list[bytes]]]:
    """Each wanted record with its statements (N-Triples lines, without their newline),
    bucket by bucket, sorted within a bucket. One pass over the dump routes lines to the
    buckets' files.

    The dump holds each graph's statements together, so the graph is read from a line
    only when the line does not end as the previous one did."""
    buckets = max(1, -(-len(wanted) // BUCKET_RECORDS))
    files: list[BinaryIO] = [open(work / f"bucket-{i}", "wb") for i in range(buckets)]
    try:
        ending = b"\0"  # the graph and dot of the lines of `source` (none yet)
        source, tag, skip = "", b"", True
        for lines in _line_blocks(nq_gz, members):
            routed: list[list[bytes]] = [[] for _ in range(buckets)]
            for line in lines:
                if not line.endswith(ending):
                    cut = line.rfind(_GRAPH_PREFIX)
                    if cut < 0:
                        continue
                    ending = line[cut:]
                    source = line[cut + len(_GRAPH_PREFIX):line.rindex(b">")].decode("utf-8")
                    tag, skip = source.encode("utf-8") + b" ", source in NOT_RECORDS
                if skip or line[:1] != b"<":
                    continue
                key = line[1:line.index(b">")].partition(b"#")[0]
                if (source, key) in wanted:
                    routed[zlib.crc32(key) % buckets if buckets > 1 else 0].append(
                        tag + line[:len(line) - len(ending)] + b" .")
            for out, bucket in zip(files, routed):
                if bucket:
                    out.write(b"\n".join(bucket) + b"\n")
    finally:
        for out in files:
            out.close()
    for i in range(buckets):
        grouped: dict[tuple[bytes, bytes], list[bytes]] = defaultdict(list)
        path = work / f"bucket-{i}"
        lines = path.read_bytes().split(b"\n")
        path.unlink()
        lines.pop()  # after the last newline
        for line in lines:
            tag, _, statement = line.partition(b" ")
            grouped[(tag, statement[1:statement.index(b">")].partition(b"#")[0])].append(statement)
        del lines
        for tag, record in sorted(grouped):  # UTF-8 sorts as its text does
            yield (tag.decode("utf-8"), record), sorted(grouped[tag, record])
        del grouped


def _members(nq_gz: Path, wanted: dict[tuple[str, bytes], str], work: Path,
             members: list[tuple[int, int]] | None = None) -> Iterator[tuple[str, str, list[bytes]]]:
    """(record IRI, member type, statements) of every wanted record; records gone from the
    release (no statements) last."""
    found: set[tuple[str, bytes]] = set()
    for key, statements in _statements(nq_gz, wanted, work, members):
        found.add(key)
        withdrawn = any(s.endswith(_WITHDRAWN) and s.startswith(b"<" + key[1] + b">") for s in statements)
        yield key[1].decode("utf-8"), DELETE if withdrawn else _KIND[wanted[key]], statements
    for key in sorted(set(wanted) - found):
        yield key[1].decode("utf-8"), DELETE, []


def _write_page(path: Path, url: str, stream: str, release_id: str, when: datetime,
                members: list[tuple[str, str, list[bytes]]]) -> None:
    node = ox.NamedNode(_PLACEHOLDER + url)
    s = ox.NamedNode(stream)
    header: list[ox.Triple] = [ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(TREE + "Node"))]
    stamp = ox.Literal(_xsd_time(when), datatype=ox.NamedNode(XSD + "dateTime"))
    for record, kind, _ in members:
        m = ox.NamedNode(member_iri(record, release_id))
        header += [ox.Triple(s, ox.NamedNode(TREE + "member"), m), ox.Triple(m, ox.NamedNode(RDF_TYPE), ox.NamedNode(kind)),
                   ox.Triple(m, ox.NamedNode(VERSION_OF), ox.NamedNode(record)),
                   ox.Triple(m, ox.NamedNode(TIMESTAMP), stamp)]
    # The members' statements as N-Quads in their member graphs, written back as TriG with
    # prefixes by Oxigraph: a strict parse on the way, and far fewer bytes than full IRIs.
    # Streamed from the parser to the serialiser in the members' order (records and their
    # statements sorted), not through a store: indexing them only to dump them again was
    # most of the page's time (benchmarks/README.md).
    quads = bytearray()
    for record, _, statements in members:
        graph = b" " + iri(member_iri(record, release_id)).encode("utf-8") + b" .\n"
        for statement in statements:
            quads += statement[:-2] + graph
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(_relative_document(header, url, ox.RdfFormat.TRIG))
        ox.serialize(ox.parse(bytes(quads), format=ox.RdfFormat.N_QUADS), out, format=ox.RdfFormat.TRIG,
                     prefixes=ALL_PREFIXES)


def _write_index(target: Path, stream: str, pages: list[Page]) -> None:
    n = ox.NamedNode
    view = n(_PLACEHOLDER + EVENT_STREAM_FILE)
    s = n(stream)
    a = n(RDF_TYPE)
    t = [ox.Triple(s, a, n(LDES + "EventStream")), ox.Triple(s, n(LDES + "timestampPath"), n(TIMESTAMP)),
         ox.Triple(s, n(LDES + "versionOfPath"), n(VERSION_OF)),
         ox.Triple(s, n(LDES + "versionCreatePath"), a), ox.Triple(s, n(LDES + "versionCreateObject"), n(CREATE)),
         ox.Triple(s, n(LDES + "versionDeletePath"), a), ox.Triple(s, n(LDES + "versionDeleteObject"), n(DELETE)),
         ox.Triple(s, n(DCTERMS + "title"), ox.Literal("Changes of the solidarity economy dataset, release by release",
                                                        language="en")),
         ox.Triple(s, n(TREE + "view"), view), ox.Triple(view, a, n(TREE + "Node"))]
    for i, page in enumerate(pages):
        value = ox.Literal(_xsd_time(page.time), datatype=n(XSD + "dateTime"))
        for relation, label in (("GreaterThanOrEqualToRelation", "from"), ("LessThanOrEqualToRelation", "to")):
            r = ox.BlankNode(f"{label}{i}")
            t += [ox.Triple(view, n(TREE + "relation"), r), ox.Triple(r, a, n(TREE + relation)),
                  ox.Triple(r, n(TREE + "path"), n(TIMESTAMP)), ox.Triple(r, n(TREE + "value"), value),
                  ox.Triple(r, n(TREE + "node"), n(_PLACEHOLDER + page.path))]
    target.write_bytes(_relative_document(t, EVENT_STREAM_FILE, ox.RdfFormat.TURTLE))


def write_event_stream(release_dir: Path, previous_release: Path | None, records: Iterable[tuple[str, bytes]],
                       release_id: str, issued: datetime, base_iri: str, work: Path,
                       members: list[tuple[int, int]] | None = None) -> StreamResult:
    """Write this release's pages and `changes.ttl` into `release_dir` (which already holds
    `dataset.nq.gz` and `changelog.csv`), carrying the previous release's pages over.

    `records`: every (source, record IRI) of this release (the dataset statistics' record keys), used
    when the stream starts here; `work`: a scratch folder for the bucket files; `members`:
    the (offset, length) of the gzip members of dataset.nq.gz that hold every changed
    record's statements (the graphs written afresh), read instead of the whole file
    unless the stream starts here."""
    earlier = previous_pages(previous_release)
    result = StreamResult(started=earlier is None)
    earlier = earlier or []
    if earlier:
        _carry(earlier, previous_release, release_dir)  # type: ignore[arg-type]
    result.carried = list(earlier)
    when = issued.astimezone(timezone.utc).replace(microsecond=0)
    if earlier and when <= earlier[-1].time:
        when = earlier[-1].time + timedelta(seconds=1)
    wanted = _wanted(release_dir, records if result.started else None)
    stream = stream_iri(base_iri)
    with tempfile.TemporaryDirectory(prefix="ldes-", dir=work) as scratch:
        batch: list[tuple[str, str, list[bytes]]] = []

        def flush() -> None:
            url = f"{PAGES_DIR}/{release_id}/{len(result.pages) + 1}.trig"
            _write_page(release_dir / url, url, stream, release_id, when, batch)
            result.pages.append(Page(url, when))
            result.members += len(batch)
            batch.clear()

        for member in _members(release_dir / "dataset.nq.gz", wanted, Path(scratch),
                               None if result.started else members):
            batch.append(member)
            if len(batch) == PAGE_MEMBERS:
                flush()
        if batch:
            flush()
    _write_index(release_dir / EVENT_STREAM_FILE, stream, earlier + result.pages)
    return result

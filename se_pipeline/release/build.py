"""Assemble a release from every source's last good graph, gate it, publish it.

Order matters for trust: datasets are written, re-read by independent parsers and
validated; only then are the report, catalog and checksums written, the directory made
permanent, and `latest` switched. Any failure leaves `latest` where it was.
"""
from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from collections import Counter
import time
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, Callable, Iterable, Iterator, Protocol

import pyoxigraph as ox

from se_pipeline import child_processes
from se_pipeline.code_digest import code_digest
from se_pipeline.access.landing import DataCounts, write_landing_page
from se_pipeline.access.ontology_doc import write_ontology_html
from se_pipeline.files import sha256_file
from se_pipeline.namespaces import ESSGLOBAL, PREFIXES, RDF_TYPE, SE_GRAPH
from se_pipeline.rdf.vocabulary import VOCABULARY_GRAPH, concept_triples, used_concepts
from se_pipeline.quarantine import QuarantineRecord, read_quarantine, write_quarantine
from se_pipeline.release import gate, ledger, part_slices
from se_pipeline.release.digest_files import digest_lines, sort_lines
from se_pipeline.release.errors import ReleaseError
from se_pipeline.release.exports import staging as exports_staging
from se_pipeline.release.changelog import NOT_RECORDS, RecordDigests, write_changelog
from se_pipeline.release.catalog import (
    DistributionFile, SourceSummary, catalog_triples, write_catalog, write_catalog_with_size,
)
from se_pipeline.release.jsonld import (
    CONTEXT_FILE, JSONLD_SEPARATOR, JSONLD_TAIL, jsonld_head, write_context, write_graph_object,
)
from se_pipeline.release.ldes import write_event_stream
from se_pipeline.release.inputs import INPUTS_FILE, write_inputs
from se_pipeline.release.publish import (
    finish_release, flush_in_background, new_release_id, start_release, switch_latest, write_checksums_from,
)
from se_pipeline.runtime import give_back_memory
from se_pipeline.settings import PAGE_LANGUAGES, Settings
from se_pipeline.sources.registry import SourceSpec
from se_pipeline.state import SourceState, read_json

MEDIA = {
    "dataset.ttl": "text/turtle", "dataset.jsonld": "application/ld+json",
    "dataset.nq.gz": "application/n-quads", "quarantine.csv": "text/csv", "dropped-values.csv": "text/csv",
    "resolved-values.csv": "text/csv",
    "shacl-report.ttl": "text/turtle", "changelog.csv": "text/csv", "standard.csv": "text/csv",
    "vocabs.json": "application/json", "enterprises.geojson": "application/geo+json", "changes.ttl": "text/turtle",
    "context.jsonld": "application/ld+json",
}
INITIATIVE = ESSGLOBAL + "SSEInitiative"


#: gzip level of dataset.nq.gz: level 3 compresses in well under half the time of the
#: default 6 (on the build's critical path) for a slightly larger file (benchmarks/README.md).
NQUADS_GZIP_LEVEL = 3


@dataclass
class ReleaseResult:
    release_id: str
    path: Path
    triples: int
    entities: int
    sources: list[SourceSummary]
    seconds: dict[str, float] = field(default_factory=dict)
    exports_staged: bool = False  # the partner exports were the `partner_exports` asset's, moved in
    #: Enterprises whose documents were rendered / hard-linked from the previous release,
    #: and the same for Murmurations profiles (`documents_written`, `profiles_linked`, …).
    reuse: dict[str, int] = field(default_factory=dict)


@dataclass
class GraphPart:
    """One named graph of the release: its name and where its N-Triples are."""

    graph: str
    path: Path


#: A part's N-Triples above this size are written slice by slice (`release.part_slices`),
#: about this many bytes a slice: one slice's store in memory at a time, not the part's.
PART_SLICE_BYTES = 64 << 20


def _load(path: Path, graph: str) -> ox.Store:
    """N-Triples loaded on their own into an in-memory Oxigraph store (strict parse,
    duplicates merged) in `graph`. `load`, not `bulk_load`: in memory it is the faster and
    smaller of the two (benchmarks/README.md)."""
    store = ox.Store()
    store.load(path=str(path), format=ox.RdfFormat.N_TRIPLES, to_graph=ox.NamedNode(graph))
    return store


def _part_stores(part: GraphPart, work: Path) -> Iterator[ox.Store]:
    """A part's statements as stores, one after the other, each subject's statements
    together (`release.part_slices`): the whole part in one, or, above `PART_SLICE_BYTES`,
    one per slice (each slice file is deleted once loaded). One source's graph in memory
    at a time, never the release. A file whose subjects are already together and that
    needs no slices is loaded as it is."""
    scattered = part_slices.scattered_subjects(part.path)
    count = max(1, -(-part.path.stat().st_size // PART_SLICE_BYTES))
    if scattered is None or (count == 1 and not scattered):
        yield _load(part.path, part.graph)
        return
    slices = part_slices.split(part.path, count, work / "slices", scattered)
    try:
        for path in slices:
            store = _load(path, part.graph)
            path.unlink()
            yield store
            del store  # before the next slice is loaded
    finally:
        for path in slices:
            path.unlink(missing_ok=True)


def _drain(store: ox.Store, graph: ox.NamedNode) -> Iterator[ox.Quad]:
    """The store's statements of `graph`; the store is let go once they are all read
    (a finished generator drops its frame), whoever still holds this iterator."""
    yield from store.quads_for_pattern(None, None, None, graph)


_CLASS_COUNTS = f"SELECT ?c (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s <{RDF_TYPE}> ?c }} FILTER(isIRI(?c)) }} GROUP BY ?c"

#: The dataset files, each made of one byte range per graph (`PartRecord.ranges`).
DATASET_FILES = ("dataset.nq.gz", "dataset.ttl", "dataset.jsonld")


@dataclass
class DatasetStatistics:
    """What the release holds, taken part by part while the datasets are written: counts
    (VoID), classes, concepts used, the fingerprint the release gate re-reads the parts
    written afresh against, the record digests the changelog compares with the previous
    release, and the landing page's counts — one pass over each graph's store serves them
    all. A part reused from the previous release adds its stored `PartRecord` instead."""

    per_graph: dict[str, int] = field(default_factory=dict)
    classes: dict[str, dict[str, int]] = field(default_factory=dict)
    concepts: set[str] = field(default_factory=set)
    quads: gate.FingerprintBuilder = field(default_factory=gate.FingerprintBuilder)
    records: RecordDigests = field(default_factory=RecordDigests)
    landing: DataCounts = field(default_factory=DataCounts)
    #: Statements of the whole release (`quads` counts only the parts written afresh).
    statements: int = 0
    #: This release's part records, in the datasets' order (the ledger's `parts.json`).
    parts: list[dict[str, Any]] = field(default_factory=list)
    #: Each part's landing-page coordinates as JSON text, decoded into `landing` only for
    #: the page (`landing_with_coords`): as tuples, those of 10^6 enterprises were held
    #: beside the largest part's store while the datasets are written, and a kept part's
    #: beside it again as parsed from the ledger (benchmarks/README.md).
    coords_texts: list[str] = field(default_factory=list)

    def add_part(self, stores: Iterable[ox.Store], graph: str, nquads_out: BinaryIO) -> Iterator[ox.Store]:
        """Count and fingerprint a part's stores (each holding only statements of `graph`,
        no subject in two of them: `_part_stores`) while their N-Quads go to `nquads_out`,
        in each dump's own chunks of whole lines; gives each store back once done, and
        adds the part's record (without its ranges) after the last. Held whole, a part's
        dump, its copy without graph names and both split into lines are several times
        the part's N-Quads, which at 10^6 enterprises are hundreds of megabytes."""
        graph_suffix = b" <" + graph.encode("utf-8") + b"> .\n"
        source = graph[len(SE_GRAPH):] if graph.startswith(SE_GRAPH) else None
        if source in NOT_RECORDS:  # no records to digest: not even a copy of its lines
            source = None
        before = self.quads.count

        def lines(nquads: bytes) -> None:
            nquads_out.write(nquads)
            self.quads.add_lines(nquads)
            if source is not None:
                # The same lines without their graph name (a line's only raw newline is its
                # last byte: terms escape theirs), rather than a second dump of the store.
                self.records.add_ntriples(source, nquads.replace(graph_suffix, b" .\n"))

        landing = DataCounts()
        by: dict[str, int] = {}
        concepts: set[str] = set()
        triples = 0
        for store in stores:
            sink = gate.LineBuffer(lines)
            store.dump(sink, format=ox.RdfFormat.N_QUADS)
            if tail := sink.end():
                raise ReleaseError(f"N-Quads dump ended inside a line: {tail[:80]!r}")
            landing.add(store)
            for row in store.query(_CLASS_COUNTS):
                by[row["c"].value] = by.get(row["c"].value, 0) + int(row["n"].value)
            concepts |= used_concepts(store)
            triples += len(store)
            yield store
            del store  # before the next one is made
        self._add({"graph": graph, "triples": triples, "statements": self.quads.count - before, "classes": by,
                   "concepts": sorted(concepts), "landing": landing.record()})

    def add_kept(self, part: dict[str, Any]) -> None:
        """A part reused from the previous release: its stored record, not its store."""
        self._add({**part, "kept": True})

    def landing_with_coords(self) -> DataCounts:
        """The landing page's counts with every part's coordinates, decoded now."""
        for text in self.coords_texts:
            self.landing.add_coords(text)
        self.coords_texts = []
        return self.landing

    def kept_graphs(self) -> set[str]:
        return {p["graph"] for p in self.parts if p.get("kept")}

    def _add(self, part: dict[str, Any]) -> None:
        graph = part["graph"]
        self.landing.add_record(part["landing"])
        self.coords_texts.append(part["landing"]["coords"])
        self.per_graph[graph] = self.per_graph.get(graph, 0) + part["triples"]
        by = self.classes.setdefault(graph, {})
        for cls, n in part["classes"].items():
            by[cls] = by.get(cls, 0) + n
        self.concepts.update(part["concepts"])
        self.statements += part["statements"]
        self.parts.append(part)


def _vocabulary_part(concepts: set[str], work: Path) -> GraphPart | None:
    """Labels (en, fr, es, pt) and scheme links of every concept the data uses."""
    triples = concept_triples(concepts)
    if not triples:
        return None
    path = work / "vocabulary.nt"
    ox.serialize(triples, str(path), format=ox.RdfFormat.N_TRIPLES)
    return GraphPart(VOCABULARY_GRAPH, path)


def _then_vocabulary(parts: list[GraphPart], statistics: DatasetStatistics, work: Path) -> Iterator[GraphPart]:
    """The parts, then the vocabulary graph of the concepts the statistics saw in them."""
    yield from parts
    vocabulary = _vocabulary_part(statistics.concepts, work)
    if vocabulary:
        yield vocabulary


class _Range:
    """Where one part's bytes go in a dataset file, and their SHA-256, as they are written."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._start = out.tell()
        self._sha = hashlib.sha256()

    def write(self, data: bytes) -> int:
        self._sha.update(data)
        return self._out.write(data)

    def flush(self) -> None:
        """The file is flushed by its owner."""

    def end(self) -> list[Any]:
        """[offset, length, SHA-256] of what was written."""
        return [self._start, self._out.tell() - self._start, self._sha.hexdigest()]


class _JsonLdGraph:
    """One graph object of dataset.jsonld (text, UTF-8): the separator from the previous
    graph object is written before its first text, outside its range (a graph without
    statements writes neither)."""

    def __init__(self, out: BinaryIO, separator: bytes) -> None:
        self._out, self._separator = out, separator
        self._range: _Range | None = None

    def write(self, text: str) -> int:
        if self._range is None:
            self._out.write(self._separator)
            self._range = _Range(self._out)
        return self._range.write(text.encode("utf-8"))

    def end(self) -> list[Any]:
        return self._range.end() if self._range is not None else [self._out.tell(), 0, hashlib.sha256().hexdigest()]


def _turtle_then_statements(stores: Iterable[ox.Store], graph: ox.NamedNode, out: _Range) -> Iterator[ox.Quad]:
    """Each store's Turtle to `out`, then its statements (each store is let go once they
    are all read). One prefix block per part: the first store's Turtle is streamed with
    it, a later store's is dumped without it (Oxigraph writes every prefix it is given,
    so the block is always `TURTLE_PREFIXES`)."""
    first = True
    for store in stores:
        if len(store):
            if first:
                store.dump(out, format=ox.RdfFormat.TURTLE, from_graph=graph, prefixes=PREFIXES)
                first = False
            else:
                turtle = store.dump(format=ox.RdfFormat.TURTLE, from_graph=graph, prefixes=PREFIXES)
                out.write(turtle[len(TURTLE_PREFIXES):] if turtle.startswith(TURTLE_PREFIXES) else turtle)
        yield from _drain(store, graph)
        del store


def _prefix_block(turtle: bytes) -> bytes:
    """The `@prefix` lines a Turtle document starts with."""
    end = 0
    while turtle.startswith(b"@prefix ", end):
        end = turtle.index(b"\n", end) + 1
    return turtle[:end]


#: The prefix block Oxigraph starts a Turtle dump with, whatever the statements.
TURTLE_PREFIXES = _prefix_block(ox.serialize(
    [ox.Triple(ox.NamedNode("urn:x"), ox.NamedNode("urn:x"), ox.NamedNode("urn:x"))],
    format=ox.RdfFormat.TURTLE, prefixes=PREFIXES))


def _copy_range(source: BinaryIO, offset: int, length: int, out: BinaryIO) -> list[Any]:
    """Append `length` bytes of `source` from `offset` to `out` (in the kernel where it
    can: `copy_file_range`); returns the range they have in `out` (its SHA-256 is the
    caller's: the release gate proves the published bytes against it)."""
    out.flush()
    start = out.seek(0, os.SEEK_END)
    done = 0
    while done < length:
        try:
            n = os.copy_file_range(source.fileno(), out.fileno(), length - done, offset + done)
        except OSError:
            n = 0
        if n == 0:  # not supported here (or a short source): the plain way
            source.seek(offset + done)
            chunk = source.read(min(length - done, 1 << 20))
            if not chunk:
                raise ReleaseError(f"{source.name} ends inside a part kept from it")
            n = out.write(chunk)
            out.flush()
        done += n
    out.seek(0, os.SEEK_END)
    return [start, length]


def write_datasets(directory: Path, parts: list[GraphPart], statistics: DatasetStatistics, work: Path,
                   previous: tuple[Path, dict[str, dict[str, Any]]] | None = None) -> None:
    """Write dataset.nq.gz, dataset.ttl and dataset.jsonld in one pass.

    Each part is loaded once into Oxigraph and written to all three files: N-Quads (one
    gzip member per part: concatenated members are one gzip stream) and Turtle by
    Oxigraph's serialisers (no Python per statement), JSON-LD by our streaming writer. The
    statistics are taken from the same store, and the vocabulary graph — labels of exactly
    the concepts the statistics counted — comes last. Turtle gets one prefix block per
    part (prefix directives may repeat anywhere in a Turtle document), so each part's
    bytes in every file stand alone.

    `previous` (a release and its ledger's parts): a part whose N-Triples file has the
    SHA-256 of one of its parts is not loaded at all: its bytes are copied from that
    release's files and its statistics taken from the record. The files are the same bytes
    as if every part had been written afresh. The release gate then re-reads the parts
    written afresh against the statistics, and proves the copied ones by their SHA-256
    (see `release.gate`). `statistics.parts` gets each part's record with its ranges.
    """
    kept = previous[1] if previous is not None else {}
    sources = {name: (previous[0] / name).open("rb") for name in DATASET_FILES} if kept else {}
    try:
        with (directory / "dataset.nq.gz").open("wb") as nq_out, \
                (directory / "dataset.ttl").open("wb") as ttl_out, \
                (directory / "dataset.jsonld").open("wb") as jsonld_out:
            jsonld_out.write(jsonld_head().encode("utf-8"))
            separator = b""
            for part in _then_vocabulary(parts, statistics, work):
                digest = sha256_file(part.path)
                old = kept.get(part.graph)
                if old is not None and old["source_sha256"] == digest and part.graph != VOCABULARY_GRAPH:
                    ranges = {}
                    for name, out in (("dataset.nq.gz", nq_out), ("dataset.ttl", ttl_out)):
                        offset, length, sha = old["ranges"][name]
                        ranges[name] = [*_copy_range(sources[name], offset, length, out), sha]
                    offset, length, sha = old["ranges"]["dataset.jsonld"]
                    if length:
                        jsonld_out.write(separator)
                        separator = JSONLD_SEPARATOR.encode("utf-8")
                    ranges["dataset.jsonld"] = [*_copy_range(sources["dataset.jsonld"], offset, length, jsonld_out), sha]
                    statistics.add_kept({**old, "ranges": ranges})
                    continue
                graph = ox.NamedNode(part.graph)
                nq, ttl = _Range(nq_out), _Range(ttl_out)
                fragment = _JsonLdGraph(jsonld_out, separator)
                with gzip.GzipFile(filename="", mode="wb", compresslevel=NQUADS_GZIP_LEVEL, fileobj=nq, mtime=0) as member:
                    # Each store gives its N-Quads and counts, its Turtle, then its
                    # statements to the JSON-LD writer, and is let go before the next.
                    stores = statistics.add_part(_part_stores(part, work), part.graph, member)
                    write_graph_object(graph, _turtle_then_statements(stores, graph, ttl), fragment)
                jsonld = fragment.end()
                if jsonld[1]:
                    separator = JSONLD_SEPARATOR.encode("utf-8")
                statistics.parts[-1].update(source_sha256=digest, ranges={
                    "dataset.nq.gz": nq.end(), "dataset.ttl": ttl.end(), "dataset.jsonld": jsonld})
                # The last store is gone, and its memory goes back before the next part.
                give_back_memory(collect=False)
            jsonld_out.write(JSONLD_TAIL.encode("utf-8"))
    finally:
        for f in sources.values():
            f.close()


#: Parts' N-Triples, in bytes, from which the documents are written by two writers (the
#: second forked once the files are routed), each describing about half the sources.
#: Below it one. The threshold was set when each writer routed every file again
#: (benchmarks/README.md); with the routing shared it could be lower (not measured).
TWO_DOCUMENT_WRITERS_FROM = 32 << 20


def _start_static_documents(release_dir: Path, parts: list[GraphPart], base_iri: str,
                            digests: Path, langs: tuple[str, ...] = PAGE_LANGUAGES,
                            index: Path | None = None, previous: tuple[Path, Path] | None = None,
                            stats: Path | None = None) -> child_processes.ChildProcess:
    """The per-enterprise documents (see `access.static_docs`), from the parts' files, by
    one or two writers (see `TWO_DOCUMENT_WRITERS_FROM`) in a helper, which writes the
    SHA-256 of each file written to `digests`, and with `index` each enterprise's document
    key (`stats`: how many were linked and written); `previous` (a release and its
    ledger's document index) lets unchanged enterprises' documents be hard links."""
    args = [a for part in parts for a in ("--part", part.graph, str(part.path))]
    size = sum(p.path.stat().st_size for p in parts if p.path.is_file())
    writers = 2 if size >= TWO_DOCUMENT_WRITERS_FROM and len(parts) > 1 else 1
    if index is not None:
        args += ["--index", str(index)]
        if previous is not None:
            args += ["--previous", str(previous[0]), str(previous[1])]
        if stats is not None:
            args += ["--stats", str(stats)]
    return child_processes.start("static documents", "se_pipeline.access.static_docs", str(release_dir), base_iri, *args,
                                 "--writers", str(writers), "--digests", str(digests), "--langs", ",".join(langs))


def _start_partner_exports(release_dir: Path, state_dir: Path, sources: list[str], base_iri: str,
                           digests: Path, previous: tuple[Path, Path] | None = None,
                           stats: Path | None = None) -> child_processes.ChildProcess:
    """The partner exports (see `release.exports`), from the sources' last good rows;
    the SHA-256 of each profile written goes to `digests`; `previous` (a release and its
    sorted profile digests) lets unchanged profiles be hard links (counts to `stats`)."""
    extra = ["--previous", str(previous[0]), str(previous[1])] if previous is not None else []
    if stats is not None:
        extra += ["--stats", str(stats)]
    return child_processes.start("partner exports", "se_pipeline.release.exports",
                          str(state_dir), str(release_dir), base_iri, *sources, "--digests", str(digests), *extra)


def _stats(path: Path) -> dict[str, int]:
    try:
        return {k: int(v) for k, v in json.loads(path.read_text(encoding="utf-8")).items()}
    except (OSError, ValueError):
        return {}


def _wait(helper: child_processes.ChildProcess) -> None:
    try:
        helper.wait()
    except child_processes.ChildProcessFailed as e:
        raise ReleaseError(str(e)) from e


def _records_file(graph: str) -> str:
    return hashlib.sha256(graph.encode("utf-8")).hexdigest()[:32] + ".tsv"


def _all_records(statistics: DatasetStatistics, earlier: Path | None) -> Iterator[tuple[str, bytes]]:
    """Every (source, record IRI) of the release: the parts written afresh, then the kept
    ones' from the previous ledger (read only if the event stream starts here)."""
    yield from statistics.records.digests
    for part in statistics.parts:
        if part.get("kept") and part.get("records") and earlier is not None:
            kept = RecordDigests()
            source = part["graph"][len(SE_GRAPH):]
            kept.read_source(source, earlier / ledger.RECORDS / part["records"])
            yield from kept.digests


def parts_made_with() -> str:
    """What a part's bytes depend on besides its N-Triples: our code (prefixes, JSON-LD
    context, writers, statistics) and the libraries that serialise and compress. Parts
    made with another are not reused (`ledger.read_parts`): a release must equal a cold one."""
    return hashlib.sha256(f"{code_digest()}\0{ox.__version__}\0{zlib.ZLIB_RUNTIME_VERSION}".encode("utf-8")).hexdigest()


def _keep_parts(statistics: DatasetStatistics, made: Path, earlier: Path | None, release: Path) -> None:
    """This release's part records and its source graphs' record digests, into its ledger
    `made` (a kept part's digests hard-linked from the previous ledger `earlier`), with the
    stamps of `release`'s dataset files (`ledger.write_parts`)."""
    (made / ledger.RECORDS).mkdir()
    records = []
    kept = statistics.kept_graphs()
    for part in statistics.parts:
        part = {k: v for k, v in part.items() if k != "kept"}
        graph = part["graph"]
        source = graph[len(SE_GRAPH):] if graph.startswith(SE_GRAPH) else None
        if source is not None and source not in NOT_RECORDS:
            name = part["records"] = _records_file(graph)
            if graph in kept and earlier is not None:
                os.link(earlier / ledger.RECORDS / name, made / ledger.RECORDS / name)
            else:
                statistics.records.write_source(source, made / ledger.RECORDS / name)
        if graph != VOCABULARY_GRAPH:  # recomputed each time: it depends on every part
            records.append(part)
    ledger.write_parts(made, records, parts_made_with(), release, DATASET_FILES)


class PendingValidation(Protocol):
    """SHACL validation of the published N-Quads running in a helper process."""

    helper: child_processes.ChildProcess

    def result(self) -> tuple[bool, str]:
        """Once the helper has exited: (conforms, Markdown summary of violations); the
        report file is written."""
        ...


def build_release(
    settings: Settings,
    specs: list[SourceSpec],
    *,
    extra_parts: list[GraphPart] | None = None,
    extra_files: dict[str, Path] | None = None,
    validate: Callable[[Path, list[tuple[str, Path]]], PendingValidation] | None = None,
    now: datetime | None = None,
    inputs: dict[str, Any] | None = None,
) -> ReleaseResult:
    """Publish a release from `state/<source>/good/` of every source in `specs`.

    `validate(report_path, parts)` starts the SHACL check of the graphs the release is built
    from (`parts`: their names and files) in a helper process (injected so the gate stage
    owns SHACL); the release gate proves the published files hold exactly those graphs.
    It runs from the start, beside the datasets' writing. `extra_files` are copied
    into the release (e.g. links, landing page) before checksums are taken. `inputs`, the
    release's fingerprint (`release.inputs`), is written as `inputs.json`.

    The documents and profiles of enterprises unchanged since `latest` are hard links to
    its files when `latest` has a ledger (`release.ledger`); this release's ledger is kept
    for the next one once `latest` points at it.
    """
    seconds: dict[str, float] = {}
    issued = now or datetime.now(timezone.utc)
    release_id = new_release_id(settings.releases_dir, issued)
    partial = start_release(settings.releases_dir, release_id)
    work = settings.output_dir / "work" / release_id
    work.mkdir(parents=True, exist_ok=True)
    made_ledger = work / "ledger"
    made_ledger.mkdir()
    earlier = ledger.latest_ledger(settings)
    children: list[child_processes.ChildProcess] = []
    try:
        parts: list[GraphPart] = []
        summaries: list[SourceSummary] = []
        quarantine: list[QuarantineRecord] = []
        dropped: list[QuarantineRecord] = []
        resolved: list[QuarantineRecord] = []
        for spec in specs:
            state = SourceState.of(settings.state_dir, spec.name)
            run_status = read_json(state.run / "status.json")
            if not state.has_good():
                quarantine.append(QuarantineRecord(spec.name, "", 0, "", f"source unavailable and no last good copy: {run_status.get('error', 'never fetched')}"))
                continue
            parts.append(GraphPart(SE_GRAPH + spec.name, state.good / "graph.nt"))
            quarantined = read_quarantine(state.good / "quarantine.csv")
            quarantine += quarantined
            dropped += read_quarantine(state.good / "dropped.csv")
            resolved += read_quarantine(state.good / "resolved.csv")
            good_status = read_json(state.good / "status.json")
            stale = run_status.get("ok") is False or run_status.get("run_id") not in (None, good_status.get("run_id"))
            summaries.append(SourceSummary(
                name=spec.name, **spec.published_as(good_status.get("notes")), triples=0, entities=0,
                derived_from=((good_status.get("notes") or {}).get("publisher") or {}).get("derived_from", []),
                quarantined=len(quarantined), stale=stale,
                stale_reason=run_status.get("error") if stale else None,
                fetches=read_json(state.good / "fetch.json").get("fetches", []),
                geocoded=(good_status.get("notes") or {}).get("geocoding", {}).get("placed", {}),
            ))
        if not parts:  # every source failed before it ever had a good copy (or none is enabled)
            raise ReleaseError("nothing to publish: no enabled source has a good copy yet ("
                               + ("; ".join(f"{q.source}: {q.reason}" for q in quarantine) or "no source enabled") + ")")
        parts += extra_parts or []
        pending = validate(partial / "shacl-report.ttl", [(p.graph, p.path) for p in parts]) if validate else None
        if pending is not None:
            children.append(pending.helper)
        # Static documents (3 small files per enterprise) and partner exports are the
        # slowest steps and need nothing this process computes: helpers write them, at a
        # lower priority (`runtime.run_in_background`), while this one writes and checks the datasets.
        documents = _start_static_documents(
            partial, parts, settings.base_iri, work / "documents.sha256", settings.page_languages,
            index=made_ledger / ledger.DOCUMENTS, stats=work / "documents.stats",
            previous=(earlier[0], earlier[1] / ledger.DOCUMENTS) if earlier else None)
        children.append(documents)
        # Exports staged by the `partner_exports` asset from this very data are moved in;
        # otherwise a helper writes them.
        sources = [s.name for s in summaries]
        staged = exports_staging.move_into(settings.output_dir, settings.state_dir, sources, settings.base_iri, partial,
                                           work / "exports.sha256")
        exports = None
        if staged is None:
            exports = _start_partner_exports(partial, settings.state_dir, sources, settings.base_iri,
                                             work / "exports.sha256", stats=work / "exports.stats",
                                             previous=(earlier[0], earlier[1] / ledger.PROFILES) if earlier else None)
            children.append(exports)

        t0 = time.perf_counter()
        statistics = DatasetStatistics()
        kept_parts = ledger.read_parts(earlier[1], parts_made_with(), earlier[0], DATASET_FILES) if earlier else None
        write_datasets(partial, parts, statistics, work, previous=(earlier[0], kept_parts) if earlier and kept_parts else None)
        seconds["serialise"] = time.perf_counter() - t0
        fresh = [p for p in statistics.parts if not p.get("kept")]
        reuse_parts = {"parts_kept": len(statistics.parts) - len(fresh), "parts_written": len(fresh)}

        # The release gate in two processes at once: a helper proves dataset.ttl and
        # dataset.jsonld hold dataset.nq.gz's statements, this one that dataset.nq.gz
        # holds the statements counted in the statistics (see `release.gate`); part by
        # part when some were kept from the previous release.
        manifest = work / "parts.json"
        manifest.write_text(json.dumps([{"graph": p["graph"], "ranges": p["ranges"], "kept": bool(p.get("kept"))}
                                        for p in statistics.parts]), encoding="utf-8")
        by_parts = len(fresh) < len(statistics.parts)
        formats = child_processes.start("release gate", "se_pipeline.release.gate", str(partial),
                                        *(("--parts", str(manifest)) if by_parts else ()))
        children.append(formats)
        t0 = time.perf_counter()
        if by_parts:
            gate.require(gate.check_nquads_parts(partial / "dataset.nq.gz", statistics.parts, statistics.quads.result()))
        else:
            gate.require(gate.check_nquads(partial / "dataset.nq.gz", statistics.quads.result()))
        seconds["reread"] = time.perf_counter() - t0

        t0 = time.perf_counter()
        previous = settings.latest / "dataset.nq.gz" if settings.latest.exists() else None
        if earlier and kept_parts:
            # The records before of the graphs written afresh (or gone) only, from the
            # ledger: a kept graph's records are unchanged, and are in neither side.
            kept_graphs = statistics.kept_graphs()
            before = RecordDigests()
            for graph, old in kept_parts.items():
                if graph not in kept_graphs and old.get("records"):
                    before.read_source(graph[len(SE_GRAPH):], earlier[1] / ledger.RECORDS / old["records"])
            changes = write_changelog(None, statistics.records, partial / "changelog.csv", earlier=before)
        else:
            changes = write_changelog(previous, statistics.records, partial / "changelog.csv")
        for s in summaries:
            s.changes = dict(changes.get(s.name, {}))
        # The changed records' statements are in the members of the graphs written afresh.
        write_event_stream(partial, settings.latest.resolve() if previous else None,
                           _all_records(statistics, earlier[1] if earlier else None), release_id, issued,
                           settings.base_iri, work,
                           members=[tuple(p["ranges"]["dataset.nq.gz"][:2]) for p in fresh] if by_parts else None)
        seconds["changes"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        _wait(formats)
        seconds["reread_formats_wait"] = time.perf_counter() - t0
        if pending is not None:
            t0 = time.perf_counter()
            _wait(pending.helper)
            conforms, summary = pending.result()
            seconds["shacl_wait"] = time.perf_counter() - t0
            if not conforms:
                raise ReleaseError(f"published data does not conform to the shapes:\n{summary}")
        write_quarantine(partial / "quarantine.csv", quarantine)
        write_quarantine(partial / "dropped-values.csv", dropped)
        write_quarantine(partial / "resolved-values.csv", resolved)
        t0 = time.perf_counter()
        if exports is not None:
            _wait(exports)
        seconds["exports"] = time.perf_counter() - t0
        for name, src in (extra_files or {}).items():
            target = partial / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if src.is_dir():
                shutil.copytree(src, target)
            else:
                shutil.copyfile(src, target)

        write_context(partial / CONTEXT_FILE)
        if inputs is not None:
            write_inputs(partial / INPUTS_FILE, inputs)
        for s in summaries:
            g = SE_GRAPH + s.name
            s.triples = statistics.per_graph.get(g, 0)
            s.classes = statistics.classes.get(g, {})
            s.entities = s.classes.get(INITIATIVE, 0)
        all_classes: dict[str, int] = {}
        for g, by in statistics.classes.items():
            if g == VOCABULARY_GRAPH:
                continue
            for cls, n in by.items():
                all_classes[cls] = all_classes.get(cls, 0) + n
        files = [
            DistributionFile(partial / n, MEDIA[n], sha256_file(partial / n), (partial / n).stat().st_size)
            for n in MEDIA if (partial / n).is_file()
        ]
        catalog = catalog_triples(
            release_id=release_id, issued=issued, sources=summaries, total_triples=statistics.statements,
            total_entities=all_classes.get(INITIATIVE, 0), classes=all_classes, files=files,
            download_base=settings.download_base,
        )
        write_catalog(partial / "catalog.ttl", catalog)
        # The pages need nothing from the documents: written before waiting for them.
        write_ontology_html(partial / "ontology.html")
        landing = statistics.landing_with_coords()
        write_landing_page(partial, partial / "index.html", data=landing,
                           digests={f.path.name: f.sha256 for f in files})
        t0 = time.perf_counter()
        _wait(documents)
        flush_in_background()
        seconds["documents"] = time.perf_counter() - t0
        # Again, with the size of the whole release; the landing pages, which list it, again after it.
        t0 = time.perf_counter()
        latest = settings.latest.resolve() if settings.latest.exists() else None
        below_top = write_catalog_with_size(
            partial, catalog, release_id, latest,
            lambda: write_landing_page(partial, partial / "index.html", data=landing,
                                       digests={f.path.name: f.sha256 for f in files}),
            previous_files=ledger.read_files(earlier[1], latest) if earlier and earlier[0] == latest else None)
        seconds["catalog_size"] = time.perf_counter() - t0
        # Digests of what was hashed while written (documents, profiles) or for the catalog
        # (datasets): SHA256SUMS reads back only the few files nobody hashed yet, and
        # merges the many from digest files sorted on disk (4x10^6 lines at 10^6
        # enterprises: never one dict or list of them). The profiles' sorted digests are
        # the ledger's, for the next release.
        t0 = time.perf_counter()
        sort_lines(digest_lines(work / "documents.sha256", under=str(partial)), work / "documents.sorted", work)
        sort_lines(digest_lines(work / "exports.sha256"), made_ledger / ledger.PROFILES, work)
        others = write_checksums_from(partial, [work / "documents.sorted", made_ledger / ledger.PROFILES],
                                      ("id", "murmurations"), {f.path.name: f.sha256 for f in files})
        seconds["checksums"] = time.perf_counter() - t0
        reuse = {f"documents_{k}": v for k, v in _stats(work / "documents.stats").items()}
        reuse.update({f"profiles_{k}": v for k, v in (staged if staged is not None
                                                      else _stats(work / "exports.stats")).items()})
        # The covered folders' files were created read-only (see `files.write_file`) or
        # are links to read-only files: only the others are marked.
        _keep_parts(statistics, made_ledger, earlier[1] if earlier else None, partial)
        reuse.update(reuse_parts)
        if below_top is not None:  # every file is written: the index is the final release's
            ledger.write_files(made_ledger, below_top.with_top_level(partial))
        final = finish_release(partial, release_id, others)
        switch_latest(settings.output_dir, final)
        ledger.keep(settings, release_id, made_ledger)
    except BaseException:
        for child in children:  # stop the writers before their directory goes
            child.kill()
        shutil.rmtree(partial, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ReleaseResult(release_id, final, statistics.statements, all_classes.get(INITIATIVE, 0), summaries, seconds,
                         exports_staged=staged is not None, reuse=reuse)

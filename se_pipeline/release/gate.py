"""The release gate: re-read what was written with parsers that did not write it.

Before `latest` moves, every published RDF file is parsed strictly (Oxigraph for Turtle
and N-Quads; pyld, offline, for JSON-LD — or Oxigraph's own JSON-LD parser above a size
where pyld would take minutes) and must hold exactly the quads we meant to publish.
Comparison is by an order-independent fingerprint (count + sum of 64-bit hashes of
each statement's canonical N-Triples / N-Quads line), so it streams in constant memory.

In two steps that can run at once, in two processes (a fingerprint uses the salted
built-in `hash`, so it is compared only within the process that made it):
`check_nquads` proves dataset.nq.gz holds what the build meant to publish, and
`check_formats` (`python -m se_pipeline.release.gate RELEASE_DIR`, a helper of the
build) proves dataset.ttl and dataset.jsonld hold exactly dataset.nq.gz's statements.

A release built from the previous one's parts (`release.build.write_datasets`) is checked
part by part (`check_nquads_parts`, `check_formats_parts`, with `--parts MANIFEST`): each
file must be exactly its parts' byte ranges end to end; a part written afresh is parsed
as above, its Turtle and JSON-LD alone (each part's bytes stand alone); a part copied
from the previous release is proven by the SHA-256 of its ranges, which are the bytes
that were parsed and proven when they were first published.
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import BinaryIO, Callable, Iterable, Iterator

import pyoxigraph as ox

from se_pipeline.release.errors import ReleaseError

PYLD_MAX_BYTES = 30_000_000
_MASK = (1 << 64) - 1


@dataclass(frozen=True)
class Fingerprint:
    count: int
    digest: int

    def __str__(self) -> str:
        return f"{self.count} statements (#{self.digest:016x})"


class FingerprintBuilder:
    """Accumulates a multiset fingerprint of statements given as canonical N-Triples /
    N-Quads lines (Oxigraph's serialisers write exactly one canonical line per statement).

    Each line is hashed with Python's built-in `hash` (SipHash): one C call per statement
    instead of a Python-level `str()` + blake2b. The built-in hash is salted per process,
    so fingerprints are only compared within the process that computed them (as
    `build_release` does); do not persist them.
    """

    def __init__(self) -> None:
        self.count = 0
        self.digest = 0

    def add_lines(self, data: bytes) -> None:
        lines = data.splitlines()
        self.digest = (self.digest + sum(map(hash, lines))) & _MASK
        self.count += len(lines)

    def result(self) -> Fingerprint:
        return Fingerprint(self.count, self.digest)


def fingerprint(statements: Iterable[ox.Triple | ox.Quad]) -> Fingerprint:
    """Fingerprint of parsed statements, re-serialised canonically by Oxigraph as they come
    (the loop over statements stays in Oxigraph: batching them through Python lists was
    slower; benchmarks/README.md). A statement in the default graph gives its
    N-Triples line; Oxigraph escapes line breaks, so each statement is one line."""
    fp = FingerprintBuilder()
    sink = LineBuffer(fp.add_lines)
    ox.serialize(statements, sink, format=ox.RdfFormat.N_QUADS)
    if tail := sink.end():
        raise ReleaseError(f"fingerprint: serialisation ended inside a line: {tail[:80]!r}")
    return fp.result()


def _jsonld_quads(f: io.BufferedReader, offset: int, length: int, head: bytes = b"",
                  tail: bytes = b"") -> Iterable[ox.Quad]:
    """The quads of the JSON-LD document made of `head`, `length` bytes of the open file
    `f` from `offset`, and `tail` (one part's graph object in the document's head and
    tail, or the whole file): pyld, offline, up to `PYLD_MAX_BYTES`; above, Oxigraph's
    streaming profile, read from the file as it parses (constant memory: the full parser's
    grows with the document, and one part's text at 10^6 enterprises is gigabytes). A
    document that breaks the profile fails the gate, never passes it."""
    if len(head) + length + len(tail) > PYLD_MAX_BYTES:
        document = _Concatenated(io.BytesIO(head), FileSlice(f, offset, length), io.BytesIO(tail))
        return ox.parse(io.BufferedReader(document, 1 << 20), format=ox.RdfFormat.STREAMING_JSON_LD)
    f.seek(offset)
    return _pyld_quads(head + f.read(length) + tail)


def _pyld_quads(document: bytes) -> list[ox.Quad]:
    from pyld import jsonld

    def refuse(url: str, options: dict | None = None) -> dict:
        raise jsonld.JsonLdError("remote context refused", "loading document failed", {"url": url})

    doc = json.loads(document.decode("utf-8"))
    nquads = jsonld.to_rdf(doc, {"format": "application/n-quads", "documentLoader": refuse})
    return list(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS))


class LineBuffer:
    """A file-like target (`write`, `flush`) that hands on a byte stream in blocks of whole
    lines: for `Store.dump` (8 KB chunks) and for reading a file in large blocks."""

    def __init__(self, take: Callable[[bytes], None]) -> None:
        self._take = take
        self._rest = b""

    def write(self, data: bytes) -> int:
        joined = self._rest + data
        cut = joined.rfind(b"\n") + 1
        self._rest = joined[cut:]
        if cut:
            self._take(joined[:cut])
        return len(data)

    def flush(self) -> None:
        """Lines are handed on as they complete; nothing is held back but a partial line."""

    def end(self) -> bytes:
        """The unfinished last line, if the stream did not end with a newline."""
        rest, self._rest = self._rest, b""
        return rest


def _gzip_line_blocks(path: Path, take: Callable[[bytes], None]) -> None:
    """Hand the gzipped file's lines to `take` in blocks of whole lines (`_feed_lines`)."""
    with gzip.open(path, "rb") as f:
        _feed_lines(f, take)


def _feed_lines(f: BinaryIO, take: Callable[[bytes], None]) -> None:
    """Hand `f`'s lines to `take` in blocks of whole lines, the last one completed with a
    newline if the file lacks it. Blocks of about a megabyte stay in the CPU's cache and
    reuse their memory (larger ones were slower: benchmarks/README.md)."""
    sink = LineBuffer(take)
    while chunk := f.read(1 << 20):
        sink.write(chunk)
    if tail := sink.end():
        take(tail + b"\n")


class FileSlice(io.RawIOBase):
    """`length` bytes of an open file from `offset`, as a file of their own (for `gzip`)."""

    def __init__(self, f: io.BufferedReader, offset: int, length: int) -> None:
        f.seek(offset)
        self._f, self._left = f, length

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(len(buffer), self._left)
        data = self._f.read(n)
        buffer[:len(data)] = data
        self._left -= len(data)
        return len(data)


class _Concatenated(io.RawIOBase):
    """Readable files one after the other, as one file."""

    def __init__(self, *files: io.RawIOBase | io.BytesIO) -> None:
        self._files = list(files)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while self._files:
            n = self._files[0].readinto(buffer)
            if n:
                return n
            self._files.pop(0)
        return 0


def gzip_members(raw: io.BufferedReader, ranges: Iterable[tuple[int, int]]) -> Iterator[gzip.GzipFile]:
    """Each (offset, length) gzip member of the open file `raw`, as a file to read from."""
    for offset, length in ranges:
        with gzip.GzipFile(fileobj=io.BufferedReader(FileSlice(raw, offset, length), 1 << 20)) as f:
            yield f


def _member_line_blocks(nq_gz: Path, ranges: list[tuple[int, int]], take: Callable[[bytes], None]) -> None:
    """`_gzip_line_blocks` of the gzip members in `ranges` of the file only."""
    with nq_gz.open("rb") as raw:
        for f in gzip_members(raw, ranges):
            _feed_lines(f, take)


def _range_sha256(f: io.BufferedReader, offset: int, length: int) -> str:
    sha = hashlib.sha256()
    f.seek(offset)
    while length > 0:
        chunk = f.read(min(length, 1 << 20))
        if not chunk:
            break
        sha.update(chunk)
        length -= len(chunk)
    return sha.hexdigest()


def _tiling(name: str, ranges: list[list], size: int, start: int = 0) -> list[str]:
    """Problems if the ranges are not the file from `start` to `size`, end to end."""
    at = start
    for offset, length, *_ in ranges:
        if offset != at:
            return [f"{name}: a part starts at byte {offset}, expected {at}"]
        at += length
    return [] if at == size else [f"{name} is {size} bytes, its parts end at {at}"]


def _kept_problems(path: Path, parts: list[dict], name: str) -> list[str]:
    """Problems of the parts copied from the previous release: their bytes in `path`
    must have the SHA-256 they had when first published."""
    problems = []
    with path.open("rb") as f:
        for part in parts:
            offset, length, sha = part["ranges"][name]
            if _range_sha256(f, offset, length) != sha:
                problems.append(f"{name}: the part of graph {part['graph']} copied from the previous release "
                                f"is not the bytes it was (SHA-256 differs)")
    return problems


def _add_strict_lines(fp: FingerprintBuilder, lines: bytes) -> None:
    """Add a block of whole N-Quads lines to `fp` once they parse strictly, one statement
    per line (else ValueError: the lines would not be the statements)."""
    statements = sum(1 for _ in ox.parse(lines, format=ox.RdfFormat.N_QUADS))
    before = fp.count
    fp.add_lines(lines)
    if fp.count - before != statements:
        raise ValueError(f"{fp.count - before} lines hold {statements} statements")


def nquads_file_fingerprint(nq_gz: Path) -> Fingerprint:
    """Fingerprint of a gzipped N-Quads file written by Oxigraph (one canonical statement
    per line): each block of whole lines is parsed strictly, and its lines are hashed as
    they are, with no re-serialisation. Raises ValueError if a line is not exactly one
    statement (a blank line, a comment), since the lines would then not be the statements."""
    fp = FingerprintBuilder()
    _gzip_line_blocks(nq_gz, partial(_add_strict_lines, fp))
    return fp.result()


def without_graph_names(lines: bytes) -> bytes:
    """Whole N-Quads lines as Oxigraph writes a release's (each statement in a named graph,
    the lines of a graph consecutive) as N-Triples lines: each line's graph name removed
    with one `replace` per run of lines of one graph, not per line. Raises ValueError if
    a line has no graph name, or the lines of a graph are not consecutive."""
    kept: list[bytes] = []
    end = len(lines)
    while end:
        last = lines[lines.rfind(b"\n", 0, end - 1) + 1:end]
        ending = last[last.rfind(b" <"):]  # b" <graph> .\n": "\n" only ends a line
        if not ending.endswith(b"> .\n"):  # (a triple ending in an IRI passes: `check_nquads` refuses it)
            raise ValueError(f"a line without a graph name: {last[:120]!r}")
        start = lines.rfind(b"\n", 0, lines.find(ending, 0, end)) + 1
        run = lines[start:end]
        stripped = run.replace(ending, b" .\n")
        if len(run) - len(stripped) != run.count(b"\n") * (len(ending) - 3):
            raise ValueError(f"the lines of graph {ending[1:-3].decode('utf-8', 'replace')} are not consecutive")
        kept.append(stripped)
        end = start
    return b"".join(reversed(kept))


def nquads_lines_fingerprints(nq_gz: Path) -> tuple[Fingerprint, Fingerprint]:
    """Fingerprints of a release's gzipped N-Quads lines as written: of the quads, and of
    the same statements without their graph names (what dataset.ttl holds). The lines are
    not parsed: `check_nquads` parses the same file strictly and compares it with what
    was meant to be published."""
    quads, triples = FingerprintBuilder(), FingerprintBuilder()

    def block(lines: bytes) -> None:
        quads.add_lines(lines)
        triples.add_lines(without_graph_names(lines))

    _gzip_line_blocks(nq_gz, block)
    return quads.result(), triples.result()


def check_nquads(nq_gz: Path, expected_quads: Fingerprint) -> list[str]:
    """Problems of dataset.nq.gz, parsed strictly, against the quads meant to be published."""
    try:
        nq = nquads_file_fingerprint(nq_gz)
    except (SyntaxError, ValueError, OSError) as e:
        return [f"dataset.nq.gz does not parse strictly: {e}"]
    return [] if nq == expected_quads else [f"dataset.nq.gz holds {nq}, expected {expected_quads}"]


def check_nquads_parts(nq_gz: Path, parts: list[dict], expected_fresh: Fingerprint) -> list[str]:
    """Problems of dataset.nq.gz built from `parts` (`release.build`'s part records, in
    order; `kept` ones copied from the previous release): the file is their members end
    to end, the fresh members parse strictly to the statements meant to be published
    (`expected_fresh`), and the kept ones are the bytes they were."""
    name = "dataset.nq.gz"
    problems = _tiling(name, [p["ranges"][name] for p in parts], nq_gz.stat().st_size)
    if problems:
        return problems
    fp = FingerprintBuilder()

    try:
        _member_line_blocks(nq_gz, [tuple(p["ranges"][name][:2]) for p in parts if not p.get("kept")],
                            partial(_add_strict_lines, fp))
    except (SyntaxError, ValueError, OSError, EOFError) as e:
        return [f"dataset.nq.gz does not parse strictly: {e}"]
    if fp.result() != expected_fresh:
        problems.append(f"dataset.nq.gz's new parts hold {fp.result()}, expected {expected_fresh}")
    return problems + _kept_problems(nq_gz, [p for p in parts if p.get("kept")], name)


def check_formats_parts(release_dir: Path, parts: list[dict]) -> list[str]:
    """`check_formats` of a release built from `parts` (see `check_nquads_parts`): each
    file is its parts' ranges end to end (dataset.jsonld: the document's head, the graph
    objects joined by the separator, its tail); a fresh part's Turtle block, parsed alone,
    holds its N-Quads member's statements without graph names, and its JSON-LD graph
    object, expanded alone (offline) in the document's head and tail, holds them with;
    a kept part's ranges are the bytes they were."""
    from se_pipeline.release.jsonld import JSONLD_SEPARATOR, JSONLD_TAIL, jsonld_head

    nq, ttl, jl = (release_dir / n for n in ("dataset.nq.gz", "dataset.ttl", "dataset.jsonld"))
    head, tail, sep = (t.encode("utf-8") for t in (jsonld_head(), JSONLD_TAIL, JSONLD_SEPARATOR))
    problems = _tiling("dataset.ttl", [p["ranges"]["dataset.ttl"] for p in parts], ttl.stat().st_size)
    # dataset.jsonld: the bytes between the graph objects must be exactly the separators.
    with jl.open("rb") as f:
        if f.read(len(head)) != head:
            problems.append("dataset.jsonld does not start with the document's head")
        at, first = len(head), True
        for p in parts:
            offset, length, _ = p["ranges"]["dataset.jsonld"]
            if not length:
                continue
            gap = b"" if first else sep
            f.seek(at)
            if offset != at + len(gap) or f.read(len(gap)) != gap:
                problems.append(f"dataset.jsonld: the graph object of {p['graph']} is not where it should be")
                break
            at, first = offset + length, False
        f.seek(at)
        if f.read() != tail:
            problems.append("dataset.jsonld does not end with the document's tail")
    if problems:
        return problems
    for p in parts:
        if p.get("kept"):
            continue
        graph = p["graph"]
        try:
            quads, triples = FingerprintBuilder(), FingerprintBuilder()

            def block(lines: bytes) -> None:
                quads.add_lines(lines)
                triples.add_lines(without_graph_names(lines))

            _member_line_blocks(nq, [tuple(p["ranges"]["dataset.nq.gz"][:2])], block)
        except (ValueError, OSError, EOFError) as e:
            problems.append(f"dataset.nq.gz's part of {graph} cannot be read as a release's lines: {e}")
            continue
        # Each part's Turtle block and graph object are read from the file as they parse
        # (one part's text, at 10^6 enterprises, is gigabytes).
        with ttl.open("rb") as f:
            offset, length, _ = p["ranges"]["dataset.ttl"]
            try:
                got = fingerprint(ox.parse(io.BufferedReader(FileSlice(f, offset, length), 1 << 20),
                                           format=ox.RdfFormat.TURTLE))
                if got != triples.result():
                    problems.append(f"dataset.ttl's part of {graph} holds {got}, expected {triples.result()}")
            except (SyntaxError, ValueError) as e:
                problems.append(f"dataset.ttl's part of {graph} does not parse strictly: {e}")
        with jl.open("rb") as f:
            offset, length, _ = p["ranges"]["dataset.jsonld"]
            try:
                got = fingerprint(_jsonld_quads(f, offset, length, head, tail))
                if got != quads.result():
                    problems.append(f"dataset.jsonld's part of {graph} expands (offline) to {got}, "
                                    f"expected {quads.result()}")
            except Exception as e:  # pyld raises its own error hierarchy
                problems.append(f"dataset.jsonld's part of {graph} does not expand offline: "
                                f"{type(e).__name__}: {str(e)[:300]}")
    for name, path in (("dataset.ttl", ttl), ("dataset.jsonld", jl)):
        problems += _kept_problems(path, [p for p in parts if p.get("kept")], name)
    return problems


def check_formats(release_dir: Path) -> list[str]:
    """Problems of dataset.ttl and dataset.jsonld, each parsed strictly, against the
    statements of dataset.nq.gz (which `check_nquads` proves)."""
    try:
        expected_quads, expected_triples = nquads_lines_fingerprints(release_dir / "dataset.nq.gz")
    except (ValueError, OSError) as e:
        return [f"dataset.nq.gz cannot be read as a release's lines: {e}"]
    problems: list[str] = []
    try:
        ttl = fingerprint(ox.parse(path=str(release_dir / "dataset.ttl"), format=ox.RdfFormat.TURTLE))
        if ttl != expected_triples:
            problems.append(f"dataset.ttl holds {ttl}, expected {expected_triples}")
    except (SyntaxError, ValueError, OSError) as e:
        problems.append(f"dataset.ttl does not parse strictly: {e}")
    try:
        with (release_dir / "dataset.jsonld").open("rb") as f:
            jl = fingerprint(_jsonld_quads(f, 0, os.fstat(f.fileno()).st_size))
        if jl != expected_quads:
            problems.append(f"dataset.jsonld expands (offline) to {jl}, expected {expected_quads}")
    except Exception as e:  # pyld raises its own error hierarchy
        problems.append(f"dataset.jsonld does not expand offline: {type(e).__name__}: {str(e)[:300]}")
    return problems


def check_release_files(release_dir: Path, expected_quads: Fingerprint) -> list[str]:
    """Problems found re-reading dataset.nq.gz / .ttl / .jsonld in this process (empty
    list = all good)."""
    return check_nquads(release_dir / "dataset.nq.gz", expected_quads) + check_formats(release_dir)


def require(problems: list[str]) -> None:
    if problems:
        raise ReleaseError("release gate failed; latest not switched:\n  - " + "\n  - ".join(problems))


def main(argv: list[str] | None = None) -> int:
    """`python -m se_pipeline.release.gate RELEASE_DIR`: `check_formats`; exit status 1 with
    the problems on stderr if there are any. The release build runs it as a helper beside
    its own `check_nquads` and changelog."""
    from se_pipeline import child_processes
    from se_pipeline.runtime import tune_gc

    parser = argparse.ArgumentParser(prog="python -m se_pipeline.release.gate", description=main.__doc__)
    parser.add_argument("release_dir", type=Path)
    parser.add_argument("--parts", type=Path, help="JSON list of the datasets' part records: check part by part")
    args = parser.parse_args(argv)
    child_processes.die_with_parent()
    tune_gc()
    if args.parts is not None:
        problems = check_formats_parts(args.release_dir, json.loads(args.parts.read_text(encoding="utf-8")))
    else:
        problems = check_formats(args.release_dir)
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())

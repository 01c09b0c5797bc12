"""Changelog of a release against the previous one: records added, removed, changed, by source.

Computed from what was published — the previous release's N-Quads and this release's
statistics (the very statements the release gate then finds in every published file) — not
from the pipeline's state, so it is right whatever happened between the runs. Each record
(a subject IRI without its `#fragment`, e.g. an enterprise with its address) is reduced to
an order-independent digest of its statements' canonical lines: memory proportional to
the number of records, not of triples, and no parse into Python terms.

Digests are stable (BLAKE2b of each line, summed): a release keeps each graph's record
digests in its ledger (`release.ledger`), so the next one compares a changed graph's
records with them, and an unchanged graph (same N-Triples file) contributes no change
without being read at all. The previous release's N-Quads are read only when its ledger
has no parts (an older release).
"""
from __future__ import annotations

import csv
import gzip
import hashlib
from collections import Counter
from pathlib import Path

from se_pipeline.csv_cells import safe_row
from se_pipeline.namespaces import SE_GRAPH

CHANGES = ("added", "removed", "changed")
#: Graphs that hold no records of a source.
NOT_RECORDS = ("vocabulary", "links")
_MASK = (1 << 64) - 1
_GRAPH_PREFIX = b" <" + SE_GRAPH.encode("utf-8")


class RecordDigests:
    """{(source, record IRI): digest}, fed with canonical statement lines (Oxigraph's
    N-Triples / N-Quads output: one statement per line, terms in canonical form)."""

    def __init__(self) -> None:
        self.digests: dict[tuple[str, bytes], int] = {}

    def _add(self, source: str, statement: bytes) -> None:
        """`statement` is `<s> <p> o` without graph and final dot; blank-node subjects are no record."""
        if statement[:1] != b"<":
            return
        key = (source, statement[1:statement.index(b">")].partition(b"#")[0])
        self.digests[key] = (self.digests.get(key, 0)
                             + int.from_bytes(hashlib.blake2b(statement, digest_size=8).digest())) & _MASK

    def add_ntriples(self, source: str, data: bytes) -> None:
        """A source graph's statements as canonical N-Triples."""
        if source in NOT_RECORDS:
            return
        for line in data.splitlines():
            self._add(source, line[:-2])

    def add_nquads_file(self, nq_gz: Path) -> None:
        """A published release's dataset.nq.gz (every statement in a named graph)."""
        with gzip.open(nq_gz, "rb") as f:
            for line in f:
                cut = line.rfind(_GRAPH_PREFIX)
                if cut < 0:
                    continue
                source = line[cut + len(_GRAPH_PREFIX):line.rindex(b">")].decode("utf-8")
                if source not in NOT_RECORDS:
                    self._add(source, line[:cut])


    def write_source(self, source: str, target: Path) -> None:
        """Keep `source`'s record digests (record IRI, tab, hex digest per line) for the next release."""
        with target.open("wb") as f:
            f.writelines(record + b"\t" + b"%016x\n" % d for (s, record), d in self.digests.items() if s == source)

    def read_source(self, source: str, path: Path) -> None:
        """Add `source`'s record digests kept by `write_source`."""
        with path.open("rb") as f:
            for line in f:
                record, _, digest = line.rstrip(b"\n").rpartition(b"\t")
                self.digests[(source, record)] = int(digest, 16)


def write_changelog(previous_nq: Path | None, current: RecordDigests, target: Path,
                    earlier: RecordDigests | None = None) -> dict[str, Counter[str]]:
    """Write `changelog.csv` (source, change, record) and return counts per source.

    The records before are `earlier`'s when given (the ledger's digests of the graphs that
    changed: the others are in neither), else those of `previous_nq`."""
    if earlier is None:
        earlier = RecordDigests()
        if previous_nq is not None and previous_nq.is_file():
            earlier.add_nquads_file(previous_nq)
    before, after = earlier.digests, current.digests
    rows: list[tuple[str, str, str]] = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            rows.append((key[0], "added", key[1].decode("utf-8")))
        elif key not in after:
            rows.append((key[0], "removed", key[1].decode("utf-8")))
        elif before[key] != after[key]:
            rows.append((key[0], "changed", key[1].decode("utf-8")))
    with target.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source", "change", "record"])
        w.writerows(safe_row(row) for row in rows)
    counts: dict[str, Counter[str]] = {}
    for source, change, _ in rows:
        counts.setdefault(source, Counter())[change] += 1
    return counts

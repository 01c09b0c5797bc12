"""Changelog of a release against the previous one: records added, removed, changed, by source.

Computed from what was actually published (the two releases' N-Quads), not from the
pipeline's state, so it is right whatever happened between the runs. Each record (a
subject IRI without its `#fragment`, e.g. an enterprise with its address) is reduced to
a digest of its sorted statements; comparing digests streams in memory proportional to
the number of records, not of triples.
"""
from __future__ import annotations

import csv
import gzip
import hashlib
from collections import Counter
from pathlib import Path

import pyoxigraph as ox

from se_pipeline.namespaces import SE_GRAPH

CHANGES = ("added", "removed", "changed")


def record_digests(nq_gz: Path) -> dict[tuple[str, str], str]:
    """{(source, record IRI): digest} for every subject in the per-source graphs."""
    lines: dict[tuple[str, str], list[str]] = {}
    with gzip.open(nq_gz, "rb") as f:
        for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
            graph = q.graph_name.value
            if not graph.startswith(SE_GRAPH) or not isinstance(q.subject, ox.NamedNode):
                continue
            source = graph[len(SE_GRAPH):]
            if source in ("vocabulary", "links"):
                continue
            record = q.subject.value.split("#", 1)[0]
            lines.setdefault((source, record), []).append(str(q.triple))
    return {key: hashlib.sha256("\n".join(sorted(v)).encode("utf-8")).hexdigest() for key, v in lines.items()}


def write_changelog(previous_nq: Path | None, current_nq: Path, target: Path) -> dict[str, Counter[str]]:
    """Write `changelog.csv` (source, change, record) and return counts per source."""
    before = record_digests(previous_nq) if previous_nq is not None and previous_nq.is_file() else {}
    after = record_digests(current_nq)
    rows: list[tuple[str, str, str]] = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            rows.append((key[0], "added", key[1]))
        elif key not in after:
            rows.append((key[0], "removed", key[1]))
        elif before[key] != after[key]:
            rows.append((key[0], "changed", key[1]))
    with target.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["source", "change", "record"])
        w.writerows(rows)
    counts: dict[str, Counter[str]] = {}
    for source, change, _ in rows:
        counts.setdefault(source, Counter())[change] += 1
    return counts

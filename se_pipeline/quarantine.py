"""Quarantine records: every input record (or value) that is not published, and why.

Cross-cutting on purpose: sources, canonicalisation and the SHACL gate all quarantine,
and the release publishes one `quarantine.csv` built from all of them. Cells go through
`csv_cells` (a record id or reason quoting an upstream value may look like a formula).
"""
from __future__ import annotations

import csv
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Iterable

from se_pipeline.csv_cells import original, safe_row

QUARANTINE_COLUMNS = ("source", "record_id", "line", "field", "reason")


@dataclass(frozen=True)
class QuarantineRecord:
    """One withheld record: `line` is the 1-based position in the source file (0 if unknown)."""

    source: str
    record_id: str
    line: int
    field: str
    reason: str


def write_quarantine(path: Path, records: Iterable[QuarantineRecord]) -> int:
    """Write records as CSV with the published column order; returns the count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(QUARANTINE_COLUMNS)
        for r in records:
            w.writerow(safe_row([r.source, r.record_id, r.line, r.field, r.reason]))
            n += 1
    return n


def read_quarantine(path: Path) -> list[QuarantineRecord]:
    """Read a file written by `write_quarantine` (missing file = nothing quarantined)."""
    if not path.is_file():
        return []
    with path.open(newline="", encoding="utf-8") as f:
        return [
            QuarantineRecord(original(row["source"]), original(row["record_id"]), int(row["line"] or 0),
                             original(row["field"]), original(row["reason"]))
            for row in csv.DictReader(f)
        ]


def as_dicts(records: Iterable[QuarantineRecord]) -> list[dict]:
    return [asdict(r) for r in records]

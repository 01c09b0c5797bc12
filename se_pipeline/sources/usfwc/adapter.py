"""US Federation of Worker Cooperatives (USFWC): the member directory, CSV export.

Format: the directory's "Export CSV" (WordPress directory plugin) — UTF-8, comma-
separated, CRLF, cells quoted when needed (descriptions hold commas, quotes and line
breaks). One row per listed member, columns:
`ID` (directory post id, the record id), `Business Name`, `Type` (`Worker Cooperative`,
`Democratic Workplace`, `Startup`, `Developer/Support org`), `Industry` (one of the
directory's categories), `Street Address`, `City`, `State` (postal code), `Zip` (text),
`Country`, `Website`, `Email`, `Phone`, `Year Founded` (a four-digit year),
`Worker-Owners` and `Total Workers` (counts, may be blank), `Description`,
`Latitude`, `Longitude` (geocoded by the plugin; blank or wrong at times),
`Date Updated` (`m/d/Y`, when the listing — and so its counts — was last confirmed).

Every listed enterprise is a member of the federation: `member_of` is set to the
federation's key, and the federation itself (not a row of the export) is added as a
record described by the mapping's `federation:` block. `Year Founded` is a year only;
it becomes `YYYY-01-01` because the canonical `founded` is a date (year precision is
not representable yet). Column correspondence and code tables: `source.yaml`.
"""
from __future__ import annotations

import re
from typing import Any

import pandas as pd

from se_pipeline.canonical.schema import FIELDS, LIST_COLUMNS
from se_pipeline.namespaces import expand_curie
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import MappingError
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import decode, read_csv_text

_YEAR = re.compile(r"^\s*(\d{4})\s*$")
_CONCEPTS = {"organisational_structure", "primary_activity", "activities", "membership_type",
             "qualifiers", "practices", "legal_form", "status"}


def _year_to_date(value: Any) -> Any:
    m = _YEAR.match(value) if isinstance(value, str) else None
    return f"{m.group(1)}-01-01" if m else value


def federation_row(spec: dict[str, Any], source: str) -> dict[str, Any]:
    """The federation's own record from the mapping's `federation:` block (CURIEs expanded)."""
    row: dict[str, Any] = {"source": source, "line": 0}
    for fld, value in spec.items():
        if fld not in FIELDS:
            raise MappingError(source, f"federation block names unknown canonical field {fld!r}")
        if fld in _CONCEPTS:
            iris = [expand_curie(str(v)) for v in (value if isinstance(value, list) else [value])]
            value = iris if fld in LIST_COLUMNS else iris[0]
        elif fld in LIST_COLUMNS and not isinstance(value, list):
            value = [value]
        row[fld] = value
    if not row.get("record_id") or not row.get("name"):
        raise MappingError(source, "federation block needs record_id and name")
    row["record_id"] = str(row["record_id"])
    return row


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    raw_frame = read_csv_text(text, ctx.source)
    frame, notes = apply_mapping(raw_frame, ctx.mapping, ctx.source)
    if "founded" in frame.columns:
        frame["founded"] = pd.Series([_year_to_date(v) for v in frame["founded"]], index=frame.index, dtype="object")
    spec = ctx.mapping.get("federation")
    if spec:
        fed = federation_row(spec, ctx.source)
        key = f"{ctx.source}:{fed['record_id']}"
        ids = frame["record_id"].tolist() if "record_id" in frame.columns else []
        frame["member_of"] = pd.Series([[] if rid == fed["record_id"] else [key] for rid in ids],
                                        index=frame.index, dtype="object")
        if fed["record_id"] not in ids:  # the export lists members, not the federation itself
            row = {c: ([] if c in LIST_COLUMNS else None) for c in frame.columns}
            row.update(fed)
            frame = pd.concat([frame, pd.DataFrame([row], columns=list(row), dtype="object")], ignore_index=True)
    notes["encoding"] = encoding
    return ParseResult(frame, [], notes)

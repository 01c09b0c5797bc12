"""WFTO (World Fair Trade Organization) member directory, JSON export.

Format: UTF-8 JSON, an object `{"generated": "<ISO time>", "total": <n>, "members": [...]}`
(a bare list of members is accepted too), one object per member:

* `id` — WFTO's member number (JSON number or string); the record id;
* `name` — as the website publishes it: HTML entities (`&amp;`, `&#8217;`) and
  occasional tags (`<strong>`), hence `html: true` in the mapping;
* `country` (English name), `city`, `region`, `address` (may hold line breaks), `latitude`,
  `longitude` (numbers or strings, sometimes absent);
* `website`, `email`, `phone`;
* `member_type` — `Fair Trade Enterprise` | `Fair Trade Network` |
  `Fair Trade Support Organisation` | `Associate`;
* `product_categories` — list of strings (`Handicrafts`, `Food`, `Coffee`, …);
* `guarantee_status` — `Guaranteed` | `Provisional` | `Suspended` | `Not guaranteed`
  (a status, never a reason to drop the member);
* `description` — HTML; `last_updated` — ISO date-time.

The adapter only flattens JSON to a raw string frame (lists joined with
`LIST_SEPARATOR`, which the code tables `split:` on; numbers kept as the text the file
wrote) and derives `kind` (network / support / enterprise) from the mapping's `kinds`
table (`sources/kinds.py`: plain words rather than concept CURIEs). Column correspondence and
code tables: `source.yaml`.
"""
from __future__ import annotations

import json
from typing import Any

import pandas as pd

from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import LINE, decode

LIST_SEPARATOR = "|"


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return LIST_SEPARATOR.join(t for t in (_text(v) for v in value) if t)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _members(raw: bytes, ctx: SourceContext) -> tuple[list[Any], str]:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    try:
        doc = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as e:
        raise SourceFormatError(ctx.source, f"not JSON: {e}") from None
    if isinstance(doc, dict):
        if "members" not in doc:
            raise SourceFormatError(ctx.source, f"export has no 'members' list (keys: {sorted(doc)[:10]})")
        doc = doc["members"] or []
    if not isinstance(doc, list):
        raise SourceFormatError(ctx.source, f"members is a {type(doc).__name__}, not a list")
    return doc, encoding


def _mapped_columns(mapping: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for spec in (mapping.get("columns") or {}).values():
        names.update(spec if isinstance(spec, list) else [spec])
    names.update((mapping.get("identifiers") or {}).values())
    names.update(spec["column"] for spec in (mapping.get("codes") or {}).values())
    if mapping.get("kinds"):
        names.add(mapping["kinds"]["column"])
    return names


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    members, encoding = _members(raw, ctx)
    rows: list[dict[str, Any]] = []
    quarantine: list[QuarantineRecord] = []
    for i, rec in enumerate(members, start=1):
        if not isinstance(rec, dict):
            quarantine.append(QuarantineRecord(ctx.source, "", i, "record", f"member is a JSON {type(rec).__name__}, not an object"))
            continue
        rows.append({**{str(k): _text(v) for k, v in rec.items()}, LINE: i})
    frame = pd.DataFrame(rows, dtype="object")
    for col in _mapped_columns(ctx.mapping):  # keys a record may omit: missing values
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if LINE not in frame.columns:
        frame[LINE] = pd.Series([], dtype="int64")
    mapped, notes = apply_mapping(frame, ctx.mapping, ctx.source)
    notes["encoding"] = encoding
    notes["members"] = len(members)
    return ParseResult(mapped, quarantine, notes)

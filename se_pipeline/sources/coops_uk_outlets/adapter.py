"""Co-operatives UK open data, outlets file (the shops and branches of retail societies).

Format (CSV, UTF-8, every cell quoted, CRLF; one row per outlet, 10 columns):
`CUK Organisation ID` (the owning organisation, e.g. `R000001`: a record of the
`coops_uk` source), `Registered Name` (the organisation's name, repeated on each of its
outlets), `Outlet Name`, `Street` (may hold quoted line breaks), `City`,
`State/Province`, `Postcode` (irregular spacing: `B771LG`, `RM18 8 AX`, or only the
outward code `M21`), `Description` (opening hours, multi-line), `Phone`, `Website`
(bare domains such as `www.example.coop` occur). No country column: outlets are in the
UK, except postcode areas JE / GY / IM (Crown dependencies, their own ISO codes).

The file has no outlet id. The record id is derived deterministically as
`<CUK Organisation ID>-<12 hex of SHA-1("<outlet name>|<postcode>")>` with the name
case-folded and whitespace-folded and the postcode upper-cased without spaces: the
organisation prefix keeps ids readable and stable when other societies' outlets change,
and name + postcode is what distinguishes two outlets of one society (two shops of the
same name are in different postcodes; a shop and a funeral home at one postcode have
different names). Row position is not used, so ids survive re-ordering of the file.
Rows that repeat an earlier row exactly are quarantined as duplicates; two different
rows with the same name and postcode are left to canonicalisation, which quarantines
the second as a duplicate record id.

Each outlet is `kind = "outlet"` with `outlet_of = "coops_uk:<CUK Organisation ID>"`.
"""
from __future__ import annotations

import hashlib

import pandas as pd

from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import LINE, decode, read_csv_text


def outlet_id(organisation: str, name: str | None, postcode: str | None) -> str:
    """Stable outlet id from organisation id + normalised (name, postcode); see module docstring."""
    key = " ".join((name or "").casefold().split()) + "|" + "".join((postcode or "").upper().split())
    return f"{organisation.strip()}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:12]}"


def _country(postcode: str | None, default: str | None, areas: dict[str, str]) -> str | None:
    """Crown-dependency postcode areas (`JE2 3AB`, `GY1 1AA`, `IM1 2AB`) are their own countries."""
    text = (postcode or "").strip().upper()
    area = text[:2]
    return areas[area] if area in areas and text[2:3].isdigit() else default


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    frame = read_csv_text(text, ctx.source)
    mapping = ctx.mapping
    org_col = mapping.get("organisation_column", "CUK Organisation ID")
    if org_col not in frame.columns:
        raise SourceFormatError(ctx.source, f"no {org_col!r} column (header: {list(frame.columns)[:12]})")
    data_cols = [c for c in frame.columns if c != LINE]
    name_col, postcode_col = mapping["columns"]["name"], mapping["columns"]["postcode"]
    quarantine: list[QuarantineRecord] = []
    seen: dict[tuple[str, ...], int] = {}
    keep: list[bool] = []
    for values, line in zip(frame[data_cols].itertuples(index=False, name=None), frame[LINE]):
        key = tuple(" ".join(str(v).split()) for v in values)
        if key in seen:
            row = dict(zip(data_cols, values))
            rid = outlet_id(row[org_col], row.get(name_col), row.get(postcode_col)) if row[org_col].strip() else ""
            keep.append(False)
            quarantine.append(QuarantineRecord(ctx.source, rid, int(line), "record", f"exact duplicate of line {seen[key]}"))
            continue
        seen[key] = int(line)
        keep.append(True)
    frame = frame[keep].reset_index(drop=True)
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    orgs = [str(v).strip() if isinstance(v, str) else "" for v in frame[org_col]]
    mapped["record_id"] = pd.Series(
        [outlet_id(o, n, p) if o else None for o, n, p in zip(orgs, mapped["name"], mapped["postcode"])],
        index=mapped.index, dtype="object",
    )
    prefix = mapping.get("organisation_source", "coops_uk")
    mapped["outlet_of"] = pd.Series([f"{prefix}:{o}" if o else None for o in orgs], index=mapped.index, dtype="object")
    areas = mapping.get("postcode_countries") or {}
    mapped["country"] = pd.Series(
        [_country(p, c, areas) for p, c in zip(mapped["postcode"], mapped["country"])], index=mapped.index, dtype="object"
    )
    notes["encoding"] = encoding
    notes["exact_duplicates"] = len(quarantine)
    return ParseResult(mapped, quarantine, notes)

"""NCBA CLUSA (National Cooperative Business Association) member list: CRM company export.

Format: the HubSpot "export companies" CSV — UTF-8 (no BOM), comma-separated, LF line
ends, every cell quoted; one row per member organisation. Columns:
`Record ID` (HubSpot company id, numeric text: the record id), `Company Name`,
`Company Domain Name` (bare domain, `coop.example.coop`; sometimes a full URL or junk),
`Co-op Sector` (NCBA's custom property: `Agriculture`, `Consumer / Retail`, `Food Co-op`,
`Credit Union`, `Electric`, `Telecom`, `Housing`, `Worker`, `Purchasing`, `Insurance /
Mutual`, `Healthcare`, `Multi-stakeholder`, `Association`, `Development Center`),
`Industry` (HubSpot's industry labels: `Farming`, `Banking`, `Utilities`, …),
`Phone Number`, `Street Address`, `City`, `State/Region` (name or postal code),
`Country/Region` (free text: `United States`, `USA`, `Kenya`, …), `Postal Code` (text:
leading zeros kept), `Number of Employees`, `Create Date` and `Last Modified Date`
(`YYYY-MM-DD HH:MM`), `Company owner` (CRM user, not published).

Associations (federations of co-ops) are networks and development centres are support
organisations: `kinds:` in `source.yaml` (applied by `sources/kinds.py`). Column
correspondence and code tables: `source.yaml`.
"""
from __future__ import annotations

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import decode, read_csv_text


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    raw_frame = read_csv_text(text, ctx.source)
    frame, notes = apply_mapping(raw_frame, ctx.mapping, ctx.source)
    notes["encoding"] = encoding
    return ParseResult(frame, [], notes)

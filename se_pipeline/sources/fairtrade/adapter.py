"""Fairtrade International certified operators: FLOCERT customer search, CSV export.

Format: CSV, UTF-8 with BOM (the export opens in Excel), comma-separated, CRLF, cells
quoted only when needed (quoted cells may hold commas, `""` quotes and line breaks).
One row per certified operator account, columns:

`FLO ID` (FLOCERT's operator number, the record id and identifier `flo:<id>`; text —
leading zeros are kept and an id Excel mangled, e.g. `1.00E+05`, stays as written),
`Company Name`, `Country` (English, UN style: `Bolivia (Plurinational State of)`),
`City`, `Address` (may span lines), `Postal Code`, `Function` (`Producer`, `Trader`,
`Licensee`, comma-joined when several), `Producer Setup` (`SPO` small producer
organisation, `HL` hired labour, `CP` contract production; blank for traders),
`Product(s)` (comma-joined), `Certification Status` (`Certified`, `Suspended`,
`Decertified`, `Withdrawn`), `Status Date` (`dd.mm.yyyy`, when the status was set),
`Website` (often a bare domain).

A suspended or decertified operator is published with its status and status date, never
dropped: the status is the information. Column correspondence and code tables:
`source.yaml`.
"""
from __future__ import annotations

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import decode, read_csv_text


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    frame, notes = apply_mapping(read_csv_text(text, ctx.source), ctx.mapping, ctx.source)
    notes["encoding"] = encoding
    return ParseResult(frame, [], notes)

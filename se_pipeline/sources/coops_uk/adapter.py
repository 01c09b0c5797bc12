"""Co-operatives UK open data, organisations file.

Format (CSV, UTF-8, every cell quoted, CRLF; one row per organisation, 26 columns):
`CUK Organisation ID` (stable id, e.g. `R000001`), `Registered Number`, `Registrar`
(`FCA`, `Companies House`, `Charity Commission`, ... or `Legal Form is not defined`),
`Registered Name`, `Trading Name`, `Legal Form`, `Registered Street` (may hold quoted
line breaks), `Registered City`, `Registered State/Province`, `Registered Postcode`
(irregular spacing), `UK Nation` (England / Scotland / Wales / Northern Ireland, and
Crown dependencies), `SIC Code`, `SIC section`, SIC levels 2-5 with descriptions,
`Sector - Simplified, High Level`, `Ownership Classification`, `Registered Status`
(`Live` / `Dead`), `Incorporation Date`, `Dissolved Date` (both `d/m/yyyy`).

Dissolved (`Dead`) organisations stay in the data with status and dissolution date so
that their IRIs never break. Column correspondence and code tables: `source.yaml`.
"""
from __future__ import annotations

import pandas as pd

from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import decode, read_csv_text


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    frame, notes = apply_mapping(read_csv_text(text, ctx.source), ctx.mapping, ctx.source)
    # `UK Nation` names the country: England & co. read as GB, the Crown dependencies
    # (Jersey, Guernsey, Isle of Man) as their own ISO codes; canonicalisation resolves it
    # (and drops, with its reason, a nation it cannot read). Empty means GB.
    frame["country"] = pd.Series([v or "GB" for v in frame["country"]], index=frame.index, dtype="object")
    frame.loc[frame["dissolved"].notna(), "status_date"] = frame["dissolved"]
    notes["encoding"] = encoding
    return ParseResult(frame, [], notes)

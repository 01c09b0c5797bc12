"""SSE initiative standard CSV, version 4 (Digital Commons / Mykomap exchange format).

Format: CSV, UTF-8 (CRLF, quoted cells; `Street Address` may hold line breaks), one
row per initiative, header (30 columns in the Co-operatives UK conversion; partner files
may leave optional columns out):

* `Identifier` — the publisher's stable id (e.g. `R000043`): the record id;
* `Name`, `Description`, `Street Address`, `Locality`, `Region`, `Postcode`,
  `Country ID` (ISO alpha-2), `Territory ID`, `Website`, `Phone`, `Email`, `Twitter`,
  `Facebook`;
* `Companies House Number` — kept with its leading zeros as `companies-house:<n>`;
* vocabulary columns holding ESSGlobal concept *IRIs*: `Organisational Structure`,
  `Primary Activity`, `Activities`, `Qualifiers`, `Membership Type`; the multi-valued
  ones (`Organisational Structure`, `Activities`, `Qualifiers`) separate IRIs with `;`.
  The IRIs use whichever base the converter was configured with
  (`https://lod.coop/essglobal/2.1/`, `https://dev.lod.coop/essglobal/2.1/`,
  `https://w3id.solidarityeconomy.coop/essglobal/V2a/`,
  `http://purl.org/solidarityeconomics/experimental/essglobal/`): all are normalised to
  `http://purl.org/essglobal/…` by `essglobal_bases.normalise_essglobal_iri` and checked
  against the scheme's codes listed in `source.yaml`; anything else is reported in
  `notes["unmapped"]`, not guessed;
* `Latitude`, `Longitude` (own coordinates, often empty) and `Geo Container`,
  `Geo Container Latitude`, `Geo Container Longitude` (postcode-unit IRI and centroid):
  the centroid is used when the initiative has no own coordinates;
* Co-operatives UK extras: `Sector`, `SIC Section`, `SIC Code`,
  `Ownership Classification`, `Legal Form` (words; mapped to a legal-form concept).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from se_pipeline.canonical.schema import LIST_COLUMNS
from se_pipeline.csv_cells import original
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import add_dropped, apply_mapping
from se_pipeline.sources.standard_csv.essglobal_bases import check_concept
from se_pipeline.sources.tabular import LINE, decode, read_csv_text


def _cells(frame: pd.DataFrame, column: str, missing: set[str]) -> list[str | None]:
    values = frame[column].tolist() if column in frame.columns else [None] * len(frame)
    out: list[str | None] = []
    for v in values:
        text = v.strip() if isinstance(v, str) else None
        out.append(None if not text or text.lower() in missing else text)
    return out


def map_vocabulary(raw: pd.DataFrame, mapped: pd.DataFrame, mapping: dict[str, Any], notes: dict[str, Any]) -> None:
    """Fill concept fields from the ESSGlobal IRI columns; an unknown value is reported in
    the notes and dropped from its record with the reason."""
    missing = {m.lower() for m in mapping.get("missing", ["", "n/a"])}
    known = {k: set(v) for k, v in (mapping.get("essglobal_codes") or {}).items()}
    problems: dict[str, dict[str, str]] = {}
    dropped: list[list[tuple[str, str]]] = [[] for _ in range(len(raw))]
    for fld, spec in (mapping.get("essglobal_columns") or {}).items():
        schemes = spec.get("schemes") or []
        allowed = {s: known.get(s, set()) for s in schemes}
        unmapped: Counter[str] = Counter()
        values: list[list[str]] = []
        for i, cell in enumerate(_cells(raw, spec["column"], missing)):
            parts = [p.strip() for p in cell.split(spec["split"])] if cell and spec.get("split") else [cell]
            iris: list[str] = []
            for part in parts:
                if not part:
                    continue
                iri, problem = check_concept(part, allowed)
                if iri is None:
                    unmapped[part] += 1
                    problems.setdefault(fld, {})[part] = str(problem)
                    dropped[i].append((fld, f"{spec['column']} {part[:120]!r}: {str(problem)[:200]}"))
                elif iri not in iris:
                    iris.append(iri)
            values.append(iris)
        if fld in LIST_COLUMNS:
            mapped[fld] = pd.Series(values, index=mapped.index, dtype="object")
        else:
            mapped[fld] = pd.Series([v[0] if v else None for v in values], index=mapped.index, dtype="object")
        if unmapped:
            notes["unmapped"][fld] = dict(unmapped.most_common())
    if problems:
        notes["unmapped_reasons"] = problems
    add_dropped(mapped, dropped)


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    frame = read_csv_text(text, ctx.source)
    cells = [c for c in frame.columns if c != LINE]
    frame[cells] = frame[cells].map(original)  # values our writer made spreadsheet-safe (csv_cells), as they were
    mapping = ctx.mapping
    absent = [c for c in ("Identifier", "Name") if c not in frame.columns]
    if absent:
        raise SourceFormatError(ctx.source, f"not a standard CSV: no column {absent} (header: {list(frame.columns)[:12]})")
    for col in mapping.get("optional_columns") or []:
        if col not in frame.columns:
            frame[col] = pd.Series([""] * len(frame), index=frame.index, dtype="object")
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    map_vocabulary(frame, mapped, mapping, notes)
    fallback = mapping.get("geo_container_fallback")
    if fallback:
        missing = {m.lower() for m in mapping.get("missing", [])}
        lat, lon = _cells(frame, fallback["lat"], missing), _cells(frame, fallback["lon"], missing)
        own = mapped["lat"].isna() & mapped["lon"].isna()
        mapped.loc[own, "lat"] = [lat[i] for i, o in enumerate(own) if o]
        mapped.loc[own, "lon"] = [lon[i] for i, o in enumerate(own) if o]
    notes["encoding"] = encoding
    return ParseResult(mapped, [], notes)

"""Apply a source's mapping file (columns and code tables) to a raw frame, vectorised.

The mapping lives in the source's `source.yaml` under `mapping:` so a steward can read
and edit it; this module is the one interpreter of that file:

```yaml
mapping:
  missing: ["", "n/a"]                 # values that mean "no value"
  columns: {name: "Registered Name", alternate_names: ["Trading Name"], ...}
  constants: {country: GB}
  fallbacks: {country: "Country 2"}    # the source's second column for a field: used when
                                       # the first is empty (or, for the country, unreadable)
  identifiers: {companies-house: "Company Number"}      # -> "companies-house:<value>"
  identifier_pairs: [{scheme_column: Registrar, value_column: "Registered Number"}]
  kinds: {column: member_type, default: enterprise, map: {Fair Trade Network: network}}  # plain words
  codes:
    legal_form: {column: "Legal Form", map: {Society: "ess-lf:L2"}}
    qualifiers: {column: "Products", split: ";", map: {Food: "ess-q:Organic"}}
```

Code values are CURIEs (see `namespaces.PREFIXES`) or lists of CURIEs. Codes the data
uses but the table lacks are counted in `notes["unmapped"]` (the steward's to-do list),
never guessed, and each is a dropped value of its record (`DROPPED`, see
`canonical.normalise`).
"""
from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd

from se_pipeline.canonical.normalise import DROPPED, FALLBACK_SUFFIX
from se_pipeline.canonical.schema import FIELDS, LIST_COLUMNS
from se_pipeline.namespaces import expand_curie
from se_pipeline.sources.errors import MappingError
from se_pipeline.sources.kinds import apply_kinds
from se_pipeline.sources.tabular import LINE


def _blank(series: pd.Series, missing: set[str]) -> pd.Series:
    """Trimmed strings with every 'missing' marker turned into None."""
    values = [v.strip() if isinstance(v, str) else None for v in series.tolist()]
    return pd.Series([None if v is None or v.lower() in missing else v for v in values], index=series.index, dtype="object")


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [expand_curie(v) for v in value]
    return [expand_curie(str(value))]


def apply_mapping(raw: pd.DataFrame, mapping: dict[str, Any], source: str) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Map a raw string frame to canonical columns; returns (frame, notes)."""
    missing = {m.lower() for m in mapping.get("missing", ["", "n/a", "null", "none"])}
    out = pd.DataFrame(index=raw.index)
    out["source"] = source
    out["line"] = raw[LINE] if LINE in raw.columns else range(1, len(raw) + 1)
    cols = {c.strip(): c for c in raw.columns}

    def column(name: str) -> pd.Series:
        if name not in cols:
            raise MappingError(source, f"mapped column {name!r} not in data (columns: {list(cols)[:40]})",
                               public=f"mapped column {name!r} (source.yaml) is not in the data's header")
        return _blank(raw[cols[name]], missing)

    for fld, spec in (mapping.get("columns") or {}).items():
        if fld not in FIELDS:
            raise MappingError(source, f"mapping names unknown canonical field {fld!r}")
        names = spec if isinstance(spec, list) else [spec]
        series = [column(n) for n in names]
        if fld in LIST_COLUMNS:
            out[fld] = pd.Series(
                [[v for v in vals if v] for vals in zip(*series)] if series else [[] for _ in range(len(raw))],
                index=raw.index, dtype="object",
            )
        elif len(series) == 1:
            out[fld] = series[0]
        else:  # several columns joined into one text field (e.g. street lines)
            out[fld] = pd.Series(
                ["\n".join(v for v in vals if v) or None for vals in zip(*series)], index=raw.index, dtype="object"
            )

    for fld, col in (mapping.get("fallbacks") or {}).items():
        if fld not in FIELDS or fld in LIST_COLUMNS:
            raise MappingError(source, f"fallback for unknown or list canonical field {fld!r}")
        out[fld + FALLBACK_SUFFIX] = column(col)

    for fld, value in (mapping.get("constants") or {}).items():
        if fld not in FIELDS:
            raise MappingError(source, f"constant for unknown canonical field {fld!r}")
        out[fld] = pd.Series([list(value) if isinstance(value, list) else value] * len(raw), index=raw.index, dtype="object")

    ids: list[list[str]] = [[] for _ in range(len(raw))]
    for scheme, col in (mapping.get("identifiers") or {}).items():
        for i, v in enumerate(column(col)):
            if v:
                ids[i].append(f"{scheme}:{v}")
    for pair in mapping.get("identifier_pairs") or []:
        schemes, values = column(pair["scheme_column"]), column(pair["value_column"])
        for i, (sch, v) in enumerate(zip(schemes, values)):
            if sch and v:
                ids[i].append(f"{sch.lower().replace(' ', '-')}:{v}")
    if mapping.get("identifiers") or mapping.get("identifier_pairs"):
        out["identifiers"] = pd.Series(ids, index=raw.index, dtype="object")

    notes: dict[str, Any] = {"unmapped": {}}
    dropped: list[list[tuple[str, str]]] = [[] for _ in range(len(raw))]
    for fld, spec in (mapping.get("codes") or {}).items():
        if fld not in FIELDS:
            raise MappingError(source, f"code table for unknown canonical field {fld!r}")
        table = {str(k).strip().lower(): _as_list(v) for k, v in (spec.get("map") or {}).items()}
        default = _as_list(spec.get("default"))
        split = spec.get("split")
        unmapped: Counter[str] = Counter()
        values: list[list[str]] = []
        for i, cell in enumerate(column(spec["column"])):
            codes = [c.strip() for c in (cell.split(split) if split else [cell])] if cell else []
            iris: list[str] = []
            for code in codes:
                if not code:
                    continue
                hit = table.get(code.lower())
                if hit is None:
                    unmapped[code] += 1
                    dropped[i].append((fld, f"{spec['column']} {code[:80]!r} is not in the {fld} code table"))
                else:
                    iris.extend(i for i in hit if i not in iris)
            values.append(iris or list(default))
        if fld in LIST_COLUMNS:
            merged = out[fld] if fld in out.columns else pd.Series([[] for _ in range(len(raw))], index=raw.index)
            out[fld] = pd.Series([list(dict.fromkeys(a + b)) for a, b in zip(merged, values)], index=raw.index, dtype="object")
        else:
            out[fld] = pd.Series([v[0] if v else None for v in values], index=raw.index, dtype="object")
        if unmapped:
            notes["unmapped"][fld] = dict(unmapped.most_common())
    apply_kinds(raw, out, mapping, notes, source)
    out[DROPPED] = pd.Series(dropped, index=raw.index, dtype="object")
    return out, notes


def add_dropped(frame: pd.DataFrame, per_row: list[list[tuple[str, str]]]) -> None:
    """Append an adapter's own dropped values (per row, `(field, reason)`) to the frame's."""
    old = frame[DROPPED].tolist() if DROPPED in frame.columns else [[] for _ in range(len(frame))]
    frame[DROPPED] = pd.Series([list(a) + list(b) for a, b in zip(old, per_row)], index=frame.index, dtype="object")

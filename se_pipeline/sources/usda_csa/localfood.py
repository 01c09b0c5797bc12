"""Reading the USDA AMS Local Food Portal directory API (shared by the four USDA sources).

The Local Food Portal (https://www.usdalocalfoodportal.com/fe/datasharing/) publishes
five directories through one API family, each `GET /api/<directory>/?apikey=KEY` with
an optional `state=` filter (two-letter code or full name) — `csa`, `farmersmarket`,
`foodhub`, `onfarmmarket` (and `agritourism`, not used). Every directory answers with
the same shape, UTF-8 JSON:

```json
{"data": [ {"listing_id": "301234", "listing_name": "…", "listing_desc": "…",
            "location_address": "…", "location_city": "…", "location_state": "Vermont",
            "location_zipcode": "05401", "location_x": "-73.21", "location_y": "44.47",
            "media_website": "…", "media_facebook": "…", "contact_email": "…",
            "contact_phone": "…", "updatetime": "Jan 3rd, 2024", "brief_desc": "…",
            "directory_type": "csa", "directory_name": "CSA", …}, … ]}
```

Quirks this module absorbs (and only these — cleaning is `canonical.normalise`'s job):

* the list is under `"data"` (a bare top-level list is accepted too); a state without
  listings answers `{"data": []}`; an error answers an object without `"data"`;
* numbers come as strings or as JSON numbers (`-73.2`, `1e-05`): both are kept as the
  text the API wrote (`parse_float=str`), so nothing is rounded before normalising;
* keys absent from a record are missing values (records are not uniform);
* the update time is written `Jan 3rd, 2024` (month, ordinal day, year) or ISO
  `2024-01-03 10:11:12`; the former is rewritten to `01/03/2024` for the `mdy` reader.

Everything else — which key is which canonical field, practices, activity — is the
source's `source.yaml` mapping.
"""
from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import LINE, decode

_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}
_USDA_DATE = re.compile(r"^([A-Za-z]{3})[A-Za-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def build_urls(url: str, options: dict[str, Any], secret: str | None) -> list[str]:
    """One request per state in `options["states"]` (none: one national request), each
    carrying `apikey=<secret>`; `file://` URLs (the bundled sample) are returned as is."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https"):
        return [url]
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in ("apikey", "state")]
    if secret:
        query.append(("apikey", secret))
    states = [str(s).strip() for s in (options.get("states") or []) if str(s).strip()]
    queries = [query + [("state", s)] for s in states] if states else [query]
    return [urlunsplit(parts._replace(query=urlencode(q))) for q in queries]


def usda_date(value: str | None) -> str | None:
    """`Jan 3rd, 2024` -> `01/03/2024`; anything else unchanged (ISO passes, junk is reported later)."""
    if not value:
        return value
    m = _USDA_DATE.match(value.strip())
    if not m or m.group(1).lower() not in _MONTHS:
        return value
    return f"{_MONTHS[m.group(1).lower()]:02d}/{int(m.group(2)):02d}/{m.group(3)}"


def _text(value: Any) -> str | None:
    """A JSON value as the raw string frame holds it (numbers already text via parse_float/int)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _mapped_columns(mapping: dict[str, Any]) -> set[str]:
    names: set[str] = set()
    for spec in (mapping.get("columns") or {}).values():
        names.update(spec if isinstance(spec, list) else [spec])
    names.update((mapping.get("identifiers") or {}).values())
    names.update(spec["column"] for spec in (mapping.get("codes") or {}).values())
    return names


def listings(raw: bytes, source: str, encoding: str | None) -> tuple[list[Any], str]:
    """The listing objects of one API answer, and the encoding used."""
    text, used = decode(raw, source, encoding)
    try:
        doc = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as e:
        raise SourceFormatError(source, f"not JSON: {e}") from None
    if isinstance(doc, dict):
        if "data" not in doc:
            raise SourceFormatError(source, f"API answer has no 'data' list (keys: {sorted(doc)[:10]})")
        doc = doc["data"] or []
    if not isinstance(doc, list):
        raise SourceFormatError(source, f"'data' is a {type(doc).__name__}, not a list")
    return doc, used


def parse_listings(raw: bytes, ctx: SourceContext) -> ParseResult:
    """The `parse` of every USDA Local Food Portal source: JSON listings -> mapped frame."""
    records, encoding = listings(raw, ctx.source, ctx.encoding)
    rows: list[dict[str, Any]] = []
    quarantine: list[QuarantineRecord] = []
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            quarantine.append(QuarantineRecord(ctx.source, "", i, "record", f"listing is a JSON {type(rec).__name__}, not an object"))
            continue
        row = {str(k): _text(v) for k, v in rec.items()}
        if "updatetime" not in row and "update_time" in row:  # older answers spell it so
            row["updatetime"] = row.pop("update_time")
        row[LINE] = i
        rows.append(row)
    frame = pd.DataFrame(rows, dtype="object")
    for col in _mapped_columns(ctx.mapping):  # keys absent from every record: missing values
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if LINE not in frame.columns:
        frame[LINE] = pd.Series([], dtype="int64")
    mapped, notes = apply_mapping(frame, ctx.mapping, ctx.source)
    if "updated" in mapped.columns:
        mapped["updated"] = pd.Series([usda_date(v) for v in mapped["updated"]], index=mapped.index, dtype="object")
    notes["encoding"] = encoding
    notes["listings"] = len(records)
    return ParseResult(mapped, quarantine, notes)

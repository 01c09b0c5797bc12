"""ICA (International Cooperative Alliance) member directory from its CiviCRM REST API.

Format: UTF-8 JSON in one of CiviCRM's two REST shapes (both read):

* APIv3 `Contact.get`: `{"is_error": 0, "version": 3, "count": N, "values": {"<id>":
  {...}, ...}}` — `values` is an object keyed by contact id (an empty result is `[]`);
  `{"is_error": 1, "error_message": "…"}` is an API error (a SourceFormatError);
* APIv4 `Contact.get`: `{"values": [{...}, ...], "count": N, ...}` (`values` a list).

Record fields (APIv3 names; APIv4 joins such as `address_primary.city` are accepted
under their last segment): `contact_id` (APIv4: `id`; the record id), `organisation_name`
(HTML-encoded by CiviCRM: `&amp;`, `&#039;` — hence `html: true`), `legal_name`,
`nick_name`, `street_address`, `supplemental_address_1`, `city`, `state_province`,
`postal_code`, `country_id` (**CiviCRM's numeric country id**, e.g. `1226` = GB, mapped
by `country_id_table` in `source.yaml`) or `country` / `country_iso` (name or ISO code,
preferred when present and readable; the id is the second column for the country), `latitude`, `longitude`, `website`, `email`, `phone`,
`modified_date` (`YYYY-MM-DD hh:mm:ss`), and the ICA custom fields
`structure_and_status_typology` (kind of member -> record kind, organisational
structure, practice) and `structure_and_status_economic_activity_primary_` (-> ICA
activity). CiviCRM writes numbers as strings and absent values as `""` or `null`.

The record's line is its 1-based position in `values`. `build_urls` adds the API key
(`api_key_env`) to the query when one is configured.
"""
from __future__ import annotations

import json
from collections import Counter
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pandas as pd

from se_pipeline.canonical.normalise import FALLBACK_SUFFIX
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import add_dropped, apply_mapping
from se_pipeline.sources.tabular import LINE, decode



def build_urls(url: str, options: dict[str, Any], secret: str | None) -> list[str]:
    """The configured URL, with `api_key=<secret>` added when a key is configured."""
    if not secret:
        return [url]
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "api_key"]
    return [urlunsplit(parts._replace(query=urlencode(query + [("api_key", secret)])))]


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list):
        return "|".join(t for t in (_text(v) for v in value) if t) or None
    if isinstance(value, dict):
        return None
    return str(value)


def _records(raw: bytes, ctx: SourceContext) -> tuple[list[Any], str, str]:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    try:
        doc = json.loads(text, parse_float=str, parse_int=str)
    except json.JSONDecodeError as e:
        raise SourceFormatError(ctx.source, f"not JSON: {e}") from None
    if isinstance(doc, dict) and str(doc.get("is_error", "0")) not in ("0", "false", "False"):
        raise SourceFormatError(ctx.source, f"CiviCRM API error: {str(doc.get('error_message', ''))[:200]}")
    if not isinstance(doc, dict) or "values" not in doc:
        raise SourceFormatError(ctx.source, "not a CiviCRM API response (no 'values')")
    values = doc["values"]
    if isinstance(values, dict):
        return list(values.values()), encoding, "v3"
    if isinstance(values, list):
        return values, encoding, "v4" if "is_error" not in doc else "v3"
    raise SourceFormatError(ctx.source, f"'values' is a {type(values).__name__}, not an object or list")


def _flatten(rec: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {}
    for key, value in rec.items():
        short = str(key).rsplit(".", 1)[-1]  # APIv4 joins: address_primary.city -> city
        if short not in row or row[short] is None:
            row[short] = _text(value)
    if not row.get("contact_id") and row.get("id"):
        row["contact_id"] = row["id"]
    return row


def _country(row: dict[str, Any], table: dict[str, str], unmapped: Counter[str]) -> tuple[str | None, str | None, str | None]:
    """(country as written, country from the id table, reason the id was dropped).

    A name or ISO code wins when present (canonicalisation reads it); the CiviCRM id is the
    second column for the same thing, used when the text is absent or unreadable."""
    text = next((v.strip() for v in (row.get("country_iso"), row.get("country")) if v and v.strip()), None)
    cid = (row.get("country_id") or "").strip()
    if not cid:
        return text, None, None
    if cid in table:
        return text, table[cid], None
    unmapped[cid] += 1
    return text, None, None if text else f"CiviCRM country id {cid[:20]!r} is not in country_id_table"


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    records, encoding, api = _records(raw, ctx)
    mapping = ctx.mapping
    table = {str(k): str(v).upper() for k, v in (mapping.get("country_id_table") or {}).items()}
    rows: list[dict[str, Any]] = []
    quarantine: list[QuarantineRecord] = []
    unmapped_countries: Counter[str] = Counter()
    for i, rec in enumerate(records, start=1):
        if not isinstance(rec, dict):
            quarantine.append(QuarantineRecord(ctx.source, "", i, "record", f"value is a JSON {type(rec).__name__}, not an object"))
            continue
        row = _flatten(rec)
        row["_country"], row["_country_id"], dropped = _country(row, table, unmapped_countries)
        row["_dropped"] = [("country", dropped)] if dropped else []
        row[LINE] = i
        rows.append(row)
    frame = pd.DataFrame(rows, dtype="object")
    needed = {c for spec in (mapping.get("columns") or {}).values() for c in (spec if isinstance(spec, list) else [spec])}
    needed |= {spec["column"] for spec in (mapping.get("codes") or {}).values()}
    needed |= set((mapping.get("identifiers") or {}).values())
    if mapping.get("kinds"):
        needed.add(mapping["kinds"]["column"])
    for col in needed:  # fields a record (or the whole response) may omit
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if LINE not in frame.columns:
        frame[LINE] = pd.Series([], dtype="int64")
    for col in ("_country", "_country_id", "_dropped"):
        if col not in frame.columns:
            frame[col] = pd.Series([], dtype="object")
    mapped, notes = apply_mapping(frame, mapping, ctx.source)
    mapped["country"] = frame["_country"].values
    mapped["country" + FALLBACK_SUFFIX] = frame["_country_id"].values
    add_dropped(mapped, list(frame["_dropped"]))
    if unmapped_countries:
        notes["unmapped"]["country_id"] = dict(unmapped_countries.most_common())
    notes["encoding"] = encoding
    notes["api"] = api
    notes["records"] = len(records)
    return ParseResult(mapped, quarantine, notes)

"""TransforMap places API: GeoJSON FeatureCollection (the EU SUSY solidarity-economy map).

Format: UTF-8 JSON `{"type": "FeatureCollection", "source": …, "license": …,
"features": [...]}`; each feature `{"type": "Feature", "geometry": {"type": "Point",
"coordinates": [lon, lat]}, "properties": {...}}` with OpenStreetMap-style keys:

* `_id` (32 hex, the record id), `_version`, `_uri`, `_created`, `_timestamp` (epoch
  milliseconds of the last edit -> `updated`);
* `name`; `addr:street`, `addr:housenumber`, `addr:housename`, `addr:postcode`,
  `addr:city`, `addr:country` — the country is **free text** in any language or case
  (`Österreich`, `ÖSterreich`, `UK`, `uk`, `England`, `Portogallo`, `DE`), resolved by
  canonicalisation;
* `contact:website`, `website`, `contact:email`, `contact:phone`;
* `description` (untagged, often English) and `description:<lang>` (`de`, `fr`, `ro`,
  …): one description is kept — the one in the record's own language (the language of
  its country, `country_languages` in `source.yaml`) when present, else the untagged
  one (language unknown), else the first tagged one — with its language tag;
* `type_of_initiative` — `;`-separated type keys (commas and spaces also occur) ->
  activities (code table) and, for a few keys, practices (`practices_by_type`);
* `fair-trade`, `organic` — `yes` / `no` / `limited` flags -> qualifiers (only `yes`);
* free extras (`POI_TYPE`, `SSEDAS_PARTNER`, `opening_hours`, `image`, …) are not used.

The adapter flattens features to a raw string frame (line = feature index + 1) and
hands it to the mapping; features that are not objects, or lack a Point geometry, are
still records (no position) unless they are not JSON objects at all (quarantined).
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from se_pipeline.canonical.countries import to_iso2
from se_pipeline.namespaces import expand_curie
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import add_dropped, apply_mapping
from se_pipeline.sources.tabular import LINE, decode

_LANG_KEY = re.compile(r"^description:([A-Za-z]{2,3}(?:-[A-Za-z0-9]+)*)$")


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (dict, list)):
        return None
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value).strip()
    return text or None


def pick_description(props: dict[str, Any], country: str | None, languages: dict[str, str]) -> tuple[str | None, str | None]:
    """(description, language tag) preferring the record's own language; see module docstring."""
    tagged = {m.group(1).lower(): _text(v) for k, v in props.items() if (m := _LANG_KEY.match(k)) and _text(v)}
    own = languages.get(country or "")
    if own and own in tagged:
        return tagged[own], own
    plain = _text(props.get("description"))
    if plain:
        return plain, None
    if tagged:
        lang = next(iter(tagged))
        return tagged[lang], lang
    return None, None


def _street(props: dict[str, Any]) -> str | None:
    street = " ".join(t for t in (_text(props.get("addr:street")), _text(props.get("addr:housenumber"))) if t)
    return "\n".join(t for t in (_text(props.get("addr:housename")), street) if t) or None


def _updated(value: Any) -> tuple[str | None, list[tuple[str, str]]]:
    """(ISO date of an epoch-milliseconds timestamp, dropped): a timestamp that is not a
    positive number in the calendar's range is dropped with its reason."""
    if value is None:
        return None, []
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        try:
            return datetime.fromtimestamp(value / 1000, tz=timezone.utc).strftime("%Y-%m-%d"), []
        except (OverflowError, OSError, ValueError):
            pass
    return None, [("updated", f"_timestamp {str(value)[:40]!r} is not epoch milliseconds")]


def _point(geometry: Any) -> tuple[str | None, str | None, list[tuple[str, str]]]:
    """(lat, lon, dropped): a Point's coordinates as text (canonicalisation checks them);
    any other geometry present is a dropped position, with its reason."""
    if geometry is None:
        return None, None, []
    if isinstance(geometry, dict) and geometry.get("type") == "Point":
        coords = geometry.get("coordinates")
        if isinstance(coords, list) and len(coords) >= 2 and all(isinstance(c, (int, float, str)) for c in coords[:2]):
            return str(coords[1]), str(coords[0]), []
    kind = geometry.get("type") if isinstance(geometry, dict) else type(geometry).__name__
    return None, None, [("lat/lon", f"geometry is not a Point with [lon, lat] coordinates ({str(kind)[:40]})")]


def _flags(props: dict[str, Any]) -> str | None:
    parts = [f"{k}={str(_text(props.get(k))).lower()}" for k in ("fair-trade", "organic") if _text(props.get(k))]
    return ";".join(parts) or None


def _types(value: Any) -> str | None:
    text = _text(value)
    return ";".join(t.strip().lower() for t in re.split(r"[;,]", text) if t.strip()) if text else None


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise SourceFormatError(ctx.source, f"not JSON: {e}") from None
    if not isinstance(doc, dict) or doc.get("type") != "FeatureCollection" or not isinstance(doc.get("features"), list):
        raise SourceFormatError(ctx.source, "not a GeoJSON FeatureCollection with a features list")
    languages = {str(k).upper(): str(v).lower() for k, v in (ctx.mapping.get("country_languages") or {}).items()}
    rows: list[dict[str, Any]] = []
    quarantine: list[QuarantineRecord] = []
    for i, feature in enumerate(doc["features"], start=1):
        if not isinstance(feature, dict) or not isinstance(feature.get("properties"), dict):
            quarantine.append(QuarantineRecord(ctx.source, "", i, "record", "feature is not a GeoJSON Feature with properties"))
            continue
        props = feature["properties"]
        row: dict[str, Any] = {str(k): _text(v) for k, v in props.items()}
        country = to_iso2(_text(props.get("addr:country")))
        row["_description"], row["_description_lang"] = pick_description(props, country, languages)
        row["_street"] = _street(props)
        row["_lat"], row["_lon"], dropped = _point(feature.get("geometry"))
        row["_updated"], late = _updated(props.get("_timestamp"))
        row["_dropped"] = dropped + late
        row["_flags"] = _flags(props)
        row["type_of_initiative"] = _types(props.get("type_of_initiative"))
        row[LINE] = i
        rows.append(row)
    frame = pd.DataFrame(rows, dtype="object")
    needed = {c for spec in (ctx.mapping.get("columns") or {}).values() for c in (spec if isinstance(spec, list) else [spec])}
    needed |= {spec["column"] for spec in (ctx.mapping.get("codes") or {}).values()}
    for col in needed:  # keys a feature may omit are missing values
        if col not in frame.columns:
            frame[col] = pd.Series([None] * len(frame), index=frame.index, dtype="object")
    if LINE not in frame.columns:
        frame[LINE] = pd.Series([], dtype="int64")
    mapped, notes = apply_mapping(frame, ctx.mapping, ctx.source)
    add_dropped(mapped, list(frame["_dropped"]) if "_dropped" in frame.columns else [[] for _ in range(len(frame))])
    by_type = {str(k).lower(): expand_curie(str(v)) for k, v in (ctx.mapping.get("practices_by_type") or {}).items()}
    mapped["practices"] = pd.Series(
        [list(dict.fromkeys(by_type[t] for t in (v or "").split(";") if t in by_type)) for v in frame["type_of_initiative"]],
        index=mapped.index, dtype="object",
    )
    # Several URLs in one key ("http://a.org; http://b.org") are several websites.
    mapped["websites"] = pd.Series(
        [[p.strip() for v in sites for p in v.split(";") if p.strip()] for v in [mapped["websites"]] for sites in v],
        index=mapped.index, dtype="object",
    )
    notes["encoding"] = encoding
    notes["features"] = len(doc["features"])
    return ParseResult(mapped, quarantine, notes)

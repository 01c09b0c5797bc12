"""Make a mapped frame canonical: clean text, typed values, required fields, unique ids.

Three kinds of outcome besides the clean frame, all published:
* quarantine — records withheld: only for the record's identity (no id, no name, a
  duplicate id), with line and reason;
* dropped values — a record is published but one value was unusable (a website that is
  not a URL, latitude 200, a country nobody knows), recorded so that nothing disappears
  silently. Every field but the identity degrades this way, whatever its type;
* resolved values — a value published after a reading that was not exact (a country
  given by a translated, former or misspelt name), with what it was read from.

Adapters reach the last two through two conventions on the frame they return:
* `<field>` + `FALLBACK_SUFFIX` (e.g. `country__fallback`) — the source's second column
  for the same thing, used when the first is empty or (for the country) unreadable;
* `DROPPED` — per row, a list of `(field, reason)` for values the adapter itself had to
  drop (a CiviCRM country id the table lacks, a timestamp out of range).
"""
from __future__ import annotations

import html
import math
import re
from datetime import date, datetime
from typing import Any, Callable, Iterable, NamedTuple

import pandas as pd

from se_pipeline.canonical.countries import resolve_country
from se_pipeline.canonical.schema import LIST_COLUMNS, ensure_columns, records
from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.rdf.errors import TermError
from se_pipeline.rdf.terms import check_lang, clean_iri

MAX_NAME = 1000
MAX_DESCRIPTION = 20_000  # the shapes' limit: longer text is truncated (and recorded), not withheld
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^>]{0,500}>")
_EMAIL = re.compile(r"^[^@\s<>\"]+@[^@\s<>\"]+\.[^@\s<>\".]+$")
_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*://")
_DATE_FORMATS_DMY = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d/%m/%y")
_DATE_FORMATS_MDY = ("%m/%d/%Y", "%m-%d-%Y", "%Y-%m-%d", "%m/%d/%y")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
#: Suffix of a column holding the source's second column for a canonical field.
FALLBACK_SUFFIX = "__fallback"
#: Column of `(field, reason)` lists: values an adapter dropped before canonicalisation.
DROPPED = "__dropped__"
#: What a bad value of any type raises in the parsers below (and in float()/int()).
_BAD_VALUE = (ValueError, TypeError, OverflowError)


def clean_text(value: Any, *, strip_html: bool = False, multiline: bool = False) -> str | None:
    """Text safe for every output format: no control characters, folded whitespace.

    HTML is stripped only for sources that publish HTML-formatted fields (`strip_html`):
    elsewhere a name like `<script>` is data and stays, escaped by every writer.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    text = str(value)
    if strip_html:
        text = html.unescape(_TAG.sub(" ", text))
    text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " "))
    if multiline:
        lines = [" ".join(line.split()) for line in text.split("\n")]
        text = "\n".join(line for line in lines if line)
    else:
        text = " ".join(text.split())
    return text or None


def parse_date(value: Any, order: str = "dmy") -> str | None:
    """ISO date from the source's date format; None if absent; ValueError if unreadable."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, (date, datetime)):
        return value.strftime("%Y-%m-%d")
    text = str(value).strip()
    if not text:
        return None
    if re.match(r"^\d{4}-\d{2}-\d{2}[T ]", text):
        text = text[:10]
    if _ISO_DATE.fullmatch(text):  # most sources' form: what the loop below finds, without its failed tries
        try:
            if 1000 <= date.fromisoformat(text).year <= 2999:
                return text
        except ValueError:
            pass
    for fmt in _DATE_FORMATS_DMY if order == "dmy" else _DATE_FORMATS_MDY:
        try:
            d = datetime.strptime(text, fmt)
        except ValueError:
            continue
        if 1000 <= d.year <= 2999:
            return d.strftime("%Y-%m-%d")
    raise ValueError(f"unreadable date {text!r}")


def normalise_url(value: Any) -> str | None:
    """An absolute http(s) URL (scheme added to bare domains), or ValueError."""
    text = clean_text(value)
    if not text:
        return None
    if not _SCHEME.match(text):
        if text.startswith("//"):
            text = "http:" + text
        elif re.match(r"^[\w.-]+\.[a-z]{2,}(/|$)", text, re.I):
            text = "http://" + text
        else:
            raise ValueError(f"not a URL: {text[:80]!r}")
    scheme, _, rest = text.partition("://")
    if scheme.lower() not in ("http", "https"):
        raise ValueError(f"not an http(s) URL: {text[:80]!r}")
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not host or " " in host or "." not in host.split("@")[-1].split(":")[0]:
        raise ValueError(f"URL without a valid host: {text[:80]!r}")
    try:
        return clean_iri(scheme.lower() + "://" + rest)
    except TermError as e:
        raise ValueError(str(e)) from None


_UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)\s*([0-9][A-Z]{2})$")


def normalise_postcode(postcode: str | None, country: str | None) -> str | None:
    """UK-style postcodes (GB and Crown dependencies) upper-cased with one space; others as given."""
    if not postcode or country not in ("GB", "JE", "GG", "IM"):
        return postcode
    m = _UK_POSTCODE.match(postcode.upper().replace(" ", ""))
    return f"{m.group(1)} {m.group(2)}" if m else postcode.upper()


def parse_coordinate(value: Any, low: float, high: float) -> float | None:
    """A finite float within [low, high]; None if absent; ValueError otherwise."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    number = float(str(value).strip().replace(",", ".")) if isinstance(value, str) else float(value)
    if not math.isfinite(number) or not low <= number <= high:
        raise ValueError(f"coordinate {value!r} outside [{low}, {high}]")
    return number


def parse_count(value: Any) -> int | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or (isinstance(value, str) and not value.strip()):
        return None
    number = float(str(value).replace(",", "").strip())
    if not math.isfinite(number) or number < 0 or number != int(number):
        raise ValueError(f"not a non-negative whole number: {value!r}")
    return int(number)


class Conformed(NamedTuple):
    """What `conform` returns: the canonical frame and the three reports."""

    frame: pd.DataFrame
    quarantine: list[QuarantineRecord]
    dropped: list[QuarantineRecord]
    resolved: list[QuarantineRecord]


def _country(text: str | None, fallback: Any, drop: Callable[[str, str], None],
             resolved: Callable[[str, str], None]) -> str | None:
    """ISO code of the record's country, from its column or the source's second column."""
    text = text[:200] if text else text  # a country name is short: anything longer is not one
    second = clean_text(fallback)
    second = second[:200] if second else second
    hit = resolve_country(text) if text else None
    if text and not hit:
        alt = resolve_country(second) if second else None
        if alt:
            drop("country", f"unknown country {text!r}; country {alt.code} taken from the second country column ({second!r})")
            hit, text = alt, second
        else:
            drop("country", f"unknown country {text!r}")
            return None
    elif not text and second:
        hit, text = resolve_country(second), second
        if not hit:
            drop("country", f"unknown country {second!r}")
            return None
    if hit and not hit.exact:
        resolved("country", f"{text!r} read as {hit.code}: {hit.how}")
    return hit.code if hit else None


def conform(
    frame: pd.DataFrame, source: str, *, date_order: str = "dmy", strip_html: bool = False
) -> Conformed:
    """Canonicalise a mapped frame: (frame, quarantined records, dropped values, resolved values)."""
    fallbacks = {c[: -len(FALLBACK_SUFFIX)]: frame[c].tolist() for c in frame.columns
                 if isinstance(c, str) and c.endswith(FALLBACK_SUFFIX)}
    pre_dropped = frame[DROPPED].tolist() if DROPPED in frame.columns else None
    df = ensure_columns(frame)
    df["source"] = source
    quarantine: list[QuarantineRecord] = []
    dropped: list[QuarantineRecord] = []
    resolved: list[QuarantineRecord] = []
    rows = records(df)
    seen: dict[str, int] = {}
    keep: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        line = int(row["line"]) if row["line"] is not None and not pd.isna(row["line"]) else 0
        rid = clean_text(row["record_id"])
        row["line"] = line
        if not rid:
            quarantine.append(QuarantineRecord(source, "", line, "record_id", "record has no identifier"))
            continue
        row["record_id"] = rid

        def drop(fld: str, reason: str) -> None:
            dropped.append(QuarantineRecord(source, rid, line, fld, reason))

        def resolve(fld: str, reason: str) -> None:
            resolved.append(QuarantineRecord(source, rid, line, fld, reason))

        name = clean_text(row["name"], strip_html=strip_html)
        if not name:
            quarantine.append(QuarantineRecord(source, rid, line, "name", "record has no name"))
            continue
        if len(name) > MAX_NAME:
            quarantine.append(QuarantineRecord(source, rid, line, "name", f"name is {len(name)} characters long (limit {MAX_NAME})"))
            continue
        if rid in seen:
            quarantine.append(
                QuarantineRecord(source, rid, line, "record_id", f"duplicate record id; first seen at line {seen[rid]}")
            )
            continue
        seen[rid] = line
        row["name"] = name
        for fld, reason in (pre_dropped[i] if pre_dropped is not None and isinstance(pre_dropped[i], list) else []):
            drop(fld, reason)
        for fld, values in fallbacks.items():
            if fld != "country" and fld in row and not clean_text(row[fld]):
                row[fld] = values[i]
        row["description"] = clean_text(row["description"], strip_html=strip_html, multiline=True)
        if row["description"] and len(row["description"]) > MAX_DESCRIPTION:
            drop("description", f"description truncated from {len(row['description'])} to {MAX_DESCRIPTION} characters")
            row["description"] = row["description"][: MAX_DESCRIPTION - 1].rstrip() + "…"
        for fld in ("legal_form_label", "locality", "region", "postcode", "phone"):
            row[fld] = clean_text(row[fld], strip_html=strip_html)
        row["street"] = clean_text(row["street"], strip_html=strip_html, multiline=True)
        row["alternate_names"] = [
            n for n in (clean_text(v, strip_html=strip_html) for v in _list(row["alternate_names"])) if n and n != name
        ]
        lang = row["description_lang"]
        if lang:
            try:
                row["description_lang"] = check_lang(str(lang))
            except TermError:
                drop("description_lang", f"bad language tag {str(lang)[:40]!r}")
                row["description_lang"] = None
        row["country"] = _country(clean_text(row["country"]), fallbacks["country"][i] if "country" in fallbacks else None,
                                  drop, resolve)
        row["postcode"] = normalise_postcode(row["postcode"], row["country"])
        for fld in ("status_date", "founded", "dissolved", "counted_on", "updated"):
            try:
                row[fld] = parse_date(row[fld], date_order)
            except _BAD_VALUE as e:
                drop(fld, _reason(e, "unreadable date"))
                row[fld] = None
        for fld in ("members", "workers"):
            try:
                row[fld] = parse_count(row[fld])
            except _BAD_VALUE as e:
                drop(fld, _reason(e, "not a non-negative whole number"))
                row[fld] = None
        try:
            lat = parse_coordinate(row["lat"], -90, 90)
            lon = parse_coordinate(row["lon"], -180, 180)
            if (lat is None) != (lon is None):
                raise ValueError("latitude and longitude must come together")
            row["lat"], row["lon"] = lat, lon
        except _BAD_VALUE as e:
            drop("lat/lon", _reason(e, "not a coordinate"))
            row["lat"], row["lon"] = None, None
        sites: list[str] = []
        for v in _list(row["websites"]):
            try:
                url = normalise_url(v)
            except _BAD_VALUE as e:
                drop("websites", _reason(e, "not a URL"))
                continue
            if url and url not in sites:
                sites.append(url)
        row["websites"] = sites
        email = clean_text(row["email"])
        if email and email.lower().startswith("mailto:"):
            email = email[7:]
        if email and not _EMAIL.match(email):
            drop("email", f"not an email address: {email[:80]!r}")
            email = None
        row["email"] = email
        for fld in LIST_COLUMNS:
            row[fld] = [v for v in _list(row[fld]) if v]
        keep.append(row)
    out = pd.DataFrame(keep, columns=df.columns) if keep else ensure_columns(pd.DataFrame())
    return Conformed(out.reset_index(drop=True), quarantine, dropped, resolved)


def _reason(error: BaseException, what: str) -> str:
    """The parser's own message for ValueError; for other types (a list where a number
    was due, a number too large for a date) what the value is not, without the raw bytes."""
    return str(error)[:200] if isinstance(error, ValueError) else f"{what} ({type(error).__name__})"


def _list(value: Any) -> Iterable[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return value
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, float) and math.isnan(value):
        return []
    return [value]

"""DotCoop registry export of active `.coop` domains ("ActiveDomainsLonLat").

Format: CSV, comma-separated, CRLF, quoted only where needed; **encoding varies**: the
registry's export is usually UTF-8 but has been delivered as Windows-1252 (names such
as `Société coopérative` as single bytes). Decoding is strict (see `decode_export`): a
declared encoding, else UTF-8, else cp1252 only when the result is clean; never
replacement characters. The encoding used goes to `notes["encoding"]` (provenance).

One row per *domain* (23 columns): `Row`, `Roid` (domain object id), `Domain`,
`Registrar`, `RegistrantId`, `CreationDate` (domain registration, `d/m/yyyy`), `Name`
(registrant; `N/A` occurs), `Street`, `Street number`, `Street Name`, `City`, `City 2`,
`State`, `State 2`, `Country` (ISO alpha-2, sometimes lower case), `Country 2`
(alpha-3), `PostCode`, `Zip`, `Latitude`, `Longitude`, `Relevance` (geocoder score);
the `* 2` / `Zip` / `Street Name` columns are the geocoder's normalised readings (used
as `fallbacks:` where the registrant's own value is empty, and for the country also
where it is unreadable: `Kostromskaya oblasty` / `RUS`); the header ends with two
columns that have **no name** (always empty). Text cells carry HTML character
references, some cut short (`Perthshire Care &amp`, `Lim&#243`): they are decoded once,
here, so every later stage sees the text the registrant typed.

A registrant can own many domains (one co-operative group owns dozens). The registrant
is the enterprise: one record per `RegistrantId` (record id), its details from its
first row (the record's line), every domain as a website `http://<domain>`, and the
identifier `dotcoop:<RegistrantId>`. Registrants whose rows disagree on name or address
are counted in `notes["registrant_conflicts"]`; domains that are not valid `.coop` host
names are left out of the websites, dropped with their reason, and listed in
`notes["bad_domains"]` by registrant.
"""
from __future__ import annotations

import html
import re

import pandas as pd

from se_pipeline.quarantine import QuarantineRecord
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import add_dropped, apply_mapping
from se_pipeline.sources.tabular import LINE, decode, read_csv_text

_UNCLEAN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffd]")
_DOMAIN = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*\.coop$", re.IGNORECASE)


def decode_export(raw: bytes, source: str, declared: str | None) -> tuple[str, str]:
    """Strict decoding: declared encoding, else UTF-8 (BOM aware), else cp1252 if clean.

    cp1252 decodes almost any byte string, so a cp1252 result is accepted only when it
    contains no control characters (which betray binary data or another encoding);
    anything else is a SourceFormatError rather than text with replacement characters.
    Valid UTF-8 is UTF-8: stray control characters in it are cleaned per field later.
    """
    text, encoding = decode(raw, source, declared)
    if encoding != "utf-8" and _UNCLEAN.search(text):
        raise SourceFormatError(source, f"bytes decode as {encoding} but contain control characters: not a clean text export")
    return text, encoding


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode_export(raw, ctx.source, ctx.encoding)
    frame = read_csv_text(text, ctx.source)
    mapping = ctx.mapping
    group, domain_col = mapping.get("group_by", "RegistrantId"), mapping.get("domain_column", "Domain")
    for col in (group, domain_col):
        if col not in frame.columns:
            raise SourceFormatError(ctx.source, f"no {col!r} column (header: {list(frame.columns)[:12]})")
    keys = [v.strip() if isinstance(v, str) else "" for v in frame[group]]
    quarantine: list[QuarantineRecord] = []
    domains: dict[str, list[str]] = {}
    first: dict[str, int] = {}
    details: dict[str, set[tuple[str, ...]]] = {}
    detail_cols = [c for c in (mapping["columns"]["name"], mapping["columns"]["street"], mapping["columns"]["locality"])
                   if c in frame.columns]
    bad_domains: dict[str, list[str]] = {}
    for i, (key, domain, line) in enumerate(zip(keys, frame[domain_col], frame[LINE])):
        if not key:
            quarantine.append(QuarantineRecord(ctx.source, "", int(line), "record_id",
                                               f"domain {str(domain).strip()!r} has no registrant id"))
            continue
        first.setdefault(key, i)
        details.setdefault(key, set()).add(tuple(" ".join(str(frame.at[i, c]).split()).casefold() for c in detail_cols))
        d = str(domain or "").strip().lower().rstrip(".")
        if d and _DOMAIN.match(d):
            if d not in domains.setdefault(key, []):
                domains[key].append(d)
        else:
            domains.setdefault(key, [])
            bad_domains.setdefault(key, []).append(str(domain or "").strip())
    heads = frame.iloc[sorted(first.values())].reset_index(drop=True)
    text_cols = [c for c in heads.columns if c not in (LINE, group, domain_col)]
    heads[text_cols] = heads[text_cols].map(lambda v: html.unescape(v) if isinstance(v, str) and "&" in v else v)
    mapped, notes = apply_mapping(heads, mapping, ctx.source)
    ids = [str(v).strip() for v in heads[group]]
    mapped["websites"] = pd.Series([[f"http://{d}" for d in domains[k]] for k in ids], index=mapped.index, dtype="object")
    add_dropped(mapped, [[("websites", f"not a .coop domain name: {d[:80]!r}") for d in bad_domains.get(k, [])]
                         for k in ids])
    notes["encoding"] = encoding
    notes["domains"] = len(frame)
    notes["registrants"] = len(first)
    notes["registrant_conflicts"] = sum(1 for v in details.values() if len(v) > 1)
    notes["bad_domains"] = bad_domains
    return ParseResult(mapped, quarantine, notes)

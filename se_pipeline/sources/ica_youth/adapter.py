"""ICA youth network: survey export of youth-led co-operatives (CSV).

Format: CSV, UTF-8, CRLF, quoted cells; one row per survey answer, 16 columns:
`Organization Type` (always `Youth-led Co-ops`), `Name`, `name` (**a second column with
the same name in lower case**, holding a sector or type label, not a name), `Region`
(continent), `Country` (**free text** in English, Spanish, French or Italian, with
misspellings: `UK`, `Brasil`, `Rawanda`, `Democratic Republic of Congo`), `City`,
`Latitude`, `Longitude`, `Size` (member band such as `0-5`), `Type` (kind of
co-operative, in the respondent's language), `Sector`, `Address`, `Description`,
`Additional Details` (both free text, mixed languages), `Website`, `Email` (`n/a` for
missing values). Header names are kept exactly: `Name` and `name` are different columns,
and an exact repetition of a header name gets a `.2` suffix so no column is lost.

There is **no id column**. The record id is derived as `y-` + 16 hex of
SHA-1("<name>|<ISO country>"), with the name case-folded, accent-stripped and
whitespace-folded: the survey is re-exported with rows re-ordered, added and
corrected, so a row number is not stable, while an organisation's name within its
country is what identifies it to the network; the same co-operative answering twice
collides and is quarantined as a duplicate rather than published twice.

A country that no reading resolves (`Narnia`) or that is missing does not cost the
record: the id then uses the folded text as written (or nothing), and canonicalisation
drops the value with its reason, like any other unreadable value.
"""
from __future__ import annotations

import hashlib
import unicodedata

import pandas as pd

from se_pipeline.canonical.countries import to_iso2
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.mapping import apply_mapping
from se_pipeline.sources.tabular import decode, read_csv_text


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text)
    return " ".join("".join(c for c in nfkd if not unicodedata.combining(c)).casefold().split())


def youth_id(name: str, country: str) -> str:
    """Stable record id from normalised name + ISO country; see module docstring."""
    return "y-" + hashlib.sha1(f"{_fold(name)}|{country.upper()}".encode("utf-8")).hexdigest()[:16]


def _dedupe_header(frame: pd.DataFrame) -> pd.DataFrame:
    names: list[str] = []
    for col in frame.columns:
        name, n = col, 1
        while name in names:
            n += 1
            name = f"{col}.{n}"
        names.append(name)
    frame.columns = names
    return frame


def parse(raw: bytes, ctx: SourceContext) -> ParseResult:
    text, encoding = decode(raw, ctx.source, ctx.encoding)
    frame = _dedupe_header(read_csv_text(text, ctx.source))
    for col in ("Name", "Country"):
        if col not in frame.columns:
            raise SourceFormatError(ctx.source, f"no {col!r} column (header: {list(frame.columns)[:16]})")
    mapped, notes = apply_mapping(frame, ctx.mapping, ctx.source)
    ids: list[str | None] = []
    for name, country in zip(mapped["name"], mapped["country"]):
        key = to_iso2(country) or _fold(country or "")
        ids.append(youth_id(name, key) if name else None)
    mapped["record_id"] = pd.Series(ids, index=mapped.index, dtype="object")
    notes["encoding"] = encoding
    return ParseResult(mapped, [], notes)

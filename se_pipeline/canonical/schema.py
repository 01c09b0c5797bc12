"""The canonical enterprise table: the single contract between source adapters and the RDF stage.

Every source adapter produces a pandas DataFrame with exactly these columns (missing
values are ``None``/``NaN``; list columns hold Python lists, possibly empty). Concept
columns hold *full IRIs* (ESSGlobal concepts or our own taxonomy), so the RDF stage does
no vocabulary lookups. Keeping this one table documented and enforced here is what lets
a new source be "a mapping file plus a small adapter".
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "str", "list", "float", "int", "date"
    doc: str
    required: bool = False


CANONICAL_FIELDS: tuple[Field, ...] = (
    Field("source", "str", "Source name (registry key, e.g. `coops_uk`).", True),
    Field("record_id", "str", "The source's own record id; with `source` it mints the enterprise IRI.", True),
    Field("line", "int", "1-based position of the record in the source file (line of its first physical row for CSV, index for JSON).", True),
    Field("name", "str", "Name as the source gives it (HTML stripped, whitespace folded).", True),
    Field("alternate_names", "list", "Trading names, other spellings."),
    Field("description", "str", "Free-text description."),
    Field("description_lang", "str", "BCP 47 language tag of `description` when known (e.g. `pt`)."),
    Field("kind", "str", "What the record is: `enterprise` (default), `network` (federation / network of networks), `support` (support organisation) or `outlet` (a location of another record, see `outlet_of`)."),
    Field("outlet_of", "str", "For outlets: key `source:record_id` (or full IRI) of the organisation it is a location of."),
    Field("organisational_structure", "list", "ESSGlobal organisational-structure concept IRIs."),
    Field("primary_activity", "str", "ESSGlobal ICA activity concept IRI (activities-ica)."),
    Field("activities", "list", "Further activity concept IRIs."),
    Field("membership_type", "str", "ESSGlobal base-membership-type concept IRI."),
    Field("qualifiers", "list", "ESSGlobal qualifier concept IRIs (fair trade, organic, ...)."),
    Field("practices", "list", "Our taxonomy's kinds of practice (sept:practice/...), e.g. CSA, worker co-op."),
    Field("legal_form", "str", "ESSGlobal legal-form concept IRI."),
    Field("legal_form_label", "str", "Legal form as the source words it (e.g. `Society`, `Company limited by guarantee`)."),
    Field("status", "str", "Status concept IRI (sept:status/...): active, dissolved, certified, suspended, decertified..."),
    Field("status_date", "date", "When the status was last set (dissolution, certification decision)."),
    Field("founded", "date", "Incorporation or founding date."),
    Field("dissolved", "date", "Dissolution date."),
    Field("members", "int", "Number of members."),
    Field("workers", "int", "Number of workers."),
    Field("counted_on", "date", "Date the member / worker counts were taken."),
    Field("member_of", "list", "Keys `source:record_id` (or full IRIs) of networks this record is a member of; `key@YYYY-MM-DD` gives the date the membership started."),
    Field("street", "str", "Street address (may span lines)."),
    Field("locality", "str", "City / town."),
    Field("region", "str", "State / province / county."),
    Field("postcode", "str", "Postal code as normalised for its country."),
    Field("country", "str", "ISO 3166-1 alpha-2 code, upper case."),
    Field("lat", "float", "WGS84 latitude in [-90, 90]."),
    Field("lon", "float", "WGS84 longitude in [-180, 180]."),
    Field("geocode_precision", "str", "Set only when the pipeline geocoded the point (the source gave none): sep:geocodePrecision concept IRI (address, postcode, locality, region, country)."),
    Field("geocoded_by", "str", "Set only when the pipeline geocoded the point: IRI of the gazetteer or service it came from (described in the catalog)."),
    Field("websites", "list", "Absolute http(s) URLs, normalised."),
    Field("email", "str", "Contact email address."),
    Field("phone", "str", "Contact phone number as given."),
    Field("identifiers", "list", "Registry identifiers as `scheme:value` (e.g. `fca:525R`, `companies-house:01234567`, `flo:1234`, `usda:301234`)."),
    Field("updated", "date", "When the source last updated the record."),
)

COLUMNS: tuple[str, ...] = tuple(f.name for f in CANONICAL_FIELDS)
FIELDS: dict[str, Field] = {f.name: f for f in CANONICAL_FIELDS}
LIST_COLUMNS = tuple(f.name for f in CANONICAL_FIELDS if f.kind == "list")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """`frame.to_dict("records")`, the same values, built from whole columns.

    Every stage that works row by row (canonicalising, the RDF mapping, the exports)
    starts here. With pandas 3's Arrow-backed strings `to_dict` boxes cell by cell,
    several times slower than building the records from whole columns.
    """
    names = list(frame.columns)
    return [dict(zip(names, row)) for row in zip(*(frame[c].tolist() for c in names))]


def empty_frame() -> pd.DataFrame:
    """A canonical frame with no rows (for sources that yield nothing)."""
    return pd.DataFrame({c: pd.Series(dtype="object") for c in COLUMNS})


def ensure_columns(df: pd.DataFrame) -> pd.DataFrame:
    """Add any missing canonical columns (as empty), drop extra ones, order columns.

    Adapters fill what their source has; this makes the result a complete canonical
    frame without each adapter having to know every field.
    """
    out = pd.DataFrame(index=df.index)
    for f in CANONICAL_FIELDS:
        if f.name in df.columns:
            out[f.name] = df[f.name]
        elif f.kind == "list":
            out[f.name] = pd.Series([[] for _ in range(len(df))], index=df.index, dtype="object")
        else:
            out[f.name] = pd.Series([None] * len(df), index=df.index, dtype="object")
    return out.reset_index(drop=True)

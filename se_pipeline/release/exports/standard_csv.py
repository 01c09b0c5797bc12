"""`standard.csv`: the SSE initiative standard CSV, version 4 (Digital Commons / Mykomap).

Same 30 columns, in the same order, as the Digital Commons conversions (e.g. the Co-ops UK
2022-Q2 file); UTF-8, CRLF, RFC 4180 quoting (cells with quotes, commas or line breaks are
quoted, quotes doubled), so hostile text round-trips. Vocabulary columns hold ESSGlobal
concept IRIs (`http://purl.org/essglobal/standard/…`), several separated by `;`.
`Identifier` is our IRI's path under the data base (`<source>/<encoded record id>`): stable
as long as the IRI is. One `Website` column: the first website (the standard has one).
Columns we have no data for (Territory ID, Twitter, Facebook, Geo Container…, Sector, SIC…,
Ownership Classification) are empty. Read back by the `standard_csv` source (tested).
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from se_pipeline.csv_cells import safe_cell
from se_pipeline.release.exports.common import Enterprise

STANDARD_COLUMNS: tuple[str, ...] = (
    "Identifier", "Name", "Description", "Organisational Structure", "Primary Activity", "Activities",
    "Street Address", "Locality", "Region", "Postcode", "Country ID", "Territory ID", "Website", "Phone",
    "Email", "Twitter", "Facebook", "Companies House Number", "Qualifiers", "Membership Type", "Latitude",
    "Longitude", "Geo Container", "Geo Container Latitude", "Geo Container Longitude", "Sector",
    "SIC Section", "SIC Code", "Ownership Classification", "Legal Form",
)
#: canonical field -> standard column, for the concept columns (`;`-joined IRIs)
CONCEPT_COLUMNS = {
    "organisational_structure": "Organisational Structure",
    "primary_activity": "Primary Activity",
    "activities": "Activities",
    "qualifiers": "Qualifiers",
    "membership_type": "Membership Type",
}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _number(value: Any) -> str:
    """Shortest text that reads back as the same float (`repr`)."""
    return "" if value is None else repr(float(value))


def standard_row(e: Enterprise) -> dict[str, str]:
    row = {c: "" for c in STANDARD_COLUMNS}
    websites = e.list("websites")
    companies = [i.split(":", 1)[1] for i in e.list("identifiers") if i.startswith("companies-house:")]
    row.update({
        "Identifier": e.identifier,
        "Name": _text(e.get("name")),
        "Description": _text(e.get("description")),
        "Street Address": _text(e.get("street")),
        "Locality": _text(e.get("locality")),
        "Region": _text(e.get("region")),
        "Postcode": _text(e.get("postcode")),
        "Country ID": _text(e.get("country")),
        "Website": websites[0] if websites else "",
        "Phone": _text(e.get("phone")),
        "Email": _text(e.get("email")),
        "Companies House Number": companies[0] if companies else "",
        "Latitude": _number(e.get("lat")),
        "Longitude": _number(e.get("lon")),
        "Legal Form": _text(e.get("legal_form_label")),
    })
    for field, column in CONCEPT_COLUMNS.items():
        value = e.get(field)
        row[column] = ";".join(value) if isinstance(value, list) else _text(value)
    return row


class StandardCsvWriter:
    """`standard.csv` written source by source (header first, CRLF lines as the standard's
    own files)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("w", encoding="utf-8", newline="")
        self._writer = csv.DictWriter(self._out, fieldnames=list(STANDARD_COLUMNS), lineterminator="\r\n",
                                      quoting=csv.QUOTE_MINIMAL)
        self._writer.writeheader()

    def write(self, rows: list[Enterprise]) -> None:
        self._writer.writerows({k: safe_cell(v) for k, v in standard_row(e).items()} for e in rows)

    def __enter__(self) -> "StandardCsvWriter":
        return self

    def __exit__(self, *_: object) -> None:
        self._out.close()

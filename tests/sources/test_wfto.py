"""WFTO member directory (JSON export): the bundled sample, its nasty cases, the mapping."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_ORG_STRUCTURE, ESS_QUALIFIERS, SEPT
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    Parsed, concept_declaration, ess_curies, essglobal_text, fetch_over_loopback, ingest_over_loopback, module_fixture,
    parse_and_conform, serve,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("wfto")
RAW = SPEC.sample.read_bytes()
FAIRTRADE = ESS_QUALIFIERS + "Fairtrade"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url)


parsed = module_fixture(run)


def test_every_member_is_a_row_or_quarantined(parsed) -> None:
    res, df, quarantined, _ = parsed
    members = json.loads(RAW)["members"]
    assert len(df) + len(res.quarantine) + len(quarantined) == len(members) == 23
    assert len(df) == 19


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    sana = row(df, "1021")
    assert sana["name"] == "Sana Hastakala" and sana["country"] == "NP" and sana["kind"] == "enterprise"
    assert sana["description"] == "Founded in 1989 to support women artisans & their families."
    assert sana["street"] == "Kupondole, Lalitpur\nGPO Box 12345"
    assert sana["websites"] == ["https://www.sanahastakala.example.org"]
    assert sana["updated"] == "2024-03-12" and sana["identifiers"] == ["wfto:1021"]
    assert sana["status"] == SEPT + "status/Certified"
    assert FAIRTRADE in sana["qualifiers"] and ESS_QUALIFIERS + "q08" in sana["qualifiers"]
    assert sana["practices"] == [SEPT + "practice/FairTradeEnterprise"]
    assert sana["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA60"
    assert sana["activities"] == [ESS_ACTIVITIES_ICA + "ICA60", ESS_ACTIVITIES_ICA + "ICA90"]
    assert sana["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS30"]
    assert (sana["lat"], sana["lon"]) == (27.7172, 85.324)


def test_member_types_give_kind_practice_structure(parsed) -> None:
    _, df, _, _ = parsed
    network, support, associate = row(df, "1024"), row(df, "1026"), row(df, "1027")
    assert network["kind"] == "network" and network["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS190"]
    assert network["practices"] == [SEPT + "practice/FairTradeEnterprise", SEPT + "practice/Network"]
    assert support["kind"] == "support" and SEPT + "practice/SupportOrganisation" in support["practices"]
    assert associate["kind"] == "support"
    assert row(df, "1025")["kind"] == "network" and row(df, "1025")["qualifiers"] == [FAIRTRADE]  # null categories
    assert all(FAIRTRADE in q for q in df["qualifiers"])


def test_guarantee_status_is_data_not_a_filter(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "1032")["status"] == SEPT + "status/Suspended"
    assert row(df, "1023")["status"] == SEPT + "status/Active"  # Provisional
    assert row(df, "1041")["status"] is None or pd.isna(row(df, "1041")["status"])  # 'Under review': unmapped, reported


def test_html_names_and_non_latin(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "1022")["name"] == "Tara Projects Association"
    assert row(df, "1023")["name"] == "Kenya Gatsby & Sons Crafts"
    assert row(df, "1024")["name"] == "Fair Trade Forum – India"
    assert row(df, "1028")["name"] == "महिला हस्तकला समूह (Mahila Hastakala)"
    assert row(df, "1029")["name"] == "株式会社フェアトレードひかり" and row(df, "1029")["country"] == "JP"
    assert row(df, "1030")["name"] == "جمعية سنابل للتجارة العادلة" and row(df, "1030")["country"] == "PS"
    assert row(df, "1031")["name"] == 'Café Pérez "El Buen Grano" Cooperativa'
    assert row(df, "1042")["name"] == "Kaz Crafts Co." and row(df, "1042")["country"] == "KR"


def test_nasty_values(parsed) -> None:
    res, df, quarantined, dropped = parsed
    thai = row(df, "1032")
    assert thai["websites"] == [] and pd.isna(thai["lat"])  # n/a everywhere
    tiny = row(df, "1035")
    assert (tiny["lat"], tiny["lon"]) == (1e-05, 1e-05)
    assert pd.isna(row(df, "1034")["lat"])
    assert row(df, "1036")["websites"] == [] and pd.isna(row(df, "1036")["email"])
    assert pd.isna(row(df, "1040")["updated"])
    reasons = {(q.record_id, q.line, q.field): q.reason for q in res.quarantine + quarantined}
    assert reasons[("", 19, "record")].startswith("member is a JSON str")
    assert reasons[("1037", 17, "name")] == "record has no name"
    assert reasons[("", 18, "record_id")] == "record has no identifier"
    assert reasons[("1022", 20, "record_id")] == "duplicate record id; first seen at line 2"
    fields = {(d.record_id, d.field) for d in dropped}
    assert fields == {("1034", "lat/lon"), ("1036", "websites"), ("1036", "email"), ("1041", "country"),
                      # 'Under review' and 'Furniture': not in the code tables
                      ("1041", "status"), ("1041", "qualifiers"), ("1041", "primary_activity"), ("1041", "activities")}


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"status": {"Under review": 1}, "qualifiers": {"Furniture": 1},
                                     "primary_activity": {"Furniture": 1}, "activities": {"Furniture": 1}}
    members = [m for m in json.loads(RAW)["members"] if isinstance(m, dict)]
    codes = SPEC.mapping["codes"]
    cats = {c for m in members for c in (m["product_categories"] or [])}
    for fld in ("qualifiers", "primary_activity", "activities"):
        assert cats - set(codes[fld]["map"]) == {"Furniture"}
    assert {m["member_type"] for m in members} <= set(SPEC.mapping["kinds"]["map"]) & set(codes["practices"]["map"])
    assert {m["guarantee_status"] for m in members} - set(codes["status"]["map"]) == {"Under review"}


def test_concepts_exist_in_essglobal() -> None:
    text = essglobal_text()
    assert "<Fairtrade> a skos:Concept" in text
    for curie in ess_curies(SPEC.mapping["codes"]):
        assert concept_declaration(curie) in text, curie


def test_not_json_is_a_format_error() -> None:
    with pytest.raises(SourceFormatError):
        SPEC.parse(b"<html>Members</html>", SourceContext(SPEC.name, SPEC.mapping))
    with pytest.raises(SourceFormatError):
        SPEC.parse(b'{"error": "forbidden"}', SourceContext(SPEC.name, SPEC.mapping))


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/members.json", RAW, "application/json"))
    assert len(df) == 19 and row(df, "1029")["name"] == "株式会社フェアトレードひかり"


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    outcome = ingest_over_loopback(SPEC, tmp_path, serve(httpserver, "/members.json", RAW, "application/json"))
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined) == (19, 4)

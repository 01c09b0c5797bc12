"""ICA member directory (CiviCRM APIv3 / APIv4 JSON): country ids, HTML names, kinds."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_ORG_STRUCTURE, SEPT
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.ica.adapter import build_urls
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    Parsed, concept_declaration, ess_curies, essglobal_text, fetch_over_loopback, ingest_over_loopback, module_fixture,
    parse_and_conform, serve,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("ica")
RAW = SPEC.sample.read_bytes()


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw)


parsed = module_fixture(run)


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert res.notes["api"] == "v3" and res.notes["records"] == 19
    assert len(df) + len(res.quarantine) + len(quarantined) == 19 and len(df) == 14
    assert [(q.line, q.reason) for q in res.quarantine] == [(19, "value is a JSON str, not an object")]
    assert {(q.record_id, q.line, q.reason) for q in quarantined} == {
        ("2112", 12, "record has no name"), ("2113", 13, "record has no name"), ("", 14, "record has no identifier"),
        ("2101", 15, "duplicate record id; first seen at line 1")}
    # CiviCRM country ids the table lacks (2108: 9999, 2109: 1168) drop the value, not the member
    assert {(d.record_id, d.field) for d in dropped} == {("2111", "lat/lon"), ("2111", "websites"), ("2111", "email"),
                                                         ("2108", "country"), ("2109", "country"),
                                                         # codes the tables lack drop the value, not the member
                                                         ("2115", "organisational_structure"), ("2115", "practices"),
                                                         ("2115", "primary_activity")}


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    uk = row(df, "2101")
    assert uk["name"] == "Co-operatives UK" and uk["country"] == "GB" and uk["postcode"] == "M60 0AS"
    assert uk["street"] == "Holyoake House\nHanover Street" and uk["kind"] == "network"
    assert uk["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS180"] and uk["practices"] == [SEPT + "practice/Federation"]
    assert uk["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA290" and uk["identifiers"] == ["ica:2101"]
    assert uk["updated"] == "2024-05-02" and uk["websites"] == ["https://www.uk.coop"]
    assert row(df, "2103")["name"] == "Confederazione Cooperative Italiane & Partners"
    assert row(df, "2104")["name"] == "L'Union des Coopératives d'Habitation" and row(df, "2104")["country"] == "FR"
    assert row(df, "2105")["name"] == "Zenkyoren 全国共済農業協同組合連合会" and row(df, "2105")["country"] == "JP"
    assert row(df, "2106")["name"] == "Центросоюз Российской Федерации" and row(df, "2106")["country"] == "RU"
    assert row(df, "2107")["country"] == "KE"  # `country` name wins over empty country_id
    assert row(df, "2110")["country"] == "GH" and row(df, "2110")["lat"] == 1e-05  # country_iso
    assert row(df, "2114")["kind"] == "support" and row(df, "2116")["kind"] == "network"
    assert row(df, "2102")["kind"] == "enterprise" and row(df, "2102")["country"] == "CA"
    assert pd.isna(row(df, "2108")["country"]) and pd.isna(row(df, "2109")["country"])


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"organisational_structure": {"Platform": 1}, "practices": {"Platform": 1}, "kind": {"Platform": 1},
                                     "primary_activity": {"Space mining": 1}, "country_id": {"9999": 1, "1168": 1}}
    values = [v for v in json.loads(RAW)["values"].values() if isinstance(v, dict)]
    codes = SPEC.mapping["codes"]
    typ = {v["structure_and_status_typology"] for v in values}
    assert typ - set(codes["organisational_structure"]["map"]) == {"Platform"}
    assert typ - set(SPEC.mapping["kinds"]["map"]) == {"Platform"}
    act = {v["structure_and_status_economic_activity_primary_"] for v in values} - {""}
    assert act - set(codes["primary_activity"]["map"]) == {"Space mining"}


def test_apiv4_list_shape() -> None:
    doc = {"entity": "Contact", "action": "get", "version": 4, "count": 2, "values": [
        {"id": 7, "organisation_name": "Cooperativa V4 &amp; Co", "address_primary.city": "Montevideo",
         "address_primary.country_id": 1229, "address_primary.latitude": -34.9, "address_primary.longitude": -56.16},
        {"id": 8, "organisation_name": "Second", "address_primary.country_id:name": "Chile", "country_iso": "CL"}]}
    res, df, q, _ = run(json.dumps(doc).encode())
    assert res.notes["api"] == "v4" and not q
    assert row(df, "7")["name"] == "Cooperativa V4 & Co" and row(df, "7")["country"] == "UY"
    assert row(df, "7")["locality"] == "Montevideo" and row(df, "7")["lat"] == -34.9
    assert row(df, "8")["country"] == "CL"


def test_api_errors_are_format_errors() -> None:
    with pytest.raises(SourceFormatError, match="API error"):
        SPEC.parse(b'{"is_error": 1, "error_message": "Permission denied"}', SourceContext(SPEC.name, SPEC.mapping))
    with pytest.raises(SourceFormatError):
        SPEC.parse(b"<html>login</html>", SourceContext(SPEC.name, SPEC.mapping))
    res = SPEC.parse(b'{"is_error": 0, "count": 0, "values": []}', SourceContext(SPEC.name, SPEC.mapping))
    assert len(res.frame) == 0


def test_build_urls_adds_key_only_when_configured() -> None:
    url = "https://ica.coop/civicrm/ajax/rest?entity=Contact&action=get"
    assert build_urls(url, {}, None) == [url]
    assert build_urls(url, {}, "s3cret") == [url + "&api_key=s3cret"]


def test_concepts_exist_in_essglobal() -> None:
    text = essglobal_text()
    for curie in ess_curies(SPEC.mapping["codes"]):
        assert concept_declaration(curie) in text, curie


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/rest", RAW, "application/json"))
    assert len(df) == 14


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    outcome = ingest_over_loopback(SPEC, tmp_path, serve(httpserver, "/rest", RAW, "application/json"))
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined) == (14, 5)

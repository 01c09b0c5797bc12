"""Open Food Network enterprises as DFC JSON-LD: parsed as RDF, remote context bundled."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_QUALIFIERS, SEPT
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import Parsed, fetch_over_loopback, module_fixture, parse_and_conform
from tests.sources.helpers import one_row as row

SPEC = get_source("ofn")
RAW = SPEC.sample.read_bytes()
UK = "openfoodnetwork.org.uk/api/dfc/enterprises/"
FOODHUB, LOCAL = SEPT + "practice/FoodHub", SEPT + "practice/LocalFoodSystem"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url)


parsed = module_fixture(run)


def test_sample_has_inline_context() -> None:
    assert isinstance(json.loads(RAW)["@context"], dict)


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert res.notes["enterprises"] == 20 and res.notes["format"] == "JSON-LD"
    assert len(df) == 16 and len(df) + len(quarantined) + len(res.quarantine) == 20
    assert {(q.line, q.field, q.reason) for q in quarantined} == {
        (9, "name", "record has no name"), (10, "name", "record has no name"),
        (11, "record_id", "duplicate record id; first seen at line 1"),  # the http:// spelling
        (12, "record_id", "record has no identifier"),  # blank node
    }
    assert {(d.record_id.rsplit("/", 1)[-1], d.field) for d in dropped} == {
        ("10006", "lat/lon"), ("10008", "websites"), ("10011", "qualifiers")}  # 'mysteryLabel': not in the table


def test_enterprise_fields(parsed) -> None:
    _, df, _, _ = parsed
    hub = row(df, UK + "10001")
    assert hub["name"] == "Stroud Community Food Hub"
    assert (hub["street"], hub["locality"], hub["region"], hub["postcode"], hub["country"]) == (
        "Unit 4, Fromeside Industrial Estate", "Stroud", "Gloucestershire", "GL5 3LQ", "GB")
    assert (hub["lat"], hub["lon"]) == (51.7452, -2.2178)
    assert hub["websites"] == ["https://stroudfoodhub.example.org.uk"]
    assert (hub["email"], hub["phone"]) == ("hello@stroudfoodhub.example.org.uk", "+44 1453 000000")
    assert hub["description"] == "A not-for-profit food hub.\nOpen Thursdays & Fridays."
    assert hub["identifiers"] == ["dfc:https://" + UK + "10001"]
    assert hub["practices"] == [FOODHUB, LOCAL] and hub["kind"] == "enterprise"
    farm = row(df, UK + "10002")  # country as an EU authority IRI (alpha-3)
    assert farm["country"] == "GB" and farm["websites"] == ["http://fredsfarm.example.co.uk"]
    assert farm["practices"] == [LOCAL] and farm["name"] == 'Fred\'s "Organic" Farm'
    assert farm["qualifiers"] == [ESS_QUALIFIERS + "Organic", ESS_QUALIFIERS + "LocalorFromCommunity"]
    fr = row(df, "openfoodfrance.org/api/dfc/enterprises/10004")
    assert (fr["name"], fr["country"], fr["lat"], fr["qualifiers"]) == (
        "Ferme de l'Étang", "FR", 47.2378, [ESS_QUALIFIERS + "Organic"])
    assert row(df, "openfoodnetwork.org.au/api/dfc/enterprises/10013")["country"] == "AU"
    ca = row(df, "openfoodnetwork.ca/api/dfc/enterprises/10014")
    assert ca["email"] == "bonjour@solidaire.example.ca" and ca["name"] == "Café “Solidaire” & Épicerie"


def test_nasty_values(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, UK + "10003")["name"] == "<b>Bold</b> Veg Box, Ltd."  # DFC names are text, not HTML
    assert row(df, UK + "10005")["name"] == "Κοινότητα Τροφίμων Θεσσαλονίκης"
    assert pd.isna(row(df, UK + "10006")["lat"])
    assert (row(df, UK + "10007")["lat"], row(df, UK + "10007")["lon"]) == (1e-05, -1e-05)
    assert row(df, UK + "10008")["websites"] == [] and pd.isna(row(df, UK + "10008")["email"])  # 'n/a'
    assert row(df, UK + "10011")["street"] == "1 High St\nFlat 2"
    assert row(df, UK + "10012")["websites"] == ["https://www.growingcommunities.example.org",
                                                 "https://instagram.com/growingcommunities"]


def test_codes_mapped_or_reported(parsed) -> None:
    res, df, _, _ = parsed
    assert res.notes["unmapped"] == {"qualifiers": {"mysteryLabel": 1}}
    table = {k.lower() for k in SPEC.mapping["codes"]["qualifiers"]["map"]}
    sample_certs = {"organiceu", "localproduct", "soilassociation", "organicab", "organic", "fairtrade"}
    assert sample_certs <= table
    assert set(SPEC.mapping["codes"]["practices"]["map"]) == {"coordinates", "supplies", "manages"}


def test_remote_context_uses_bundled_copy() -> None:
    doc = json.loads(RAW)
    doc["@context"] = "https://www.datafoodconsortium.org"
    _, df, _, _ = run(json.dumps(doc).encode())
    assert len(df) == 16 and row(df, UK + "10001")["postcode"] == "GL5 3LQ"
    doc["@context"] = ["https://www.datafoodconsortium.org/", {"extra": "https://example.org/extra#"}]
    assert len(run(json.dumps(doc).encode())[1]) == 16
    doc["@context"] = "https://evil.example.org/context.jsonld"
    with pytest.raises(SourceFormatError, match="no bundled copy"):
        run(json.dumps(doc).encode())


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/api/dfc/enterprises", RAW, "application/ld+json"))
    assert len(df) == 16

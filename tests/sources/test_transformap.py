"""TransforMap places API (GeoJSON): descriptions by language, flags, free-text countries, real sample."""
from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_QUALIFIERS, SEPT
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    ESSGLOBAL_STANDARD, SHARED, Parsed, accounted_for, code_values, fetch_over_loopback, ingest_over_loopback,
    module_fixture, one_row, parse_and_conform, serve, shared_bytes, withheld,
)

SPEC = get_source("transformap")
RAW = SPEC.sample.read_bytes()
REAL = SHARED / "samples" / "transformap" / "susy_sample.geojson"
AM = "http://purl.org/essglobal/standard/activities-modified/"
ID = "a1b2c3d4e5f60718293a4b5c6d7e8f"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw)


parsed = module_fixture(run)


def row(df: pd.DataFrame, suffix: str) -> dict[str, Any]:
    """The row of the place whose id is `ID` followed by `suffix`."""
    return one_row(df, ID + suffix)


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert len(df) + len(res.quarantine) + len(quarantined) == 20 and len(df) == 16
    assert [(q.line, q.reason) for q in res.quarantine] == [(20, "feature is not a GeoJSON Feature with properties")]
    assert {(q.line, q.reason) for q in quarantined} == {
        (15, "record has no name"), (16, "record has no identifier"), (17, "duplicate record id; first seen at line 2")}
    assert {(d.record_id[-2:], d.field) for d in dropped} == {
        ("0b", "country"), ("0e", "lat/lon"), ("10", "websites"), ("11", "email"),
        ("10", "activities")}  # 'mystery_type': not in the table


def test_descriptions_prefer_own_language(parsed) -> None:
    _, df, _, _ = parsed
    assert (row(df, "02")["description"], row(df, "02")["description_lang"]) == ("Weltladen, von Ehrenamtlichen betrieben.", "de")
    assert row(df, "04")["description_lang"] == "ro"
    assert row(df, "01")["description"].startswith("Horta comunitária") and pd.isna(row(df, "01")["description_lang"])
    assert row(df, "09")["description_lang"] == "bg"  # only a tagged description
    assert row(df, "0e")["description_lang"] == "fr"  # fr preferred over en in France
    assert row(df, "10")["description_lang"] == "es"
    assert pd.isna(row(df, "11")["description"])  # 'n/a'


def test_concrete_values(parsed) -> None:
    _, df, _, _ = parsed
    a = row(df, "01")
    assert a["name"] == "Horta Comunitária do Vale" and a["country"] == "PT" and a["street"] == "Rua do Vale 14"
    assert (a["lat"], a["lon"]) == (40.2033, -8.4103) and a["updated"] == "2019-01-02"
    assert a["activities"] == [AM + "AM130", AM + "AM40"]
    shop = row(df, "02")
    assert shop["country"] == "AT" and shop["qualifiers"] == [ESS_QUALIFIERS + "Fairtrade"]  # organic=limited: no
    assert shop["practices"] == [SEPT + "practice/FairTradeEnterprise"]
    assert row(df, "03")["country"] == "AT" and row(df, "03")["qualifiers"] == [ESS_QUALIFIERS + "Organic"]
    assert row(df, "05")["street"] == "The Old Fire Station\nCowley Road" and row(df, "05")["postcode"] == "OX4 1AA"
    assert row(df, "06")["country"] == "GB" and row(df, "06")["activities"] == [AM + "AM120"]
    assert row(df, "07")["country"] == "PT" and row(df, "0a")["country"] == "LV"
    assert row(df, "09")["name"] == "Социален център „Надежда“"
    assert pd.isna(row(df, "0c")["lat"]) and row(df, "0c")["country"] == "DE"
    assert (row(df, "0d")["lat"], row(df, "0d")["lon"]) == (1e-05, 1e-05)
    assert row(df, "10")["name"] == "Las Cabras & Amigos <Cooperativa>"  # not HTML: kept
    assert row(df, "10")["websites"] == ["http://www.lascabras.example.es/"]
    assert row(df, "0b")["practices"] == [SEPT + "practice/Network"]


def test_codes_mapped_or_reported(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"activities": {"mystery_type": 1}}
    feats = [f for f in json.loads(RAW)["features"] if isinstance(f, dict)]
    flags = {f"{k}={f['properties'][k]}" for f in feats for k in ("fair-trade", "organic") if k in f["properties"]}
    assert flags <= set(SPEC.mapping["codes"]["qualifiers"]["map"])


def test_not_geojson_is_a_format_error() -> None:
    with pytest.raises(SourceFormatError):
        SPEC.parse(b'{"type": "Feature"}', SourceContext(SPEC.name, SPEC.mapping))


def test_activity_concepts_exist() -> None:
    text = shared_bytes(ESSGLOBAL_STANDARD / "activities-modified.ttl").decode("utf-8")
    used = code_values({"activities": SPEC.mapping["codes"]["activities"]})
    for iri in used:
        assert f"<{iri.rsplit('/', 1)[1]}> a skos:Concept" in text, iri


def test_real_sample() -> None:
    raw = shared_bytes(REAL)
    features = json.loads(raw)["features"]
    real = run(raw)
    _, df, _, _ = real
    assert accounted_for(real) == len(features) == 150
    assert all(q.reason for q in withheld(real))
    assert set(df["country"].dropna()) >= {"AT", "GB", "PT", "DE", "IT"}
    assert df["lat"].notna().all()
    assert set(df["description_lang"].dropna()) >= {"de", "ro", "fr"}


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/places.geojson", RAW, "application/geo+json"))
    assert len(df) == 16


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    url = serve(httpserver, "/places.geojson", RAW, "application/geo+json")
    outcome = ingest_over_loopback(SPEC, tmp_path, url)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined) == (16, 4)

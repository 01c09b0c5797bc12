"""USDA Local Food Portal, on-farm market directory: sample, nasty cases, loopback HTTP (reading shared with usda_csa)."""
from __future__ import annotations

import json

import pandas as pd
import pytest
import requests

from se_pipeline.canonical.normalise import conform
from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, SEPT
from se_pipeline.sources.base import ParseResult, SourceContext
from se_pipeline.sources.registry import get_source
from se_pipeline.sources.usda_csa.localfood import build_urls

SPEC = get_source("usda_onfarm_markets")
RAW = SPEC.sample.read_bytes()


def run(raw: bytes = RAW) -> tuple[ParseResult, pd.DataFrame, list, list]:
    res = SPEC.parse(raw, SourceContext(SPEC.name, SPEC.mapping, url=SPEC.sample_url))
    df, quarantined, dropped = conform(res.frame, SPEC.name, date_order=SPEC.mapping["date_order"])
    return res, df, quarantined, dropped


@pytest.fixture(scope="module")
def parsed() -> tuple[ParseResult, pd.DataFrame, list, list]:
    return run()


def row(df: pd.DataFrame, rid: str) -> dict:
    hits = df[df["record_id"] == rid]
    assert len(hits) == 1, rid
    return hits.iloc[0].to_dict()


def test_shares_the_usda_reader() -> None:
    from se_pipeline.sources.usda_onfarm_markets import adapter

    assert adapter.build_urls is build_urls


def test_every_listing_is_a_row_or_quarantined(parsed) -> None:
    res, df, quarantined, _ = parsed
    assert len(json.loads(RAW)["data"]) == 15
    assert len(df) + len(res.quarantine) + len(quarantined) == 15
    assert (len(df), len(quarantined)) == (12, 3)


def test_concrete_rows(parsed) -> None:
    res, df, _, _ = parsed
    first = row(df, "2000401")
    assert first["name"] == "Maple Ridge Farm Stand" and first["country"] == "US" and first["region"] == "Vermont"
    assert first["identifiers"] == ["usda:2000401"] and first["updated"] == "2024-06-05"
    assert "\n" in first["description"]
    assert first["practices"] == [SEPT + "practice/OnFarmMarket"]
    assert first["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA10"
    assert row(df, "2000402")["name"] == 'Pick-Your-Own "U-Pick" Berries'
    assert row(df, "2000404")["name"] == 'Nguyễn Family Orchard 阮家果园'
    assert res.notes["unmapped"] == {}


def test_nasty_cases(parsed) -> None:
    _, df, quarantined, dropped = parsed
    na = row(df, "2000405")
    assert na["websites"] == [] and pd.isna(na["lat"]) and pd.isna(na["updated"])
    tiny = row(df, "2000407")
    assert (tiny["lat"], tiny["lon"]) == (42.03, 1e-05)
    assert pd.isna(row(df, "2000406")["lat"])
    assert {(q.record_id, q.field, q.reason) for q in quarantined} == {
        ("2000409", "name", "record has no name"),
        ("2000401", "record_id", "duplicate record id; first seen at line 1"),
        ("", "record_id", "record has no identifier"),
    }
    assert {(d.record_id, d.field) for d in dropped} == {("2000406", "lat/lon"), ("2000408", "websites")}


def test_loopback_http(httpserver) -> None:
    httpserver.expect_request("/api/onfarmmarket/", query_string={"apikey": "K"}).respond_with_data(
        RAW, content_type="application/json")
    (url,) = build_urls(httpserver.url_for("/api/onfarmmarket/"), {}, "K")
    got = requests.get(url, timeout=5)
    got.raise_for_status()
    _, df, _, _ = run(got.content)
    assert len(df) == 12 and row(df, "2000404")["name"] == 'Nguyễn Family Orchard 阮家果园'


def test_ingest_from_bundled_sample(tmp_path) -> None:
    pytest.importorskip("se_pipeline.acquire.fetch")
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest

    outcome = ingest(SPEC, load_settings(None, output_dir=tmp_path), http=None)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (12, 3, 2)

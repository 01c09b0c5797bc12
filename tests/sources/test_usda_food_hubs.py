"""USDA Local Food Portal, food hub directory: sample, nasty cases, loopback HTTP (reading shared with usda_csa)."""
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

SPEC = get_source("usda_food_hubs")
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
    from se_pipeline.sources.usda_food_hubs import adapter

    assert adapter.build_urls is build_urls


def test_every_listing_is_a_row_or_quarantined(parsed) -> None:
    res, df, quarantined, _ = parsed
    assert len(json.loads(RAW)["data"]) == 15
    assert len(df) + len(res.quarantine) + len(quarantined) == 15
    assert (len(df), len(quarantined)) == (12, 3)


def test_concrete_rows(parsed) -> None:
    res, df, _, _ = parsed
    first = row(df, "3000301")
    assert first["name"] == "Intervale Food Hub" and first["country"] == "US" and first["region"] == "Vermont"
    assert first["identifiers"] == ["usda:3000301"] and first["updated"] == "2024-01-10"
    assert "\n" in first["description"]
    assert first["practices"] == [SEPT + "practice/FoodHub"]
    assert first["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA260"
    assert row(df, "3000302")["name"] == 'Farm "Fresh" Connect'
    assert row(df, "3000304")["name"] == '亚洲农民食品中心 Asian Farmers Food Hub'
    assert res.notes["unmapped"] == {}


def test_nasty_cases(parsed) -> None:
    _, df, quarantined, dropped = parsed
    na = row(df, "3000305")
    assert na["websites"] == [] and pd.isna(na["lat"]) and pd.isna(na["updated"])
    tiny = row(df, "3000307")
    assert (tiny["lat"], tiny["lon"]) == (1e-05, -82.9988)
    assert pd.isna(row(df, "3000306")["lat"])
    assert {(q.record_id, q.field, q.reason) for q in quarantined} == {
        ("3000309", "name", "record has no name"),
        ("3000301", "record_id", "duplicate record id; first seen at line 1"),
        ("", "record_id", "record has no identifier"),
    }
    assert {(d.record_id, d.field) for d in dropped} == {("3000306", "lat/lon"), ("3000308", "websites")}


def test_loopback_http(httpserver) -> None:
    httpserver.expect_request("/api/foodhub/", query_string={"apikey": "K"}).respond_with_data(
        RAW, content_type="application/json")
    (url,) = build_urls(httpserver.url_for("/api/foodhub/"), {}, "K")
    got = requests.get(url, timeout=5)
    got.raise_for_status()
    _, df, _, _ = run(got.content)
    assert len(df) == 12 and row(df, "3000304")["name"] == '亚洲农民食品中心 Asian Farmers Food Hub'


def test_ingest_from_bundled_sample(tmp_path) -> None:
    pytest.importorskip("se_pipeline.acquire.fetch")
    from se_pipeline.settings import load_settings
    from se_pipeline.sources.ingest import ingest

    outcome = ingest(SPEC, load_settings(None, output_dir=tmp_path), http=None)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (12, 3, 2)

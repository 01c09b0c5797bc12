"""USDA Local Food Portal, CSA directory: sample, nasty cases, URL building, loopback HTTP."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_QUALIFIERS, SEPT
from se_pipeline.sources.base import SourceContext
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from se_pipeline.sources.usda_csa.localfood import build_urls, usda_date
from tests.sources.helpers import Parsed, http_get, ingest_over_loopback, module_fixture, parse_and_conform, serve
from tests.sources.helpers import one_row as row

SPEC = get_source("usda_csa")
RAW = SPEC.sample.read_bytes()


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw, url=SPEC.sample_url)


parsed = module_fixture(run)


def test_every_listing_is_a_row_or_quarantined(parsed) -> None:
    res, df, quarantined, _ = parsed
    assert len(json.loads(RAW)["data"]) == 20
    assert len(df) + len(res.quarantine) + len(quarantined) == 20
    assert (len(df), len(res.quarantine) + len(quarantined)) == (16, 4)


def test_concrete_rows(parsed) -> None:
    _, df, _, _ = parsed
    green = row(df, "300101")
    assert green["name"] == "Green Acres Community Farm CSA" and green["country"] == "US"
    assert green["region"] == "Vermont" and green["postcode"] == "05401" and green["locality"] == "Burlington"
    assert (green["lat"], green["lon"]) == (44.4759, -73.2121)
    assert green["websites"] == ["https://www.greenacres-vt.example.org"]
    assert green["email"] == "share@greenacres-vt.example.org" and green["phone"] == "(802) 555-0101"
    assert green["updated"] == "2024-01-03" and green["identifiers"] == ["usda:300101"]
    assert green["description"] == "20-week summer share.\nPick-up Tuesdays at the farm,\nThursdays in town."
    assert green["practices"] == [SEPT + "practice/CommunitySupportedAgriculture"]
    assert green["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA10"
    assert green["qualifiers"] == [ESS_QUALIFIERS + "LocalorFromCommunity"]
    assert row(df, "300105")["websites"] == ["https://www.facebook.com/vangfamilyfarm.example"]
    assert row(df, "300110")["updated"] == "2024-02-29"  # ISO update time


def test_nasty_cases(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert row(df, "300102")["name"] == 'Sal\'s "Best" Greens'
    assert row(df, "300102")["websites"] == ["http://salsbestgreens.example.com"]
    assert row(df, "300103")["name"] == "Granja Ñandú — Cooperativa Agrícola"
    assert row(df, "300104")["name"] == "華人社區菜園 CSA (Chinese Community Garden)"
    assert row(df, "300113")["name"] == "Old Mill Farm"
    assert row(df, "300113")["street"] == "Old Mill Farm\n1200 Creek Rd\nLancaster, PA 17602"
    na = row(df, "300106")
    assert na["websites"] == [] and pd.isna(na["lat"]) and pd.isna(na["updated"]) and pd.isna(na["email"])
    assert (row(df, "300108")["lat"], row(df, "300108")["lon"]) == (1e-05, 1e-05)
    assert pd.isna(row(df, "300107")["lat"]) and pd.isna(row(df, "300116")["lon"])
    assert row(df, "300114")["websites"] == ["http://prairieroots.example.org"]
    reasons = {(q.record_id, q.line, q.field): q.reason for q in res.quarantine + quarantined}
    assert reasons == {
        ("", 12, "record"): "listing is a JSON NoneType, not an object",
        ("300111", 11, "name"): "record has no name",
        ("", 13, "record_id"): "record has no identifier",
        ("300102", 14, "record_id"): "duplicate record id; first seen at line 2",
    }
    assert {(d.record_id, d.field) for d in dropped} == {
        ("300107", "lat/lon"), ("300109", "websites"), ("300114", "updated"), ("300115", "email"), ("300116", "lat/lon")}


def test_mapping_covers_the_sample(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {}
    keys = {k for rec in json.loads(RAW)["data"] if rec for k in rec}
    cols = SPEC.mapping["columns"]
    used = {c for v in cols.values() for c in (v if isinstance(v, list) else [v])}
    assert used <= keys


@pytest.mark.parametrize("text,expected", [("Jan 3rd, 2024", "01/03/2024"), ("Feb 21st, 2023", "02/21/2023"),
                                           ("Sept 2nd, 2022", "09/02/2022"), ("2024-02-29 13:45:10", "2024-02-29 13:45:10"),
                                           ("Foo 3rd, 2024", "Foo 3rd, 2024"), (None, None)])
def test_usda_dates(text, expected) -> None:
    assert usda_date(text) == expected


def test_build_urls() -> None:
    sample = SPEC.sample_url
    assert build_urls(sample, {"states": ["VT"]}, "KEY") == [sample]
    base = "https://www.usdalocalfoodportal.com/api/csa/"
    assert build_urls(base, {}, "s3cr&t") == [base + "?apikey=s3cr%26t"]
    assert build_urls(base + "?apikey=old&state=NY", {"states": ["VT", " NY "]}, "K") == [
        base + "?apikey=K&state=VT", base + "?apikey=K&state=NY"]
    assert build_urls(base, {"states": []}, None) == [base]


def test_api_shapes() -> None:
    ctx = SourceContext(SPEC.name, SPEC.mapping)
    assert len(SPEC.parse(b'{"data": []}', ctx).frame) == 0
    assert len(SPEC.parse(b'{"data": null}', ctx).frame) == 0
    bare = SPEC.parse(b'[{"listing_id": 7, "listing_name": "Bare", "update_time": "Mar 1st, 2024"}]', ctx).frame
    assert bare.loc[0, "record_id"] == "7" and bare.loc[0, "updated"] == "03/01/2024"
    for bad in (b'{"error": "invalid apikey"}', b"<html>403</html>", b'{"data": {"a": 1}}'):
        with pytest.raises(SourceFormatError):
            SPEC.parse(bad, ctx)


def test_loopback_http(httpserver) -> None:
    serve(httpserver, "/api/csa/", RAW, "application/json", query_string={"apikey": "K", "state": "VT"})
    (url,) = build_urls(httpserver.url_for("/api/csa/"), {"states": ["VT"]}, "K")
    _, df, _, _ = run(http_get(url))
    assert len(df) == 16 and row(df, "300104")["name"].startswith("華人社區菜園")


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    for state in ("VT", "NY"):
        serve(httpserver, "/api/csa/", RAW, "application/json", query_string={"apikey": "K", "state": state})
    outcome = ingest_over_loopback(SPEC, tmp_path, httpserver.url_for("/api/csa/"), secret="K", states=["VT", "NY"])
    assert outcome.ok, outcome.error
    assert len(outcome.fetches) == 2 and all("apikey=***" in f["url"] for f in outcome.fetches)  # key redacted
    assert outcome.rows == 16  # the second state repeats the same ids: quarantined as duplicates

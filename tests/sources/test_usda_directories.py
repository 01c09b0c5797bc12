"""USDA Local Food Portal directories read with the usda_csa reader: farmers markets, food hubs,
on-farm markets. Their samples share one layout (15 listings: 12 rows, 3 quarantined, 2 values
dropped), so the checks are shared and parametrized by source; each source's concrete values
(ids, names, practice, activity, coordinates, quarantine and drop lists) are in its `Directory`.
"""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, SEPT
from se_pipeline.sources.registry import SourceSpec, get_source
from se_pipeline.sources.usda_csa.localfood import build_urls
from tests.sources.helpers import Parsed, http_get, ingest_bundled_sample, one_row, parse_and_conform, serve


@dataclass(frozen=True)
class Directory:
    """One USDA directory and the concrete values its bundled sample must give."""

    source: str
    api_path: str  # the portal API path, served on loopback
    first_id: str  # a complete listing (also duplicated later in the sample)
    first_name: str
    first_updated: str
    practice: str  # SEPT practice of every listing
    activity: str  # ICA primary activity code
    quoted: tuple[str, str]  # (id, name with double quotes)
    non_latin: tuple[str, str]  # (id, name in non-Latin script)
    na_id: str  # 'n/a' website, coordinates and update time
    tiny: tuple[str, tuple[float, float]]  # (id, coordinates with a tiny non-zero value)
    bad_geo_id: str  # impossible coordinates: dropped
    quarantined: frozenset[tuple[str, str, str]]  # (record_id, field, reason)
    dropped: frozenset[tuple[str, str]]  # (record_id, field)

    @property
    def spec(self) -> SourceSpec:
        return get_source(self.source)

    @property
    def raw(self) -> bytes:
        return self.spec.sample.read_bytes()


def _quarantined(no_name: str, duplicate: str) -> frozenset[tuple[str, str, str]]:
    return frozenset({
        (no_name, "name", "record has no name"),
        (duplicate, "record_id", "duplicate record id; first seen at line 1"),
        ("", "record_id", "record has no identifier"),
    })


DIRECTORIES = [
    Directory(
        source="usda_farmers_markets", api_path="/api/farmersmarket/",
        first_id="1000201", first_name="Burlington Farmers Market", first_updated="2024-05-05",
        practice=SEPT + "practice/FarmersMarket", activity=ESS_ACTIVITIES_ICA + "ICA240",
        quoted=("1000202", 'The "Original" Crossroads Market'), non_latin=("1000204", "Chinatown 華埠 Night Market"),
        na_id="1000205", tiny=("1000207", (40.0, 1e-05)), bad_geo_id="1000206",
        quarantined=_quarantined(no_name="1000209", duplicate="1000201"),
        dropped=frozenset({("1000206", "lat/lon"), ("1000208", "websites")}),
    ),
    Directory(
        source="usda_food_hubs", api_path="/api/foodhub/",
        first_id="3000301", first_name="Intervale Food Hub", first_updated="2024-01-10",
        practice=SEPT + "practice/FoodHub", activity=ESS_ACTIVITIES_ICA + "ICA260",
        quoted=("3000302", 'Farm "Fresh" Connect'), non_latin=("3000304", "亚洲农民食品中心 Asian Farmers Food Hub"),
        na_id="3000305", tiny=("3000307", (1e-05, -82.9988)), bad_geo_id="3000306",
        quarantined=_quarantined(no_name="3000309", duplicate="3000301"),
        dropped=frozenset({("3000306", "lat/lon"), ("3000308", "websites")}),
    ),
    Directory(
        source="usda_onfarm_markets", api_path="/api/onfarmmarket/",
        first_id="2000401", first_name="Maple Ridge Farm Stand", first_updated="2024-06-05",
        practice=SEPT + "practice/OnFarmMarket", activity=ESS_ACTIVITIES_ICA + "ICA10",
        quoted=("2000402", 'Pick-Your-Own "U-Pick" Berries'), non_latin=("2000404", "Nguyễn Family Orchard 阮家果园"),
        na_id="2000405", tiny=("2000407", (42.03, 1e-05)), bad_geo_id="2000406",
        quarantined=_quarantined(no_name="2000409", duplicate="2000401"),
        dropped=frozenset({("2000406", "lat/lon"), ("2000408", "websites")}),
    ),
]


@pytest.fixture(scope="module", params=DIRECTORIES, ids=lambda d: d.source)
def directory(request: pytest.FixtureRequest) -> Directory:
    return request.param


def run(directory: Directory, raw: bytes | None = None) -> Parsed:
    spec = directory.spec
    return parse_and_conform(spec, directory.raw if raw is None else raw, url=spec.sample_url)


@pytest.fixture(scope="module")
def parsed(directory: Directory) -> Parsed:
    return run(directory)


def test_shares_the_usda_reader(directory: Directory) -> None:
    adapter = importlib.import_module(f"se_pipeline.sources.{directory.source}.adapter")
    assert adapter.build_urls is build_urls


def test_every_listing_is_a_row_or_quarantined(directory: Directory, parsed: Parsed) -> None:
    res, df, quarantined, _ = parsed
    assert len(json.loads(directory.raw)["data"]) == 15
    assert len(df) + len(res.quarantine) + len(quarantined) == 15
    assert (len(df), len(quarantined)) == (12, 3)


def test_concrete_rows(directory: Directory, parsed: Parsed) -> None:
    res, df, _, _ = parsed
    first = one_row(df, directory.first_id)
    assert first["name"] == directory.first_name and first["country"] == "US" and first["region"] == "Vermont"
    assert first["identifiers"] == ["usda:" + directory.first_id] and first["updated"] == directory.first_updated
    assert "\n" in first["description"]
    assert first["practices"] == [directory.practice]
    assert first["primary_activity"] == directory.activity
    assert one_row(df, directory.quoted[0])["name"] == directory.quoted[1]
    assert one_row(df, directory.non_latin[0])["name"] == directory.non_latin[1]
    assert res.notes["unmapped"] == {}


def test_nasty_cases(directory: Directory, parsed: Parsed) -> None:
    _, df, quarantined, dropped = parsed
    na = one_row(df, directory.na_id)
    assert na["websites"] == [] and pd.isna(na["lat"]) and pd.isna(na["updated"])
    tiny_id, tiny_coords = directory.tiny
    tiny = one_row(df, tiny_id)
    assert (tiny["lat"], tiny["lon"]) == tiny_coords
    assert pd.isna(one_row(df, directory.bad_geo_id)["lat"])
    assert {(q.record_id, q.field, q.reason) for q in quarantined} == directory.quarantined
    assert {(d.record_id, d.field) for d in dropped} == directory.dropped


def test_loopback_http(directory: Directory, httpserver) -> None:
    serve(httpserver, directory.api_path, directory.raw, "application/json", query_string={"apikey": "K"})
    (url,) = build_urls(httpserver.url_for(directory.api_path), {}, "K")
    _, df, _, _ = run(directory, http_get(url))
    assert len(df) == 12 and one_row(df, directory.non_latin[0])["name"] == directory.non_latin[1]


def test_ingest_from_bundled_sample(directory: Directory, tmp_path) -> None:
    outcome = ingest_bundled_sample(directory.spec, tmp_path)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined, outcome.dropped) == (12, 3, 2)

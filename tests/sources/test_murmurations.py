"""Murmurations index + profiles: merge, deleted nodes, profile failures, paging, loopback."""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest

from se_pipeline.namespaces import SEPT
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.murmurations.adapter import build_urls
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    LOOPBACK_HOSTS, Parsed, ingest_over_loopback, module_fixture, one_row, parse_and_conform, serve,
)

SPEC = get_source("murmurations")
RAW = SPEC.sample.read_bytes()
PROFILES = SPEC.sample.parent / "profiles"
ST = SEPT + "status/"


def run(raw: bytes = RAW, url: str | None = None, options: dict | None = None) -> Parsed:
    return parse_and_conform(SPEC, raw, url=url or SPEC.sample_url, options=options)


parsed = module_fixture(run)


def row(df: pd.DataFrame, slug: str) -> dict[str, Any]:
    """The row of the node whose profile is `profiles/<slug>.json`."""
    return one_row(df, f"profiles/{slug}.json")


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert res.notes["index_entries"] == 62
    assert len(df) == 55 and len(df) + len(res.quarantine) + len(quarantined) == 62
    reasons = {(q.line, q.record_id): q.reason for q in res.quarantine}
    assert reasons[(10, "profiles/missing-profile.json")].endswith("no such profile file")
    assert reasons[(11, "../../adapter.py")].endswith("profile path leaves the index folder")
    assert reasons[(12, "profiles/not-object.json")] == "profile at profiles/not-object.json is not a JSON object"
    assert "JSONDecodeError" in reasons[(13, "profiles/broken-profile")]
    assert reasons[(35, "")] == "index entry without a profile_url"
    assert {(q.line, q.reason) for q in quarantined} == {
        (8, "record has no name"), (14, "duplicate record id; first seen at line 1")}
    assert sorted((d.line, d.field) for d in dropped) == [(4, "tags"), (5, "lat/lon"), (7, "websites"), (7, "websites")]
    assert [d.reason for d in dropped if d.field == "tags"] == ["tag '<b>tag</b>' is not in the tags table"]


def test_profile_merged_over_index(parsed) -> None:
    _, df, _, _ = parsed
    oc = row(df, "open-coop")
    assert oc["name"] == "The Open Co-op" and oc["alternate_names"] == ["OpenCoop"]
    assert oc["websites"] == ["https://open.coop.example.org", "https://social.coop/@opencoop"]
    assert oc["description"] == "A network of co-operatives building open platforms.\nSecond line."
    assert (oc["lat"], oc["lon"], oc["country"], oc["locality"]) == (51.5072, -0.1276, "GB", "London")
    assert oc["street"] == "1 Co-op Way\nLondon E1 6AN"
    assert (oc["email"], oc["phone"]) == ("hello@open.coop.example.org", "+44 20 7946 0000")
    assert (oc["founded"], oc["updated"], oc["status"]) == ("2010-01-01", "2024-06-01", ST + "Active")
    assert oc["identifiers"] == ["murmurations:profiles/open-coop.json", "murmurations-unique-id:OC-1"]
    bakery = row(df, "solidarity-bakery")
    assert bakery["name"] == 'Boulangerie "Solidaire", SCOP'
    assert bakery["description"] == "Du pain pour tous, fait en coopérative."  # mission when no description
    nandu = row(df, "index-only-fields")  # no geolocation in the profile: the index's coordinates
    assert (nandu["lat"], nandu["lon"], nandu["locality"], nandu["status"]) == (-34.6037, -58.3816, "Buenos Aires", ST + "Dissolved")


def test_deleted_node_is_withdrawn_not_dropped(parsed) -> None:
    _, df, _, _ = parsed
    closed = row(df, "closed-shop")
    assert closed["status"] == ST + "Withdrawn" and closed["name"] == "Closed Shop Co-op"
    assert closed["websites"] == ["http://closed-shop.example.org"] and closed["locality"] == "Manchester"


def test_nasty_values(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "script-coop")["name"] == "<script>alert(1)</script> Genossenschaft"
    assert row(df, "kyoto-fair")["name"] == "京都フェアトレード協同組合"
    assert pd.isna(row(df, "bad-geo")["lat"]) and row(df, "bad-geo")["status"] == ST + "Dormant"
    assert (row(df, "tiny-geo")["lat"], row(df, "tiny-geo")["lon"]) == (1e-05, -1e-05)
    bad = row(df, "bad-url")
    assert bad["websites"] == [] and (bad["dissolved"], bad["status"]) == ("2024-01-01", ST + "Dissolved")


def test_status_codes_mapped(parsed) -> None:
    res, _, _, _ = parsed
    assert res.notes["unmapped"] == {"tags": {"<b>tag</b>": 1, "x": 1}}  # the nasty tags: the steward's to-do list
    assert set(SPEC.mapping["codes"]["status"]["map"]) == {
        "active", "completed", "cancelled", "on_hold", "in_planning", "deleted"}


def test_build_urls() -> None:
    assert build_urls(SPEC.sample_url, {}, None) == [SPEC.sample_url]
    urls = build_urls("https://index.murmurations.network/v2/nodes?page=9",
                      {"countries": ["gb", "FR"], "pages": 2, "page_size": 100, "last_updated": 1700000000}, None)
    assert len(urls) == 4
    q = parse_qs(urlsplit(urls[1]).query)
    assert q == {"schema": ["organizations_schema-v1.0.0"], "last_updated": ["1700000000"], "page_size": ["100"],
                 "country": ["GB"], "page": ["2"]}


def test_more_pages_reported() -> None:
    doc = json.loads(RAW)
    doc["links"]["next"] = "https://index.murmurations.network/v2/nodes?page=2"
    res, _, _, _ = run(json.dumps(doc).encode())
    assert res.notes["more_pages"] == ["https://index.murmurations.network/v2/nodes?page=2"]


def test_not_an_index() -> None:
    with pytest.raises(SourceFormatError, match="no `data` list"):
        run(b'{"errors": [{"title": "Invalid schema"}]}')


def test_http_profiles_refused_on_private_addresses(httpserver) -> None:
    """An index served over HTTP: profiles on loopback are refused unless opted in."""
    doc = {"data": [{"profile_url": httpserver.url_for("/p/open-coop.json"), "name": "x", "status": "posted"}],
           "links": {}, "meta": {}}
    res, df, _, _ = run(json.dumps(doc).encode(), url=httpserver.url_for("/v2/nodes"),
                        options={"profile_allow_http": True, "profile_respect_robots": False})
    assert len(df) == 0 and "DisallowedUrl" in res.quarantine[0].reason


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    doc = json.loads(RAW)
    for node in doc["data"]:
        url = node.get("profile_url")
        if url and url.startswith("profiles/"):
            node["profile_url"] = httpserver.url_for("/" + url)
            path = PROFILES / url.split("/", 1)[1]
            if path.is_file():
                serve(httpserver, "/" + url, path.read_bytes(), "application/json")
    index_url = serve(httpserver, "/v2/nodes", json.dumps(doc), "application/json")
    outcome = ingest_over_loopback(SPEC, tmp_path, index_url, profile_hosts=LOOPBACK_HOSTS, profile_allow_http=True,
                                   profile_allow_private_addresses=True, profile_respect_robots=False)
    assert outcome.ok, outcome.error
    # same as the file sample, except the path-escape entry, which over HTTP is simply a 404 profile
    assert outcome.rows == 55 and outcome.quarantined == 7


P = SEPT + "practice/"


def test_tags_mapped_to_practices_structure_and_kind(parsed) -> None:
    _, df, _, _ = parsed
    bauen = row(df, "hotel-bauen")
    assert bauen["practices"] == [P + "RecuperatedEnterprise", P + "WorkerCoop"] and bauen["kind"] == "enterprise"
    assert bauen["organisational_structure"] == ["http://purl.org/essglobal/standard/organisational-structure/OS60"]
    assert bauen["qualifiers"] == ["http://purl.org/essglobal/standard/qualifiers/Selfmanagement"]
    assert bauen["membership_type"] == "http://purl.org/essglobal/standard/base-membership-type/BMT30"
    assert row(df, "ripess")["kind"] == "network" and row(df, "ripess")["practices"] == [P + "NetworkOfNetworks"]
    assert row(df, "cg-scop")["kind"] == "network" and row(df, "itcp-ufrj")["kind"] == "support"
    assert row(df, "open-coop")["kind"] == "network"  # tags co-op + network: network wins
    assert row(df, "amap-paniers")["practices"] == [P + "CommunitySupportedAgriculture"]
    assert row(df, "solidarity-bakery")["practices"] == [] and row(df, "solidarity-bakery")["kind"] == "enterprise"


def test_relationships_become_dated_memberships(parsed) -> None:
    res, df, _, _ = parsed
    key = "murmurations:profiles/{}.json".format
    # resolved through the network's primary_url (scheme, www. and trailing / ignored), dated from unix seconds
    assert row(df, "chantier-quebec")["member_of"] == [key("ripess") + "@2002-10-01"]
    # through its profile_url and an ISO start date; two networks
    assert row(df, "fbes")["member_of"] == [key("ripess-lac") + "@2009-05-12", key("ripess") + "@2003-06-30"]
    assert row(df, "asec")["member_of"] == [key("ripess") + "@2013-10-24"]  # host without a scheme
    assert row(df, "facta")["member_of"] == [key("ripess-lac")]  # no start date: undated
    assert row(df, "renapess-mali")["member_of"] == [key("ripess")]  # impossible date 2005-13-45: kept undated
    assert row(df, "cg-scop")["member_of"] == ["https://cecop.example.eu/@1979-01-01"]  # outside the index
    assert row(df, "reas")["member_of"] == [key("ripess") + "@2011-11-18"]  # schema:knows is not membership
    rel = res.notes["relationships"]
    assert rel == {"bad_relationships": 1, "bad_relationship_dates": 1, "external_networks": 1,
                   "other_relationships": {"https://schema.org/knows": 1}}
    members = [r for r in df.to_dict("records") if any(m.startswith(key("ripess") + "@") or m == key("ripess")
                                                        for m in r["member_of"])]
    assert len(members) == 6


def test_counts_with_dates(parsed) -> None:
    _, df, _, _ = parsed
    bauen = row(df, "hotel-bauen")
    assert (bauen["members"], bauen["workers"], bauen["counted_on"]) == (130, 130, "2023-06-30")
    fondaction = row(df, "fondaction")  # counted_at in unix seconds
    assert (fondaction["workers"], fondaction["counted_on"]) == (180, "2024-05-31") and pd.isna(fondaction["members"])

"""Layer 3 against a loopback server speaking Nominatim's JSON, through geopy itself."""
from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from pydantic import ValidationError
from pytest_httpserver import HTTPServer

from se_pipeline.canonical.schema import ensure_columns
from se_pipeline.geocode.apply import Geocoder, geocode_frame
from se_pipeline.geocode.config import GeocodingConfig, OnlineServiceConfig
from se_pipeline.geocode.model import GeocodeError, Place, Precision
from se_pipeline.geocode.online import Cache, OnlineGeocoder, precision_of

#: What nominatim.openstreetmap.org answers to /search?format=json (one result, trimmed of nothing we read).
HEBDEN = [{"place_id": 1, "licence": "Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright",
           "osm_type": "way", "osm_id": 2, "lat": "53.7421230", "lon": "-2.0145670", "class": "place",
           "type": "postcode", "place_rank": 25, "importance": 0.1, "addresstype": "postcode",
           "name": "HX7 8AD", "display_name": "HX7 8AD, Hebden Bridge, England, United Kingdom",
           "boundingbox": ["53.7", "53.8", "-2.1", "-2.0"]}]


def service(server: HTTPServer, **extra: object) -> OnlineServiceConfig:
    return OnlineServiceConfig(service="nominatim", domain=f"127.0.0.1:{server.port}", scheme="http",
                               min_delay_seconds=0, user_agent="se-pipeline-tests", **extra)


def test_answer_placed_with_its_precision_then_served_from_the_cache(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/search", query_string={"postalcode": "HX7 8AD", "city": "Hebden Bridge",
                                                       "format": "json", "limit": "1", "countrycodes": "gb"}
                              ).respond_with_json(HEBDEN)
    place = Place(locality="Hebden Bridge", postcode="HX7 8AD", country="GB")
    hit = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite")).locate(place)
    assert hit is not None and (hit.lat, hit.lon) == (53.742123, -2.014567)
    assert hit.precision is Precision.POSTCODE and hit.gazetteer.id == "nominatim" and hit.gazetteer.share_alike
    assert len(httpserver.log) == 1
    # A re-run (a new process, the same cache file) asks nothing.
    again = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite")).locate(place)
    assert again == hit and len(httpserver.log) == 1


def test_not_found_is_cached_too(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/search").respond_with_json([])
    geo = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite"))
    assert geo.locate(Place(locality="Atlantis", country="GR")) is None
    assert geo.locate(Place(locality="Atlantis", country="GR")) is None
    assert len(httpserver.log) == 1


@pytest.mark.parametrize("respond", [
    lambda r: r.respond_with_data("overloaded", status=503),
    lambda r: r.respond_with_data("<html>not json</html>", content_type="text/html"),
    lambda r: r.respond_with_data("slow down", status=429),
])
def test_a_failure_drops_the_value_keeps_the_record_and_is_asked_again(httpserver: HTTPServer, tmp_path: Path,
                                                                       respond) -> None:
    respond(httpserver.expect_request("/search"))
    geo = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite"))
    with pytest.raises(GeocodeError):
        geo.locate(Place(postcode="HX7 8AD", country="GB"))
    asked = len(httpserver.log)
    # Through the hook: the record stays, without a point, and nothing was cached.
    geocoder = Geocoder(GeocodingConfig(embedded=False, online=(service(httpserver),), allow_share_alike=True),
                        tmp_path)
    frame = ensure_columns(pd.DataFrame([{"source": "s", "record_id": "1", "line": 1, "name": "A",
                                          "postcode": "HX7 8AD", "country": "GB"}]))
    out, report = geocode_frame(frame, geocoder)
    assert len(out) == 1 and pd.isna(out.loc[0, "lat"]) and out.loc[0, "geocoded_by"] is None
    assert report.failures == {"nominatim": 1} and len(httpserver.log) > asked


def test_a_point_out_of_range_or_without_precision_is_not_used(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/search", query_string={"city": "A", "format": "json", "limit": "1"}
                              ).respond_with_json([{**HEBDEN[0], "lat": "200.0"}])
    httpserver.expect_request("/search", query_string={"city": "B", "format": "json", "limit": "1"}
                              ).respond_with_json([{"lat": "1.0", "lon": "2.0", "display_name": "?"}])
    geo = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite"))
    with pytest.raises(GeocodeError):
        geo.locate(Place(locality="A"))
    assert geo.locate(Place(locality="B")) is None


def test_precision_is_never_finer_than_the_question(httpserver: HTTPServer, tmp_path: Path) -> None:
    building = [{**HEBDEN[0], "class": "building", "type": "yes", "addresstype": "building", "place_rank": 30}]
    httpserver.expect_request("/search").respond_with_json(building)
    geo = OnlineGeocoder(service(httpserver), Cache(tmp_path / "cache.sqlite"))
    assert geo.locate(Place(postcode="HX7 8AD", country="GB")).precision is Precision.POSTCODE
    assert geo.locate(Place(street="1 Market St", locality="Hebden Bridge", country="GB")).precision is Precision.ADDRESS


def test_each_run_asks_at_most_its_budget(httpserver: HTTPServer, tmp_path: Path) -> None:
    httpserver.expect_request("/search").respond_with_json(HEBDEN)
    geo = OnlineGeocoder(service(httpserver, max_requests=2), Cache(tmp_path / "cache.sqlite"))
    places = [Place(locality=f"Town {i}", country="GB") for i in range(4)]
    assert [geo.locate(p) is not None for p in places] == [True, True, False, False]
    assert len(httpserver.log) == 2
    # the next run works off the rest; what it asked before is free
    geo = OnlineGeocoder(service(httpserver, max_requests=2), Cache(tmp_path / "cache.sqlite"))
    assert all(geo.locate(p) is not None for p in places) and len(httpserver.log) == 4


def test_public_services_are_never_asked_faster_than_their_policy(tmp_path: Path) -> None:
    public = OnlineGeocoder(OnlineServiceConfig(service="nominatim", min_delay_seconds=0.1), Cache(tmp_path / "c.sqlite"))
    assert public._geocode.min_delay_seconds == 1.0
    own = OnlineGeocoder(OnlineServiceConfig(service="nominatim", domain="nominatim.example.org", min_delay_seconds=0.1),
                         Cache(tmp_path / "c.sqlite"))
    assert own._geocode.min_delay_seconds == 0.1


def test_share_alike_services_stay_out_unless_allowed() -> None:
    with pytest.raises(ValidationError, match="ODbL"):
        GeocodingConfig.model_validate({"online": [{"service": "photon"}]})
    allowed = GeocodingConfig.model_validate({"online": [{"service": "photon"}], "allow_share_alike": True})
    assert allowed.online[0].service == "photon"
    with pytest.raises(ValidationError):
        GeocodingConfig.model_validate({"online": [{"service": "google"}], "allow_share_alike": True})
    with pytest.raises(ValidationError):
        GeocodingConfig.model_validate({"online": [{"service": "nominatim", "domain": "https://evil/x"}],
                                        "allow_share_alike": True})


@pytest.mark.parametrize(("raw", "expected"), [
    ({"addresstype": "village"}, Precision.LOCALITY),
    ({"type": "Feature", "properties": {"type": "house"}}, Precision.ADDRESS),      # Photon
    ({"components": {"_type": "state"}}, Precision.REGION),                          # OpenCage
    ({"place_rank": 4}, Precision.COUNTRY),
    ({"place_rank": "30"}, Precision.ADDRESS),
    ({}, None),
])
def test_precision_read_from_each_service_format(raw: dict, expected: Precision | None) -> None:
    assert precision_of(raw) is expected


def test_cache_answers_are_json(tmp_path: Path) -> None:
    cache = Cache(tmp_path / "c.sqlite")
    cache.put("s", "q", json.dumps(None))
    assert cache.get("s", "q") == "null" and cache.get("s", "other") is None

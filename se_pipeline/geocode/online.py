"""Layer 3: online geocoders through geopy, opt-in, cached, rate limited.

Every answer (a point, or "not found") is kept in a sqlite cache next to the output state,
so a re-run asks nothing it has asked before. Requests are spaced by geopy's RateLimiter
at no less than the service's published policy allows (Nominatim: one request a second,
an identifying User-Agent, no heavy bulk use), and each run asks at most `max_requests`
new questions per service: a large backlog is worked off over several runs. A failure
(timeout, refusal, quota) is not cached and places nothing: the record keeps its other
values and is asked again next run.

The three services here all return OpenStreetMap-derived data, under the ODbL; the
configuration refuses them unless `allow_share_alike` is set (see `config.py`).
"""
from __future__ import annotations

import json
import os
import sqlite3
import threading
from pathlib import Path
from typing import Any

from geopy.exc import GeopyError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import Nominatim, OpenCage, Photon

from se_pipeline import __version__
from se_pipeline.geocode.config import OnlineServiceConfig
from se_pipeline.geocode.model import ODBL, GazetteerInfo, GeocodeError, Hit, Place, Precision


_OSM_ATTRIBUTION = "© OpenStreetMap contributors, ODbL 1.0 (https://www.openstreetmap.org/copyright)"
SERVICES: dict[str, GazetteerInfo] = {
    "nominatim": GazetteerInfo(
        "nominatim", "Nominatim geocoder (OpenStreetMap data)", ODBL, _OSM_ATTRIBUTION,
        "Addresses, postcodes and places worldwide, from OpenStreetMap.", "https://nominatim.org/"),
    "photon": GazetteerInfo(
        "photon", "Photon geocoder (OpenStreetMap data)", ODBL, _OSM_ATTRIBUTION,
        "Addresses and places worldwide, from OpenStreetMap.", "https://photon.komoot.io/"),
    "opencage": GazetteerInfo(
        "opencage", "OpenCage geocoder (mostly OpenStreetMap data)", ODBL,
        _OSM_ATTRIBUTION + "; OpenCage (https://opencagedata.com/credits)",
        "Addresses and places worldwide, from OpenStreetMap and other open sources.", "https://opencagedata.com/"),
}
#: Seconds between requests that each public service's usage policy requires at least.
POLICY_MIN_DELAY = {"nominatim.openstreetmap.org": 1.0, "photon.komoot.io": 1.0, "api.opencagedata.com": 1.0}
_DEFAULT_DOMAIN = {"nominatim": "nominatim.openstreetmap.org", "photon": "photon.komoot.io",
                   "opencage": "api.opencagedata.com"}

_TYPES: dict[Precision, frozenset[str]] = {
    Precision.ADDRESS: frozenset({"house", "building", "house_number", "amenity", "shop", "office", "craft",
                                  "road", "street", "residential", "commercial", "retail", "industrial"}),
    Precision.POSTCODE: frozenset({"postcode", "postal_code"}),
    Precision.LOCALITY: frozenset({"city", "town", "village", "hamlet", "suburb", "neighbourhood", "quarter",
                                   "locality", "district", "borough", "city_district", "municipality",
                                   "isolated_dwelling", "administrative"}),
    Precision.REGION: frozenset({"county", "state", "region", "province", "state_district"}),
    Precision.COUNTRY: frozenset({"country"}),
}
_ORDER = list(Precision)


def precision_of(raw: dict[str, Any]) -> Precision | None:
    """The precision a service reports for its result (Nominatim `addresstype`/`type`/`place_rank`,
    Photon `properties.type`, OpenCage `components._type`); None when it says nothing usable."""
    props = raw.get("properties") or {}
    components = raw.get("components") or {}
    for kind in (raw.get("addresstype"), props.get("type"), components.get("_type"), raw.get("type")):
        for precision, names in _TYPES.items():
            if kind in names:
                return precision
    rank = raw.get("place_rank")
    if isinstance(rank, (int, str)) and str(rank).isdigit():
        r = int(rank)
        return (Precision.ADDRESS if r >= 26 else Precision.LOCALITY if r >= 13
                else Precision.REGION if r >= 5 else Precision.COUNTRY)
    return None


def finest_possible(place: Place) -> Precision:
    """What a query can honestly be answered at: no street, no address-level point."""
    if place.street:
        return Precision.ADDRESS
    if place.postcode:
        return Precision.POSTCODE
    if place.locality:
        return Precision.LOCALITY
    return Precision.REGION if place.region else Precision.COUNTRY


class Cache:
    """(service, query) -> answer JSON ("null" = the service found nothing), shared by
    the steps that geocode (one per source, perhaps in parallel processes)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._con = sqlite3.connect(path, timeout=60, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._con:
            self._con.execute("CREATE TABLE IF NOT EXISTS answers (service TEXT NOT NULL, query TEXT NOT NULL, "
                              "answer TEXT NOT NULL, PRIMARY KEY (service, query))")

    def get(self, service: str, query: str) -> str | None:
        with self._lock:
            row = self._con.execute("SELECT answer FROM answers WHERE service = ? AND query = ?",
                                    (service, query)).fetchone()
        return row[0] if row else None

    def put(self, service: str, query: str, answer: str) -> None:
        with self._lock, self._con:
            self._con.execute("INSERT OR REPLACE INTO answers VALUES (?, ?, ?)", (service, query, answer))


class OnlineGeocoder:
    """One configured service behind the common `locate` interface."""

    def __init__(self, config: OnlineServiceConfig, cache: Cache) -> None:
        self.config, self.cache = config, cache
        self.info = SERVICES[config.service]
        self.domain = config.domain or _DEFAULT_DOMAIN[config.service]
        self.key = f"{config.service}@{self.domain}"
        self.asked = 0
        common: dict[str, Any] = {
            "domain": self.domain, "scheme": config.scheme, "timeout": config.timeout_seconds,
            "user_agent": config.user_agent or f"se-pipeline/{__version__} (+https://w3id.org/se-pipeline/)",
        }
        if config.service == "nominatim":
            geocoder: Any = Nominatim(**common)
        elif config.service == "photon":
            geocoder = Photon(**common)
        else:
            key = os.environ.get(config.api_key_env or "OPENCAGE_API_KEY", "")
            if not key:
                raise ValueError(f"geocoding.online opencage: set the API key in ${config.api_key_env or 'OPENCAGE_API_KEY'}")
            geocoder = OpenCage(key, **common)
        delay = max(config.min_delay_seconds if config.min_delay_seconds is not None else 1.0,
                    POLICY_MIN_DELAY.get(self.domain, 0.0))
        # Errors are not swallowed: a failure must not be cached as "not found".
        self._geocode = RateLimiter(geocoder.geocode, min_delay_seconds=delay, max_retries=1,
                                    error_wait_seconds=max(2 * delay, 1.0), swallow_exceptions=False)

    def _query(self, place: Place) -> tuple[Any, dict[str, Any]]:
        if self.config.service == "nominatim":
            q = {k: v for k, v in (("street", place.street), ("city", place.locality), ("state", place.region),
                                   ("postalcode", place.postcode)) if v}
            return q, ({"country_codes": place.country.lower()} if place.country else {})
        text = ", ".join(v for v in (place.street, f"{place.postcode} {place.locality}".strip(), place.region) if v)
        if self.config.service == "opencage":
            return text, ({"country": place.country.lower()} if place.country else {})
        return (f"{text}, {place.country}" if place.country else text), {}

    def locate(self, place: Place) -> Hit | None:
        if not (place.street or place.postcode or place.locality):
            return None
        query, kwargs = self._query(place)
        cache_key = json.dumps([query, kwargs], sort_keys=True, ensure_ascii=False)
        answer = self.cache.get(self.key, cache_key)
        if answer is None:
            if self.asked >= self.config.max_requests:
                return None
            self.asked += 1
            try:
                location = self._geocode(query, exactly_one=True, **kwargs)
            except (GeopyError, ValueError) as e:  # ValueError: geopy refusing an impossible point
                raise GeocodeError(f"{self.key}: {type(e).__name__}") from e
            found = None
            if location is not None:
                precision = precision_of(location.raw if isinstance(location.raw, dict) else {})
                if precision is not None:
                    found = {"lat": location.latitude, "lon": location.longitude, "precision": precision.value}
            answer = json.dumps(found)
            self.cache.put(self.key, cache_key, answer)
        found = json.loads(answer)
        if not found or not (-90 <= found["lat"] <= 90 and -180 <= found["lon"] <= 180):
            return None
        precision = Precision(found["precision"])
        coarsest = max(precision, finest_possible(place), key=_ORDER.index)
        return Hit(float(found["lat"]), float(found["lon"]), coarsest, self.info)

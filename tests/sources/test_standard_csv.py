"""SSE initiative standard CSV v4: bundled sample, ESSGlobal base normalisation, real sample."""
from __future__ import annotations

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_BASE_MEMBERSHIP, ESS_LEGAL_FORM, ESS_ORG_STRUCTURE, ESS_QUALIFIERS
from se_pipeline.sources.registry import get_source
from se_pipeline.sources.standard_csv.essglobal_bases import check_concept, normalise_essglobal_iri, split_concept
from tests.sources.helpers import (
    ESSGLOBAL_STANDARD, SHARED, Parsed, accounted_for, concept_declaration, csv_rows, essglobal_text,
    fetch_over_loopback, ingest_over_loopback, module_fixture, parse_and_conform, serve, shared_bytes, withheld,
)
from tests.sources.helpers import one_row as row

SPEC = get_source("standard_csv")
RAW = SPEC.sample.read_bytes()
REAL = SHARED / "samples" / "sse-standard-v4" / "coops-uk_standard_2022-q2_sample.csv"


def run(raw: bytes = RAW) -> Parsed:
    return parse_and_conform(SPEC, raw)


parsed = module_fixture(run)


@pytest.mark.parametrize("base", [
    "https://lod.coop/essglobal/2.1/", "https://dev.lod.coop/essglobal/2.1/",
    "https://w3id.solidarityeconomy.coop/essglobal/V2a/",
    "http://purl.org/solidarityeconomics/experimental/essglobal/", "http://purl.org/essglobal/",
    "http://lod.coop/essglobal/2.1/", "HTTPS://DEV.LOD.COOP/essglobal/2.1/",
])
def test_every_base_normalises(base) -> None:
    assert normalise_essglobal_iri(base + "standard/activities-ica/ICA140") == ESS_ACTIVITIES_ICA + "ICA140"
    assert normalise_essglobal_iri(f" <{base}vocab/SSEInitiative> ") == "http://purl.org/essglobal/vocab/SSEInitiative"
    assert normalise_essglobal_iri(base + "standard/qualifiers/") == ESS_QUALIFIERS


def test_non_essglobal_and_unknown_codes_are_reported_not_guessed() -> None:
    known = {"organisational-structure": {"OS60"}}
    assert normalise_essglobal_iri("https://example.org/essglobal/2.1/standard/x/Y") is None
    assert split_concept("http://purl.org/essglobal/vocab/SSEInitiative") is None
    assert check_concept("https://lod.coop/essglobal/2.1/standard/organisational-structure/OS60", known) == (
        ESS_ORG_STRUCTURE + "OS60", None)
    iri, problem = check_concept("https://lod.coop/essglobal/2.1/standard/organisational-structure/os60", known)
    assert iri is None and "does not exist" in problem
    assert check_concept("https://example.org/x", known)[1] == "not an ESSGlobal IRI"


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert len(df) + len(res.quarantine) + len(quarantined) == 20 and len(df) == 17
    reasons = {(q.record_id, q.line, q.field): q.reason for q in quarantined}
    assert reasons == {("S000112", 16, "name"): "record has no name", ("", 17, "record_id"): "record has no identifier",
                       ("S000101", 18, "record_id"): "duplicate record id; first seen at line 2"}
    assert {(d.record_id, d.field) for d in dropped} == {
        ("S000110", "lat/lon"), ("S000111", "websites"), ("S000111", "email"), ("S000117", "legal_form"),
        # ESSGlobal IRIs of unknown codes, of another scheme, or not ESSGlobal at all
        ("S000107", "organisational_structure"), ("S000107", "primary_activity"),
        ("S000108", "organisational_structure"), ("S000108", "primary_activity"), ("S000108", "qualifiers")}


def test_concrete_rows_under_every_base(parsed) -> None:
    _, df, _, _ = parsed
    a = row(df, "S000101")  # dev.lod.coop
    assert a["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS60"]
    assert a["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA240"
    assert a["activities"] == [ESS_ACTIVITIES_ICA + "ICA240", ESS_ACTIVITIES_ICA + "ICA120"]
    assert a["qualifiers"] == [ESS_QUALIFIERS + "Organic", ESS_QUALIFIERS + "Fairtrade"]
    assert a["membership_type"] == ESS_BASE_MEMBERSHIP + "BMT30" and a["legal_form"] == ESS_LEGAL_FORM + "L2"
    assert a["street"] == "14 Kettle Row\nUnit 3" and a["country"] == "GB"
    assert (a["lat"], a["lon"]) == (53.3791, -1.4682)  # Geo Container centroid (no own coordinates)
    assert row(df, "S000102")["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA230"  # lod.coop
    assert row(df, "S000102")["postcode"] == "GL5 3AB"
    c = row(df, "S000103")  # w3id
    assert c["activities"] == ["http://purl.org/essglobal/standard/activities-modified/AM60"]
    assert c["identifiers"] == ["companies-house:07345612"] and c["name"] == "Tŷ Bara Bakery Co-op"
    assert row(df, "S000104")["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS70"]  # experimental purl
    assert row(df, "S000105")["websites"] == ["http://www.riverside-cu.example.co.uk"]  # canonical purl
    assert row(df, "S000106")["name"] == "Кооператив «Северный Мост»"
    assert row(df, "S000113")["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS130", ESS_ORG_STRUCTURE + "OS30"]
    assert row(df, "S000113")["name"] == 'Quote "The Commons" Café & Bar'
    assert row(df, "S000118")["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA90"  # upper-case host, http
    assert (row(df, "S000109")["lat"], row(df, "S000109")["lon"]) == (1e-05, 1e-05)


def test_unknown_codes_reported(parsed) -> None:
    res, df, _, _ = parsed
    un = res.notes["unmapped"]
    assert un["organisational_structure"] == {
        "https://dev.lod.coop/essglobal/2.1/standard/organisational-structure/OS999": 1,
        "https://dev.lod.coop/essglobal/2.1/standard/qualifiers/Organic": 1}
    assert set(un["primary_activity"]) == {"https://dev.lod.coop/essglobal/2.1/standard/activities-ica/ICA999",
                                           "https://example.org/my-activities/Baking"}
    assert un["qualifiers"] == {"https://lod.coop/essglobal/2.1/standard/qualifiers/q99": 1}
    assert un["legal_form"] == {"Unknown legal form": 1}
    assert row(df, "S000107")["organisational_structure"] == [] and pd.isna(row(df, "S000107")["primary_activity"])


def test_code_lists_match_essglobal() -> None:
    text = essglobal_text()
    import rdflib
    skos = rdflib.Namespace("http://www.w3.org/2004/02/skos/core#")
    for scheme, codes in SPEC.mapping["essglobal_codes"].items():
        g = rdflib.Graph().parse(ESSGLOBAL_STANDARD / f"{scheme}.ttl")
        found = {str(s).rsplit("/", 1)[1] for s in g.subjects(rdflib.RDF.type, skos.Concept)}
        assert set(codes) == found, scheme
    for curie in SPEC.mapping["codes"]["legal_form"]["map"].values():
        assert concept_declaration(curie) in text


def test_real_sample() -> None:
    raw = shared_bytes(REAL)
    records = csv_rows(raw)[1:]
    real = run(raw)
    res, df, _, _ = real
    assert accounted_for(real) == len(records) == 300
    assert all(q.reason for q in withheld(real))
    assert not res.notes["unmapped"].get("organisational_structure") and not res.notes["unmapped"].get("primary_activity")
    assert all(i.startswith(ESS_ACTIVITIES_ICA) for i in df["primary_activity"])
    multi = df[df["street"].str.contains("\n", na=False)]
    assert len(multi) > 0  # multi-line addresses kept
    assert "companies-house:03964543" in {i for ids in df["identifiers"] for i in ids}


def test_loopback_http(httpserver) -> None:
    _, df, _, _ = run(fetch_over_loopback(httpserver, "/standard.csv", RAW, "text/csv; charset=utf-8"))
    assert len(df) == 17


def test_ingest_over_loopback(httpserver, tmp_path) -> None:
    url = serve(httpserver, "/standard.csv", RAW, "text/csv; charset=utf-8")
    outcome = ingest_over_loopback(SPEC, tmp_path, url)
    assert outcome.ok, outcome.error
    assert (outcome.rows, outcome.quarantined) == (17, 3)

"""ESSGlobal RDF from partners: mixed ESSGlobal bases, address styles, Turtle and JSON-LD."""
from __future__ import annotations

import json

from typing import Any

import pandas as pd
import pytest

from se_pipeline.namespaces import ESS_ACTIVITIES_ICA, ESS_BASE_MEMBERSHIP, ESS_ORG_STRUCTURE, ESS_QUALIFIERS
from se_pipeline.sources.errors import SourceFormatError
from se_pipeline.sources.registry import get_source
from tests.sources.helpers import Parsed, fetch_over_loopback, module_fixture, one_row, parse_and_conform

SPEC = get_source("essglobal_rdf")
RAW = SPEC.sample.read_bytes()
JSONLD = (SPEC.folder / "sample" / "partner_essglobal.jsonld").read_bytes()
P = "data.solidarityeconomy.coop/partner-map/"
AM = "http://purl.org/essglobal/standard/activities-modified/"


def run(raw: bytes = RAW, url: str = "") -> Parsed:
    return parse_and_conform(SPEC, raw, url=url or SPEC.sample_url)


parsed = module_fixture(run)


def row(df: pd.DataFrame, local: str) -> dict[str, Any]:
    """The row of the partner initiative `P<local>`."""
    return one_row(df, P + local)


def test_counts_and_quarantine(parsed) -> None:
    res, df, quarantined, dropped = parsed
    assert res.notes["initiatives"] == 17 and res.notes["format"] == "Turtle"
    assert len(df) == 14 and len(df) + len(quarantined) + len(res.quarantine) == 17
    assert {(q.line, q.field, q.reason) for q in quarantined} == {
        (10, "name", "record has no name"),
        (11, "record_id", "duplicate record id; first seen at line 1"),  # http:// spelling of P001
        (12, "record_id", "record has no identifier"),  # blank-node initiative
    }
    assert {(d.record_id.rsplit("/", 1)[-1], d.field) for d in dropped} == {
        ("P007", "lat/lon"), ("P009", "websites"),
        # concepts of unknown codes, of another scheme, or not ESSGlobal: dropped from the record
        ("P008", "organisational_structure"), ("P008", "primary_activity"), ("P008", "qualifiers"),
        ("P015", "membership_type")}


def test_mixed_bases_are_normalised(parsed) -> None:
    _, df, _, _ = parsed
    suma = row(df, "P001")  # lod.coop vocab, w3id activities, dev.lod.coop membership
    assert suma["name"] == "Suma Wholefoods"
    assert suma["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS60"]
    assert suma["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA260"
    assert suma["activities"] == [ESS_ACTIVITIES_ICA + "ICA260", ESS_ACTIVITIES_ICA + "ICA250"]
    assert suma["qualifiers"] == [ESS_QUALIFIERS + "Organic", ESS_QUALIFIERS + "Fairtrade"]
    assert suma["membership_type"] == ESS_BASE_MEMBERSHIP + "BMT30"
    assert suma["identifiers"] == ["partner-iri:https://" + P + "P001"]
    assert row(df, "P002")["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS60"]  # dev.lod.coop vocab
    assert row(df, "P003")["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS30"]  # w3id V2a
    experimental = row(df, "P004")  # purl experimental base, rdfs:label name
    assert experimental["name"] == "フェアトレード・ショップ 風" and experimental["primary_activity"] == AM + "AM100"
    assert experimental["qualifiers"] == [ESS_QUALIFIERS + "Fairtrade"] and experimental["country"] == "JP"
    assert row(df, "P005")["name"] == "<script>alert('x')</script> Co-op"  # purl base; data, not HTML


def test_address_styles(parsed) -> None:
    _, df, _, _ = parsed
    vcard = row(df, "P001")
    assert (vcard["street"], vcard["locality"], vcard["region"], vcard["postcode"], vcard["country"]) == (
        "Lacy Way\nLowfields Business Park", "Elland", "West Yorkshire", "HX5 9DB", "GB")
    assert (vcard["lat"], vcard["lon"]) == (53.7116, -1.8716)
    schema = row(df, "P002")  # schema.org address, countries-iso IRI
    assert (schema["street"], schema["locality"], schema["postcode"], schema["country"]) == (
        "12 Rue de la Paix", "Lyon", "69002", "FR")
    assert schema["name"] == 'The "Quoted" Bakery, Ltd.' and schema["websites"] == ["http://quoted-bakery.example.coop"]
    osn = row(df, "P006")  # Ordnance Survey postcode unit + geo on the address
    assert (osn["postcode"], osn["country"], osn["lat"], osn["lon"]) == ("SG8 0JP", "GB", 52.0774, -0.136802)
    assert row(df, "P011")["country"] == "BR" and row(df, "P011")["alternate_names"] == ["Coop São Jorge", "CASJ"]
    assert row(df, "P011")["email"] == "contato@saojorge.example.coop.br"  # vcard mailto: IRI


def test_nasty_values(parsed) -> None:
    _, df, _, _ = parsed
    assert row(df, "P005")["description"] == 'Line one of the description,\nwith a second line, a comma, and "quotes".'
    assert row(df, "P005")["websites"] == ["https://script.example.org/path?a=1&b=2"]
    tiny = row(df, "P008")
    assert (tiny["lat"], tiny["lon"]) == (1e-05, -1e-05) and tiny["country"] is None or pd_na(tiny["country"])
    assert row(df, "P007")["lat"] is None or pd_na(row(df, "P007")["lat"])
    assert row(df, "P009")["websites"] == [] and row(df, "P009")["phone"] == "+44 113 496 0000"
    assert row(df, "P003")["name"] == "Κοινωνική Κουζίνα Αθήνας"


def pd_na(value: Any) -> bool:
    return bool(pd.isna(value))


def test_unknown_concepts_reported_not_guessed(parsed) -> None:
    res, df, _, _ = parsed
    unmapped = res.notes["unmapped"]
    assert unmapped["organisational_structure"] == {ESS_ORG_STRUCTURE + "OS999": 1}
    assert unmapped["qualifiers"] == {ESS_QUALIFIERS + "NotAQualifier": 1}
    assert unmapped["primary_activity"] == {"http://example.org/not-essglobal/ICA140": 1}
    assert unmapped["membership_type"] == {ESS_ORG_STRUCTURE + "OS60": 1}  # wrong scheme
    assert row(df, "P008")["organisational_structure"] == [] and row(df, "P015")["membership_type"] is None or pd_na(
        row(df, "P015")["membership_type"])


def test_every_sample_concept_is_known_or_reported(parsed) -> None:
    """Every concept value in the sample is either mapped (standard_csv's code lists) or reported."""
    import pyoxigraph as ox

    from se_pipeline.sources.standard_csv.essglobal_bases import normalise_essglobal_iri

    res, df, _, _ = parsed
    props = {"organisationalStructure", "primarySector", "economicSector", "qualifier", "baseMembershipType"}
    used = set()
    for q in ox.parse(RAW, format=ox.RdfFormat.TURTLE):
        pred = normalise_essglobal_iri(q.predicate.value) or q.predicate.value
        if pred.startswith("http://purl.org/essglobal/vocab/") and pred.rsplit("/", 1)[-1] in props:
            used.add(normalise_essglobal_iri(q.object.value) or q.object.value)
    reported = {v for counts in res.notes["unmapped"].values() for v in counts}
    mapped = {c for f in ("organisational_structure", "activities", "qualifiers") for v in df[f] for c in v}
    mapped |= {v for f in ("primary_activity", "membership_type") for v in df[f] if isinstance(v, str)}
    assert used - reported <= mapped and len(reported) == 4
    # OS60 is both a good organisational structure and a wrong-scheme membership type
    assert used == mapped | reported


def test_jsonld_variant() -> None:
    res, df, quarantined, _ = run(JSONLD, url="file:///tmp/partner.jsonld")
    assert res.notes["format"] == "JSON-LD" and len(df) == 3 and not quarantined
    by = {r["record_id"].rsplit("/", 1)[-1]: r for r in df.to_dict("records")}
    assert by["J001"]["organisational_structure"] == [ESS_ORG_STRUCTURE + "OS70"]
    assert by["J001"]["primary_activity"] == ESS_ACTIVITIES_ICA + "ICA210"
    assert (by["J001"]["postcode"], by["J001"]["lat"]) == ("BS5 6XX", 51.4598)
    assert by["J002"]["name"] == 'Coopérative "Les Tisserands" de Lyon' and by["J002"]["country"] == "FR"
    assert by["J003"]["name"] == "Кооператив «Берёза»"  # experimental-base class IRI


def test_format_errors() -> None:
    with pytest.raises(SourceFormatError):
        run(b"@prefix broken <x> .")
    with pytest.raises(SourceFormatError, match="no bundled copy"):
        run(json.dumps({"@context": "https://example.org/ctx", "@id": "https://x.org/a"}).encode())


def test_loopback_http(httpserver) -> None:
    content = fetch_over_loopback(httpserver, "/partner.ttl", RAW, "text/turtle")
    _, df, _, _ = run(content, url=httpserver.url_for("/partner.ttl"))
    assert len(df) == 14 and row(df, "P001")["name"] == "Suma Wholefoods"

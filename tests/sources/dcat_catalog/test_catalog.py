"""What a partner's catalog says beyond the dump to take (`catalog.read_offer`)."""
from __future__ import annotations

from se_pipeline.sources.dcat_catalog.catalog import read_offer

SOURCE = "https://w3id.org/se-pipeline/source/"
CATALOG = f"""@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix prov: <http://www.w3.org/ns/prov#> .
@prefix sep: <https://w3id.org/se-pipeline/ontology/> .
<https://a.example.org/catalog> a dcat:Catalog ; dct:title "A" ; dcat:dataset <https://a.example.org/release/1> .
<https://a.example.org/release/1> a dcat:Dataset ; dct:license <https://opendatacommons.org/licenses/by/1-0/> ;
    dcat:distribution [ a dcat:Distribution ; dcat:downloadURL <https://a.example.org/dataset.nq.gz> ;
                        dcat:mediaType "application/n-quads" ] ;
    prov:wasDerivedFrom <https://upstream.example.org/registry> .
<{SOURCE}wfto> a dcat:Dataset ; sep:namedGraph <https://w3id.org/se-pipeline/graph/wfto> .
<{SOURCE}rede> a dcat:Dataset ; sep:namedGraph <https://w3id.org/se-pipeline/graph/rede> ;
    prov:wasDerivedFrom <https://rede.example.org/ds-2026> .
"""


def test_the_parts_of_a_partners_release_it_harvested_elsewhere_are_named() -> None:
    offer = read_offer(CATALOG.encode("utf-8"), "https://a.example.org/catalog", "text/turtle", "a")
    assert offer.url == "https://a.example.org/dataset.nq.gz"
    # Its own source is not, nor is the release (a dataset derived from others, but no part of one).
    assert offer.republished == (f"{SOURCE}rede",)

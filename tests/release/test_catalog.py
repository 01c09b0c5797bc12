"""catalog.ttl as DCAT-AP 3 harvesters read it: the official SHACL shapes, and the facts behind them."""
from __future__ import annotations

import hashlib
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline.settings import Settings
from tests.release.conftest import SOURCES, ingest_and_gate, publish

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
DCAT_AP = SHARED / "reference" / "dcat-ap" / "3.0.1"
SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
PREFIXES = """PREFIX dcat: <http://www.w3.org/ns/dcat#> PREFIX dct: <http://purl.org/dc/terms/>
PREFIX foaf: <http://xmlns.com/foaf/0.1/> PREFIX spdx: <http://spdx.org/rdf/terms#>
PREFIX prov: <http://www.w3.org/ns/prov#> PREFIX sep: <https://w3id.org/se-pipeline/ontology/>
PREFIX vcard: <http://www.w3.org/2006/vcard/ns#> """


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Path:
    settings = Settings(output_dir=tmp_path_factory.mktemp("catalog") / "out")
    ingest_and_gate(settings)
    return publish(settings).path


@pytest.fixture(scope="module")
def catalog(release: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(release / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    return store


@pytest.mark.skipif(not DCAT_AP.is_dir(), reason="../shared/reference/dcat-ap (the official shapes) is not here")
def test_no_violation_of_the_dcat_ap_3_core_and_range_shapes(release: Path) -> None:
    import pyshacl

    shapes = rdflib.Graph()
    shapes.parse(DCAT_AP / "shapes.ttl", format="turtle")
    shapes.parse(DCAT_AP / "range.ttl", format="turtle")
    data = rdflib.Graph().parse(release / "catalog.ttl", format="turtle")
    _, report, _ = pyshacl.validate(data, shacl_graph=shapes, inference="none", allow_warnings=True)
    violations = [(str(report.value(r, SH.focusNode)), str(report.value(r, SH.resultPath)),
                   str(report.value(r, SH.resultMessage))) for r in report.subjects(SH.resultSeverity, SH.Violation)]
    assert violations == []


def test_one_catalog_lists_the_release_and_every_source(catalog: ox.Store, release: Path) -> None:
    listed = {r["id"].value for r in catalog.query(PREFIXES + """SELECT ?id WHERE {
        ?c a dcat:Catalog ; dcat:dataset ?d . ?d a dcat:Dataset ; dct:identifier ?id ; dct:description ?desc ;
           dct:publisher [ a foaf:Agent ; foaf:name ?who ] ; dct:license [ a dct:LicenseDocument ] ;
           dcat:contactPoint [ a vcard:Kind ; vcard:fn ?fn ] }""")}
    assert listed == set(SOURCES) | {release.name}
    assert catalog.query(PREFIXES + f"""ASK {{ ?c a dcat:Catalog ; dcat:dataset ?r . ?r dct:identifier "{release.name}" ;
        dct:publisher [ a foaf:Agent ; foaf:name ?n ; foaf:homepage ?h ] }}""")
    homepages = {r["h"].value for r in catalog.query(PREFIXES + """SELECT ?h WHERE {
        ?d dct:identifier "coops_uk" ; dct:publisher [ foaf:homepage ?h ] }""")}
    assert homepages and all(h.startswith("https://") for h in homepages)


def test_every_distribution_has_urls_format_and_the_files_checksum(catalog: ox.Store, release: Path) -> None:
    rows = list(catalog.query(PREFIXES + """SELECT ?title ?access ?download ?media ?format ?value WHERE {
        ?r dcat:distribution ?dist . ?dist dct:title ?title ; dcat:accessURL ?access ; dcat:downloadURL ?download ;
           dcat:mediaType ?media ; dct:format ?format ;
           spdx:checksum [ a spdx:Checksum ; spdx:algorithm spdx:checksumAlgorithm_sha256 ; spdx:checksumValue ?value ] }"""))
    names = {r["title"].value for r in rows}
    assert {"dataset.ttl", "dataset.jsonld", "dataset.nq.gz", "standard.csv", "vocabs.json"} <= names
    for r in rows:
        name = r["title"].value
        assert r["download"].value.endswith("/" + name) and r["access"].value == r["download"].value
        assert r["value"].value == hashlib.sha256((release / name).read_bytes()).hexdigest()
        assert r["format"].value.startswith("http://publications.europa.eu/resource/authority/file-type/")
        assert r["media"].value.startswith("https://www.iana.org/assignments/media-types/")


def test_provenance_and_stale_flags_are_kept(catalog: ox.Store) -> None:
    fetched = {r["id"].value for r in catalog.query(PREFIXES + """SELECT ?id WHERE {
        ?d dct:identifier ?id ; sep:stale false ; prov:wasGeneratedBy [ a prov:Activity ; sep:sha256 ?sha ] }""")}
    assert fetched == set(SOURCES)

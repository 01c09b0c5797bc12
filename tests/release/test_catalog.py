"""catalog.ttl as DCAT-AP 3 harvesters read it: the official SHACL shapes, and the facts behind them."""
from __future__ import annotations

import hashlib
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib

from se_pipeline.release.catalog import catalog_triples, write_catalog, write_catalog_with_size
from se_pipeline.release import ledger
from se_pipeline.release.disk_usage import release_size
from se_pipeline.release.publish import write_checksums_from
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
    """The second release of an output folder (so its catalog names the first)."""
    settings = Settings(output_dir=tmp_path_factory.mktemp("catalog") / "out")
    ingest_and_gate(settings)
    publish(settings)
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


def _size_statements(catalog: ox.Store, release_id: str) -> dict[str, str]:
    rows = catalog.query(PREFIXES + f"""SELECT ?p ?o WHERE {{ ?r dct:identifier "{release_id}" ; ?p ?o .
        FILTER(?p IN (sep:diskBytes, sep:diskBytesAdded, dcat:previousVersion)) }}""")
    return {r["p"].value.rsplit("/", 1)[-1].rsplit("#", 1)[-1]: r["o"].value for r in rows}


def test_the_release_states_its_whole_size_on_disk(catalog: ox.Store, release: Path) -> None:
    """The size the catalog states is that of the finished release, catalog.ttl and
    SHA256SUMS included, and what it adds to the release it follows."""
    [previous] = [d for d in release.parent.iterdir() if d != release]
    size = release_size(release, previous)
    assert size.files == len((release / "SHA256SUMS").read_text(encoding="utf-8").splitlines()) + 1
    assert _size_statements(catalog, release.name) == {
        "diskBytes": str(size.bytes), "diskBytesAdded": str(size.added_bytes),
        "previousVersion": f"https://w3id.org/se-pipeline/release/{previous.name}"}
    # What the next release's size is taken from: every file of this one, as it is final.
    index = ledger.read_files(ledger.ledgers_dir(Settings(output_dir=release.parent.parent)) / release.name, release)
    assert index is not None
    files = {p.stat().st_ino: p.stat().st_size for p in release.rglob("*") if p.is_file() and not p.is_symlink()}
    assert dict(zip(index.inodes.tolist(), index.sizes.tolist())) == files


def test_the_size_added_leaves_out_files_hard_linked_from_the_previous_release(tmp_path: Path) -> None:
    previous = tmp_path / "20261201T050000Z"
    (previous / "id").mkdir(parents=True)
    (previous / "id" / "same.ttl").write_bytes(b"s" * 4000)
    (previous / "dataset.ttl").write_bytes(b"old")
    current = tmp_path / "20261202T050000Z"
    (current / "id").mkdir(parents=True)
    os.link(previous / "id" / "same.ttl", current / "id" / "same.ttl")
    (current / "dataset.ttl").write_bytes(b"new" * 10)
    triples = catalog_triples(release_id=current.name, issued=datetime(2026, 12, 2, 5, tzinfo=timezone.utc),
                              sources=[], total_triples=0, total_entities=0, classes={}, files=[],
                              download_base="https://example.org/releases/")
    write_catalog(current / "catalog.ttl", triples)  # the first version, which the landing page reads
    write_catalog_with_size(current, triples, current.name, previous)
    write_checksums_from(current, [], ())
    # The same figures from the previous release's index (the files it shares not stat'ed).
    first = current.with_name("first")
    shutil.copytree(current, first, copy_function=os.link)
    (first / "catalog.ttl").unlink()
    (first / "SHA256SUMS").unlink()
    index = release_size(previous).index
    assert index is not None
    write_catalog_with_size(first, triples, current.name, previous, previous_files=index.with_top_level(previous))
    stated_first = ox.Store()
    stated_first.load(path=str(first / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    stated = ox.Store()
    stated.load(path=str(current / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    after = release_size(current, previous)
    assert (after.bytes - after.added_bytes, after.added_files) == (4000, 3)  # 1 shared file; 3 new ones
    assert _size_statements(stated, current.name) == {
        "diskBytes": str(after.bytes), "diskBytesAdded": str(after.added_bytes),
        "previousVersion": "https://w3id.org/se-pipeline/release/20261201T050000Z"}
    assert _size_statements(stated_first, current.name) == _size_statements(stated, current.name)

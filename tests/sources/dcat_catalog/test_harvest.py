"""A partner that is not se-pipeline: a DCAT-AP catalog of Digital Commons-style ESSGlobal
data (gr:name, vCard, a term of its own), checksums in a SHA256SUMS beside the dump.

Each test harvests over loopback with the real acquisition (`sources.ingest.ingest`)
and gate (`gate.source.gate_source`): the newest dataset and its best RDF distribution
are taken, the checksum verified before parsing, records kept under the partner's IRIs
with its unknown terms, what our shapes refuse quarantined, a tampered or unvouched
dump refused with the URL named, and a dead event stream falls back to the dump.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.acquire.http import HttpClient
from se_pipeline.gate.source import gate_source
from se_pipeline.quarantine import read_quarantine
from se_pipeline.settings import Settings
from se_pipeline.sources.dcat_catalog.spec import partner_spec
from se_pipeline.sources.ingest import ingest
from se_pipeline.state import SourceState, read_json
from tests.sources.dcat_catalog.loopback import Served, loopback

REDE = "https://rede.example.org/id/"
CATALOG = """@prefix dcat: <http://www.w3.org/ns/dcat#> .
@prefix dct: <http://purl.org/dc/terms/> .
@prefix foaf: <http://xmlns.com/foaf/0.1/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<catalog.ttl#it> a dcat:Catalog ; dct:title "Catálogo da Rede"@pt, "The network's catalog"@en ;
    dct:publisher <catalog.ttl#rede> ; dcat:dataset <ds-2025>, <ds-2026> .
<catalog.ttl#rede> a foaf:Agent ; foaf:name "Rede Brasil" ; foaf:homepage <https://rede.example.org/> .
<ds-2025> a dcat:Dataset ; dct:issued "2025-01-01T00:00:00Z"^^xsd:dateTime ; dcat:distribution <ds-2025#ttl> .
<ds-2025#ttl> a dcat:Distribution ; dcat:downloadURL <old.ttl> ; dcat:mediaType "text/turtle" .
<ds-2026> a dcat:Dataset ; dct:issued "2026-06-01T00:00:00Z"^^xsd:dateTime ;
    dct:license <https://creativecommons.org/licenses/by/4.0/> ;
    dcat:distribution <ds-2026#jsonld>, <ds-2026#nt>, <ds-2026#csv> %(stream)s .
<ds-2026#csv> a dcat:Distribution ; dcat:downloadURL <data.csv> ; dcat:mediaType "text/csv" .
<ds-2026#jsonld> a dcat:Distribution ; dcat:downloadURL <data.jsonld> ;
    dcat:mediaType <https://www.iana.org/assignments/media-types/application/ld+json> .
<ds-2026#nt> a dcat:Distribution ; dcat:downloadURL <data.nt> ;
    dct:format <http://publications.europa.eu/resource/authority/file-type/RDF_N_TRIPLES> .
"""
STREAM = """; dcat:distribution <ds-2026#ldes> .
<ds-2026#ldes> a dcat:Distribution ; dcat:accessURL <gone/changes.ttl> ;
    dct:conformsTo <https://w3id.org/ldes/specification> """
E, GR, V, EX = ("http://purl.org/essglobal/vocab/", "http://purl.org/goodrelations/v1#",
                "http://www.w3.org/2006/vcard/ns#", "https://rede.example.org/vocab#")
DATA = f"""<{REDE}1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<{REDE}1> <{GR}name> "Cooperativa Um" .
<{REDE}1> <{EX}corFavorita> "verde" .
<{REDE}1> <{E}hasAddress> <{REDE}1#address> .
<{REDE}1#address> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}Address> .
<{REDE}1#address> <{V}locality> "Recife" .
<{REDE}1#address> <{V}country-name> "Brazil" .
<{REDE}2> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<{REDE}2> <{GR}name> "Cooperativa Dois" .
<{REDE}3> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<{REDE}2> <{EX}contato> _:c2 .
_:c2 <{EX}telefone> "+55 81 1234" .
<{REDE}3> <{EX}corFavorita> "azul" .
<{REDE}3> <{EX}contato> _:c3 .
_:c3 <{EX}telefone> "+55 81 9999" .
<https://w3id.org/se-pipeline/id/wfto/1021> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<https://w3id.org/se-pipeline/id/wfto/1021> <{GR}name> "Not theirs to describe" .
<{REDE}4> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<{REDE}4> <{GR}name> "Cooperativa Quatro" .
<{REDE}4> <https://schema.org/name> " Quatro" .
<{REDE}5> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{E}SSEInitiative> .
<{REDE}5> <{GR}name> "Cooperativa Cinco" .
<{REDE}5> <{E}hasAddress> <{REDE}5#addr> .
<{REDE}5#addr> <{V}locality> "Olinda" .
"""


def _partner(folder: Path, *, stream: bool = False, sums: bytes | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "catalog.ttl").write_text(CATALOG % {"stream": STREAM if stream else ""}, encoding="utf-8")
    (folder / "data.nt").write_text(DATA, encoding="utf-8")
    (folder / "data.jsonld").write_text("{}", encoding="utf-8")
    digest = hashlib.sha256(DATA.encode("utf-8")).hexdigest()
    (folder / "SHA256SUMS").write_bytes(sums if sums is not None else f"{digest}  data.nt\n{'0' * 64}  data.jsonld\n".encode())


def _settings(tmp: Path, served: Served) -> Settings:
    return Settings(output_dir=tmp / "out", sources={"rede": {"kind": "dcat_catalog", "url": f"{served.url}catalog.ttl"}},
                    http={"allow_private_addresses": True, "allow_http": True, "respect_robots": False})


def _harvest(settings: Settings):
    spec = partner_spec("rede", settings.source_config("rede"))  # type: ignore[arg-type]
    http = HttpClient(**settings.http.model_dump())
    return ingest(spec, settings, http), SourceState.of(settings.state_dir, "rede")


@pytest.fixture
def partner(tmp_path: Path):
    _partner(tmp_path / "site")
    with loopback(tmp_path / "site") as served:
        yield tmp_path, served


def test_the_newest_dataset_is_imported_checksum_first_under_the_partners_iris(partner) -> None:
    tmp, served = partner
    settings = _settings(tmp, served)
    outcome, state = _harvest(settings)
    assert outcome.ok, outcome.error
    assert [p for p in served.requests if "catalog" not in p] == ["/SHA256SUMS", "/data.nt"]  # never old.ttl nor JSON-LD
    said = outcome.notes["publisher"]
    assert said["licence"] == "https://creativecommons.org/licenses/by/4.0/" and said["publisher"] == "Rede Brasil"
    assert said["title"] == "The network's catalog" and f"{served.url}ds-2026" in said["derived_from"]
    assert "Rede Brasil" in said["attribution"]
    gated = gate_source("rede", settings)
    assert gated.status == "promoted", gated.message
    graph = {str(t) for t in ox.parse(path=str(state.good / "graph.nt"), format=ox.RdfFormat.N_TRIPLES)}
    assert f'<{REDE}1> <{EX}corFavorita> "verde"' in graph  # a term of its own passes through
    assert f'<{REDE}1#address> <{V}locality> "Recife"' in graph
    assert f'<{REDE}1> <https://schema.org/name> "Cooperativa Um"' in graph  # what our shapes need, added
    assert f'<{REDE}1> <http://purl.org/dc/terms/identifier> "{REDE}1"' in graph
    assert f"<{REDE}1> <http://purl.org/dc/terms/source> <https://w3id.org/se-pipeline/source/rede>" in graph
    subjects = {s.split(" ", 1)[0].partition("#")[0].strip("<>") for s in graph}
    assert subjects == {f"{REDE}1", f"{REDE}2"}                   # no blank node: see below
    quarantined = {q.record_id: q.field for q in read_quarantine(state.good / "quarantine.csv")}
    assert quarantined == {f"<{REDE}3>": "name",  # no name at all: canonicalisation
                           f"<{REDE}4>": "name", f"<{REDE}5>": "AddressShape",  # our shapes
                           "<https://w3id.org/se-pipeline/id/wfto/1021>": "iri"}  # our namespace is ours
    # The kept record's blank node, not the quarantined one's, as a `#genid-` node of its record.
    contact = [t for t in graph if t.startswith(f"<{REDE}2> <{EX}contato> ")]
    assert len(contact) == 1 and contact[0].startswith(f"<{REDE}2> <{EX}contato> <{REDE}2#genid-")
    node = contact[0].split(" ")[2]
    assert {t for t in graph if t.startswith(node)} == {f'{node} <{EX}telefone> "+55 81 1234"'}
    assert not any("9999" in t or "_:" in t for t in graph)


def test_a_tampered_dump_is_refused_naming_its_url(tmp_path: Path) -> None:
    _partner(tmp_path / "site", sums=f"{'1' * 64}  data.nt\n".encode())
    with loopback(tmp_path / "site") as served:
        outcome, state = _harvest(_settings(tmp_path, served))
    assert not outcome.ok and outcome.error is not None
    assert "ChecksumMismatch" in outcome.error and f"{served.url}data.nt" in outcome.error and "1" * 64 in outcome.error
    assert not (state.run / "partner.nt").exists() and not (state.run / "canonical.parquet").exists()


def test_a_dump_nobody_vouches_for_is_refused(tmp_path: Path) -> None:
    _partner(tmp_path / "site")
    (tmp_path / "site" / "SHA256SUMS").unlink()
    with loopback(tmp_path / "site") as served:
        outcome, _ = _harvest(_settings(tmp_path, served))
        assert "/data.nt" not in served.requests  # refused before a byte of it was fetched
    assert not outcome.ok and "ChecksumMissing" in (outcome.error or "") and "SHA256SUMS" in (outcome.error or "")


@pytest.mark.parametrize("catalog, says", [
    ("<html><body>Not found</body></html>", "does not parse"),
    ("@prefix dcat: <http://www.w3.org/ns/dcat#> . <c> a dcat:Catalog ; dcat:dataset <d> . "
     "<d> dcat:distribution <x> . <x> dcat:downloadURL <data.csv> .", "offers no dataset with an RDF distribution"),
])
def test_a_catalog_we_cannot_use_is_a_clear_error(tmp_path: Path, catalog: str, says: str) -> None:
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "catalog.ttl").write_text(catalog, encoding="utf-8")
    with loopback(tmp_path / "site") as served:
        outcome, _ = _harvest(_settings(tmp_path, served))
    assert not outcome.ok and says in (outcome.error or "") and f"{served.url}catalog.ttl" in (outcome.error or "")
    assert "<html>" not in (outcome.error or "")  # names the place, never quotes the bytes


def test_a_stream_that_cannot_be_followed_falls_back_to_the_dump_and_says_so(tmp_path: Path) -> None:
    _partner(tmp_path / "site", stream=True)
    with loopback(tmp_path / "site") as served:
        settings = _settings(tmp_path, served)
        first, state = _harvest(settings)
        assert first.ok and gate_source("rede", settings).status == "promoted"
        assert read_json(state.good / "stream.json")["stream"] == f"{served.url}gone/changes.ttl"
        served.requests.clear()
        again, _ = _harvest(settings)
    assert again.ok and again.not_modified  # the dump the catalog vouches for is the one we hold
    assert "/gone/changes.ttl" in served.requests and "/data.nt" not in served.requests
    status = read_json(state.run / "status.json")
    assert "gone/changes.ttl" in status["notes"]["harvest"]["stream_not_followed"]
    assert status["notes"]["harvest"]["mode"] == "dump"


def test_a_dump_on_a_host_off_the_allowlist_is_not_fetched(tmp_path: Path) -> None:
    _partner(tmp_path / "site")
    catalog = (tmp_path / "site" / "catalog.ttl").read_text(encoding="utf-8")
    (tmp_path / "site" / "catalog.ttl").write_text(
        catalog.replace("dcat:downloadURL <data.nt>", "dcat:downloadURL <http://elsewhere.example/data.nt>"), encoding="utf-8")
    (tmp_path / "site" / "SHA256SUMS").write_text(f"{'2' * 64}  data.nt\n")
    with loopback(tmp_path / "site") as served:
        settings = Settings(output_dir=tmp_path / "out", sources={"rede": {
            "kind": "dcat_catalog", "url": f"{served.url}catalog.ttl", "allowed_hosts": ["127.0.0.1"]}},
            http={"allow_private_addresses": True, "allow_http": True, "respect_robots": False})
        outcome, _ = _harvest(settings)
    assert not outcome.ok and "DisallowedUrl" in (outcome.error or "") and "elsewhere.example" in (outcome.error or "")


def test_a_gzipped_dump_is_expanded_no_further_than_the_sources_byte_cap() -> None:
    """A checksum vouches for the partner's compressed bytes, not for what they expand to:
    a dump that inflates past the cap is refused, one under it is read."""
    import gzip

    from se_pipeline.sources.dcat_catalog.records import parse_dump
    from se_pipeline.sources.errors import SourceFormatError, public_message

    line = (b'<https://partner.example/id/1> <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> '
            b'<http://purl.org/essglobal/vocab/SSEInitiative> .\n'
            b'<https://partner.example/id/1> <http://schema.org/name> "Coop One" .\n')
    bomb = gzip.compress(line + b"# " + b"0" * 5_000_000 + b"\n")
    assert len(bomb) < 20_000
    with pytest.raises(SourceFormatError, match="expands to more than 100000 bytes") as refused:
        parse_dump(bomb, ox.RdfFormat.N_TRIPLES, True, "https://partner.example/dump.nt.gz", "rede", 100_000)
    assert "000000" not in public_message(refused.value, "rede")
    records = parse_dump(gzip.compress(line), ox.RdfFormat.N_TRIPLES, True, "https://partner.example/dump.nt.gz",
                         "rede", 100_000)
    assert len(records) == 1


def test_a_copy_made_by_other_code_is_processed_again_when_the_partner_has_nothing_new(tmp_path: Path) -> None:
    """An unchanged dump is not downloaded again, but the last good copy is gated again
    when our code or options changed since it was made (what a new release of ours
    changes in how a partner's records are published reaches them without waiting for
    the partner to change)."""
    _partner(tmp_path / "site")
    with loopback(tmp_path / "site") as served:
        settings = _settings(tmp_path, served)
        first, state = _harvest(settings)
        assert first.ok and gate_source("rede", settings).status == "promoted"
        graph_before = (state.good / "graph.nt").read_bytes()
        served.requests.clear()
        unchanged, _ = _harvest(settings)
        assert unchanged.ok and unchanged.not_modified and gate_source("rede", settings).status == "unchanged"
        status = read_json(state.good / "status.json")
        (state.good / "status.json").write_text(json.dumps({**status, "made_with": "older code"}), encoding="utf-8")
        again, _ = _harvest(settings)
        assert again.ok and not again.not_modified
        assert "/data.nt" not in served.requests                       # the partner's bytes are not fetched again
        assert read_json(state.run / "status.json")["notes"]["harvest"]["again"] is True
        assert gate_source("rede", settings).status == "promoted"
        assert (state.good / "graph.nt").read_bytes() == graph_before

"""A partner that is not se-pipeline, whose records reach blank nodes, through two whole
`se-pipeline run`s on loopback: its blank nodes are published as `#genid-` nodes of their
record (a release with blank nodes failed its gate: pyld relabels them), so the record's
statements are all in the datasets and in its event-stream member, and a dump that only
relabels its blank nodes changes nothing."""
from __future__ import annotations

import gzip
import hashlib
from pathlib import Path

import pyoxigraph as ox
import yaml

from se_pipeline.sources.registry import bundled_sources
from tests.sources.dcat_catalog.instances import run_instance
from tests.sources.dcat_catalog.loopback import loopback
from tests.sources.dcat_catalog.test_harvest import DATA, EX, REDE, _partner

GRAPH = "https://w3id.org/se-pipeline/graph/rede"


def _quads(path: Path, fmt: ox.RdfFormat) -> list[ox.Quad]:
    data = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
    return list(ox.parse(data, format=fmt, base_iri=path.as_uri()))  # the stream's links are relative


def test_a_partners_blank_nodes_are_published_as_nodes_of_their_record(tmp_path: Path) -> None:
    site = tmp_path / "site"
    _partner(site)
    with loopback(site) as served:
        config = tmp_path / "config.yaml"
        config.write_text(yaml.safe_dump({
            "page_languages": ["en"], "geocoding": {"enabled": False},
            "http": {"allow_private_addresses": True, "allow_http": True, "respect_robots": False},
            "sources": {**{name: {"enabled": False} for name in bundled_sources()},
                        "rede": {"kind": "dcat_catalog", "url": f"{served.url}catalog.ttl"}},
        }), encoding="utf-8")
        first = run_instance(config, tmp_path / "out")

        quads = _quads(first / "dataset.nq.gz", ox.RdfFormat.N_QUADS)
        assert not any(isinstance(t, ox.BlankNode) for q in quads for t in (q.subject, q.object))
        contact = [q.object for q in quads if q.subject == ox.NamedNode(f"{REDE}2") and q.predicate.value == f"{EX}contato"]
        assert len(contact) == 1 and contact[0].value.startswith(f"{REDE}2#genid-")
        phone = ox.Quad(contact[0], ox.NamedNode(f"{EX}telefone"), ox.Literal("+55 81 1234"), ox.NamedNode(GRAPH))
        assert phone in quads
        for name, fmt in (("dataset.ttl", ox.RdfFormat.TURTLE), ("dataset.jsonld", ox.RdfFormat.JSON_LD)):
            assert phone.triple in {q.triple for q in _quads(first / name, fmt)}, name
        # Record 2's member of the event stream carries its contact node: a client that
        # replaces its copy of the record with the member has the phone number.
        member = ox.NamedNode(f"{REDE}2#v-{first.name}")
        pages = [q for page in sorted((first / "changes").rglob("*.trig")) for q in _quads(page, ox.RdfFormat.TRIG)]
        assert ox.Quad(phone.subject, phone.predicate, phone.object, member) in pages

        # The partner's next dump says the same with other blank-node labels.
        data = DATA.replace("_:c2", "_:n41").replace("_:c3", "_:genid1")
        assert data != DATA
        (site / "data.nt").write_text(data, encoding="utf-8")
        (site / "SHA256SUMS").write_text(f"{hashlib.sha256(data.encode()).hexdigest()}  data.nt\n", encoding="utf-8")
        second = run_instance(config, tmp_path / "out")
    assert second != first
    assert (second / "changelog.csv").read_text(encoding="utf-8").splitlines() == ["source,change,record"]
    assert phone in _quads(second / "dataset.nq.gz", ox.RdfFormat.N_QUADS)

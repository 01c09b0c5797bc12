"""Issue 25's two instances on loopback, through the real `se-pipeline run`.

Instance A (the bundled WFTO sample) publishes a release; a loopback server serves A's
output; instance B harvests A's catalog as the `dcat_catalog` source `partner_a` (beside
its own WFTO copy). A's enterprises appear in B's release under A's IRIs, with A's
licence and provenance. A then publishes a second release with 3 records changed and 1
withdrawn: B's next run fetches only A's event-stream page with those 4 members (no dump)
and B's changelog lists exactly those records. Finally A's dump is tampered with: a B
that forgot its stream state refuses it and republishes A's last good data, saying why.
"""
from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyoxigraph as ox
import pytest
import yaml

from se_pipeline.sources.registry import bundled_sources
from tests.sources.dcat_catalog.loopback import loopback

ROOT = Path(__file__).resolve().parents[3]
WFTO = ROOT / "se_pipeline" / "sources" / "wfto" / "sample" / "wfto_members_sample.json"
CLI = [sys.executable, "-m", "se_pipeline.cli"]
A_BASE = "https://a.example.org/id/"
RENAMED = (1021, 1025, 1033)
REMOVED = 1040
PROV = "http://www.w3.org/ns/prov#"
DCT = "http://purl.org/dc/terms/"
SEP = "https://w3id.org/se-pipeline/ontology/"
PARTNER_DATASET = "https://w3id.org/se-pipeline/source/partner_a"
ODC_BY = "https://opendatacommons.org/licenses/by/1-0/"
DCAT_AP = ROOT.parent / "shared" / "reference" / "dcat-ap" / "3.0.1"


def a_iri(member_id: int) -> str:
    return f"{A_BASE}wfto/{member_id}"


def _only(keep: list[str]) -> dict[str, dict]:
    return {name: {"enabled": False} for name in bundled_sources() if name not in keep}


def _run(config: Path, output: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "SE_PIPELINE_SHACL": "fast"}
    env.pop("SE_PIPELINE_CONFIG", None)
    done = subprocess.run(CLI + ["run", "--config", str(config), "--output", str(output)],
                          capture_output=True, text=True, timeout=300, env=env, cwd=ROOT)
    return done


def _graph(release: Path, graph: str) -> dict[str, set[str]]:
    """{record IRI: its statements} of one named graph of a release's dataset.nq.gz."""
    out: dict[str, set[str]] = {}
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
            if q.graph_name.value == graph and isinstance(q.subject, ox.NamedNode):
                out.setdefault(q.subject.value.partition("#")[0], set()).add(str(q.triple))
    return out


def _catalog(release: Path) -> ox.Store:
    store = ox.Store()
    store.load(path=str(release / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    return store


def _objects(store: ox.Store, s: str, p: str) -> set[str]:
    return {q.object.value for q in store.quads_for_pattern(ox.NamedNode(s), ox.NamedNode(p), None, None)}


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("federation")
    a_out, b_out = tmp / "a" / "out", tmp / "b" / "out"
    a_out.mkdir(parents=True)
    (tmp / "b").mkdir()
    wfto = tmp / "a" / "wfto.json"
    wfto.write_bytes(WFTO.read_bytes())
    with loopback(a_out) as served:
        a_config = tmp / "a" / "config.yaml"
        a_config.write_text(yaml.safe_dump({
            "base_iri": A_BASE, "download_base": f"{served.url}releases/", "page_languages": ["en"],
            "geocoding": {"enabled": False},
            "sources": {**_only(["wfto"]), "wfto": {"url": wfto.as_uri()}},
        }), encoding="utf-8")
        b_config = tmp / "b" / "config.yaml"
        b_config.write_text(yaml.safe_dump({
            "page_languages": ["en"], "geocoding": {"enabled": False},
            "http": {"allow_private_addresses": True, "allow_http": True, "respect_robots": False},
            "sources": {**_only(["wfto"]),
                        "partner_a": {"kind": "dcat_catalog", "url": f"{served.url}latest/catalog.ttl"}},
        }), encoding="utf-8")
        yield tmp, a_config, a_out, b_config, b_out, wfto, served


def _dcat_ap_violations(catalog: Path) -> list[tuple[str, str]]:
    import pyshacl
    import rdflib

    shapes = rdflib.Graph()
    for name in ("shapes.ttl", "range.ttl"):
        shapes.parse(DCAT_AP / name, format="turtle")
    _, report, _ = pyshacl.validate(rdflib.Graph().parse(catalog, format="turtle"), shacl_graph=shapes,
                                    inference="none", allow_warnings=True)
    sh = rdflib.Namespace("http://www.w3.org/ns/shacl#")
    return [(str(report.value(r, sh.focusNode)), str(report.value(r, sh.resultMessage)))
            for r in report.subjects(sh.resultSeverity, sh.Violation)]


def _ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stderr[-3000:]


def test_two_instances_harvest_follow_and_refuse_a_tampered_dump(instances) -> None:
    tmp, a_config, a_out, b_config, b_out, wfto, served = instances
    _ok(_run(a_config, a_out))
    a1 = (a_out / "latest").resolve()
    a_records = _graph(a1, "https://w3id.org/se-pipeline/graph/wfto")
    assert a_iri(1021) in a_records and len(a_records) > 10

    # 1. B's first run imports A's dump, checksum verified, under A's IRIs.
    served.requests.clear()
    _ok(_run(b_config, b_out))
    assert served.requests == ["/latest/catalog.ttl", f"/releases/{a1.name}/dataset.nq.gz"]  # spdx:checksum: no SHA256SUMS
    b1 = (b_out / "latest").resolve()
    b_partner = _graph(b1, "https://w3id.org/se-pipeline/graph/partner_a")
    assert set(b_partner) == set(a_records)  # A's IRIs, none re-minted
    for iri, statements in a_records.items():  # A's statements pass through, our source named
        mine = {s for s in b_partner[iri] if f"<{DCT}source>" not in s and f"<{PROV}wasDerivedFrom>" not in s}
        theirs = {s for s in statements if f"<{DCT}source>" not in s}
        assert mine == theirs, iri
        assert f"<{iri}> <{DCT}source> <{PARTNER_DATASET}>" in b_partner[iri]
    catalog = _catalog(b1)
    assert _objects(catalog, PARTNER_DATASET, DCT + "license") == {ODC_BY}
    assert _objects(catalog, PARTNER_DATASET, PROV + "wasDerivedFrom") >= {
        f"https://w3id.org/se-pipeline/release/{a1.name}"}
    attribution = _objects(catalog, PARTNER_DATASET, SEP + "attribution")
    assert attribution and "se-pipeline" in next(iter(attribution))
    if DCAT_AP.is_dir():  # harvesters read our catalog through the official shapes (../shared when present)
        assert _dcat_ap_violations(b1 / "catalog.ttl") == []
    # B's own WFTO copy and A's records are the same enterprises: the identity stage links them.
    links = _graph(b1, "https://w3id.org/se-pipeline/graph/links")
    assert any(a_iri(1021) in s for statements in links.values() for s in statements)
    assert not (b1 / "id" / "partner_a").exists()  # A's IRIs are A's to dereference

    # 2. A's second release: 3 changed, 1 withdrawn; B follows the event stream only.
    data = json.loads(wfto.read_text(encoding="utf-8"))
    data["members"] = [{**m, "name": f"{m['name']} (renamed)"} if isinstance(m, dict) and m.get("id") in RENAMED else m
                       for m in data["members"] if not (isinstance(m, dict) and m.get("id") == REMOVED)]
    wfto.write_text(json.dumps(data), encoding="utf-8")
    _ok(_run(a_config, a_out))
    a2 = (a_out / "latest").resolve()
    assert a2 != a1
    served.requests.clear()
    _ok(_run(b_config, b_out))
    assert served.requests == ["/latest/catalog.ttl", f"/releases/{a2.name}/changes.ttl",
                               f"/releases/{a2.name}/changes/{a2.name}/1.trig"]  # no dump downloaded again
    harvested = json.loads((b_out / "state" / "partner_a" / "good" / "status.json").read_text())["notes"]["harvest"]
    assert harvested["mode"] == "stream" and harvested["members"] == 4
    assert (harvested["updated"], harvested["withdrawn"]) == (3, 1)
    b2 = (b_out / "latest").resolve()
    with (b2 / "changelog.csv").open(encoding="utf-8", newline="") as f:
        rows = {(r["source"], r["change"], r["record"]) for r in csv.DictReader(f)}
    assert rows == {("partner_a", "changed", a_iri(i)) for i in (*RENAMED, REMOVED)}
    b2_partner = _graph(b2, "https://w3id.org/se-pipeline/graph/partner_a")
    assert any("(renamed)" in s for s in b2_partner[a_iri(1021)])
    assert any("Withdrawn" in s for s in b2_partner[a_iri(REMOVED)])

    # 3. A's dump tampered with; a B without stream state refuses it, republishes last good.
    (b_out / "state" / "partner_a" / "good" / "stream.json").unlink()
    dump = f"/releases/{a2.name}/dataset.nq.gz"
    served.tampered[dump] = gzip.compress(b"<https://a.example.org/id/wfto/1> <http://schema.org/name> \"x\" .\n")
    served.requests.clear()
    done = _run(b_config, b_out)
    assert served.requests == ["/latest/catalog.ttl", dump], done.stderr[-3000:]
    b3 = (b_out / "latest").resolve()
    assert b3 != b2, done.stderr[-3000:]
    catalog = _catalog(b3)
    reason = _objects(catalog, PARTNER_DATASET, SEP + "staleReason")
    assert len(reason) == 1 and "ChecksumMismatch" in next(iter(reason)) and served.url + dump[1:] in next(iter(reason))
    assert _objects(catalog, PARTNER_DATASET, SEP + "stale") == {"true"}
    assert _graph(b3, "https://w3id.org/se-pipeline/graph/partner_a") == b2_partner

"""Three publishers on loopback, through the real `se-pipeline run`: C (a partner that is
not se-pipeline) publishes; instance A harvests C beside its own WFTO copy; instance B
harvests both A and C. B takes C's records from C, once: A's second-hand copy of them is
left out (its catalog says that part of its release is derived from another dataset), so
no enterprise is in B's release twice, each under its own publisher's licence."""
from __future__ import annotations

import csv
import gzip
import json
from collections import defaultdict
from pathlib import Path

import dagster as dg
import pyoxigraph as ox
import yaml

from se_pipeline.sources.registry import bundled_sources
from tests.sources.dcat_catalog.instances import run_instance
from tests.sources.dcat_catalog.loopback import loopback
from tests.sources.dcat_catalog.test_harvest import REDE, _partner

TYPE, INITIATIVE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type", "http://purl.org/essglobal/vocab/SSEInitiative"
B_BASE = "https://w3id.org/se-pipeline/id/"  # B's (the default)
HTTP = {"allow_private_addresses": True, "allow_http": True, "respect_robots": False}


def _graphs_of_records(release: Path) -> dict[str, set[str]]:
    """{enterprise IRI: the named graphs (sources) that hold it}."""
    found: dict[str, set[str]] = defaultdict(set)
    with gzip.open(release / "dataset.nq.gz", "rb") as f:
        for q in ox.parse(f, format=ox.RdfFormat.N_QUADS):
            if q.predicate.value == TYPE and q.object.value == INITIATIVE:
                found[q.subject.value].add(q.graph_name.value.rsplit("/", 1)[-1])
    return found


def test_an_enterprise_harvested_through_two_partners_is_taken_once_from_its_publisher(tmp_path: Path) -> None:
    _partner(tmp_path / "c")
    off = {name: {"enabled": False} for name in bundled_sources()}
    a_out = tmp_path / "a" / "out"
    a_out.mkdir(parents=True)
    with loopback(tmp_path / "c") as c, loopback(a_out) as a:
        a_config = tmp_path / "a.yaml"
        a_config.write_text(yaml.safe_dump({
            "base_iri": "https://a.example.org/id/", "download_base": f"{a.url}releases/", "page_languages": ["en"],
            "geocoding": {"enabled": False}, "http": HTTP,
            "sources": {**off, "wfto": {"enabled": True}, "rede": {"kind": "dcat_catalog", "url": f"{c.url}catalog.ttl"}},
        }), encoding="utf-8")
        a_release = run_instance(a_config, a_out)
        b_config = tmp_path / "b.yaml"
        b_config.write_text(yaml.safe_dump({
            "page_languages": ["en"], "geocoding": {"enabled": False}, "http": HTTP,
            "sources": {**off, "partner_a": {"kind": "dcat_catalog", "url": f"{a.url}latest/catalog.ttl"},
                        "rede": {"kind": "dcat_catalog", "url": f"{c.url}catalog.ttl"}},
        }), encoding="utf-8")
        b_release = run_instance(b_config, tmp_path / "b")

    in_a = _graphs_of_records(a_release)
    from_c = {iri for iri, graphs in in_a.items() if graphs == {"rede"}}
    own_a = {iri for iri, graphs in in_a.items() if graphs == {"wfto"}}
    assert any(iri.startswith(REDE) for iri in from_c) and own_a
    in_b = _graphs_of_records(b_release)
    # From C itself: all that A took but the record C says about B's namespace, which B refuses.
    assert {iri for iri, graphs in in_b.items() if graphs == {"rede"}} == {i for i in from_c if not i.startswith(B_BASE)}
    assert {iri for iri, graphs in in_b.items() if graphs == {"partner_a"}} == own_a  # A's own, not A's copy of C's
    assert all(len(graphs) == 1 for graphs in in_b.values())
    with (b_release / "standard.csv").open(newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == len(in_b)                              # one row (map point) each
    status = json.loads((tmp_path / "b" / "state" / "partner_a" / "good" / "status.json").read_text(encoding="utf-8"))
    assert status["notes"]["harvest"]["republished_left_out"] == len(from_c)
    # The steward sees it in the Dagster UI: the partner's materialisation says what was harvested and left out.
    with dg.DagsterInstance.from_config(str(tmp_path / "b" / ".dagster")) as instance:
        event = instance.get_latest_materialization_event(dg.AssetKey("partner_a"))
    harvest = event.asset_materialization.metadata["harvest"].value
    assert harvest["mode"] == "dump" and harvest["republished_left_out"] == len(from_c)

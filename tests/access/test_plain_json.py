"""The release's JSON read the way most developers read it: `json.load`, no JSON-LD library."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pyoxigraph as ox
from pyld import jsonld as pyld

from se_pipeline.namespaces import GEO, SCHEMA
from se_pipeline.release.gate import fingerprint
from se_pipeline.release.jsonld import CONTEXT_FILE, TERMS, context


def test_every_enterprise_document_is_one_object_with_name_and_address(sample_release: Path) -> None:
    store = ox.Store()
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    docs = sorted((sample_release / "id").rglob("*.jsonld"))
    assert len(docs) > 300
    located = 0
    for path in docs:
        doc = json.loads(path.read_text(encoding="utf-8"))
        e = ox.NamedNode(doc["@id"])
        a = ox.NamedNode(doc["@id"] + "#address")

        def one(s: ox.NamedNode, p: str) -> str | None:
            return next((q.object.value for q in store.quads_for_pattern(s, ox.NamedNode(p), None, None)), None)

        assert doc["name"] == one(e, SCHEMA + "name"), path
        address = doc["address"]
        assert isinstance(address, dict) and address["@id"] == a.value
        for key in ("postalCode", "addressLocality", "addressCountry", "streetAddress"):
            assert address.get(key) == one(a, SCHEMA + key), (path, key)
        if one(e, GEO + "lat") is not None:
            assert float(doc["lat"]) == float(one(e, GEO + "lat")) and float(doc["long"]) == float(one(e, GEO + "long"))
            located += 1
        assert isinstance(doc.get("url", []), list)  # repeatable properties are always arrays
    assert located > 150


def test_the_release_context_names_every_property_the_release_uses(sample_release: Path) -> None:
    published = json.loads((sample_release / CONTEXT_FILE).read_text(encoding="utf-8"))
    assert published == {"@context": context()}
    store = ox.Store()
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        store.load(f, format=ox.RdfFormat.N_QUADS)
    used = {r["p"].value for r in store.query("SELECT DISTINCT ?p WHERE { GRAPH ?g { ?s ?p ?o } }")}
    named = {iri for iri, _, _ in TERMS.values()}
    assert used - named == {"http://www.w3.org/1999/02/22-rdf-syntax-ns#type"}


def test_dataset_jsonld_reads_with_terms_and_expands_offline(sample_release: Path) -> None:
    doc = json.loads((sample_release / "dataset.jsonld").read_text(encoding="utf-8"))
    nodes: dict[str, dict] = {}
    for g in doc["@graph"]:
        ids = [n["@id"] for n in g["@graph"]]
        # One node object per subject and graph (docs/partners.md): a reader indexing the
        # nodes by "@id" loses nothing. The outlets' and links' graphs name a subject on
        # lines far apart (a parent per outlet, a record per link).
        assert len(ids) == len(set(ids)), g["@id"]
        for n in g["@graph"]:
            nodes.setdefault(n["@id"], {}).update(n)  # a subject of several graphs: one object here
    enterprises = [n for n in nodes.values() if "SSEInitiative" in n.get("@type", [])]
    assert len(enterprises) > 300
    assert all(isinstance(n["name"], str) and isinstance(n["address"], str) for n in enterprises)
    with_postcode = [n for n in enterprises if "postalCode" in nodes[n["address"]]]
    assert with_postcode and all(isinstance(nodes[n["address"]]["postalCode"], str) for n in with_postcode)
    expanded = pyld.to_rdf(doc, {"format": "application/n-quads"})  # embedded context: no document loader needed
    with gzip.open(sample_release / "dataset.nq.gz", "rb") as f:
        nquads = f.read()
    assert sorted(set(expanded.splitlines())) == sorted(set(nquads.decode("utf-8").splitlines()))
    # and the parser the release gate uses above 30 MB: Oxigraph's, in the streaming profile
    streamed = ox.parse(path=str(sample_release / "dataset.jsonld"), format=ox.RdfFormat.STREAMING_JSON_LD)
    assert fingerprint(streamed) == fingerprint(ox.parse(nquads, format=ox.RdfFormat.N_QUADS))

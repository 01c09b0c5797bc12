"""The streamed JSON-LD writer: a real @context, and readable by both JSON-LD parsers.

Above `gate.PYLD_MAX_BYTES` the release gate re-reads dataset.jsonld with Oxigraph's
streaming-profile parser (constant memory), which refuses a document whose objects do not
put "@type" first; below it pyld expands it offline. Both must give back every quad.
"""
from __future__ import annotations

import io
import json

import pyoxigraph as ox
import pytest
from pyld import jsonld as pyld

from se_pipeline.release import gate
from se_pipeline.release.jsonld import write_jsonld

G1, G2 = ox.NamedNode("https://w3id.org/se-pipeline/graph/a"), ox.NamedNode("https://w3id.org/se-pipeline/graph/b")
E = ox.NamedNode("https://w3id.org/se-pipeline/id/a/1")
QUADS = [
    ox.Quad(E, ox.NamedNode("https://schema.org/name"), ox.Literal('Café "Le Zinc" <b>'), G1),
    ox.Quad(E, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.NamedNode("http://purl.org/essglobal/vocab/SSEInitiative"), G1),
    ox.Quad(E, ox.NamedNode("https://schema.org/foundingDate"),
            ox.Literal("1999-05-01", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")), G1),
    ox.Quad(E, ox.NamedNode("https://schema.org/description"), ox.Literal("coopérative", language="fr"), G1),
    ox.Quad(ox.NamedNode(E.value + "#address"), ox.NamedNode("https://schema.org/postalCode"), ox.Literal("S1 1AA"), G1),
    ox.Quad(E, ox.NamedNode("http://www.w3.org/2002/07/owl#sameAs"), ox.NamedNode("https://w3id.org/se-pipeline/id/b/9"), G2),
]


def _written() -> str:
    out = io.StringIO()
    graphs = [(g, [q for q in QUADS if q.graph_name == g]) for g in (G1, G2)]
    assert write_jsonld([(ox.DefaultGraph(), []), *graphs], out) == len(QUADS)  # an empty graph is left out
    return out.getvalue()


def test_streaming_profile_parser_reads_back_every_quad() -> None:
    parsed = ox.parse(_written().encode("utf-8"), format=ox.RdfFormat.STREAMING_JSON_LD)
    assert gate.fingerprint(parsed) == gate.fingerprint(QUADS)


def test_pyld_expands_it_offline_to_the_same_quads() -> None:
    doc = json.loads(_written())
    assert isinstance(doc["@context"], dict) and doc["@context"]["essglobal"] == "http://purl.org/essglobal/vocab/"
    node = doc["@graph"][0]["@graph"][0]
    assert node["name"] == 'Café "Le Zinc" <b>' and node["foundingDate"] == "1999-05-01"
    nquads = pyld.to_rdf(doc, {"format": "application/n-quads"})
    assert gate.fingerprint(ox.parse(nquads.encode("utf-8"), format=ox.RdfFormat.N_QUADS)) == gate.fingerprint(QUADS)


def test_a_document_breaking_the_streaming_profile_fails_the_gate(tmp_path, monkeypatch) -> None:
    """The gate never falls back to a lenient read: @type after other keys is an error."""
    doc = {"@context": {}, "@graph": [{"@id": E.value, "https://schema.org/name": "x", "@type": "https://schema.org/Thing"}]}
    (tmp_path / "dataset.jsonld").write_text(json.dumps(doc), encoding="utf-8")
    monkeypatch.setattr(gate, "PYLD_MAX_BYTES", 0)
    with (tmp_path / "dataset.jsonld").open("rb") as f, pytest.raises(SyntaxError, match="@type"):
        gate.fingerprint(gate._jsonld_quads(f, 0, (tmp_path / "dataset.jsonld").stat().st_size))


HOSTILE = [
    ox.Quad(E, ox.NamedNode("https://schema.org/name"), ox.Literal('q"uote \\ back\tslash\x01\u2028 ✓ 🌍'), G1),
    ox.Quad(E, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"), ox.NamedNode("https://schema.org/Thing"), G1),
    ox.Quad(E, ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
            ox.Literal("not a class"), G1),  # a literal type is a plain property, not "@type"
    ox.Quad(E, ox.NamedNode("https://example.org/no-prefix#p"), ox.BlankNode("b0"), G1),
    ox.Quad(E, ox.NamedNode("https://schema.org/description"), ox.Literal("ação\n", language="pt-BR"), G1),
    ox.Quad(E, ox.NamedNode("https://schema.org/description"), ox.Literal("x", language="en"), G1),
    ox.Quad(ox.BlankNode("b0"), ox.NamedNode("http://www.w3.org/2003/01/geo/wgs84_pos#lat"),
            ox.Literal("51.5", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")), G1),
]


def test_each_node_is_exactly_what_json_dumps_writes() -> None:
    """The writer builds each node's JSON as text: every node line must be the bytes
    `json.dumps(..., ensure_ascii=False)` gives for the object it parses to, "@type" first."""
    out = io.StringIO()
    write_jsonld([(G1, HOSTILE)], out)
    nodes = [line.strip().rstrip(",") for line in out.getvalue().split("\n") if line.startswith("   {")]  # not splitlines: U+2028 is raw
    assert len(nodes) == 2
    for text in nodes:
        obj = json.loads(text)
        assert text == json.dumps(obj, ensure_ascii=False)
    first = json.loads(nodes[0])
    assert list(first)[:2] == ["@type", "@id"] and first["@type"] == ["schema:Thing"]
    assert first["name"] == HOSTILE[0].object.value  # a term: the plain JSON string
    assert first["rdf:type"] == "not a class"
    assert first["schema:description"] == [{"@value": "ação\n", "@language": HOSTILE[4].object.language}, {"@value": "x", "@language": "en"}]
    parsed = ox.parse(out.getvalue().encode("utf-8"), format=ox.RdfFormat.STREAMING_JSON_LD)
    assert gate.fingerprint(parsed) == gate.fingerprint(HOSTILE)

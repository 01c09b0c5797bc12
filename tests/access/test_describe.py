"""A static document's JSON-LD: one framed object plain JSON reads, holding exactly the record's statements."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import rdflib
from pyld import jsonld as pyld
from rdflib.compare import isomorphic

from se_pipeline.access.describe import Description, jsonld_document, to_jsonld
from se_pipeline.namespaces import DEFAULT_DATA_BASE, ESSGLOBAL, RDF_TYPE, SCHEMA, XSD

E = ox.NamedNode(DEFAULT_DATA_BASE + "coops_uk/R1")
A = ox.NamedNode(E.value + "#address")
HOSTILE = ['plain', 'quote " and \\ backslash', "new\nline\ttab\r", "\x00\x1f control", "é ü 中文 😀",
           "</script><script>alert(1)</script>", "\u2028 line separator", ""]


def _statements(text: str) -> tuple[ox.Triple, ...]:
    return (
        ox.Triple(E, ox.NamedNode(RDF_TYPE), ox.NamedNode(ESSGLOBAL + "SSEInitiative")),
        ox.Triple(E, ox.NamedNode(RDF_TYPE), ox.NamedNode(SCHEMA + "Organization")),
        ox.Triple(E, ox.NamedNode(SCHEMA + "name"), ox.Literal(text)),
        ox.Triple(E, ox.NamedNode(SCHEMA + "description"), ox.Literal(text, language="fr")),
        ox.Triple(E, ox.NamedNode(SCHEMA + "description"), ox.Literal(text + "2", language="pt-BR")),
        ox.Triple(E, ox.NamedNode(SCHEMA + "foundingDate"), ox.Literal("1999-05-01", datatype=ox.NamedNode(XSD + "date"))),
        ox.Triple(E, ox.NamedNode(SCHEMA + "value"), ox.Literal(text, datatype=ox.NamedNode("https://example.org/dt#x"))),
        ox.Triple(E, ox.NamedNode("https://example.org/no-prefix/p"), ox.NamedNode("https://example.org/o?q=1&r=é")),
        ox.Triple(E, ox.NamedNode(SCHEMA + "address"), A),
        ox.Triple(E, ox.NamedNode(RDF_TYPE), ox.BlankNode("b0")),          # a type that is no IRI stays a property
        ox.Triple(E, ox.NamedNode(SCHEMA + "knows"), ox.BlankNode("b1")),
        ox.Triple(A, ox.NamedNode(RDF_TYPE), ox.NamedNode(SCHEMA + "PostalAddress")),
        ox.Triple(A, ox.NamedNode(SCHEMA + "postalCode"), ox.Literal(text)),
        ox.Triple(ox.BlankNode("b1"), ox.NamedNode(SCHEMA + "name"), ox.Literal(text)),
    )


@pytest.mark.parametrize("text", HOSTILE)
def test_the_document_is_one_framed_object_holding_exactly_the_statements(text: str) -> None:
    d = Description(E.value, _statements(text))
    doc = json.loads(to_jsonld(d))
    assert doc == jsonld_document(d.statements)
    assert doc["@id"] == E.value and "@graph" not in doc
    assert doc["name"] == text and doc["foundingDate"] == "1999-05-01"     # plain JSON, no JSON-LD library
    assert doc["schema:address"]["@id"] == A.value and doc["schema:address"]["postalCode"] == text  # embedded
    assert [n["@id"] for n in doc["@included"]] == ["_:b1"]
    expanded = pyld.to_rdf(doc, {"format": "application/n-quads"})  # the context is embedded: no network
    ours = ox.serialize(d.statements, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
    assert isomorphic(rdflib.Graph().parse(data=expanded, format="nt"), rdflib.Graph().parse(data=ours, format="nt"))

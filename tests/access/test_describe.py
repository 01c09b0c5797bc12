"""A static document's JSON-LD, built as text, is exactly the JSON of its node objects."""
from __future__ import annotations

import json

import pyoxigraph as ox
import pytest

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
def test_text_built_jsonld_is_the_json_of_the_node_objects(text: str) -> None:
    d = Description(E.value, _statements(text))
    expected = json.dumps(jsonld_document(d.statements), ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert to_jsonld(d) == expected
    assert json.loads(to_jsonld(d))["@graph"][0]["schema:name"] == [{"@value": text}]

"""SERVICE / LOAD / Update refusal is precise: keywords only, never text inside literals, IRIs or names."""
import pytest

from se_pipeline.access.guard import RefusedQuery, check_query

ALLOWED = [
    'SELECT * WHERE { ?s ?p "SERVICE <http://evil.example/> { }" }',
    "SELECT * WHERE { ?s ?p '''multi\nline SERVICE LOAD''' }",
    "SELECT * WHERE { ?s <http://example.org/SERVICE> ?o }",
    "SELECT ?service WHERE { ?service ?p ?o }",
    "PREFIX ex: <http://example.org/> SELECT * WHERE { ?s ex:service ?o . ?s ex:LOAD ?x }",
    "SELECT * WHERE { ?s ?p ?o } # SERVICE <http://evil.example/> in a comment",
    'SELECT * WHERE { ?s ?p ?o FILTER(CONTAINS(?o, "insert data")) }',
    'SELECT * WHERE { ?s ?p "a \\" SERVICE" }',
]
REFUSED = [
    "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://evil.example/sparql> { ?s ?p ?o } }",
    'SELECT * WHERE { ?s ?p "x" . SERVICE ?endpoint { ?s ?p ?o } }',
    "LOAD <http://evil.example/data.ttl>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "PREFIX ex: <http://example.org/> DROP GRAPH ex:g",
]


@pytest.mark.parametrize("query", ALLOWED)
def test_harmless_mentions_are_allowed(query: str) -> None:
    check_query(query)


@pytest.mark.parametrize("query", REFUSED)
def test_service_load_and_updates_are_refused(query: str) -> None:
    with pytest.raises(RefusedQuery):
        check_query(query)

"""The guard decides on the parsed query: SERVICE / LOAD / Update refused wherever they hide, never for text
inside literals, IRIs, comments or names; the dataset follows SPARQL 1.1 (protocol over FROM over union)."""
import pytest

from se_pipeline.access.guard import Dataset, RefusedQuery, prepare

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
REFUSED_403 = [
    "SELECT * WHERE { SERVICE <http://evil.example/sparql> { ?s ?p ?o } }",
    "select * where { service silent <http://evil.example/sparql> { ?s ?p ?o } }",
    'SELECT * WHERE { ?s ?p "x" . SERVICE ?endpoint { ?s ?p ?o } }',
    "SELECT * WHERE { FILTER EXISTS { SERVICE <http://evil.example/> { ?s ?p ?o } } }",
    "SELECT * WHERE { { SELECT * WHERE { SERVICE <http://evil.example/> { ?s ?p ?o } } } }",
    "ASK { OPTIONAL { SERVICE <http://evil.example/> { ?s ?p ?o } } }",
    "SELECT * WHERE { \\u0053ERVICE <http://evil.example/> { ?s ?p ?o } }",  # codepoint escapes apply first
    "LOAD <http://evil.example/data.ttl>",
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "CLEAR ALL",
    "PREFIX ex: <http://example.org/> DROP GRAPH ex:g",
]


@pytest.mark.parametrize("query", ALLOWED)
def test_harmless_mentions_are_allowed(query: str) -> None:
    assert prepare(query).form == "SELECT"


@pytest.mark.parametrize("query", REFUSED_403)
def test_service_load_and_updates_are_refused(query: str) -> None:
    with pytest.raises(RefusedQuery) as e:
        prepare(query)
    assert e.value.status == 403


def test_the_issue_29_probe_never_passes() -> None:
    """`ex:a\\#b` is one prefixed name; whatever rdflib makes of the rest, the SERVICE never runs."""
    probe = ("PREFIX ex: <http://e/> SELECT ?s WHERE { VALUES ?x { ex:a\\#b } "
             "SERVICE <http://127.0.0.1:9/internal> { ?s ?p ?o } }")
    with pytest.raises(RefusedQuery) as e:
        prepare(probe)
    assert e.value.status in (400, 403)


@pytest.mark.parametrize("query", ["ASK {", "SELECT * WHERE " + "{" * 3000 + "}" * 3000, "SELECT * FROM <rel> {}"])
def test_bad_queries_are_400(query: str) -> None:
    with pytest.raises(RefusedQuery) as e:
        prepare(query)
    assert e.value.status == 400


def test_dataset_rules() -> None:
    q = "PREFIX ex: <http://e/> SELECT * FROM ex:g\\#x FROM NAMED <http://n/1> WHERE { ?s ?p ?o }"
    assert prepare("SELECT * { ?s ?p ?o }").dataset == Dataset(None, None)
    assert prepare(q).dataset == Dataset(("http://e/g#x",), ("http://n/1",))  # PN_LOCAL_ESC unescaped
    assert prepare(q, ["http://p/d"]).dataset == Dataset(("http://p/d",), ())  # protocol overrides the query
    assert prepare(q, [], ["http://p/n"]).dataset == Dataset((), ("http://p/n",))
    assert prepare("ASK {}", [""], [""]).dataset == Dataset(None, None)  # empty value: "not given" (Mykomap)
    with pytest.raises(RefusedQuery) as e:
        prepare("ASK {}", ["not an iri"])
    assert e.value.status == 400 and "default-graph-uri" in str(e.value)

"""`se-pipeline serve` over HTTP with real clients (SPARQLWrapper, rdflib SPARQLStore, a browser page on another
origin): formats, refusals, timeouts that really stop queries, the row cap, datasets (issue 24), dereferenceable
IRIs and store reuse. The W3C suites are in test_protocol.py, the hostile probes in test_security.py."""
from __future__ import annotations

import csv
import functools
import io
import json
import os
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import CSV, JSON, JSONLD, TSV, TURTLE, XML, SPARQLWrapper

from se_pipeline import QUERIES_DIR
from se_pipeline.access.server import ServeConfig, serve_in_thread
from se_pipeline.access.store import ensure_store
from se_pipeline.cli import main as cli_main
from tests.conftest import Chromium

MAX_ROWS = 500
TIMEOUT = 3.0
COUNT_ALL = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"
ENTERPRISE = "https://w3id.org/se-pipeline/id/coops_uk/R000001"


@pytest.fixture(scope="module")
def store_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("stores")


@pytest.fixture(scope="module")
def server(sample_release: Path, store_root: Path):
    srv = serve_in_thread(ServeConfig(release=sample_release, port=0, timeout=TIMEOUT, max_rows=MAX_ROWS,
                                      workers=2, store_root=store_root))
    yield srv
    srv.stop()


def http(server, method: str = "GET", params: dict | list | None = None, body: bytes | None = None,
         headers: dict | None = None, path: str = "/sparql") -> tuple[int, dict, bytes]:
    host, port = server.address
    url = f"http://{host}:{port}{path}"
    if params:
        url += "?" + urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def wrapper(server, fmt: str) -> SPARQLWrapper:
    w = SPARQLWrapper(server.url)
    w.setReturnFormat(fmt)
    return w


def total_quads(sample_release: Path) -> int:
    import gzip
    with gzip.open(sample_release / "dataset.nq.gz", "rt", encoding="utf-8") as f:
        return sum(1 for line in f if line.strip())


# -- SPARQLWrapper against the running server ---------------------------------------------

def test_select_json(server, sample_release: Path) -> None:
    w = wrapper(server, JSON)
    w.setQuery(COUNT_ALL)
    res = w.queryAndConvert()
    assert int(res["results"]["bindings"][0]["n"]["value"]) == total_quads(sample_release)


def test_select_xml(server, sample_release: Path) -> None:
    w = wrapper(server, XML)
    w.setQuery(COUNT_ALL)
    doc = w.queryAndConvert()  # xml.dom.minidom document
    assert doc.getElementsByTagName("literal")[0].firstChild.data == str(total_quads(sample_release))


@pytest.mark.parametrize("fmt,delimiter", [(CSV, ","), (TSV, "\t")])
def test_select_csv_tsv(server, sample_release: Path, fmt: str, delimiter: str) -> None:
    w = wrapper(server, fmt)
    w.setQuery(COUNT_ALL)
    text = w.queryAndConvert().decode("utf-8")
    rows = list(csv.reader(io.StringIO(text), delimiter=delimiter))
    assert rows[0][0].lstrip("?") == "n"
    assert int(rows[1][0].split("^^")[0].strip('"')) == total_quads(sample_release)


def test_ask(server) -> None:
    w = wrapper(server, JSON)
    w.setQuery(f"ASK {{ <{ENTERPRISE}> ?p ?o }}")
    assert w.queryAndConvert()["boolean"] is True
    w.setQuery("ASK { <http://example.org/nothing> ?p ?o }")
    assert w.queryAndConvert()["boolean"] is False


@pytest.mark.parametrize("fmt", [TURTLE, JSONLD])
def test_construct(server, fmt: str) -> None:
    w = wrapper(server, fmt)
    w.setQuery(f"CONSTRUCT {{ <{ENTERPRISE}> ?p ?o }} WHERE {{ <{ENTERPRISE}> ?p ?o }}")
    result = w.query()
    body = result.response.read()
    g = rdflib.Graph().parse(data=body.decode("utf-8"), format="turtle" if fmt == TURTLE else "json-ld")
    assert (rdflib.URIRef(ENTERPRISE), rdflib.URIRef("https://schema.org/name"), None) in g
    assert len(g) >= 10


@pytest.mark.parametrize("name", sorted(p.name for p in QUERIES_DIR.glob("*.rq")))
def test_every_example_query_over_http_matches_the_cli(server, sample_release: Path, name: str, capsys) -> None:
    assert cli_main(["query", f"@{QUERIES_DIR / name}", "--release", str(sample_release), "--format", "json"]) == 0
    cli = json.loads(capsys.readouterr().out)
    w = wrapper(server, JSON)
    w.setQuery((QUERIES_DIR / name).read_text(encoding="utf-8"))
    res = w.queryAndConvert()

    def rows(doc: dict) -> list[tuple]:
        return sorted(tuple(sorted((k, v["value"]) for k, v in b.items())) for b in doc["results"]["bindings"])

    assert res["head"]["vars"] == cli["head"]["vars"]
    assert rows(res) == rows(cli)


# -- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("method,kwargs", [
    ("GET", {"params": {"update": "INSERT DATA { <http://a> <http://b> <http://c> }"}}),
    ("POST", {"body": b"update=INSERT+DATA+%7B+%3Chttp%3A%2F%2Fa%3E+%3Chttp%3A%2F%2Fb%3E+%3Chttp%3A%2F%2Fc%3E+%7D",
              "headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("POST", {"body": b"CLEAR ALL", "headers": {"Content-Type": "application/sparql-update"}}),
    ("POST", {"body": b"DELETE WHERE { ?s ?p ?o }", "headers": {"Content-Type": "application/sparql-query"}}),
])
def test_updates_are_refused(server, method: str, kwargs: dict) -> None:
    status, _, body = http(server, method, **kwargs)
    assert status in (400, 403), body
    status, _, body = http(server, params={"query": COUNT_ALL})
    assert status == 200  # nothing was deleted
    assert int(json.loads(body)["results"]["bindings"][0]["n"]["value"]) > 0


@pytest.mark.parametrize("query", [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:9/sparql> { ?s ?p ?o } }",
    "LOAD <http://127.0.0.1:9/data.ttl>",
])
def test_service_and_load_are_refused(server, query: str) -> None:
    status, _, body = http(server, params={"query": query})
    assert status == 403 and (b"SERVICE" in body or b"LOAD" in body)


def test_service_inside_a_literal_is_not_refused(server) -> None:
    status, _, body = http(server, params={"query": 'SELECT ?x WHERE { BIND("SERVICE <http://x/> {}" AS ?x) }'})
    assert status == 200 and b"SERVICE" in body


def test_slow_query_is_stopped_at_its_timeout(server) -> None:
    killed = server.service.query_pool.killed
    t0 = time.monotonic()
    status, _, body = http(server, params={"query": SLOW})
    elapsed = time.monotonic() - t0
    assert status == 503 and b"timeout" in body
    assert TIMEOUT - 0.2 <= elapsed < TIMEOUT + 5
    assert server.service.query_pool.killed == killed + 1  # the worker running it was killed
    # and the service carries on
    assert http(server, params={"query": COUNT_ALL})[0] == 200


def test_row_cap(server, sample_release: Path) -> None:
    status, headers, body = http(server, params={"query": "SELECT * WHERE { ?s ?p ?o }"},
                                 headers={"Accept": "application/sparql-results+json"})
    assert status == 200 and total_quads(sample_release) > MAX_ROWS
    assert len(json.loads(body)["results"]["bindings"]) == MAX_ROWS
    assert headers["X-SPARQL-Truncated"] == "true" and headers["X-SPARQL-Max-Rows"] == str(MAX_ROWS)
    status, headers, body = http(server, params={"query": "CONSTRUCT WHERE { ?s ?p ?o }"},
                                 headers={"Accept": "application/n-triples"})
    assert len([line for line in body.decode().splitlines() if line.strip()]) == MAX_ROWS


def test_service_description_states_timeout_and_row_cap(server) -> None:
    status, headers, body = http(server, headers={"Accept": "text/turtle"})
    assert status == 200 and headers["Content-Type"].startswith("text/turtle")
    g = rdflib.Graph().parse(data=body.decode(), format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    sep = rdflib.Namespace("https://w3id.org/se-pipeline/ontology/")
    svc = next(g.subjects(rdflib.RDF.type, sd.Service))
    assert float(g.value(svc, sep.queryTimeout)) == TIMEOUT
    assert int(g.value(svc, sep.maxResultRows)) == MAX_ROWS
    assert (svc, sd.feature, sd.UnionDefaultGraph) in g
    assert len(list(g.objects(None, sd.namedGraph))) >= 11


# -- datasets (issue 24) and other clients ---------------------------------------------------

COOPS_UK = "https://w3id.org/se-pipeline/graph/coops_uk"


def count(server, query: str, **params) -> int:
    status, _, body = http(server, params={"query": query, **params}, headers={"Accept": "application/sparql-results+json"})
    assert status == 200, body
    return int(json.loads(body)["results"]["bindings"][0]["n"]["value"])


def test_from_counts_only_that_graph(server, quads) -> None:
    in_graph = sum(1 for *_, g in quads if str(g) == COOPS_UK)
    assert 0 < in_graph < len(quads)
    assert count(server, f"SELECT (COUNT(*) AS ?n) FROM <{COOPS_UK}> WHERE {{ ?s ?p ?o }}") == in_graph
    assert count(server, "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }") == 0
    assert count(server, COUNT_ALL) == len(quads)  # no FROM: the union of the named graphs
    # the protocol's dataset overrides the query's
    assert count(server, "SELECT (COUNT(*) AS ?n) FROM <urn:nothing> WHERE { ?s ?p ?o }",
                 **{"default-graph-uri": COOPS_UK}) == in_graph
    assert count(server, f"SELECT (COUNT(*) AS ?n) FROM NAMED <{COOPS_UK}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}") \
        == in_graph


def test_empty_graph_parameter_is_no_parameter_and_a_malformed_one_is_400(server, quads) -> None:
    # Mykomap's get_dataset.php always sends default-graph-uri=, empty when no graph is configured
    assert count(server, COUNT_ALL, **{"default-graph-uri": ""}) == len(quads)
    for name in ("default-graph-uri", "named-graph-uri"):
        for bad in ("not an iri", "relative/path", "http://exa mple/"):
            status, _, body = http(server, params={"query": COUNT_ALL, name: bad})
            assert status == 400 and name.encode() in body, (status, body)


def test_rdflib_sparqlstore_as_a_client(server, quads) -> None:
    store = SPARQLStore(server.url)  # its defaults: SPARQL XML results, RDF/XML graphs
    g = rdflib.Graph(store=store)
    rows = list(g.query(f"SELECT ?name WHERE {{ <{ENTERPRISE}> <https://schema.org/name> ?name }}"))
    assert [str(r[0]) for r in rows] == ["Co-operative Group Limited"]
    assert g.query(f"ASK {{ <{ENTERPRISE}> ?p ?o }}").askAnswer is True
    constructed = g.query(f"CONSTRUCT {{ <{ENTERPRISE}> ?p ?o }} WHERE {{ <{ENTERPRISE}> ?p ?o }}").graph
    expected = {(p, o) for s, p, o, _ in quads if str(s) == ENTERPRISE}
    assert {(p, o) for _, p, o in constructed} == expected
    store.close()


def test_sparqlwrapper_post_and_dataset(server) -> None:
    w = wrapper(server, JSON)
    w.setMethod("POST")
    w.addDefaultGraph("urn:nothing")
    w.setQuery(COUNT_ALL)
    assert w.queryAndConvert()["results"]["bindings"][0]["n"]["value"] == "0"


# -- dereferenceable IRIs ----------------------------------------------------------------

def test_dereference_enterprise_html(server) -> None:
    status, headers, body = http(server, path="/id/coops_uk/R000001", headers={"Accept": "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8"})
    assert status == 200 and headers["Content-Type"].startswith("text/html")
    text = body.decode()
    assert "Co-operative Group Limited" in text and ENTERPRISE in text and "<script" not in text


@pytest.mark.parametrize("accept,fmt", [("text/turtle", "turtle"), ("application/ld+json", "json-ld")])
def test_dereference_enterprise_rdf(server, accept: str, fmt: str) -> None:
    status, headers, body = http(server, path="/id/coops_uk/R000001", headers={"Accept": accept})
    assert status == 200 and headers["Content-Type"].split(";")[0] == accept
    g = rdflib.Graph().parse(data=body.decode(), format=fmt)
    subjects = {str(s) for s in g.subjects()}
    assert subjects == {ENTERPRISE, ENTERPRISE + "#address"}
    assert (rdflib.URIRef(ENTERPRISE + "#address"), rdflib.URIRef("https://schema.org/addressCountry"), rdflib.Literal("GB")) in g


def test_dereference_links_other_sources(server) -> None:
    status, _, body = http(server, path="/id/usfwc/1101", headers={"Accept": "text/html"})
    if status == 404:
        pytest.skip("sample has no usfwc/1101")
    assert b"/id/ncba/5012345601" in body  # owl:sameAs from the links graph, followed backwards


def test_dereference_keeps_percent_encoded_ids(server, quads) -> None:
    """Record ids are percent-encoded in their IRIs (`…%2F…`): the raw request path is the IRI, never decoded."""
    base = "https://w3id.org/se-pipeline/id/"
    encoded = sorted({str(s) for s, *_ in quads if str(s).startswith(base) and "%" in str(s) and "#" not in str(s)})
    assert encoded, "the sample release has records whose ids need percent-encoding"
    status, _, body = http(server, path="/id/" + encoded[0][len(base):], headers={"Accept": "application/n-triples"})
    assert status == 200 and f"<{encoded[0]}>".encode() in body


def test_unknown_iri_is_404(server) -> None:
    assert http(server, path="/id/coops_uk/NO-SUCH-RECORD", headers={"Accept": "text/turtle"})[0] == 404


def test_well_known_void(server) -> None:
    status, headers, body = http(server, path="/.well-known/void", headers={"Accept": "text/turtle"})
    assert status == 200
    g = rdflib.Graph().parse(data=body.decode(), format="turtle")
    assert any(g.subjects(rdflib.RDF.type, rdflib.URIRef("http://rdfs.org/ns/void#Dataset")))
    status, headers, body = http(server, path="/.well-known/void", headers={"Accept": "application/ld+json"})
    assert status == 200 and len(rdflib.Graph().parse(data=body.decode(), format="json-ld")) == len(g)


# -- the on-disk store -------------------------------------------------------------------

def test_restart_reuses_the_on_disk_store(server, sample_release: Path, store_root: Path) -> None:
    info = server.service.store
    assert info.marker.is_file()
    before = info.marker.stat().st_mtime_ns
    srv = serve_in_thread(ServeConfig(release=sample_release, port=0, timeout=TIMEOUT, max_rows=MAX_ROWS,
                                      workers=1, store_root=store_root))
    try:
        assert srv.service.store.loaded_now is False
        assert info.marker.stat().st_mtime_ns == before
        assert http(srv, params={"query": COUNT_ALL})[0] == 200
    finally:
        srv.stop()


def test_a_crash_mid_load_rebuilds(sample_release: Path, tmp_path: Path) -> None:
    first = ensure_store(sample_release, tmp_path)
    assert first.loaded_now and json.loads(first.marker.read_text())["quads"] == total_quads(sample_release)
    first.marker.unlink()  # as if the process died before the marker was written
    (first.path / "garbage").write_bytes(b"x")
    again = ensure_store(sample_release, tmp_path)
    assert again.loaded_now and again.marker.is_file() and not (again.path / "garbage").exists()
    assert ensure_store(sample_release, tmp_path).loaded_now is False
    assert os.path.commonpath([again.path, sample_release]) != str(sample_release)  # never inside the release


# -- a browser page on another origin ------------------------------------------------------------

PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>pending</title></head><body><pre id="out"></pre>
<script>
fetch(%(endpoint)s, {method: "POST", headers: {"Content-Type": "application/sparql-query",
      "Accept": "application/sparql-results+json"}, body: %(query)s})
  .then(r => r.json().then(j => { document.getElementById("out").textContent =
      "count=" + j.results.bindings[0].n.value + " rows=" + r.headers.get("X-SPARQL-Result-Count"); }))
  .catch(e => { document.getElementById("out").textContent = "error=" + e; });
</script></body></html>"""


@pytest.mark.browser
def test_endpoint_usable_from_a_browser_page_on_another_origin(server, sample_release: Path, tmp_path: Path,
                                                               chromium: Chromium) -> None:
    """A real browser: a POST of application/sparql-query is preflighted (CORS), then read, headers included."""
    (tmp_path / "page.html").write_text(PAGE % {"endpoint": json.dumps(server.url), "query": json.dumps(COUNT_ALL)},
                                        encoding="utf-8")
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(tmp_path))
    other = ThreadingHTTPServer(("127.0.0.1", 0), handler)  # another port: another origin
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        page = f"http://127.0.0.1:{other.server_address[1]}/page.html"
        dom = chromium.dom("--virtual-time-budget=15000", page)
    finally:
        other.shutdown()
        other.server_close()
    assert f"count={total_quads(sample_release)} rows=1" in dom, dom[-500:]

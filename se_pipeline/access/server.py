"""`se-pipeline serve`: a read-only SPARQL 1.1 Protocol endpoint over one release.

Routes (all GET/HEAD, and POST for the endpoint):

* `/sparql` — SPARQL 1.1 Protocol query operation: `GET ?query=`, `POST` form
  (`application/x-www-form-urlencoded`, `query=`) or direct (`application/sparql-query`),
  optional `default-graph-uri` / `named-graph-uri`. Results by content negotiation
  (SELECT/ASK: SPARQL JSON, XML, CSV, TSV; CONSTRUCT/DESCRIBE: Turtle, N-Triples,
  JSON-LD, RDF/XML). Without a query: the SPARQL Service Description (Turtle).
  The default graph is the union of the named graphs.
* `/id/<source>/<id>` — the enterprise IRI `<base><source>/<id>` dereferenced: HTML for
  browsers, Turtle / JSON-LD / N-Triples by Accept; 404 if unknown.
* `/.well-known/void` — the release's catalog (VoID + DCAT) by Accept.
* `/` — the release's landing page (`index.html`) when it has one.

Refused: SPARQL Update (`update=` via GET: 400; via POST or `application/sparql-update`:
403), `LOAD` and `SERVICE` (403), bad or repeated query strings (400). Each query runs
in a worker process killed at the timeout (503), and answers at most `max_rows`
solutions or triples (header `X-SPARQL-Truncated: true` when cut).
"""
from __future__ import annotations

import json
import signal
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pyoxigraph as ox

from se_pipeline.access import describe as desc
from se_pipeline.access.guard import RefusedQuery, check_query
from se_pipeline.access.pages import render
from se_pipeline.access.query import resolve_release
from se_pipeline.access.store import StoreInfo, ensure_store
from se_pipeline.access.workers import GRAPH, GRAPH_MEDIA, Busy, QueryTimeout, WorkerPool, negotiate, parse_accept
from se_pipeline.namespaces import DEFAULT_DATA_BASE, PREFIXES, SEP, VOID, XSD

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
MAX_BODY = 1 << 20
ENDPOINT_PATH = "/sparql"


@dataclass
class ServeConfig:
    release: Path
    host: str = "127.0.0.1"
    port: int = 8000
    timeout: float = 30.0
    max_rows: int = 10000
    workers: int = 2
    base_iri: str = DEFAULT_DATA_BASE
    store_root: Path | None = None


@dataclass
class ServiceState:
    config: ServeConfig
    release: Path
    store: StoreInfo
    pool: WorkerPool
    graph_counts: dict[str, int] = field(default_factory=dict)
    catalog: list[ox.Triple] = field(default_factory=list)


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, headers or {}


def _decode_utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the request is not valid UTF-8") from None


def _form(raw: str) -> dict[str, list[str]]:
    try:
        return parse_qs(raw, keep_blank_values=True, strict_parsing=False, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, "the request parameters are not valid UTF-8") from None


def service_description(state: ServiceState, endpoint: str) -> list[ox.Triple]:
    t: list[ox.Triple] = []
    n, lit = ox.NamedNode, ox.Literal
    svc, ds, dg = n(endpoint), ox.BlankNode("dataset"), ox.BlankNode("default")
    a = n(PREFIXES["rdf"] + "type")
    add = lambda s, p, o: t.append(ox.Triple(s, n(p) if isinstance(p, str) else p, o))  # noqa: E731
    add(svc, a, n(SD + "Service"))
    add(svc, SD + "endpoint", svc)
    add(svc, SD + "supportedLanguage", n(SD + "SPARQL11Query"))
    add(svc, SD + "feature", n(SD + "UnionDefaultGraph"))
    for f in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
              "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        add(svc, SD + "resultFormat", n(FORMATS + f))
    add(svc, PREFIXES["dcterms"] + "description", lit(
        f"Read-only SPARQL 1.1 endpoint over se-pipeline release {state.release.name}. "
        f"Queries are stopped after {state.config.timeout:g} seconds; at most {state.config.max_rows} result rows "
        "(or triples) are returned. SPARQL Update, LOAD and SERVICE are refused. "
        "The default graph is the union of the named graphs.", language="en"))
    add(svc, SEP + "queryTimeout", lit(f"{state.config.timeout:g}", datatype=n(XSD + "decimal")))
    add(svc, SEP + "maxResultRows", lit(str(state.config.max_rows), datatype=n(XSD + "integer")))
    add(svc, SD + "defaultDataset", ds)
    add(ds, a, n(SD + "Dataset"))
    add(ds, PREFIXES["dcterms"] + "source", n(f"https://w3id.org/se-pipeline/release/{state.release.name}"))
    add(ds, SD + "defaultGraph", dg)
    add(dg, a, n(SD + "Graph"))
    add(dg, VOID + "triples", lit(str(state.store.quads), datatype=n(XSD + "integer")))
    for i, (g, count) in enumerate(sorted(state.graph_counts.items())):
        ng, gr = ox.BlankNode(f"ng{i}"), ox.BlankNode(f"g{i}")
        add(ds, SD + "namedGraph", ng)
        add(ng, a, n(SD + "NamedGraph"))
        add(ng, SD + "name", n(g))
        add(ng, SD + "graph", gr)
        add(gr, a, n(SD + "Graph"))
        add(gr, VOID + "triples", lit(str(count), datatype=n(XSD + "integer")))
    return t


def _rdf_body(triples: list[ox.Triple], fmt: str) -> tuple[str, bytes]:
    media, ox_fmt = GRAPH[fmt]
    if fmt == "jsonld":
        return media, json.dumps(desc.jsonld_document(triples), ensure_ascii=False, indent=1).encode("utf-8")
    if fmt in ("turtle", "n3"):
        return media, ox.serialize(triples, format=ox_fmt, prefixes={**PREFIXES, "sd": SD})
    return media, ox.serialize(triples, format=ox_fmt)


class Handler(BaseHTTPRequestHandler):
    server_version = "se-pipeline-sparql/1"
    protocol_version = "HTTP/1.1"
    state: ServiceState  # set on the subclass made by make_server

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default; the CLI turns logging on
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    # -- plumbing ---------------------------------------------------------------------

    def _send(self, status: int, body: bytes, media: str, headers: dict[str, str] | None = None) -> None:
        if media.startswith("text/") or media in ("application/n-triples",):
            media += "; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Vary", "Accept")
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, e: HttpError) -> None:
        self._send(e.status, (e.message.rstrip() + "\n").encode("utf-8"), "text/plain", e.headers)

    def _dispatch(self) -> None:
        try:
            url = urlsplit(self.path)
            if url.path in (ENDPOINT_PATH, ENDPOINT_PATH + "/"):
                self._endpoint(url.query)
            elif url.path.startswith("/id/"):
                self._deref(url.path, url.query)
            elif url.path in ("/.well-known/void", "/.well-known/void/"):
                self._void()
            elif url.path in ("/", "/index.html"):
                self._landing()
            else:
                raise HttpError(404, f"not found: {url.path}")
        except HttpError as e:
            self._error(e)

    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def _not_allowed(self) -> None:
        self._error(HttpError(405, f"method {self.command} not allowed; use GET or POST", {"Allow": "GET, HEAD, POST"}))

    do_PUT = do_DELETE = do_PATCH = _not_allowed  # noqa: N815

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            raise HttpError(413, f"request body larger than {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    # -- the SPARQL endpoint -----------------------------------------------------------

    def _endpoint_url(self) -> str:
        return f"http://{self.headers.get('Host') or '%s:%d' % self.server.server_address[:2]}{ENDPOINT_PATH}"

    def _endpoint(self, raw_query: str) -> None:
        params = _form(raw_query)
        if self.command == "POST":
            body = self._body()
            ctype = (self.headers.get("Content-Type") or "").split(";")
            media = ctype[0].strip().lower()
            charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in ctype[1:]
                            if p.strip().lower().startswith("charset=")), "utf-8")
            if charset not in ("utf-8", "utf8"):
                raise HttpError(400, f"only UTF-8 requests are accepted (got charset={charset})")
            if media == "application/x-www-form-urlencoded":
                if "query" in params or "update" in params:
                    raise HttpError(400, "with a form POST, query and update go in the body, not the URL")
                for k, v in _form(_decode_utf8(body)).items():
                    params.setdefault(k, []).extend(v)
            elif media == "application/sparql-query":
                if "query" in params or "update" in params:
                    raise HttpError(400, "a direct POST carries the query in the body only")
                params["query"] = [_decode_utf8(body)]
            elif media == "application/sparql-update":
                raise HttpError(403, "SPARQL Update is not allowed: this endpoint is read-only")
            elif not media:
                raise HttpError(400, "POST needs Content-Type application/x-www-form-urlencoded or application/sparql-query")
            else:
                raise HttpError(415, f"unsupported Content-Type {media}; use application/x-www-form-urlencoded "
                                     "or application/sparql-query")
        if "update" in params:
            if self.command != "POST":
                raise HttpError(400, "SPARQL Update must use POST, and this endpoint is read-only anyway")
            raise HttpError(403, "SPARQL Update is not allowed: this endpoint is read-only")
        queries = params.get("query", [])
        if not queries:
            self._service_description()
            return
        if len(queries) > 1:
            raise HttpError(400, "exactly one query string is allowed")
        text = queries[0]
        try:
            check_query(text)
        except RefusedQuery as e:
            raise HttpError(e.status, str(e)) from None
        st = self.state
        fmt = next((v[0] for k in ("format", "output", "results") if (v := params.get(k)) and v[0]), None)
        job = {"kind": "query", "query": text, "accept": self.headers.get("Accept"), "format": fmt,
               "default_graphs": params.get("default-graph-uri", []), "named_graphs": params.get("named-graph-uri", []),
               "max_rows": st.config.max_rows}
        answer = self._run(job)
        if answer[0] == "error":
            raise HttpError(answer[1], answer[2])
        _, media, body, truncated, count = answer
        headers = {"X-SPARQL-Max-Rows": str(st.config.max_rows), "X-SPARQL-Result-Count": str(count)}
        if truncated:
            headers["X-SPARQL-Truncated"] = "true"
        self._send(200, body, media, headers)

    def _run(self, job: dict[str, Any]) -> tuple:
        try:
            return self.state.pool.run(job)
        except QueryTimeout as e:
            raise HttpError(503, f"{e}; simplify the query or download the dump", {"Retry-After": "1"}) from None
        except Busy as e:
            raise HttpError(503, str(e), {"Retry-After": "5"}) from None
        except RuntimeError as e:
            raise HttpError(500, str(e)) from None

    def _service_description(self) -> None:
        fmt = negotiate(self.headers.get("Accept"), GRAPH_MEDIA, "text/turtle") or "turtle"
        media, body = _rdf_body(service_description(self.state, self._endpoint_url()), fmt)
        self._send(200, body, media)

    # -- linked data -------------------------------------------------------------------

    def _deref(self, path: str, raw_query: str) -> None:
        iri = self.state.config.base_iri + path[len("/id/"):]
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise HttpError(404, "not a valid IRI") from None
        answer = self._run({"kind": "describe", "iri": iri})
        if answer[0] == "error":
            raise HttpError(answer[1], answer[2])
        d: desc.Description = answer[1]
        if not d.found:
            raise HttpError(404, f"no record {iri} in release {self.state.release.name}")
        params = _form(raw_query)
        fmt = (params.get("format") or [""])[0]
        if fmt not in ("html", "turtle", "jsonld", "ntriples"):
            fmt = ""
            for mtype, _ in parse_accept(self.headers.get("Accept")):
                if mtype in ("text/html", "application/xhtml+xml"):
                    fmt = "html"
                elif mtype in GRAPH_MEDIA and GRAPH_MEDIA[mtype] in ("turtle", "jsonld", "ntriples"):
                    fmt = GRAPH_MEDIA[mtype]
                if fmt:
                    break
            fmt = fmt or "turtle"
        if fmt == "html":
            body = desc.to_html(d, self.state.config.base_iri, formats={
                "Turtle": "?format=turtle", "JSON-LD": "?format=jsonld", "N-Triples": "?format=ntriples"})
            self._send(200, body, "text/html")
        else:
            self._send(200, *reversed(_rdf_body(d.triples(), fmt)))

    def _void(self) -> None:
        fmt = negotiate(self.headers.get("Accept"), GRAPH_MEDIA, "text/turtle") or "turtle"
        if fmt == "turtle":
            self._send(200, (self.state.release / "catalog.ttl").read_bytes(), "text/turtle")
        else:
            media, body = _rdf_body(self.state.catalog, fmt)
            self._send(200, body, media)

    def _landing(self) -> None:
        page = self.state.release / "index.html"
        if page.is_file():
            self._send(200, page.read_bytes(), "text/html")
        else:
            self._send(200, render("release_links.html", endpoint=ENDPOINT_PATH).encode(), "text/html")


class SparqlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: ServiceState, verbose: bool = False) -> None:
        handler = type("BoundHandler", (Handler,), {"state": state})
        super().__init__((state.config.host, state.config.port), handler)
        self.state = state
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}{ENDPOINT_PATH}"

    def close(self) -> None:
        self.server_close()
        self.state.pool.close()


def make_server(config: ServeConfig, *, verbose: bool = False) -> SparqlServer:
    """Load (or reuse) the release's on-disk store, start the workers, bind the socket."""
    release = resolve_release(config.release)
    info = ensure_store(release, config.store_root)
    pool = WorkerPool(str(info.path), size=config.workers, timeout=config.timeout)
    try:
        state = ServiceState(config, release, info, pool)
        counts = pool.run({"kind": "query", "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g",
                           "accept": "application/sparql-results+json", "max_rows": 1_000_000}, timeout=max(60.0, config.timeout))
        if counts[0] == "ok":
            for b in json.loads(counts[2])["results"]["bindings"]:
                state.graph_counts[b["g"]["value"]] = int(b["n"]["value"])
        catalog = release / "catalog.ttl"
        if catalog.is_file():
            state.catalog = list(ox.parse(path=str(catalog), format=ox.RdfFormat.TURTLE))
        return SparqlServer(state, verbose)
    except BaseException:
        pool.close()
        raise


def serve_in_thread(config: ServeConfig) -> tuple[SparqlServer, threading.Thread]:
    """Start a server in a background thread (tests, notebooks); `server.shutdown(); server.close()` to stop."""
    server = make_server(config)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    return server, thread


def serve(config: ServeConfig, *, verbose: bool = True) -> None:
    """Run until interrupted (the `se-pipeline serve` command)."""
    t0 = time.perf_counter()
    server = make_server(config, verbose=verbose)
    info = server.state.store
    how = f"loaded in {info.seconds:.2f} s" if info.loaded_now else "reused existing store"
    print(f"release {info.release_id}: {info.quads} quads ({how}; ready in {time.perf_counter() - t0:.2f} s)")
    print(f"store: {info.path.parent}")
    print(f"SPARQL endpoint: {server.url}  (timeout {config.timeout:g} s, max {config.max_rows} rows, "
          f"{config.workers} workers)", flush=True)
    def _stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)  # stop the workers on `kill` too, not only on Ctrl-C
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.close()

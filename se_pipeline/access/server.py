"""`se-pipeline serve`: a read-only SPARQL 1.1 Protocol endpoint over one release (Starlette under uvicorn).

Routes (GET/HEAD everywhere, POST for the endpoint, OPTIONS for CORS preflight):

* `/sparql` — SPARQL 1.1 Protocol query operation: `GET ?query=`, `POST` form
  (`application/x-www-form-urlencoded`, `query=`) or direct (`application/sparql-query`),
  optional `default-graph-uri` / `named-graph-uri` (they override the query's `FROM` /
  `FROM NAMED`; with neither, the default graph is the union of the named graphs).
  Results by content negotiation (SELECT/ASK: SPARQL JSON, XML, CSV, TSV;
  CONSTRUCT/DESCRIBE: Turtle, N-Triples, JSON-LD, RDF/XML); an Accept we cannot serve is
  406. Without a query: the SPARQL Service Description, whose endpoint IRI comes from
  configuration (`--public-url`), never from the request's `Host`.
* `/id/<source>/<id>` — the enterprise IRI `<base><source>/<id>` dereferenced: HTML for
  browsers, Turtle / JSON-LD / N-Triples / RDF/XML by Accept; 404 if unknown; 406 for an
  Accept we cannot serve. Served by its own worker pool.
* `/.well-known/void` — the release's catalog (VoID + DCAT) by Accept.
* `/` — the release's landing page (`index.html`, or `index.<lang>.html`) when it has one.

HTML answers (`/`, `/id/...`) are in the language of `?lang=`, else of `Accept-Language`
(`pages.negotiate`: en, fr, es, pt; `pt-BR` is `pt`), with `Vary: Accept, Accept-Language`
and an ETag that depends on the language.

Refused: SPARQL Update (`update=` via GET: 400; via POST or `application/sparql-update`:
403), `LOAD` and `SERVICE` (403), decided on the parsed query (`guard.py`); bad or
repeated query strings, malformed graph IRIs (400). Each query runs in a worker process
with a timeout (503) and a memory cap (500 that says so), and answers at most `max_rows`
solutions or triples (header `X-SPARQL-Truncated: true` when cut).

Why this stack: the standard library's `http.server` gave one thread per connection with
no limits, mis-framed unread bodies (one request, two responses) and could not be stopped
under load. uvicorn's h11 parser frames every request, and the limits below are uvicorn's
own settings plus one deadline it lacks (a request head must arrive within
`header_timeout`, which also closes half-open connections). Every limit is a `ServeConfig`
field and a CLI flag (docs/serving.md).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import resource
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import anyio
import h11
import pyoxigraph as ox
import uvicorn
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

from se_pipeline.access import describe as desc
from se_pipeline.access import media as mt
from se_pipeline.access.guard import RefusedQuery, protocol_graphs
from se_pipeline.access.pages import file_name, negotiate, page_csp, render
from se_pipeline.access.query import resolve_release
from se_pipeline.access.store import StoreInfo, ensure_store
from se_pipeline.access.workers import Busy, QueryTimeout, WorkerCrashed, WorkerPool, serialize_triples
from se_pipeline.namespaces import DEFAULT_DATA_BASE, PREFIXES, SEP, VOID, XSD

log = logging.getLogger("se_pipeline.access.server")

SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
ENDPOINT_PATH = "/sparql"
HTML_CSP = ("default-src 'none'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
ID_FORMATS = {"html": "text/html", **{name: m for name, (m, _) in mt.GRAPH.items() if name != "n3"}}
ID_MEDIA = {"text/html": "html", "application/xhtml+xml": "html",
            **{m: n for m, n in mt.GRAPH_MEDIA.items() if n in ID_FORMATS}}
SHUTDOWN_MARGIN = 2.0  # seconds, after `shutdown_timeout`, to deliver the answers of stopped requests
EXPOSED_HEADERS = ["X-SPARQL-Truncated", "X-SPARQL-Max-Rows", "X-SPARQL-Result-Count", "ETag", "Retry-After"]


@dataclass
class ServeConfig:
    release: Path
    host: str = "127.0.0.1"
    port: int = 8000
    public_url: str | None = None       # the endpoint IRI in the service description; default http://host:port/sparql
    timeout: float = 30.0               # seconds a query (or a dereference) may take, queueing included
    max_rows: int = 10000
    workers: int = 2                    # SPARQL query worker processes
    describe_workers: int = 1           # /id/ dereferencing worker processes (a pool of its own)
    worker_memory_mb: int = 1024        # address space a worker may add while running one job
    queue: int = 16                     # requests that may wait for a busy pool before 503
    base_iri: str = DEFAULT_DATA_BASE
    store_root: Path | None = None
    max_connections: int = 1000         # uvicorn limit_concurrency: beyond it, requests get 503
    backlog: int = 2048                 # listen() backlog
    max_header_bytes: int = 65536       # request line + headers (h11 max incomplete event size)
    max_body_bytes: int = 1 << 20       # POST bodies; larger is 413 and the connection is closed
    header_timeout: float = 10.0        # a request head must arrive within this (slow or half-open clients)
    body_timeout: float = 10.0          # the body must arrive within this after the head
    keep_alive: float = 5.0             # idle keep-alive connections are closed after this
    shutdown_timeout: float = 3.0       # SIGTERM: running jobs get this long, then are stopped (exit within +2 s)
    cache_max_age: int = 3600           # Cache-Control max-age of successful GET answers


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None, *, close: bool = False) -> None:
        super().__init__(message)
        self.status, self.message, self.headers, self.close = status, message, dict(headers or {}), close


@dataclass
class Service:
    """Everything a request needs: the release, its store, the two worker pools, derived documents."""

    config: ServeConfig
    release: Path
    store: StoreInfo
    query_pool: WorkerPool
    describe_pool: WorkerPool
    endpoint_url: str
    graph_counts: dict[str, int] = field(default_factory=dict)
    catalog: list[ox.Triple] = field(default_factory=list)

    def close(self, grace: float = 0.0) -> None:
        self.describe_pool.close(grace)
        self.query_pool.close(grace)


def endpoint_url(config: ServeConfig, port: int) -> str:
    if config.public_url:
        return config.public_url
    host = f"[{config.host}]" if ":" in config.host else config.host
    return f"http://{host}:{port}{ENDPOINT_PATH}"


def open_service(config: ServeConfig, port: int | None = None) -> Service:
    """Load (or reuse) the release's on-disk store and start both worker pools."""
    release = resolve_release(config.release)
    info = ensure_store(release, config.store_root)
    url = endpoint_url(config, config.port if port is None else port)
    try:
        ox.NamedNode(url)
    except ValueError:
        raise ValueError(f"--public-url {url!r} is not an absolute IRI") from None
    query_pool = WorkerPool(str(info.path), size=config.workers, timeout=config.timeout,
                            memory_mb=config.worker_memory_mb, queue=config.queue, name="query")
    try:
        describe_pool = WorkerPool(str(info.path), size=config.describe_workers, timeout=config.timeout,
                                   memory_mb=config.worker_memory_mb, queue=config.queue, name="describe")
    except BaseException:
        query_pool.close()
        raise
    service = Service(config, release, info, query_pool, describe_pool, url)
    try:
        counts = query_pool.run({"kind": "query", "accept": "application/sparql-results+json", "max_rows": 1_000_000,
                                 "query": "SELECT ?g (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } } GROUP BY ?g"},
                                timeout=max(60.0, config.timeout))
        if counts[0] == "ok":
            for b in json.loads(counts[2])["results"]["bindings"]:
                service.graph_counts[b["g"]["value"]] = int(b["n"]["value"])
        catalog = release / "catalog.ttl"
        if catalog.is_file():
            service.catalog = list(ox.parse(path=str(catalog), format=ox.RdfFormat.TURTLE))
        if not query_pool.network_isolated:
            log.warning("query workers could not be moved into a network namespace (unprivileged user namespaces "
                        "are disabled); SERVICE is still refused by the parsed-query guard")
        return service
    except BaseException:
        service.close()
        raise


def service_description(service: Service) -> list[ox.Triple]:
    t: list[ox.Triple] = []
    n, lit = ox.NamedNode, ox.Literal
    cfg = service.config
    svc, ds, dg = n(service.endpoint_url), ox.BlankNode("dataset"), ox.BlankNode("default")
    a = n(PREFIXES["rdf"] + "type")

    def add(s: Any, p: str, o: Any) -> None:
        t.append(ox.Triple(s, n(p), o))

    add(svc, PREFIXES["rdf"] + "type", n(SD + "Service"))
    add(svc, SD + "endpoint", svc)
    add(svc, SD + "supportedLanguage", n(SD + "SPARQL11Query"))
    add(svc, SD + "feature", n(SD + "UnionDefaultGraph"))
    for f in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "SPARQL_Results_TSV",
              "Turtle", "N-Triples", "JSON-LD", "RDF_XML"):
        add(svc, SD + "resultFormat", n(FORMATS + f))
    add(svc, PREFIXES["dcterms"] + "description", lit(
        f"Read-only SPARQL 1.1 endpoint over se-pipeline release {service.release.name}. "
        f"Queries are stopped after {cfg.timeout:g} seconds and may use at most {cfg.worker_memory_mb} MiB of memory; "
        f"at most {cfg.max_rows} result rows (or triples) are returned. SPARQL Update, LOAD and SERVICE are refused. "
        "Without FROM / FROM NAMED or default-graph-uri / named-graph-uri, the default graph is the union of the "
        "named graphs.", language="en"))
    add(svc, SEP + "queryTimeout", lit(f"{cfg.timeout:g}", datatype=n(XSD + "decimal")))
    add(svc, SEP + "maxResultRows", lit(str(cfg.max_rows), datatype=n(XSD + "integer")))
    add(svc, SD + "defaultDataset", ds)
    t.append(ox.Triple(ds, a, n(SD + "Dataset")))
    add(ds, PREFIXES["dcterms"] + "source", n(f"https://w3id.org/se-pipeline/release/{service.release.name}"))
    add(ds, SD + "defaultGraph", dg)
    t.append(ox.Triple(dg, a, n(SD + "Graph")))
    add(dg, VOID + "triples", lit(str(service.store.quads), datatype=n(XSD + "integer")))
    for i, (g, count) in enumerate(sorted(service.graph_counts.items())):
        ng, gr = ox.BlankNode(f"ng{i}"), ox.BlankNode(f"g{i}")
        add(ds, SD + "namedGraph", ng)
        t.append(ox.Triple(ng, a, n(SD + "NamedGraph")))
        add(ng, SD + "name", n(g))
        add(ng, SD + "graph", gr)
        t.append(ox.Triple(gr, a, n(SD + "Graph")))
        add(gr, VOID + "triples", lit(str(count), datatype=n(XSD + "integer")))
    return t


def _rdf_body(triples: list[ox.Triple], name: str) -> tuple[bytes, str]:
    if name in ("turtle", "n3"):
        return ox.serialize(triples, format=mt.GRAPH[name][1], prefixes={**PREFIXES, "sd": SD}), mt.GRAPH[name][0]
    return serialize_triples(triples, name), mt.GRAPH[name][0]


# -- request plumbing -------------------------------------------------------------------------


def _media_type(body_media: str) -> str:
    return body_media + "; charset=utf-8" if body_media.startswith("text/") or body_media == "application/n-triples" \
        else body_media


def _form(raw: str) -> dict[str, list[str]]:
    try:
        return parse_qs(raw, keep_blank_values=True, encoding="utf-8", errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise HttpError(400, "the request parameters are not valid UTF-8") from None


def _utf8(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise HttpError(400, "the request is not valid UTF-8") from None


async def _read_body(request: Request, config: ServeConfig) -> bytes:
    """The body, refusing more than `max_body_bytes` (413) or a body slower than `body_timeout` (408).

    Either refusal closes the connection, so an unread rest of the body can never be taken
    for the next request."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > config.max_body_bytes:  # h11 framed it
        raise HttpError(413, f"request body larger than {config.max_body_bytes} bytes", close=True)
    chunks, size = [], 0
    try:
        with anyio.fail_after(config.body_timeout):
            async for chunk in request.stream():
                size += len(chunk)
                if size > config.max_body_bytes:
                    raise HttpError(413, f"request body larger than {config.max_body_bytes} bytes", close=True)
                chunks.append(chunk)
    except TimeoutError:
        raise HttpError(408, f"the request body did not arrive within {config.body_timeout:g} s", close=True) from None
    return b"".join(chunks)


class Endpoint:
    """The route handlers, bound to one Service."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.config = service.config
        self._limiters: dict[str, anyio.CapacityLimiter] = {}

    def _limiter(self, pool: WorkerPool) -> anyio.CapacityLimiter:
        """One thread limiter per pool (its size + queue, created in the event loop): a burst of queries
        never takes the threads `/id/` needs (anyio's shared default is 40 threads)."""
        if pool.name not in self._limiters:
            self._limiters[pool.name] = anyio.CapacityLimiter(pool.size + pool.queue + 1)
        return self._limiters[pool.name]

    def _etag(self, request: Request, *extra: str) -> str:
        """A release never changes: the answer to a GET is fixed by the release, the request
        (its language too) and our limits."""
        key = "\n".join([request.url.path, request.url.query, request.headers.get("accept", ""), _language(request),
                         str(self.config.max_rows), self.config.base_iri, self.service.endpoint_url, *extra])
        return f'"{self.service.release.name}-{hashlib.sha256(key.encode()).hexdigest()[:20]}"'

    def _cached(self, request: Request) -> tuple[str | None, Response | None]:
        """(ETag, 304 response if the client already has it) for GET/HEAD; (None, None) otherwise."""
        if request.method not in ("GET", "HEAD"):
            return None, None
        etag = self._etag(request)
        if etag in [v.strip() for v in request.headers.get("if-none-match", "").split(",")]:
            return etag, Response(status_code=304, headers={**self._cache_headers(etag), "Vary": VARY})
        return etag, None

    def _cache_headers(self, etag: str | None) -> dict[str, str]:
        if etag is None:
            return {"Cache-Control": "no-store"}
        return {"ETag": etag, "Cache-Control": f"public, max-age={self.config.cache_max_age}"}

    def _ok(self, body: bytes, media: str, etag: str | None, headers: dict[str, str] | None = None) -> Response:
        return Response(body, media_type=_media_type(media), headers={**self._cache_headers(etag), **(headers or {})})

    async def _run(self, pool: WorkerPool, job: dict[str, Any]) -> tuple:
        try:
            return await anyio.to_thread.run_sync(pool.run, job, limiter=self._limiter(pool))
        except QueryTimeout as e:
            raise HttpError(503, f"{e}; simplify the query or download the dump", {"Retry-After": "1"}) from None
        except Busy as e:
            raise HttpError(503, str(e), {"Retry-After": "5"}) from None
        except WorkerCrashed as e:
            raise HttpError(500, str(e)) from None

    # -- /sparql

    async def sparql(self, request: Request) -> Response:
        params = _form(request.url.query)
        if request.method == "POST":
            body = await _read_body(request, self.config)
            ctype = (request.headers.get("content-type") or "").split(";")
            media = ctype[0].strip().lower()
            charset = next((p.split("=", 1)[1].strip().strip('"').lower() for p in ctype[1:]
                            if p.strip().lower().startswith("charset=")), "utf-8")
            if charset not in ("utf-8", "utf8"):
                raise HttpError(400, f"only UTF-8 requests are accepted (got charset={charset})")
            if media == "application/x-www-form-urlencoded":
                if "query" in params or "update" in params:
                    raise HttpError(400, "with a form POST, query and update go in the body, not the URL")
                for k, v in _form(_utf8(body)).items():
                    params.setdefault(k, []).extend(v)
            elif media == "application/sparql-query":
                if "query" in params or "update" in params:
                    raise HttpError(400, "a direct POST carries the query in the body only")
                params["query"] = [_utf8(body)]
            elif media == "application/sparql-update":
                raise HttpError(403, "SPARQL Update is not allowed: this endpoint is read-only")
            elif not media:
                raise HttpError(400, "POST needs Content-Type application/x-www-form-urlencoded or "
                                     "application/sparql-query")
            else:
                raise HttpError(415, f"unsupported Content-Type {media}; use application/x-www-form-urlencoded "
                                     "or application/sparql-query")
        if "update" in params:
            if request.method != "POST":
                raise HttpError(400, "SPARQL Update must use POST, and this endpoint is read-only anyway")
            raise HttpError(403, "SPARQL Update is not allowed: this endpoint is read-only")
        try:  # malformed graph IRIs are the client's error, found before any worker is used
            default_graphs = list(protocol_graphs(params.get("default-graph-uri", []), "default-graph-uri"))
            named_graphs = list(protocol_graphs(params.get("named-graph-uri", []), "named-graph-uri"))
        except RefusedQuery as e:
            raise HttpError(e.status, str(e)) from None
        queries = params.get("query", [])
        etag, not_modified = self._cached(request)
        if not_modified:
            return not_modified
        if not queries:
            return self._service_description(request, etag)
        if len(queries) > 1:
            raise HttpError(400, "exactly one query string is allowed")
        fmt = next((v[0] for k in ("format", "output", "results") if (v := params.get(k)) and v[0]), None)
        job = {"kind": "query", "query": queries[0], "accept": request.headers.get("accept"), "format": fmt,
               "default_graphs": default_graphs, "named_graphs": named_graphs, "max_rows": self.config.max_rows,
               "base_iri": self.service.endpoint_url}
        answer = await self._run(self.service.query_pool, job)
        if answer[0] == "error":
            raise HttpError(answer[1], answer[2])
        _, media, body, truncated, count = answer
        headers = {"X-SPARQL-Max-Rows": str(self.config.max_rows), "X-SPARQL-Result-Count": str(count)}
        if truncated:
            headers["X-SPARQL-Truncated"] = "true"
        return self._ok(body, media, etag, headers)

    def _service_description(self, request: Request, etag: str | None) -> Response:
        name = mt.choose(request.headers.get("accept"), mt.GRAPH_MEDIA, "turtle")
        if name is None:
            raise HttpError(406, f"the service description is available as {mt.acceptable(mt.GRAPH_MEDIA)}")
        body, media = _rdf_body(service_description(self.service), name)
        return self._ok(body, media, etag)

    # -- /id/

    async def deref(self, request: Request) -> Response:
        # the raw path: record ids are percent-encoded in their IRIs, and must stay so
        raw = request.scope.get("raw_path") or request.url.path.encode()
        iri = self.config.base_iri + raw.decode("latin-1").split("?", 1)[0][len("/id/"):]
        try:
            ox.NamedNode(iri)
        except ValueError:
            raise HttpError(404, "not a valid IRI") from None
        fmt = (request.query_params.get("format") or "").lower()
        if fmt not in ID_FORMATS:
            fmt = mt.choose(request.headers.get("accept"), ID_MEDIA, "turtle")
            if fmt is None:
                raise HttpError(406, f"enterprise documents are available as {', '.join(ID_FORMATS.values())}")
        etag, not_modified = self._cached(request)
        if not_modified:
            return not_modified
        answer = await self._run(self.service.describe_pool, {"kind": "describe", "iri": iri})
        if answer[0] == "error":
            raise HttpError(answer[1], answer[2])
        d: desc.Description = answer[1]
        if not d.found:
            raise HttpError(404, f"no record {iri} in release {self.service.release.name}")
        if fmt == "html":
            body = desc.to_html(d, self.config.base_iri, formats={
                "Turtle": "?format=turtle", "JSON-LD": "?format=jsonld", "N-Triples": "?format=ntriples",
                "RDF/XML": "?format=rdfxml"}, lang=_language(request))
        elif fmt == "turtle":
            body = desc.to_turtle(d)
        elif fmt == "jsonld":
            body = desc.to_jsonld(d)
        else:
            body = serialize_triples(d.triples(), fmt)
        return self._ok(body, ID_FORMATS[fmt], etag, {"Vary": VARY})

    # -- /.well-known/void and /

    async def void(self, request: Request) -> Response:
        name = mt.choose(request.headers.get("accept"), mt.GRAPH_MEDIA, "turtle")
        if name is None:
            raise HttpError(406, f"the catalog is available as {mt.acceptable(mt.GRAPH_MEDIA)}")
        etag, not_modified = self._cached(request)
        if not_modified:
            return not_modified
        catalog = self.service.release / "catalog.ttl"
        if name == "turtle" and catalog.is_file():
            return self._ok(catalog.read_bytes(), "text/turtle", etag)
        body, media = _rdf_body(self.service.catalog, name)
        return self._ok(body, media, etag)

    async def landing(self, request: Request) -> Response:
        if mt.choose(request.headers.get("accept"), {"text/html": "html", "application/xhtml+xml": "html"},
                     "html") is None:
            raise HttpError(406, "the landing page is available as text/html")
        etag, not_modified = self._cached(request)
        if not_modified:
            return not_modified
        lang = _language(request)
        # The page in the language asked for; a release made before pages had languages has only index.html.
        page = next((p for p in (self.service.release / file_name("index.html", lang), self.service.release / "index.html")
                     if p.is_file()), None)
        if page is not None:
            body = page.read_bytes()
            # The page's own policy (its map's inline scripts, by hash) replaces the generic one.
            return self._ok(body, "text/html", etag, {"Content-Security-Policy": page_csp(body) or HTML_CSP, "Vary": VARY})
        return self._ok(render("release_links.html", lang, endpoint=ENDPOINT_PATH).encode(), "text/html", etag,
                        {"Vary": VARY})


class Hardening:
    """Headers on every answer and the connection's framing kept safe.

    `X-Content-Type-Options: nosniff` everywhere, a CSP on HTML, no `Server` header. When a
    response is sent before the request's body was read (a 405 for a POST to `/id/`, an
    early error), the rest of the body is read and dropped first, within `max_body_bytes`
    and `body_timeout`, so the connection stays usable and exactly one response answers each
    request; a body too large or too slow to drain closes the connection instead
    (`Connection: close`), so its bytes are never parsed as a request."""

    def __init__(self, app: ASGIApp, max_body_bytes: int, body_timeout: float) -> None:
        self.app, self.max_body_bytes, self.body_timeout = app, max_body_bytes, body_timeout

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        body_done = not any(k in (b"content-length", b"transfer-encoding") and v != b"0" for k, v in scope["headers"])
        received = 0

        async def tracking_receive() -> Message:
            nonlocal body_done, received
            message = await receive()
            if message["type"] == "http.disconnect" or not message.get("more_body", False):
                body_done = True
            received += len(message.get("body", b""))
            return message

        async def drain() -> bool:
            try:
                with anyio.fail_after(self.body_timeout):
                    while not body_done and received <= self.max_body_bytes:
                        await tracking_receive()
            except TimeoutError:
                return False
            return body_done

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                headers.append((b"x-content-type-options", b"nosniff"))
                ctype = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                has_policy = any(k.lower() == b"content-security-policy" for k, _ in headers)
                if ctype.startswith(b"text/html") and not has_policy:
                    headers.append((b"content-security-policy", HTML_CSP.encode()))
                closing = any(k.lower() == b"connection" and v.lower() == b"close" for k, v in headers)
                if not body_done and not closing and not await drain():
                    headers.append((b"connection", b"close"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, tracking_receive, send_with_headers)


def _error_response(status: int, message: str, headers: dict[str, str] | None = None, close: bool = False) -> Response:
    h = {"Cache-Control": "no-store", **(headers or {})}
    if close:
        h["Connection"] = "close"
    return Response((message.rstrip() + "\n").encode("utf-8"), status_code=status,
                    media_type="text/plain; charset=utf-8", headers=h)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HttpError)
    return _error_response(exc.status, exc.message, exc.headers, exc.close)


async def _starlette_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error_response(exc.status_code, exc.detail, dict(exc.headers or {}))


#: What a page's answer depends on besides its IRI: the format (`Accept`) and the language.
VARY = "Accept, Accept-Language"


def _language(request: Request) -> str:
    """The language of the pages answered to `request`: `?lang=`, else `Accept-Language`."""
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def create_app(service: Service) -> Starlette:
    ep = Endpoint(service)
    routes = [
        Route(ENDPOINT_PATH, ep.sparql, methods=["GET", "HEAD", "POST"]),
        Route(ENDPOINT_PATH + "/", ep.sparql, methods=["GET", "HEAD", "POST"]),
        Route("/id/{path:path}", ep.deref, methods=["GET", "HEAD"]),
        Route("/.well-known/void", ep.void, methods=["GET", "HEAD"]),
        Route("/", ep.landing, methods=["GET", "HEAD"]),
        Route("/index.html", ep.landing, methods=["GET", "HEAD"]),
    ]
    middleware = [
        Middleware(Hardening, max_body_bytes=service.config.max_body_bytes, body_timeout=service.config.body_timeout),
        Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "HEAD", "POST"],
                   allow_headers=["Accept", "Accept-Language", "Content-Type", "If-None-Match"],
                   expose_headers=EXPOSED_HEADERS, max_age=86400),
    ]
    return Starlette(routes=routes, middleware=middleware,
                     exception_handlers={HttpError: _http_error, HTTPException: _starlette_error})


# -- the HTTP server ----------------------------------------------------------------------------


class _DeadlineProtocol(H11Protocol):
    """uvicorn's h11 protocol plus a deadline for the request head.

    uvicorn times out idle keep-alive connections but not a connection that is opened and
    then sends a request head slowly or never (slowloris, half-open floods): each would be
    held until shutdown. Here every connection must deliver a complete request head within
    `header_timeout` of opening (or of its previous response); otherwise it gets 408 and is
    closed."""

    header_timeout: float = 10.0
    _deadline: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.header_timeout, self._on_deadline)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _on_deadline(self) -> None:
        self._deadline = None
        if self.transport.is_closing() or self.conn.their_state is not h11.IDLE:
            return
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-type: text/plain; charset=utf-8\r\n"
                             b"x-content-type-options: nosniff\r\nconnection: close\r\ncontent-length: 42\r\n\r\n"
                             b"the request head did not arrive in time.\r\n")
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:
            self._disarm()

    def on_response_complete(self) -> None:
        self._arm()
        super().on_response_complete()


class _Server(uvicorn.Server):
    """uvicorn's server; on shutdown (SIGTERM) the worker pools stop at once: running jobs get
    `shutdown_timeout` to finish, then their workers are killed and their requests answered
    503. uvicorn's own grace is `SHUTDOWN_MARGIN` longer, so those answers go out before it
    cancels what is left (a cancelled request would get a bare 500)."""

    def __init__(self, config: uvicorn.Config, service: Service) -> None:
        super().__init__(config)
        self.service = service

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        grace = self.service.config.shutdown_timeout
        stopping = asyncio.get_running_loop().run_in_executor(None, self.service.close, grace)
        await super().shutdown(sockets)
        await stopping


def _uvicorn_config(app: Starlette, config: ServeConfig, *, access_log: bool) -> uvicorn.Config:
    protocol = type("HttpProtocol", (_DeadlineProtocol,), {"header_timeout": config.header_timeout})
    return uvicorn.Config(
        app, http=protocol, lifespan="off", ws="none", interface="asgi3", loop="asyncio",
        limit_concurrency=config.max_connections, backlog=config.backlog,
        h11_max_incomplete_event_size=config.max_header_bytes, timeout_keep_alive=int(max(1, config.keep_alive)),
        timeout_graceful_shutdown=math.ceil(config.shutdown_timeout + SHUTDOWN_MARGIN), server_header=False,
        date_header=True,
        proxy_headers=False, access_log=access_log, log_level="info" if access_log else "warning",
    )


def _bind(config: ServeConfig) -> socket.socket:
    family = socket.AF_INET6 if ":" in config.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((config.host, config.port))
        sock.listen(config.backlog)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


@dataclass
class RunningServer:
    """A server running in a background thread (tests, notebooks, the load benchmark)."""

    service: Service
    server: _Server
    thread: threading.Thread
    port: int

    @property
    def url(self) -> str:
        """Where this process reaches the endpoint (the public IRI may name a proxy in front of it)."""
        return f"http://{self.address[0]}:{self.port}{ENDPOINT_PATH}"

    @property
    def address(self) -> tuple[str, int]:
        host = self.service.config.host
        host = "127.0.0.1" if host in ("0.0.0.0", "") else f"[{host}]" if ":" in host else host
        return host, self.port

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(self.service.config.shutdown_timeout + 10)
        self.service.close()


def _bind_and_open(config: ServeConfig) -> tuple[socket.socket, Any, int]:
    """The listening socket and the opened release (its store, workers): bound first, so
    the service description knows the real port; the socket closed if opening fails."""
    sock = _bind(config)
    port = sock.getsockname()[1]
    try:
        return sock, open_service(config, port), port
    except BaseException:
        sock.close()
        raise


def serve_in_thread(config: ServeConfig) -> RunningServer:
    """Start a server in a background thread; `.stop()` to stop it."""
    sock, service, port = _bind_and_open(config)
    server = _Server(_uvicorn_config(create_app(service), config, access_log=False), service)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True, name="se-pipeline-serve")
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        service.close()
        raise RuntimeError("the server did not start")
    return RunningServer(service, server, thread, port)


def _raise_open_files_limit(wanted: int) -> None:
    """Each connection is a file descriptor: let `max_connections` fit, as far as the hard limit allows."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def serve(config: ServeConfig, *, verbose: bool = True) -> None:
    """Run until SIGTERM / Ctrl-C (the `se-pipeline serve` command)."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    t0 = time.perf_counter()
    _raise_open_files_limit(config.max_connections + 256)
    sock, service, port = _bind_and_open(config)
    info = service.store
    how = f"loaded in {info.seconds:.2f} s" if info.loaded_now else "reused existing store"
    print(f"release {info.release_id}: {info.quads} quads ({how}; ready in {time.perf_counter() - t0:.2f} s)")
    print(f"store: {info.path.parent}")
    host = f"[{config.host}]" if ":" in config.host else config.host
    print(f"SPARQL endpoint: http://{host}:{port}{ENDPOINT_PATH}  (public IRI {service.endpoint_url}; timeout "
          f"{config.timeout:g} s, max {config.max_rows} rows, {config.workers} query + {config.describe_workers} "
          f"describe workers, {config.worker_memory_mb} MiB each)", flush=True)
    server = _Server(_uvicorn_config(create_app(service), config, access_log=verbose), service)
    try:
        server.run(sockets=[sock])
    finally:
        service.close()
        sock.close()


__all__ = ["HttpError", "RunningServer", "ServeConfig", "Service", "create_app", "open_service", "serve",
           "serve_in_thread", "service_description"]

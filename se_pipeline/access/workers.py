"""Queries run in child processes so a timeout really stops them.

Each worker process opens the on-disk store read-only (`Store.read_only`) once and then
answers jobs sent over a pipe. The server hands a job to an idle worker and waits at
most `timeout` seconds; if no answer came, the worker is killed (SIGKILL: Oxigraph's
query loop is native code that no Python-level signal would interrupt) and replaced.
So a runaway query costs one worker for at most `timeout` seconds, never the service.

Results are serialised in the worker, with at most `max_rows` solutions (SELECT) or
triples (CONSTRUCT / DESCRIBE); whether the cap cut the answer is returned alongside.
"""
from __future__ import annotations

import json
import multiprocessing as mp
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from se_pipeline.namespaces import PREFIXES

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"

# name -> (media type, oxigraph format); first entry of each table is the default.
TABULAR: dict[str, tuple[str, Any]] = {
    "json": ("application/sparql-results+json", ox.QueryResultsFormat.JSON),
    "xml": ("application/sparql-results+xml", ox.QueryResultsFormat.XML),
    "csv": ("text/csv", ox.QueryResultsFormat.CSV),
    "tsv": ("text/tab-separated-values", ox.QueryResultsFormat.TSV),
}
GRAPH: dict[str, tuple[str, Any]] = {
    "turtle": ("text/turtle", ox.RdfFormat.TURTLE),
    "ntriples": ("application/n-triples", ox.RdfFormat.N_TRIPLES),
    "jsonld": ("application/ld+json", ox.RdfFormat.JSON_LD),
    "rdfxml": ("application/rdf+xml", ox.RdfFormat.RDF_XML),
    "n3": ("text/n3", ox.RdfFormat.N3),
}
# Accept media types (and `format=` parameter values) understood for each kind of result.
TABULAR_MEDIA = {
    "application/sparql-results+json": "json", "application/json": "json", "text/javascript": "json",
    "application/javascript": "json", "application/sparql-results+xml": "xml", "application/xml": "xml",
    "text/xml": "xml", "text/csv": "csv", "text/tab-separated-values": "tsv",
}
GRAPH_MEDIA = {
    "text/turtle": "turtle", "application/turtle": "turtle", "application/x-turtle": "turtle",
    "application/n-triples": "ntriples", "text/plain": "ntriples", "application/ld+json": "jsonld",
    "application/x-json+ld": "jsonld", "application/json": "jsonld", "application/rdf+xml": "rdfxml",
    "application/xml": "rdfxml", "text/xml": "rdfxml", "text/n3": "n3", "text/rdf+n3": "n3",
}
TABULAR_PARAM = {"json": "json", "xml": "xml", "csv": "csv", "tsv": "tsv"}
GRAPH_PARAM = {"turtle": "turtle", "ttl": "turtle", "n3": "n3", "nt": "ntriples", "ntriples": "ntriples",
               "n-triples": "ntriples", "json-ld": "jsonld", "jsonld": "jsonld", "json": "jsonld",
               "xml": "rdfxml", "rdf": "rdfxml", "rdf+xml": "rdfxml"}


def parse_accept(accept: str | None) -> list[tuple[str, float]]:
    """Media ranges from an Accept header, best first (stable for equal q)."""
    out: list[tuple[str, float, int]] = []
    for i, part in enumerate((accept or "").split(",")):
        fields = [f.strip() for f in part.split(";")]
        if not fields[0]:
            continue
        q = 1.0
        for f in fields[1:]:
            if f.lower().startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        out.append((fields[0].lower(), q, i))
    out.sort(key=lambda t: (-t[1], t[2]))
    return [(m, q) for m, q, _ in out if q > 0]


def negotiate(accept: str | None, media: dict[str, str], default: str, param: str | None = None,
              params: dict[str, str] | None = None) -> str:
    """The format name to answer with: `format=` parameter, else Accept, else the default."""
    if param and params and param.lower() in params:
        return params[param.lower()]
    for mtype, _ in parse_accept(accept):
        if mtype in media:
            return media[mtype]
        if mtype in ("*/*", default.split("/")[0] + "/*"):
            return ""
    return ""


# ---------------------------------------------------------------------------------------
# Work done inside the worker process


def _term_json(t: Any) -> dict[str, Any]:
    if isinstance(t, ox.NamedNode):
        return {"type": "uri", "value": t.value}
    if isinstance(t, ox.BlankNode):
        return {"type": "bnode", "value": t.value}
    if isinstance(t, ox.Literal):
        d: dict[str, Any] = {"type": "literal", "value": t.value}
        if t.language:
            d["xml:lang"] = t.language
        elif t.datatype.value != XSD_STRING:
            d["datatype"] = t.datatype.value
        return d
    if isinstance(t, ox.Triple):
        return {"type": "triple", "value": {"subject": _term_json(t.subject), "predicate": _term_json(t.predicate),
                                            "object": _term_json(t.object)}}
    return {"type": "literal", "value": str(t)}


def execute(store: ox.Store, job: dict[str, Any]) -> tuple:
    """Run one query job; ("ok", media type, body, truncated, count) or ("error", status, message)."""
    kwargs: dict[str, Any] = {}
    if job.get("default_graphs"):
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job["default_graphs"]]
    else:
        kwargs["use_default_graph_as_union"] = True
    if job.get("named_graphs"):
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job["named_graphs"]]
    try:
        result = store.query(job["query"], **kwargs)
    except SyntaxError as e:
        return ("error", 400, f"query syntax error: {e}")
    except (ValueError, OSError) as e:
        return ("error", 400, f"query error: {e}")
    cap = int(job["max_rows"])
    fmt_param = job.get("format")
    try:
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            bindings, truncated = [], False
            for sol in result:
                if len(bindings) >= cap:
                    truncated = True
                    break
                row = {}
                for n in names:
                    v = sol[n]
                    if v is not None:
                        row[n] = _term_json(v)
                bindings.append(row)
            doc = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}}, ensure_ascii=False).encode("utf-8")
            name = negotiate(job.get("accept"), TABULAR_MEDIA, "application/sparql-results+json", fmt_param, TABULAR_PARAM) or "json"
            media, ox_fmt = TABULAR[name]
            if name != "json":
                doc = ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON).serialize(format=ox_fmt)
            return ("ok", media, doc, truncated, len(bindings))
        if isinstance(result, ox.QueryBoolean):
            name = negotiate(job.get("accept"), TABULAR_MEDIA, "application/sparql-results+json", fmt_param, TABULAR_PARAM) or "json"
            media, ox_fmt = TABULAR[name]
            return ("ok", media, result.serialize(format=ox_fmt), False, 1)
        triples, truncated = [], False
        for t in result:
            if len(triples) >= cap:
                truncated = True
                break
            triples.append(t)
        name = negotiate(job.get("accept"), GRAPH_MEDIA, "text/turtle", fmt_param, GRAPH_PARAM) or "turtle"
        media, ox_fmt = GRAPH[name]
        if name == "jsonld":
            from se_pipeline.access.describe import jsonld_document
            body = json.dumps(jsonld_document(triples), ensure_ascii=False).encode("utf-8")
        elif name in ("turtle", "n3"):
            body = ox.serialize(triples, format=ox_fmt, prefixes=PREFIXES)
        else:
            body = ox.serialize(triples, format=ox_fmt)
        return ("ok", media, body, truncated, len(triples))
    except (ValueError, OSError, SyntaxError) as e:
        return ("error", 500, f"query evaluation failed: {e}")


def _worker_main(store_path: str, conn: Any) -> None:
    store = ox.Store.read_only(store_path)
    conn.send(("ready",))
    while True:
        try:
            job = conn.recv()
        except EOFError:
            return
        if job is None:
            return
        try:
            if job["kind"] == "describe":
                from se_pipeline.access.describe import describe
                answer: tuple = ("ok", describe(store, job["iri"]))
            elif job["kind"] == "sleep":  # for tests: a job that takes `seconds`
                time.sleep(job["seconds"])
                answer = ("ok", None)
            else:
                answer = execute(store, job)
        except Exception as e:  # never let one bad job kill the worker silently
            answer = ("error", 500, f"{type(e).__name__}: {e}")
        conn.send(answer)


# ---------------------------------------------------------------------------------------
# The pool, in the server process


class QueryTimeout(Exception):
    """The query ran longer than the endpoint's timeout and was stopped."""


class Busy(Exception):
    """No worker became free in time."""


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any


class WorkerPool:
    """`size` worker processes over a read-only store; `run(job)` with a hard timeout."""

    def __init__(self, store_path: str, *, size: int = 2, timeout: float = 30.0, start_timeout: float = 60.0) -> None:
        self.store_path = store_path
        self.timeout = timeout
        self.start_timeout = start_timeout
        self._ctx = mp.get_context("spawn")
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._lock = threading.Lock()
        self._closed = False
        self.killed = 0
        self._all: set[_Worker] = set()
        for _ in range(size):
            self._idle.put(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        p = self._ctx.Process(target=_worker_main, args=(self.store_path, child), daemon=True,
                              name="se-pipeline-query-worker")
        p.start()
        child.close()
        if not parent.poll(self.start_timeout):
            p.kill()
            raise RuntimeError("query worker did not start")
        msg = parent.recv()
        if msg != ("ready",):
            raise RuntimeError(f"query worker failed to start: {msg}")
        w = _Worker(p, parent)
        with self._lock:
            self._all.add(w)
        return w

    def run(self, job: dict[str, Any], timeout: float | None = None) -> tuple:
        """Send `job` to a worker; its answer, or QueryTimeout after `timeout` (the worker is killed)."""
        limit = self.timeout if timeout is None else timeout
        started = time.monotonic()
        try:
            w = self._idle.get(timeout=limit)
        except queue.Empty:
            raise Busy("all query workers are busy") from None
        remaining = max(0.01, limit - (time.monotonic() - started))
        try:
            w.conn.send(job)
            if w.conn.poll(remaining):
                answer = w.conn.recv()
                self._idle.put(w)
                return answer
        except (EOFError, OSError, BrokenPipeError):
            pass
        # timed out (or the worker died): kill it for real and replace it
        died = not w.process.is_alive()
        self.killed += 1
        w.process.kill()
        w.process.join(5)
        w.conn.close()
        if not self._closed:
            threading.Thread(target=self._replace, daemon=True).start()
        with self._lock:
            self._all.discard(w)
        if died and time.monotonic() - started < limit:
            raise RuntimeError("the query worker died while running the query")
        raise QueryTimeout(f"query stopped after its timeout of {limit:g} s")

    def _replace(self) -> None:
        try:
            w = self._spawn()
            if self._closed:
                w.process.kill()
                return
            self._idle.put(w)
        except Exception:  # pragma: no cover - logged by the caller's next Busy
            pass

    def close(self) -> None:
        """Stop every worker (idle ones politely, busy ones by kill)."""
        self._closed = True
        idle = []
        while True:
            try:
                idle.append(self._idle.get_nowait())
            except queue.Empty:
                break
        for w in idle:
            try:
                w.conn.send(None)
            except OSError:
                pass
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for w in workers:
            w.process.join(2 if w in idle else 0)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)

"""Queries run in child processes, each with a time limit, a memory cap and no network.

Each worker process opens the on-disk store read-only (`Store.read_only`) once and then
answers jobs sent over a pipe. Why processes: Oxigraph's query loop is native code that
no Python-level signal interrupts, may allocate without bound, and may crash (deep
recursion); only a process can be killed, capped and replaced without touching the server.

* **Time.** The server waits at most `timeout` seconds (queueing included); then the worker
  is killed (SIGKILL) and replaced, and the client gets 503.
* **Memory.** At start the worker sets `RLIMIT_AS` to its address space once the store is
  open and the parser loaded, plus `memory_mb`: a query that needs more fails inside the
  worker (MemoryError, or Rust's allocation failure aborts the process). Either way the
  client gets a 500 that says so, the event is logged and the worker replaced.
* **Crashes.** A worker that dies while running a job (a segfault, an abort) is answered as
  a 500 naming the signal, logged, and replaced. One that dies before it acknowledged the job
  (killed while idle, by an operator or the OOM killer) is replaced and the job goes to another
  worker: the client never pays for it.
* **Network.** Where the kernel allows unprivileged user namespaces, the worker moves
  itself into a new network namespace before opening the store: even a `SERVICE` that got
  past the parsed-query guard could not reach any address (defence in depth).

The server runs two pools: one for SPARQL queries, one for `/id/` dereferencing, so slow
queries never starve dereferencing. Results are serialised in the worker, with at most
`max_rows` solutions (SELECT) or triples (CONSTRUCT / DESCRIBE).
"""
from __future__ import annotations

import ctypes
import json
import logging
import multiprocessing as mp
import resource
import signal
import threading
import time
from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from se_pipeline.access import media as mt
from se_pipeline.access.guard import RefusedQuery, prepare
from se_pipeline.namespaces import PREFIXES

log = logging.getLogger("se_pipeline.access.workers")

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"
_CLONE_NEWUSER, _CLONE_NEWNET = 0x10000000, 0x40000000


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


def serialize_triples(triples: list[ox.Triple], name: str) -> bytes:
    """Triples in one of `media.GRAPH`'s formats (JSON-LD through our compact document)."""
    _, ox_fmt = mt.GRAPH[name]
    if name == "jsonld":
        from se_pipeline.access.describe import jsonld_document
        return json.dumps(jsonld_document(triples), ensure_ascii=False).encode("utf-8")
    if name in ("turtle", "n3"):
        return ox.serialize(triples, format=ox_fmt, prefixes=PREFIXES)
    return ox.serialize(triples, format=ox_fmt)


def execute(store: ox.Store, job: dict[str, Any]) -> tuple:
    """Run one query job: ("ok", media type, body, truncated, count) or ("error", status, message)."""
    try:
        prepared = prepare(job["query"], job.get("default_graphs", ()), job.get("named_graphs", ()), job.get("base_iri"))
    except RefusedQuery as e:
        return ("error", e.status, str(e))
    graph_form = prepared.form in ("CONSTRUCT", "DESCRIBE")
    table, default, params = ((mt.GRAPH_MEDIA, "turtle", mt.GRAPH_PARAM) if graph_form
                              else (mt.TABULAR_MEDIA, "json", mt.TABULAR_PARAM))
    name = mt.choose(job.get("accept"), table, default, fmt=job.get("format"), params=params)
    if name is None:
        return ("error", 406, f"cannot answer a {prepared.form} query in any type this request accepts; "
                              f"available: {mt.acceptable(table)}")
    try:
        result = store.query(prepared.text, base_iri=prepared.base_iri, **prepared.dataset.oxigraph_options())
    except SyntaxError as e:
        return ("error", 400, f"query syntax error: {e}")
    except (ValueError, OSError) as e:
        return ("error", 400, f"query error: {e}")
    cap = int(job["max_rows"])
    try:
        if isinstance(result, ox.QuerySolutions):
            names = [v.value for v in result.variables]
            bindings, truncated = [], False
            for sol in result:
                if len(bindings) >= cap:
                    truncated = True
                    break
                bindings.append({n: _term_json(v) for n in names if (v := sol[n]) is not None})
            doc = json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                             ensure_ascii=False).encode("utf-8")
            media, ox_fmt = mt.TABULAR[name]
            if name != "json":
                doc = ox.parse_query_results(doc, format=ox.QueryResultsFormat.JSON).serialize(format=ox_fmt)
            return ("ok", media, doc, truncated, len(bindings))
        if isinstance(result, ox.QueryBoolean):
            media, ox_fmt = mt.TABULAR[name]
            return ("ok", media, result.serialize(format=ox_fmt), False, 1)
        triples, truncated = [], False
        for t in result:
            if len(triples) >= cap:
                truncated = True
                break
            triples.append(t)
        return ("ok", mt.GRAPH[name][0], serialize_triples(triples, name), truncated, len(triples))
    except (ValueError, OSError, SyntaxError) as e:
        return ("error", 500, f"query evaluation failed: {e}")


def _isolate_network() -> bool:
    """Move this (still single-threaded) process into its own network namespace: no route anywhere."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.unshare(_CLONE_NEWUSER | _CLONE_NEWNET) == 0
    except (OSError, AttributeError):
        return False


def _address_space() -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _cap_memory(memory_mb: int) -> int | None:
    """Limit the address space to what is mapped now plus `memory_mb`; the limit in bytes, or None."""
    now = _address_space()
    if not memory_mb or now is None:
        return None
    limit = now + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    return limit


def _worker_main(store_path: str, conn: Any, memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which stops us
    isolated = _isolate_network()
    store = ox.Store.read_only(store_path)
    prepare("ASK { ?s ?p ?o }")  # load the parser before measuring the baseline
    limit = _cap_memory(memory_mb)
    try:
        conn.send(("ready", isolated, limit))
    except OSError:  # the pool closed while we were starting
        return
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        try:
            conn.send(STARTED)  # from here on, our death is this job's fault (see WorkerPool._wait_on)
        except OSError:
            return
        retire = False
        try:
            if job["kind"] == "describe":
                from se_pipeline.access.describe import describe
                answer: tuple = ("ok", describe(store, job["iri"]))
            else:
                answer = execute(store, job)
        except MemoryError:
            answer, retire = ("error", 500, f"the query needed more memory than this endpoint allows a query "
                                            f"({memory_mb} MiB); simplify it or download the dump"), True
        except RecursionError:
            answer = ("error", 400, "the query is nested too deeply")
        except Exception as e:  # never let one bad job kill the worker silently
            answer = ("error", 500, f"{type(e).__name__}: {e}")
        try:
            conn.send(answer + (("retire",) if retire else ()))
        except OSError:  # the server gave up on this job (timeout, shutdown) and closed the pipe
            return
        if retire:  # memory may be fragmented or half-freed: start afresh
            return


# ---------------------------------------------------------------------------------------
# The pool, in the server process


class QueryTimeout(Exception):
    """The query ran longer than the endpoint's timeout and was stopped."""


class Busy(Exception):
    """No worker became free in time, the queue is full, or the pool is shutting down."""


class WorkerCrashed(Exception):
    """The worker process died while running the job."""


class _NeverStarted(Exception):
    """The worker died before it acknowledged the job: the job is safe to give to another worker."""


STARTED = ("started",)


@dataclass(eq=False)
class _Worker:
    process: Any
    conn: Any


class WorkerPool:
    """`size` worker processes over a read-only store; `run(job)` with a hard timeout.

    At most `size + queue` jobs are admitted at once (running or waiting for a worker);
    more are refused at once with Busy, so a burst cannot pile up threads in the server.
    """

    def __init__(self, store_path: str, *, size: int = 2, timeout: float = 30.0, memory_mb: int = 1024,
                 queue: int = 16, name: str = "query", start_timeout: float = 60.0) -> None:
        self.store_path, self.size, self.timeout, self.memory_mb = store_path, size, timeout, memory_mb
        self.queue, self.name, self.start_timeout = queue, name, start_timeout
        self._ctx = mp.get_context("spawn")
        self._cond = threading.Condition()
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self._admitted = 0
        self._closed = False
        self.killed = 0
        self.crashed = 0
        self.network_isolated = True
        self.memory_limited = True
        for _ in range(size):
            self._idle.append(self._spawn())

    def _spawn(self) -> _Worker:
        parent, child = self._ctx.Pipe()
        p = self._ctx.Process(target=_worker_main, args=(self.store_path, child, self.memory_mb), daemon=True,
                              name=f"se-pipeline-{self.name}-worker")
        p.start()
        child.close()
        if not parent.poll(self.start_timeout):
            p.kill()
            raise RuntimeError(f"{self.name} worker did not start")
        try:
            msg = parent.recv()
        except EOFError:
            raise RuntimeError(f"{self.name} worker failed to start (exit code {p.exitcode})") from None
        _, isolated, limit = msg
        self.network_isolated &= bool(isolated)
        self.memory_limited &= limit is not None
        w = _Worker(p, parent)
        with self._cond:
            self._all.add(w)
        return w

    @property
    def pids(self) -> list[int]:
        with self._cond:
            return [w.process.pid for w in self._all]

    def _replace_later(self) -> None:
        def replace() -> None:
            delay = 0.5
            while True:  # a pool that silently shrank would end in 503s for ever: keep trying, backing off
                try:
                    w = self._spawn()
                    break
                except Exception as e:
                    if self._closed:
                        return
                    log.error("could not start a replacement %s worker (%s); retrying in %.1f s", self.name, e, delay)
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
            with self._cond:
                if self._closed:
                    w.process.kill()
                    self._all.discard(w)
                    return
                self._idle.append(w)
                self._cond.notify()
        if not self._closed:
            threading.Thread(target=replace, daemon=True).start()

    def _drop(self, w: _Worker) -> None:
        """Kill a worker and forget it; a replacement is started."""
        if w.process.is_alive():
            w.process.kill()
        w.process.join(5)
        w.conn.close()
        with self._cond:
            self._all.discard(w)
        self._replace_later()

    def run(self, job: dict[str, Any], timeout: float | None = None) -> tuple:
        """Send `job` to a worker; its answer, or QueryTimeout / WorkerCrashed / Busy."""
        limit = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + limit
        with self._cond:
            if self._closed:
                raise Busy("the server is shutting down")
            if self._admitted >= self.size + self.queue:
                raise Busy(f"all {self.name} workers are busy and {self.queue} requests are waiting")
            self._admitted += 1
        try:
            while True:
                with self._cond:
                    while not self._idle and not self._closed:
                        if not self._cond.wait(max(0.0, deadline - time.monotonic())) and not self._idle:
                            raise Busy(f"no {self.name} worker became free within {limit:g} s")
                    if self._closed:
                        raise Busy("the server is shutting down")
                    w = self._idle.pop()
                try:
                    if not w.process.is_alive():
                        raise BrokenPipeError
                    w.conn.send(job)
                except OSError:  # it died while idle (killed from outside): the job never reached it
                    log.warning("%s worker %d had died while idle; replaced", self.name, w.process.pid)
                    self._drop(w)
                    continue
                try:
                    return self._wait_on(w, limit, deadline)
                except _NeverStarted:
                    continue
        finally:
            with self._cond:
                self._admitted -= 1

    def _wait_on(self, w: _Worker, limit: float, deadline: float) -> tuple:
        """The worker's answer. A worker killed from outside may still look alive when the job is
        sent (its death is not yet visible); it acknowledges each job before running it, so a worker
        that dies before acknowledging cost nothing but a retry (`_NeverStarted`), while one that dies
        after is a crash this job caused."""
        started = False
        try:
            started = w.conn.poll(max(0.01, deadline - time.monotonic())) and w.conn.recv() == STARTED
            if started and w.conn.poll(max(0.01, deadline - time.monotonic())):
                answer = w.conn.recv()
                if answer[-1] == "retire":
                    log.warning("%s worker %d stopped after running out of memory: %s", self.name,
                                w.process.pid, answer[2])
                    self._drop(w)
                    return answer[:-1]
                with self._cond:
                    self._idle.append(w)
                    self._cond.notify()
                return answer
            timed_out = True
        except (EOFError, OSError):
            timed_out = False
        if not started and not timed_out:
            log.warning("%s worker %d died before it took the job; the job goes to another worker",
                        self.name, w.process.pid)
            self._drop(w)
            if self._closed:
                raise Busy("the server is shutting down")
            raise _NeverStarted
        if timed_out and w.process.is_alive():
            self.killed += 1
            self._drop(w)
            if self._closed:
                raise Busy("the server is shutting down")
            raise QueryTimeout(f"query stopped after its timeout of {limit:g} s")
        w.process.join(2)
        code = w.process.exitcode
        self._drop(w)
        if self._closed:
            raise Busy("the server is shutting down")
        self.crashed += 1
        how = (f"was killed by signal {signal.Signals(-code).name}" if code is not None and code < 0
               else f"exited with code {code}")
        cap = f"; each query may use at most {self.memory_mb} MiB of memory" if self.memory_mb else ""
        log.error("%s worker %d %s while running a job", self.name, w.process.pid, how)
        raise WorkerCrashed(f"the {self.name} worker crashed while running this request (it {how}{cap}); "
                            "it has been replaced")

    def close(self, grace: float = 0.0) -> None:
        """Stop accepting jobs; let running ones finish for `grace` seconds; stop every worker."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            end = time.monotonic() + grace
            while len(self._idle) < len(self._all) and time.monotonic() < end:
                self._cond.wait(max(0.0, end - time.monotonic()))
            idle, workers = list(self._idle), list(self._all)
            self._idle.clear()
            self._all.clear()
        for w in idle:
            try:
                w.conn.send(None)
            except OSError:
                pass
        for w in workers:
            if w not in idle:
                w.process.kill()
        for w in workers:
            w.process.join(2)
            if w.process.is_alive():
                w.process.kill()
                w.process.join(2)

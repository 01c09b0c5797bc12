"""The query workers: no network, so even a SERVICE that got past the parsed-query guard could
reach no address (where the kernel allows unprivileged user namespaces); a worker killed from
outside costs no request that it had not started."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import threading
import time
from pathlib import Path

import pyoxigraph as ox
import pytest

from se_pipeline.access import workers


def _probe(port: int, answers) -> None:
    isolated = workers._isolate_network()
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
        reached = True
    except OSError:
        reached = False
    answers.put((isolated, reached))


def test_an_isolated_worker_reaches_no_address() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    try:
        ctx = mp.get_context("spawn")
        answers = ctx.Queue()
        p = ctx.Process(target=_probe, args=(listener.getsockname()[1], answers))
        p.start()
        isolated, reached = answers.get(timeout=60)
        p.join(10)
    finally:
        listener.close()
    if not isolated:
        pytest.skip("unprivileged user namespaces are disabled on this machine: the guard alone refuses SERVICE")
    assert reached is False  # not even the loopback address of the host


@pytest.fixture
def store_path(tmp_path: Path) -> str:
    store = ox.Store(str(tmp_path / "store"))
    store.add(ox.Quad(ox.NamedNode("http://e/s"), ox.NamedNode("http://e/p"), ox.Literal("o")))
    store.flush()
    del store
    return str(tmp_path / "store")


def test_a_worker_that_dies_before_taking_the_job_costs_a_retry_not_an_error(store_path: str) -> None:
    """A worker killed while idle may still look alive when a job is sent to it (its death not
    yet visible): stopped, it cannot take the job; killed then, the job goes to the other worker."""
    pool = workers.WorkerPool(store_path, size=2, timeout=60, memory_mb=0, queue=2)
    try:
        victim = pool._idle[-1]  # the next job's worker
        os.kill(victim.process.pid, signal.SIGSTOP)
        result: dict = {}
        job = {"kind": "query", "query": "ASK { ?s ?p ?o }", "accept": "application/sparql-results+json", "max_rows": 10}
        t = threading.Thread(target=lambda: result.update(answer=pool.run(job)))
        t.start()
        time.sleep(0.5)  # the job sits unread in the stopped worker's pipe
        assert "answer" not in result
        os.kill(victim.process.pid, signal.SIGKILL)
        t.join(60)
        assert result["answer"][0] == "ok", result
        assert pool.crashed == 0 and victim.process.pid not in pool.pids
    finally:
        pool.close()

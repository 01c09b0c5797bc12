"""The query workers' defence in depth: no network, so even a SERVICE that got past the parsed-query guard
could reach no address (where the kernel allows unprivileged user namespaces)."""
from __future__ import annotations

import multiprocessing as mp
import socket

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

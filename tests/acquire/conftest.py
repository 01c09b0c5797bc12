"""Fixtures: loopback HTTP servers only (never the internet), and a client whose sleeps
are recorded instead of slept, so backoff tests are instant."""
from __future__ import annotations

from typing import Iterator

import pytest
from pytest_httpserver import HTTPServer

from se_pipeline.acquire.http import HttpClient
from se_pipeline.acquire.policy import SourcePolicy

LOOPBACK_HOSTS = ["localhost", "127.0.0.1"]


class SleepLog(list):
    """Injected `sleep`: remembers the requested delays, returns at once."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> SleepLog:
    return SleepLog()


@pytest.fixture
def client(sleeps: SleepLog) -> Iterator[HttpClient]:
    """http allowed and robots off (each robots test turns it on), short timeouts."""
    c = HttpClient(allow_http=True, respect_robots=False, connect_timeout_s=2, read_timeout_s=2,
                   max_retries=3, backoff_base_s=0.5, backoff_max_s=4).with_hooks(sleep=sleeps)
    yield c
    c.close()


@pytest.fixture
def policy() -> SourcePolicy:
    return SourcePolicy(allowed_hosts=list(LOOPBACK_HOSTS), expected="csv", allow_private_addresses=True,
                        max_bytes=1_000_000, total_budget_s=20)


@pytest.fixture
def threaded_server() -> Iterator[HTTPServer]:
    """A server of its own for handlers that sleep, so they do not block the shared one."""
    server = HTTPServer(threaded=True)
    server.start()
    yield server
    server.clear()
    server.stop()

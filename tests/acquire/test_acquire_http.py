"""HttpClient rules against loopback servers: timeouts, retries, caps, redirects, robots."""
from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from se_pipeline.acquire.errors import (
    ConnectionFailed,
    ContentMismatch,
    DisallowedUrl,
    FetchTimeout,
    HttpStatusError,
    ManualExportOnly,
    RobotsDisallowed,
    TooLarge,
)
from se_pipeline.acquire.http import HttpClient, address_refusal, parse_retry_after
from se_pipeline.acquire.policy import SourcePolicy

CSV = b"id,name\n1,Alpha Co-op\n"


def sequence(*responses: Response):
    """A handler answering with the given responses in turn (the last one repeats)."""
    calls: list[Request] = []

    def handler(request: Request) -> Response:
        calls.append(request)
        return responses[min(len(calls), len(responses)) - 1]

    handler.calls = calls  # type: ignore[attr-defined]
    return handler


# -- timeouts and budget -----------------------------------------------------------------

def test_read_timeout_raises_fetch_timeout(threaded_server: HTTPServer, policy: SourcePolicy, sleeps) -> None:
    def slow(request: Request) -> Response:
        time.sleep(1.5)
        return Response(CSV)

    threaded_server.expect_request("/slow").respond_with_handler(slow)
    client = HttpClient(allow_http=True, respect_robots=False, read_timeout_s=0.5, max_retries=0).with_hooks(sleep=sleeps)
    t0 = time.monotonic()
    with pytest.raises(FetchTimeout) as info:
        client.get(threaded_server.url_for("/slow"), policy=policy, source="s")
    assert time.monotonic() - t0 < 1.4
    assert info.value.transient and info.value.source == "s"


def test_budget_stops_retries(httpserver: HTTPServer, client: HttpClient, sleeps) -> None:
    handler = sequence(Response("busy", status=503, headers={"Retry-After": "30"}))
    httpserver.expect_request("/busy").respond_with_handler(handler)
    tight = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, total_budget_s=5)
    with pytest.raises(HttpStatusError) as info:
        client.get(httpserver.url_for("/busy"), policy=tight)
    assert info.value.status == 503 and "budget" in str(info.value)
    assert sleeps == [] and len(handler.calls) == 1


# -- retries -----------------------------------------------------------------------------

def test_5xx_then_200_is_retried_with_bounded_backoff(httpserver: HTTPServer, client: HttpClient, policy, sleeps) -> None:
    handler = sequence(Response("oops", status=500), Response("bad gateway", status=502), Response(CSV))
    httpserver.expect_request("/flaky").respond_with_handler(handler)
    result = client.get(httpserver.url_for("/flaky"), policy=policy)
    assert result.status_code == 200 and result.content == CSV
    assert len(handler.calls) == 3 and result.attempts == 3
    assert len(sleeps) == 2
    assert 0 <= sleeps[0] <= 0.5 and 0 <= sleeps[1] <= 1.0  # full jitter under base * 2^n


def test_retries_exhausted(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    handler = sequence(Response("down", status=503))
    httpserver.expect_request("/down").respond_with_handler(handler)
    with pytest.raises(HttpStatusError) as info:
        client.get(httpserver.url_for("/down"), policy=policy)
    assert info.value.status == 503 and info.value.transient
    assert len(handler.calls) == client.max_retries + 1


def test_404_is_not_retried(httpserver: HTTPServer, client: HttpClient, policy, sleeps) -> None:
    handler = sequence(Response("no", status=404))
    httpserver.expect_request("/gone").respond_with_handler(handler)
    with pytest.raises(HttpStatusError) as info:
        client.get(httpserver.url_for("/gone"), policy=policy)
    assert info.value.status == 404 and not info.value.transient
    assert len(handler.calls) == 1 and sleeps == []


@pytest.mark.parametrize("retry_after", ["120", "date"])
def test_429_retry_after_is_honoured_but_capped(httpserver: HTTPServer, policy, sleeps, retry_after: str) -> None:
    if retry_after == "date":
        retry_after = format_datetime(datetime.now(timezone.utc) + timedelta(hours=1), usegmt=True)
    handler = sequence(Response("slow down", status=429, headers={"Retry-After": retry_after}), Response(CSV))
    httpserver.expect_request("/limited").respond_with_handler(handler)
    client = HttpClient(allow_http=True, respect_robots=False, retry_after_cap_s=2.5).with_hooks(sleep=sleeps)
    result = client.get(httpserver.url_for("/limited"), policy=policy)
    assert result.content == CSV
    assert sleeps == [2.5]


def test_retry_after_below_cap_is_used_as_is(httpserver: HTTPServer, client: HttpClient, policy, sleeps) -> None:
    handler = sequence(Response("busy", status=503, headers={"Retry-After": "1"}), Response(CSV))
    httpserver.expect_request("/busy").respond_with_handler(handler)
    client.get(httpserver.url_for("/busy"), policy=policy)
    assert sleeps == [1.0]


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, tzinfo=timezone.utc)
    assert parse_retry_after("7", now) == 7.0
    assert parse_retry_after("Wed, 01 Jan 2025 00:00:30 GMT", now) == 30.0
    assert parse_retry_after("Tue, 31 Dec 2024 00:00:00 GMT", now) == 0.0
    assert parse_retry_after("soon", now) is None and parse_retry_after(None) is None


def test_connection_refused_is_retried_then_reported(client: HttpClient, policy, sleeps) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionFailed) as info:
        client.get(f"http://127.0.0.1:{port}/x", policy=policy)
    assert info.value.transient and len(sleeps) == client.max_retries


# -- size ----------------------------------------------------------------------------------

def test_byte_cap_by_content_length(httpserver: HTTPServer, client: HttpClient) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    small = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, max_bytes=1000)
    with pytest.raises(TooLarge) as info:
        client.get(httpserver.url_for("/big"), policy=small)
    assert info.value.limit == 1000


def test_byte_cap_while_streaming(httpserver: HTTPServer, client: HttpClient) -> None:
    def stream(request: Request) -> Response:
        return Response((b"y" * 1000 for _ in range(200)), content_type="text/csv")  # no Content-Length

    httpserver.expect_request("/stream").respond_with_handler(stream)
    small = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, max_bytes=50_000)
    with pytest.raises(TooLarge):
        client.get(httpserver.url_for("/stream"), policy=small)


def test_client_cap_applies_too(httpserver: HTTPServer, policy, sleeps) -> None:
    httpserver.expect_request("/big").respond_with_data(b"x" * 5000)
    client = HttpClient(allow_http=True, respect_robots=False, max_bytes=100).with_hooks(sleep=sleeps)
    with pytest.raises(TooLarge):
        client.get(httpserver.url_for("/big"), policy=policy)


def test_truncated_body_is_reported(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    def short(request: Request) -> Response:
        response = Response(CSV, content_type="text/csv")
        response.headers["Content-Length"] = str(len(CSV) + 50)
        return response

    httpserver.expect_request("/short").respond_with_handler(short)
    with pytest.raises(ContentMismatch) as info:
        client.get(httpserver.url_for("/short"), policy=policy)
    assert info.value.reason == "truncated" and info.value.transient


# -- where we may go -----------------------------------------------------------------------

def test_https_only_by_default(policy) -> None:
    with pytest.raises(DisallowedUrl, match="https only"):
        HttpClient(respect_robots=False).get("http://localhost:1/x", policy=policy)


@pytest.mark.parametrize("url", ["ftp://localhost/x", "gopher://localhost/"])
def test_other_schemes_refused(client: HttpClient, policy, url: str) -> None:
    with pytest.raises(DisallowedUrl, match="scheme"):
        client.get(url, policy=policy)


def test_host_not_on_allowlist(httpserver: HTTPServer, client: HttpClient) -> None:
    other = SourcePolicy(allowed_hosts=["data.example.org"], allow_private_addresses=True)
    with pytest.raises(DisallowedUrl, match="allowlist"):
        client.get(httpserver.url_for("/x"), policy=other)
    assert len(httpserver.log) == 0


def test_loopback_refused_unless_opted_in(httpserver: HTTPServer, sleeps) -> None:
    httpserver.expect_request("/x").respond_with_data(CSV)
    strict = SourcePolicy(allowed_hosts=["localhost", "127.0.0.1"])
    client = HttpClient(allow_http=True, respect_robots=False).with_hooks(sleep=sleeps)
    with pytest.raises(DisallowedUrl, match="loopback"):
        client.get(httpserver.url_for("/x"), policy=strict)
    assert len(httpserver.log) == 0
    # opting in on the client (run settings) or on the policy both work
    opted = HttpClient(allow_http=True, respect_robots=False, allow_private_addresses=True)
    assert opted.get(httpserver.url_for("/x"), policy=strict).content == CSV


def test_private_resolution_refused_before_connecting(client: HttpClient) -> None:
    def resolve(host, port, *args, **kwargs):
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    client.with_hooks(resolve=resolve)
    strict = SourcePolicy(allowed_hosts=["data.example.org"])
    with pytest.raises(DisallowedUrl, match="private address 10.1.2.3"):
        client.get("https://data.example.org/export.csv", policy=strict)


@pytest.mark.parametrize("address,why", [
    ("127.0.0.1", "loopback"), ("::1", "loopback"), ("::ffff:127.0.0.1", "loopback"),
    ("10.0.0.1", "private"), ("192.168.1.1", "private"), ("169.254.169.254", "link-local"),
    ("fe80::1%eth0", "link-local"), ("0.0.0.0", "private"), ("224.0.0.1", "multicast"),
    ("100.64.0.1", "non-global"), ("93.184.216.34", None), ("2606:4700::1111", None),
])
def test_address_rules(address: str, why: str | None) -> None:
    assert address_refusal(address) == why


def test_redirect_to_disallowed_host(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    httpserver.expect_request("/moved").respond_with_response(
        Response(status=302, headers={"Location": "http://evil.example.net/steal"}))
    with pytest.raises(DisallowedUrl) as info:
        client.get(httpserver.url_for("/moved"), policy=policy)
    assert "redirect from" in str(info.value) and "evil.example.net" in str(info.value)


def test_redirect_to_private_address_refused(httpserver: HTTPServer, client: HttpClient) -> None:
    """The first hop passes the address check (the fake resolver calls `localhost` public);
    its redirect to 127.0.0.1 must be refused before any request is made there."""
    def resolve(host, port, *args, **kwargs):
        if host == "localhost":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port))]
        return socket.getaddrinfo(host, port, *args, **kwargs)

    client.with_hooks(resolve=resolve)
    httpserver.expect_request("/x").respond_with_response(
        Response(status=302, headers={"Location": f"http://127.0.0.1:{httpserver.port}/internal"}))
    strict = SourcePolicy(allowed_hosts=["localhost", "127.0.0.1"])
    with pytest.raises(DisallowedUrl, match="redirect from .*loopback"):
        client.get(httpserver.url_for("/x"), policy=strict)
    assert [entry[0].path for entry in httpserver.log] == ["/x"]


def test_redirects_followed_and_rechecked(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    port = httpserver.port
    httpserver.expect_request("/a").respond_with_response(Response(status=301, headers={"Location": "/b"}))
    httpserver.expect_request("/b").respond_with_response(
        Response(status=307, headers={"Location": f"http://127.0.0.1:{port}/c"}))

    def final(request: Request) -> Response:
        # the host changed (localhost -> 127.0.0.1): credentials must not follow
        assert "Authorization" not in request.headers
        return Response(CSV)

    httpserver.expect_request("/c").respond_with_handler(final)
    result = client.get(httpserver.url_for("/a"), policy=policy, headers={"Authorization": "Bearer k"})
    assert result.content == CSV
    assert result.url == f"http://127.0.0.1:{port}/c"
    assert result.requested_url == httpserver.url_for("/a") and len(result.history) == 2


def test_too_many_redirects(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    httpserver.expect_request("/loop").respond_with_response(Response(status=302, headers={"Location": "/loop"}))
    with pytest.raises(HttpStatusError, match="more than 5 redirects"):
        client.get(httpserver.url_for("/loop"), policy=policy)


def test_manual_export_only_refuses_http(client: HttpClient) -> None:
    manual = SourcePolicy(allowed_hosts=["localhost"], manual_export_only=True, allow_private_addresses=True)
    with pytest.raises(ManualExportOnly):
        client.get("http://localhost:1/export.csv", policy=manual)


# -- robots.txt ----------------------------------------------------------------------------

def test_robots_disallow_and_cached(httpserver: HTTPServer, policy, sleeps) -> None:
    robots = sequence(Response("User-agent: *\nDisallow: /private\n", content_type="text/plain"))
    httpserver.expect_request("/robots.txt").respond_with_handler(robots)
    httpserver.expect_request("/public.csv").respond_with_data(CSV)
    client = HttpClient(allow_http=True).with_hooks(sleep=sleeps)
    assert client.get(httpserver.url_for("/public.csv"), policy=policy).content == CSV
    with pytest.raises(RobotsDisallowed) as info:
        client.get(httpserver.url_for("/private/data.csv"), policy=policy)
    assert not info.value.transient
    client.get(httpserver.url_for("/public.csv"), policy=policy)
    assert len(robots.calls) == 1  # once per client and origin
    assert robots.calls[0].headers["User-Agent"].startswith("se-pipeline/")


def test_robots_for_our_agent(httpserver: HTTPServer, policy, sleeps) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("User-agent: se-pipeline\nDisallow: /\n\nUser-agent: *\nAllow: /\n")
    client = HttpClient(allow_http=True).with_hooks(sleep=sleeps)
    with pytest.raises(RobotsDisallowed):
        client.get(httpserver.url_for("/data.csv"), policy=policy)


def test_robots_missing_means_allowed(httpserver: HTTPServer, policy, sleeps) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=404)
    httpserver.expect_request("/data.csv").respond_with_data(CSV)
    client = HttpClient(allow_http=True).with_hooks(sleep=sleeps)
    assert client.get(httpserver.url_for("/data.csv"), policy=policy).content == CSV


def test_robots_server_error_means_disallow(httpserver: HTTPServer, policy, sleeps) -> None:
    httpserver.expect_request("/robots.txt").respond_with_data("", status=503)
    client = HttpClient(allow_http=True).with_hooks(sleep=sleeps)
    with pytest.raises(RobotsDisallowed) as info:
        client.get(httpserver.url_for("/data.csv"), policy=policy)
    assert info.value.transient and "RFC 9309" in str(info.value)


# -- resource ------------------------------------------------------------------------------

def test_is_a_dagster_resource_with_documented_defaults() -> None:
    client = HttpClient()
    assert (client.connect_timeout_s, client.read_timeout_s, client.max_retries) == (5, 30, 4)
    assert (client.backoff_base_s, client.backoff_max_s, client.retry_after_cap_s) == (0.5, 30, 60)
    assert client.max_bytes == 200_000_000 and client.respect_robots
    assert not client.allow_private_addresses and not client.allow_http
    assert client.user_agent.startswith("se-pipeline/") and "(+https://w3id.org/se-pipeline/)" in client.user_agent
    dg.Definitions(resources={"http": client})


def test_session_is_reused(httpserver: HTTPServer, client: HttpClient, policy) -> None:
    httpserver.expect_request("/x").respond_with_data(CSV)
    client.get(httpserver.url_for("/x"), policy=policy)
    session = client.session()
    client.get(httpserver.url_for("/x"), policy=policy)
    assert client.session() is session


def test_dns_failure_is_retried_then_reported(client: HttpClient, sleeps) -> None:
    calls = []

    def resolve(host, port, *args, **kwargs):
        calls.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    client.with_hooks(resolve=resolve)
    strict = SourcePolicy(allowed_hosts=["data.example.org"])
    with pytest.raises(ConnectionFailed, match="cannot resolve"):
        client.get("https://data.example.org/x.csv", policy=strict)
    assert len(calls) == client.max_retries + 1 and len(sleeps) == client.max_retries


def dripping(total: int, every_s: float):
    """A handler sending `total` bytes of CSV one at a time, `every_s` apart (a careless
    or hostile upstream that keeps the connection alive without ever finishing)."""
    def handler(request: Request) -> Response:
        def body():
            for i in range(total):
                time.sleep(every_s)
                yield b"id,name\n"[i % 8:i % 8 + 1]
        return Response(body(), content_type="text/csv", headers={"Content-Length": str(total)})
    return handler


def test_budget_ends_a_dripping_body(threaded_server: HTTPServer, sleeps) -> None:
    """Each byte arrives well inside the read timeout, so only the wall-clock budget,
    checked between small reads, can end the download."""
    threaded_server.expect_request("/drip").respond_with_handler(dripping(200, 0.05))
    client = HttpClient(allow_http=True, respect_robots=False, read_timeout_s=5).with_hooks(sleep=sleeps)
    tight = SourcePolicy(allowed_hosts=["localhost"], allow_private_addresses=True, total_budget_s=0.5)
    with pytest.raises(FetchTimeout, match=r"time budget spent while reading the body .*time budget of 0.5s"):
        client.get(threaded_server.url_for("/drip"), policy=tight, source="s")
    assert sleeps == []  # no retry: the budget is spent

"""Issue: a source can fail, lie or change, and no good data is lost.

Each fault is served by a loopback HTTP server after one good fetch, and the test shows
the outcome a steward sees: published, quarantined, stale with last good, or held back.
"""
from __future__ import annotations

import gzip
import time
from pathlib import Path

import pyoxigraph as ox
import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from se_pipeline.acquire.http import HttpClient
from se_pipeline.gate.release_shacl import start_release_validation
from se_pipeline.gate.source import gate_source
from se_pipeline.release.build import build_release
from se_pipeline.settings import Settings
from se_pipeline.sources.ingest import ingest
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import SourceState, read_json

SPEC = all_sources()["coops_uk"]
SAMPLE = SPEC.sample.read_bytes()
PATH = "/organisations.csv"


@pytest.fixture
def client() -> HttpClient:
    c = HttpClient(allow_http=True, allow_private_addresses=True, respect_robots=False, read_timeout_s=0.5,
                   connect_timeout_s=1, max_retries=2, backoff_base_s=0.01, backoff_max_s=0.05)
    yield c
    c.close()


def settings_for(tmp_path: Path, url: str, **extra: object) -> Settings:
    return Settings(
        output_dir=tmp_path / "out",
        sources={"coops_uk": {"url": url, "allowed_hosts": ["127.0.0.1", "localhost"], **extra}},
        http={"allow_private_addresses": True},
    )


def good_run(httpserver: HTTPServer, settings: Settings, client: HttpClient) -> None:
    httpserver.expect_oneshot_request(PATH).respond_with_data(SAMPLE, content_type="text/csv", headers={"ETag": '"v1"'})
    assert ingest(SPEC, settings, client).ok
    assert gate_source("coops_uk", settings).status == "promoted"


def release_says_stale(settings: Settings) -> bool:
    """Publish, check the last good data is in the release, and read the catalog's stale flag."""
    result = build_release(settings, [SPEC], validate=start_release_validation)
    with gzip.open(result.path / "dataset.nq.gz", "rb") as f:
        assert sum(1 for _ in ox.parse(f, format=ox.RdfFormat.N_QUADS)) > 100
    store = ox.Store()
    store.load(path=str(result.path / "catalog.ttl"), format=ox.RdfFormat.TURTLE)
    return bool(store.query("""ASK { <https://w3id.org/se-pipeline/source/coops_uk>
        <https://w3id.org/se-pipeline/ontology/stale> true }"""))


FAULTS = {
    "html_error_page": lambda: Response("<!DOCTYPE html><html><body>Service down</body></html>", 200,
                                        content_type="text/csv"),
    "empty_body": lambda: Response(b"", 200, content_type="text/csv"),
    "server_error": lambda: Response("oops", 500),
    "not_found": lambda: Response("gone", 404),
    "header_changed": lambda: Response(SAMPLE.replace(b"CUK Organisation ID", b"Org Ref", 1), 200,
                                       content_type="text/csv"),
    "not_csv_bytes": lambda: Response(b"\x00\x01\x02\xff\xfe binary", 200, content_type="text/csv"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_fault_leaves_source_stale_with_last_good(fault: str, httpserver: HTTPServer, tmp_path: Path,
                                                  client: HttpClient) -> None:
    settings = settings_for(tmp_path, httpserver.url_for(PATH))
    good_run(httpserver, settings, client)
    httpserver.expect_request(PATH).respond_with_handler(lambda request: FAULTS[fault]())
    outcome = ingest(SPEC, settings, client)
    assert not outcome.ok and outcome.error
    assert gate_source("coops_uk", settings).status == "stale"
    assert release_says_stale(settings)
    assert SourceState.of(settings.state_dir, "coops_uk").has_good()


def test_timeout_is_transient_and_keeps_last_good(tmp_path: Path, client: HttpClient) -> None:
    server = HTTPServer(threaded=True)  # its own server: slow handlers must not block other tests
    server.start()
    try:
        settings = settings_for(tmp_path, server.url_for(PATH))
        good_run(server, settings, client)

        def slow(request):  # longer than the client's read timeout
            time.sleep(1.0)
            return Response(SAMPLE, 200, content_type="text/csv")

        server.expect_request(PATH).respond_with_handler(slow)
        outcome = ingest(SPEC, settings, client)
        assert not outcome.ok and outcome.transient and "Timeout" in outcome.error
        assert release_says_stale(settings)
    finally:
        server.clear()
        server.stop()


def test_dripping_body_ends_at_the_budget_and_keeps_last_good(tmp_path: Path, client: HttpClient) -> None:
    """One byte every 0.05 s never trips the read timeout; the total budget ends it."""
    server = HTTPServer(threaded=True)
    server.start()
    try:
        settings = settings_for(tmp_path, server.url_for(PATH), total_budget_s=1)
        good_run(server, settings, client)

        def drip(request):
            def body():
                for byte in SAMPLE[:400]:
                    time.sleep(0.05)
                    yield bytes([byte])
            return Response(body(), 200, content_type="text/csv", headers={"Content-Length": "400"})

        server.expect_request(PATH).respond_with_handler(drip)
        outcome = ingest(SPEC, settings, client)
        assert not outcome.ok and "time budget spent while reading the body" in outcome.error
        assert release_says_stale(settings)
    finally:
        server.clear()
        server.stop()


def test_unchanged_source_costs_one_304_and_no_reprocessing(httpserver: HTTPServer, tmp_path: Path,
                                                           client: HttpClient) -> None:
    settings = settings_for(tmp_path, httpserver.url_for(PATH))
    good_run(httpserver, settings, client)
    httpserver.expect_oneshot_request(PATH, headers={"If-None-Match": '"v1"'}).respond_with_data("", status=304)
    outcome = ingest(SPEC, settings, client)
    assert outcome.ok and outcome.not_modified and "parse" not in outcome.seconds
    assert gate_source("coops_uk", settings).status == "unchanged"
    httpserver.check_assertions()
    # the unchanged run reports the last good copy's quarantine, so quarantine_share still sees it
    state = SourceState.of(settings.state_dir, "coops_uk")
    good, run = read_json(state.good / "status.json"), read_json(state.run / "status.json")
    assert good["quarantined"] > 0 and (run["rows"], run["quarantined"]) == (good["rows"], good["quarantined"])


def test_shrunk_source_is_counted_for_the_blocking_check(httpserver: HTTPServer, tmp_path: Path,
                                                          client: HttpClient) -> None:
    settings = settings_for(tmp_path, httpserver.url_for(PATH))
    good_run(httpserver, settings, client)
    lines = SAMPLE.decode("utf-8").split("\r\n")
    shrunk = "\r\n".join(lines[:4]) + "\r\n"
    httpserver.expect_request(PATH).respond_with_data(shrunk, content_type="text/csv")
    outcome = ingest(SPEC, settings, client)
    state = SourceState.of(settings.state_dir, "coops_uk")
    assert outcome.ok and outcome.rows < read_json(state.good / "status.json")["rows"] * 0.5


def test_malformed_rows_are_quarantined_and_the_rest_published(httpserver: HTTPServer, tmp_path: Path,
                                                               client: HttpClient) -> None:
    settings = settings_for(tmp_path, httpserver.url_for(PATH))
    bad = SAMPLE.replace(b'"R000003"', b'""', 1)
    httpserver.expect_request(PATH).respond_with_data(bad, content_type="text/csv")
    outcome = ingest(SPEC, settings, client)
    assert outcome.ok
    quarantine = (SourceState.of(settings.state_dir, "coops_uk").run / "quarantine.csv").read_text()
    assert "coops_uk,,3,record_id,record has no identifier" in quarantine


def test_disallowed_host_is_refused_before_any_request(tmp_path: Path, client: HttpClient) -> None:
    settings = Settings(output_dir=tmp_path / "out", sources={"coops_uk": {"url": "https://evil.example.net/x.csv"}})
    outcome = ingest(SPEC, settings, client)
    assert not outcome.ok and "DisallowedUrl" in outcome.error

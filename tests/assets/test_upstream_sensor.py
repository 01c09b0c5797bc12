"""`<name>_upstream_changed` requests a refresh only after the upstream changed.

Evaluated with `dg.build_sensor_context`, against a `file://` copy of the sample and a
loopback HTTP server that speaks ETag / If-None-Match.
"""
import hashlib
import json
from pathlib import Path

import dagster as dg
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from se_pipeline.definitions import build_definitions
from se_pipeline.resources import build_resources
from se_pipeline.sources.registry import all_sources
from se_pipeline.state import SourceState, write_json
from tests.assets.conftest import coops_uk_copy, write_config

SENSOR = "coops_uk_upstream_changed"


def tick(defs: dg.Definitions, cfg: Path, out: Path, instance: dg.DagsterInstance, cursor: str | None):
    """One sensor evaluation: (run requests, new cursor, skip message)."""
    sensor = defs.resolve_sensor_def(SENSOR)
    with dg.build_sensor_context(instance=instance, cursor=cursor, sensor_name=SENSOR,
                                 resources=build_resources(str(cfg), str(out))) as context:
        data = sensor.evaluate_tick(context)
    return data.run_requests or [], data.cursor, data.skip_message


def test_file_source_requests_a_run_only_when_the_file_changed(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = coops_uk_copy(tmp_path)
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"url": data.as_uri()}})
    defs = build_definitions(str(cfg), str(out))
    with dg.DagsterInstance.ephemeral() as instance:
        requests, cursor, skip = tick(defs, cfg, out, instance, None)
        assert requests == [] and "baseline" in skip  # never fetched: the first tick only looks
        requests, cursor, skip = tick(defs, cfg, out, instance, cursor)
        assert requests == [] and "unchanged" in skip

        data.write_bytes(data.read_bytes() + b"\r\n")  # upstream publishes a new file
        requests, cursor, _ = tick(defs, cfg, out, instance, cursor)
        sha = hashlib.sha256(data.read_bytes()).hexdigest()
        assert [(r.job_name, r.run_key) for r in requests] == [("refresh_coops_uk", f"coops_uk:sha256:{sha}")]
        assert json.loads(cursor)["urls"][data.as_uri()]["sha256"] == sha

        requests, cursor, _ = tick(defs, cfg, out, instance, cursor)
        assert requests == []  # the same change is not requested twice


def test_first_tick_compares_with_the_last_good_fetch(tmp_path: Path) -> None:
    out = tmp_path / "out"
    data = coops_uk_copy(tmp_path)
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"url": data.as_uri()}})
    good = SourceState.of(out / "state", "coops_uk").good / "fetch.json"
    write_json(good, {"fetches": [{"url": data.as_uri(), "sha256": hashlib.sha256(data.read_bytes()).hexdigest()}]})
    defs = build_definitions(str(cfg), str(out))
    with dg.DagsterInstance.ephemeral() as instance:
        assert tick(defs, cfg, out, instance, None)[0] == []  # what we published is what is there
        write_json(good, {"fetches": [{"url": data.as_uri(), "sha256": "0" * 64}]})
        assert len(tick(defs, cfg, out, instance, None)[0]) == 1  # upstream moved on since the last good fetch


def test_disabled_source_is_skipped(tmp_path: Path) -> None:
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"enabled": False}})
    defs = build_definitions(str(cfg), str(tmp_path / "out"))
    with dg.DagsterInstance.ephemeral() as instance:
        requests, _, skip = tick(defs, cfg, tmp_path / "out", instance, None)
    assert requests == [] and "disabled" in skip


def test_http_source_uses_conditional_requests_and_the_etag_as_run_key(tmp_path: Path, httpserver: HTTPServer) -> None:
    upstream = {"etag": '"v1"', "body": coops_uk_copy(tmp_path).read_bytes()}
    seen: list[str | None] = []

    def handler(request: Request) -> Response:
        seen.append(request.headers.get("If-None-Match"))
        if request.headers.get("If-None-Match") == upstream["etag"]:
            return Response(status=304, headers={"ETag": upstream["etag"]})
        return Response(upstream["body"], headers={"ETag": upstream["etag"], "Content-Type": "text/csv"})

    httpserver.expect_request("/organisations.csv").respond_with_handler(handler)
    url = httpserver.url_for("/organisations.csv")
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"url": url, "allowed_hosts": ["localhost"]}},
                       http={"allow_private_addresses": True, "allow_http": True, "respect_robots": False})
    # The last good fetch of this URL carried ETag "v1".
    write_json(SourceState.of(out / "state", "coops_uk").good / "fetch.json", {"fetches": [
        {"url": url, "etag": '"v1"', "sha256": hashlib.sha256(upstream["body"]).hexdigest()}]})
    defs = build_definitions(str(cfg), str(out))
    with dg.DagsterInstance.ephemeral() as instance:
        requests, cursor, skip = tick(defs, cfg, out, instance, None)
        assert requests == [] and "unchanged" in skip
        assert seen == ['"v1"']  # asked conditionally; the 304 carried no body

        upstream.update(etag='"v2"', body=upstream["body"] + b"\r\n")
        requests, cursor, _ = tick(defs, cfg, out, instance, cursor)
        assert [(r.job_name, r.run_key) for r in requests] == [("refresh_coops_uk", 'coops_uk:etag:"v2"')]

        requests, cursor, _ = tick(defs, cfg, out, instance, cursor)
        assert requests == []
        assert seen == ['"v1"', '"v1"', '"v2"']


def test_every_source_sensor_evaluates_on_the_bundled_samples(tmp_path: Path) -> None:
    """Default configuration (bundled samples, no API keys): no sensor errors, none requests a run."""
    out = tmp_path / "out"
    defs = build_definitions(None, str(out))
    resources = build_resources(None, str(out))
    with dg.DagsterInstance.ephemeral() as instance:
        for name in all_sources():
            sensor = defs.resolve_sensor_def(f"{name}_upstream_changed")
            with dg.build_sensor_context(instance=instance, sensor_name=sensor.name, resources=resources) as context:
                data = sensor.evaluate_tick(context)
            assert not data.run_requests, name
            assert data.skip_message, name

"""Assets and sensors receive their resources as typed parameters; a source's API key
reaches its fetch (and only its fetch) from the environment, never its metadata."""
from __future__ import annotations

import inspect
from pathlib import Path

import dagster as dg
import pytest
from pytest_httpserver import HTTPServer

from se_pipeline.acquire.http import HttpClient
from se_pipeline.definitions import build_definitions
from se_pipeline.resources import ApiKey, SettingsResource, api_key_resource_name
from se_pipeline.sources.registry import all_sources
from tests.assets.conftest import materialized, run_job, write_config

SECRET = "s3cret-key-value"


def test_every_asset_and_sensor_declares_its_resources_by_type(tmp_path: Path) -> None:
    defs = build_definitions(output_dir=str(tmp_path))
    repo = defs.get_repository_def()
    for spec in all_sources().values():
        key = {api_key_resource_name(spec.api_key_env)} if spec.api_key_env else set()
        source = repo.assets_defs_by_key[dg.AssetKey(spec.name)]
        assert source.required_resource_keys - {"io_manager"} == {"settings", "http"} | key
        parameters = inspect.signature(source.op.compute_fn.decorated_fn).parameters
        assert {n: p.annotation for n, p in parameters.items() if n != "context"} == {
            "settings": SettingsResource, "http": HttpClient, **{k: ApiKey for k in key}}
        sensor = repo.get_sensor_def(f"{spec.name}_upstream_changed")
        assert sensor.required_resource_keys == {"settings", "http"} | key


def test_the_api_key_from_the_environment_reaches_the_fetch_and_never_the_metadata(
        tmp_path: Path, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, instance: dg.DagsterInstance) -> None:
    monkeypatch.setenv("ICA_CIVICRM_API_KEY", SECRET)
    sample = all_sources()["ica"].sample.read_bytes()
    httpserver.expect_request("/civicrm", query_string={"entity": "Contact", "api_key": SECRET}).respond_with_data(
        sample, content_type="application/json")
    config = write_config(tmp_path / "config.yaml", enabled=("ica",), sources={"ica": {
        "url": httpserver.url_for("/civicrm") + "?entity=Contact", "allowed_hosts": ["127.0.0.1", "localhost"]}},
        http={"allow_http": True, "allow_private_addresses": True, "respect_robots": False})
    defs = build_definitions(str(config), str(tmp_path / "out"))
    result = run_job(defs, "refresh_ica", instance)
    assert result.success and "ica" in materialized(result)
    [request] = [r for r, _ in httpserver.log]
    assert request.args["api_key"] == SECRET
    text = repr([e.event_specific_data.materialization.metadata for e in result.get_asset_materialization_events()])
    assert SECRET not in text
    assert "api_key=***" in text

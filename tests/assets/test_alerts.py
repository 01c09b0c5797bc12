"""Run failures and failed checks are posted as JSON to the webhook (a loopback server)."""
import json
from pathlib import Path

import dagster as dg
import pytest
import requests
from dagster._core.events import DagsterEventType
from pytest_httpserver import HTTPServer

from se_pipeline.assets.alerts import alert_on_check_failure, alert_on_run_failure
from se_pipeline.definitions import build_definitions
from se_pipeline.resources import WebhookNotifier, build_resources
from tests.assets.conftest import coops_uk_copy, run_job, write_config


def status_context(sensor_name: str, instance: dg.DagsterInstance, run_id: str, event_type: DagsterEventType,
                   webhook: WebhookNotifier) -> dg.RunStatusSensorContext:
    run = instance.get_run_by_id(run_id)
    [record] = instance.all_logs(run_id, of_type=event_type)
    return dg.build_run_status_sensor_context(sensor_name=sensor_name, dagster_instance=instance, dagster_run=run,
                                              dagster_event=record.dagster_event, resources={"webhook": webhook})


def posted(httpserver: HTTPServer) -> list[dict]:
    return [json.loads(request.data) for request, _ in httpserver.log]


@pytest.fixture
def webhook(httpserver: HTTPServer) -> WebhookNotifier:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    return WebhookNotifier(url=httpserver.url_for("/hook"), timeout_s=5, dagster_url="http://dagster.test")


def test_failed_run_and_failed_checks_are_posted(tmp_path: Path, instance: dg.DagsterInstance,
                                                 webhook: WebhookNotifier, httpserver: HTTPServer) -> None:
    out = tmp_path / "out"
    data = coops_uk_copy(tmp_path)
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"url": data.as_uri()}})
    defs = build_definitions(str(cfg), str(out))
    assert run_job(defs, "refresh_coops_uk", instance).success
    coops_uk_copy(tmp_path, keep=3)
    # The source shrank by more than its drop threshold: the blocking count check fails the run.
    failed = run_job(defs, "refresh_coops_uk", instance)
    assert not failed.success

    context = status_context("alert_on_run_failure", instance, failed.run_id, DagsterEventType.RUN_FAILURE, webhook)
    assert alert_on_run_failure(context.for_run_failure()) is None
    events = posted(httpserver)
    assert events[0]["event"] == "run_failure"
    assert events[0]["run_id"] == failed.run_id and events[0]["job"] == "refresh_coops_uk"
    assert events[0]["dagster_url"] == f"http://dagster.test/runs/{failed.run_id}"
    checks = {(e["asset"], e["check"]): e for e in events[1:]}
    assert {e["event"] for e in events[1:]} == {"check_failed"}
    assert set(checks) == {("coops_uk", "record_count_vs_last_good")}
    assert checks[("coops_uk", "record_count_vs_last_good")]["blocking"] is True
    assert "se-pipeline approve coops_uk" in checks[("coops_uk", "record_count_vs_last_good")]["description"]


def test_failed_check_in_a_successful_run_is_posted_once(tmp_path: Path, instance: dg.DagsterInstance,
                                                         webhook: WebhookNotifier, httpserver: HTTPServer) -> None:
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "config.yaml")
    defs = build_definitions(str(cfg), str(out))
    good = run_job(defs, "refresh_coops_uk", instance)
    assert good.success
    context = status_context("alert_on_check_failure", instance, good.run_id, DagsterEventType.RUN_SUCCESS, webhook)
    assert isinstance(alert_on_check_failure(context), dg.SkipReason)  # every check passed: nothing posted
    assert posted(httpserver) == []

    write_config(cfg, {"coops_uk": {"url": "file:///nonexistent.csv"}})
    stale = run_job(defs, "refresh_coops_uk", instance)
    assert stale.success  # the last good copy stays; fetch_succeeded is not blocking
    context = status_context("alert_on_check_failure", instance, stale.run_id, DagsterEventType.RUN_SUCCESS, webhook)
    alert_on_check_failure(context)
    [event] = posted(httpserver)
    assert event == {
        "event": "check_failed", "run_id": stale.run_id, "job": "refresh_coops_uk", "asset": "coops_uk",
        "check": "fetch_succeeded", "severity": "ERROR", "blocking": False,
        "description": event["description"], "dagster_url": f"http://dagster.test/runs/{stale.run_id}",
    }
    assert event["description"].startswith("stale:")


def test_without_a_webhook_url_alerts_are_only_logged(tmp_path: Path, instance: dg.DagsterInstance,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SE_PIPELINE_WEBHOOK_URL", raising=False)
    notifier = build_resources(None, str(tmp_path))["webhook"]
    assert isinstance(notifier, WebhookNotifier) and not notifier.enabled
    assert notifier.post({"event": "test"}) is False


def test_webhook_url_comes_from_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SE_PIPELINE_WEBHOOK_URL", "https://hooks.example.org/secret-token")
    notifier = build_resources(None, str(tmp_path))["webhook"]
    # Bound as an EnvVar: the value is resolved at run time and never shown in the UI.
    assert isinstance(notifier.url, dg.EnvVar) and notifier.url.env_var_name == "SE_PIPELINE_WEBHOOK_URL"


def test_webhook_retries_a_server_error_then_gives_up_loudly(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("busy", status=503)
    httpserver.expect_ordered_request("/hook", method="POST").respond_with_data("ok")
    notifier = WebhookNotifier(url=httpserver.url_for("/hook"), retries=2, backoff_s=0.01)
    assert notifier.post({"event": "test"}) is True
    assert len(httpserver.log) == 2

    httpserver.clear()
    httpserver.expect_request("/hook", method="POST").respond_with_data("down", status=500)
    with pytest.raises(requests.HTTPError):
        notifier.post({"event": "test"})
    assert len(httpserver.log) == 3  # 1 + 2 retries

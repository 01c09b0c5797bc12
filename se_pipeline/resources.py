"""Dagster resources: run settings, the shared HTTP client, and API keys from the environment.

Resources are configuration, not logic: they turn the environment (`SE_PIPELINE_CONFIG`,
`SE_PIPELINE_OUTPUT`, API key variables) into the objects the stage functions take.
API keys are bound with `dg.EnvVar`, so their values never appear in code, in the UI or
in logs; a source whose key is not set still runs from its bundled sample. The alerting
webhook (`SE_PIPELINE_WEBHOOK_URL`) is bound the same way: unset means "no alerts".
"""
from __future__ import annotations

import os
from typing import Optional

import dagster as dg
import requests
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from se_pipeline.acquire.http import HttpClient
from se_pipeline.settings import Settings, load_settings
from se_pipeline.sources.registry import all_sources

HttpResource = HttpClient
"""The shared HTTP client as assets take it: `def coops_uk(context, http: HttpResource)`."""


class SettingsResource(dg.ConfigurableResource):
    """Where output goes and which config file repoints sources (see `settings.py`);
    `load()` validates the file, so a bad config fails with its one-line `ConfigError`."""

    config_file: Optional[str] = None
    output_dir: Optional[str] = None

    def load(self) -> Settings:
        return load_settings(self.config_file, self.output_dir)


class ApiKey(dg.ConfigurableResource):
    """One source API key, injected from the environment with `dg.EnvVar`."""

    api_key: Optional[str] = None


class WebhookNotifier(dg.ConfigurableResource):
    """Posts alert events as JSON to a webhook (Slack/Matrix/Mattermost bridges, a ticket
    system, …). `url` comes from `SE_PIPELINE_WEBHOOK_URL`; when it is unset the
    notifier is off and the alert sensors only log. `dagster_url` (from
    `SE_PIPELINE_DAGSTER_URL`, e.g. `https://dagster.example.org`) adds a link to the run."""

    url: Optional[str] = None
    timeout_s: float = 10.0
    retries: int = 2
    backoff_s: float = 1.0
    dagster_url: Optional[str] = None

    @property
    def enabled(self) -> bool:
        return bool(self.url)

    def run_link(self, run_id: str) -> Optional[str]:
        return f"{self.dagster_url.rstrip('/')}/runs/{run_id}" if self.dagster_url else None

    def post(self, payload: dict) -> bool:
        """POST `payload` as JSON; True when sent, False when no URL is configured.

        Tries `1 + retries` times (connection errors, timeouts, 5xx, 429) with an
        exponential backoff, then raises `requests.RequestException`: Dagster shows the
        error on the sensor's tick and in the failed run's log (the alert is not re-sent later)."""
        if not self.url:
            return False
        retrying = Retrying(stop=stop_after_attempt(self.retries + 1), retry=retry_if_exception(_worth_retrying),
                            wait=wait_exponential(multiplier=self.backoff_s), reraise=True)
        for attempt in retrying:
            with attempt:
                response = requests.post(self.url, json=payload, timeout=self.timeout_s,
                                         headers={"User-Agent": "se-pipeline-alerts"})
                response.raise_for_status()  # 4xx: the URL or payload is wrong; not retried
        return True


def _worth_retrying(error: BaseException) -> bool:
    """Connection problems, timeouts, 5xx and 429 may pass; other errors will not."""
    if isinstance(error, requests.HTTPError):
        status = error.response.status_code if error.response is not None else 0
        return status >= 500 or status == 429
    return isinstance(error, (requests.ConnectionError, requests.Timeout))


def api_key_resource_name(env_var: str) -> str:
    return "api_key_" + env_var.lower()


def build_resources(config_file: str | None = None, output_dir: str | None = None) -> dict[str, object]:
    """Resources for `Definitions`; CLI arguments win over the environment."""
    settings = SettingsResource(
        config_file=config_file or os.environ.get("SE_PIPELINE_CONFIG"),
        output_dir=output_dir or os.environ.get("SE_PIPELINE_OUTPUT"),
    )
    resources: dict[str, object] = {
        "settings": settings,
        "http": HttpResource(**settings.load().http.model_dump()),
        "webhook": WebhookNotifier(
            url=dg.EnvVar("SE_PIPELINE_WEBHOOK_URL") if os.environ.get("SE_PIPELINE_WEBHOOK_URL") else None,
            dagster_url=dg.EnvVar("SE_PIPELINE_DAGSTER_URL") if os.environ.get("SE_PIPELINE_DAGSTER_URL") else None,
        ),
    }
    for spec in all_sources().values():
        if spec.api_key_env:
            key = dg.EnvVar(spec.api_key_env) if os.environ.get(spec.api_key_env) else None
            resources[api_key_resource_name(spec.api_key_env)] = ApiKey(api_key=key)
    return resources

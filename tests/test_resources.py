"""Assets take the run's resources as typed parameters, built from the typed config."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from se_pipeline.config_errors import ConfigError
from se_pipeline.resources import HttpResource, SettingsResource, build_resources


def test_assets_receive_typed_settings_and_http(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("http: {read_timeout_s: 7, max_retries: 1}\nsources: {dotcoop: {enabled: false}}\n")
    seen = {}

    @dg.asset
    def probe(context, settings: SettingsResource, http: HttpResource) -> None:
        seen["enabled"] = settings.load().enabled("dotcoop")
        seen["http"] = (type(http), http.read_timeout_s, http.max_retries)

    resources = build_resources(str(config), str(tmp_path / "out"))
    assert dg.materialize([probe], resources=resources).success
    assert seen == {"enabled": False, "http": (HttpResource, 7.0, 1)}


def test_a_bad_config_fails_when_the_resources_are_built(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("http: {read_timeout: 7}\n")
    with pytest.raises(ConfigError, match=r"http\.read_timeout: unknown key \(allowed: connect_timeout_s, read_timeout_s,"):
        build_resources(str(config), str(tmp_path / "out"))

"""The run config is typed: a value of the wrong type or an unknown key is a one-line
error naming the file, the key path and what is allowed, and `se-pipeline run` exits 2
without a traceback and without running anything."""
from __future__ import annotations

from pathlib import Path

import pytest

from se_pipeline.acquire.http import HttpClient
from se_pipeline.cli import main
from se_pipeline.settings import BUNDLED_SAMPLES, ConfigError, HttpOptions, Settings, load_settings


def run_cli(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    config = tmp_path / "my.yaml"
    config.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    status = main(["run", "--config", str(config), "--output", str(out)])
    return status, capsys.readouterr().err, out


@pytest.mark.parametrize("text, expected", [
    ('sources: {coops_uk: {enabled: "no"}}\n',
     "sources.coops_uk.enabled: expected true or false, got 'no'"),
    ("sources: {coops_uk: {urll: https://www.uk.coop/x.csv}}\n",
     "sources.coops_uk.urll: unknown key (allowed: enabled, url, allowed_hosts, max_bytes, total_budget_s)"),
    ("sources: {coops_uk: {allowed_hosts: www.uk.coop}}\n",
     "sources.coops_uk.allowed_hosts: expected a list, e.g. [a, b], got 'www.uk.coop'"),
    ("sources: {coops_uk: {url: 123}}\n",
     "sources.coops_uk.url: expected a URL (https://…, http://… or file:///path), got 123"),
    ("sources: {coops_uk: {total_budget_s: ten}}\n",
     "sources.coops_uk.total_budget_s: expected a number, got 'ten'"),
    ("http: {max_bytes: '1000'}\n", "http.max_bytes: expected a whole number, got '1000'"),
    ("http: {allow_privat_addresses: true}\n", "http.allow_privat_addresses: unknown key (allowed: connect_timeout_s,"),
    ("sources: {usda_csa: {states: VT}}\n", "sources.usda_csa.states: expected a list, e.g. [a, b], got 'VT'"),
    ("sources: {usda_csa: {state: [VT]}}\n", "sources.usda_csa.state: unknown key (allowed: enabled, url, allowed_hosts, "
                                             "max_bytes, total_budget_s, states)"),
    ("sources: {coops_uk: {states: [VT]}}\n", "sources.coops_uk.states: unknown key"),  # usda_csa's option only
    ("source: {coops_uk: {}}\n", "source: unknown key (allowed: base_iri, output, sources, http, file_roots, geocoding, page_languages, "
     "download_base, retention)"),
    ("file_roots: /srv\n", "file_roots: expected a list, e.g. [a, b], got '/srv'"),
    ("retention: {keep_last: -1}\n", "retention.keep_last: input should be greater than or equal to 0, got -1"),
    ("retention: {keep_lats: 3}\n", "retention.keep_lats: unknown key (allowed: keep_last, keep_months)"),
])
def test_config_probe_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          text: str, expected: str) -> None:
    status, err, out = run_cli(tmp_path, text, capsys)
    assert status == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"se-pipeline: config {tmp_path / 'my.yaml'}: {expected}")
    assert not (out / "releases").exists()  # nothing ran


def test_enabled_false_is_a_boolean(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sources: {dotcoop: {enabled: false}, coops_uk: {enabled: true}}\n")
    settings = load_settings(config)
    assert not settings.enabled("dotcoop") and settings.enabled("coops_uk") and settings.enabled("wfto")


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sources:\n  coops_uk: {url: [\n")
    with pytest.raises(ConfigError, match=r"^config .*c\.yaml: not valid YAML at line \d+, column \d+"):
        load_settings(config)


def test_source_options_are_typed_and_plain_for_adapters(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("sources:\n  usda_csa: {url: 'https://www.usdalocalfoodportal.com/api/csa/', states: [vt, ' NY']}\n"
                      "  murmurations: {schema: my_schema-v1, pages: 2}\n")
    settings = load_settings(config)
    assert settings.source_options("usda_csa") == {
        "enabled": True, "url": "https://www.usdalocalfoodportal.com/api/csa/", "states": ["VT", "NY"]}
    assert settings.source_options("murmurations") == {"enabled": True, "schema": "my_schema-v1", "pages": 2}
    assert settings.source_options("coops_uk") == {"enabled": True}


def test_http_options_are_the_clients_fields_and_reach_the_client(tmp_path: Path) -> None:
    """`http:` in the config sets exactly the HTTP client's fields (declared once, on the
    client), with its defaults and bounds, and the client Dagster's steps get has them."""
    from se_pipeline.resources import build_resources

    client = HttpClient()
    assert HttpOptions().model_dump() == {name: getattr(client, name) for name in HttpClient.model_fields}
    config = tmp_path / "c.yaml"
    config.write_text("http: {max_retries: 2, read_timeout_s: 3.5, allow_http: true}\n")
    http = build_resources(str(config), str(tmp_path / "out"))["http"]
    assert (http.max_retries, http.read_timeout_s, http.allow_http, http.connect_timeout_s) == (2, 3.5, True, 5.0)
    config.write_text("http: {connect_timeout_s: 0}\n")
    with pytest.raises(ConfigError, match=r"http.connect_timeout_s: input should be greater than 0, got 0$"):
        load_settings(config)


def test_file_roots_default_to_the_config_folder_and_the_samples(tmp_path: Path) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("{}\n")
    assert load_settings(config).allowed_file_roots == (tmp_path.resolve(), BUNDLED_SAMPLES)
    config.write_text("file_roots: [exports, /srv/data]\n")
    assert load_settings(config).allowed_file_roots == (tmp_path.resolve() / "exports", Path("/srv/data"),
                                                        BUNDLED_SAMPLES)
    assert load_settings(None).allowed_file_roots == (BUNDLED_SAMPLES,)


def test_settings_built_in_code_are_validated_too(tmp_path: Path) -> None:
    settings = Settings(output_dir=tmp_path, sources={"usda_csa": {"states": ["VT"]}})
    assert settings.source_options("usda_csa")["states"] == ["VT"]
    with pytest.raises(ValueError, match="enabled"):
        Settings(sources={"coops_uk": {"enabled": "no"}})

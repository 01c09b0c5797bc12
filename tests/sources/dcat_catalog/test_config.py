"""`sources: {<partner>: {kind: dcat_catalog, url: …}}`: typed options with one-line errors,
and each partner a source like any other in the Dagster definitions (asset, checks,
graph asset, job, schedule, sensor)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from se_pipeline.settings import ConfigError, load_settings
from se_pipeline.sources.dcat_catalog.options import Options

ROOT = Path(__file__).resolve().parents[3]


def _load(tmp_path: Path, sources: dict) -> object:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": sources}), encoding="utf-8")
    return load_settings(config)


def test_partners_are_typed_as_many_as_configured(tmp_path: Path) -> None:
    settings = _load(tmp_path, {
        "rede_br": {"kind": "dcat_catalog", "url": "https://rede.example.org/catalog.ttl"},
        "chantier_qc": {"kind": "dcat_catalog", "url": "https://chantier.example.org/dcat", "cadence": "weekly"},
        "wfto": {"enabled": False},
    })
    rede, chantier = settings.source_config("rede_br"), settings.source_config("chantier_qc")
    assert isinstance(rede, Options) and isinstance(chantier, Options)
    assert rede.url == "https://rede.example.org/catalog.ttl" and rede.cadence == "daily" and chantier.cadence == "weekly"
    assert settings.enabled("rede_br") and not settings.enabled("wfto")


@pytest.mark.parametrize("entry, says", [
    ({"kind": "dcat_catalog"}, "sources.rede.url: required key missing"),
    ({"kind": "dcat_catalog", "url": "catalog.ttl"}, "sources.rede.url: expected a URL"),
    ({"kind": "dcat_catalog", "url": "https://x.example/c", "pages": 3}, "sources.rede.pages: unknown key"),
    ({"kind": "ckan", "url": "https://x.example/c"}, "sources.rede: kind 'ckan' is not allowed (allowed: dcat_catalog)"),
    ({"kind": "dcat_catalog", "url": "https://x.example/c", "cadence": "hourly"}, "sources.rede.cadence: 'hourly' is not allowed"),
])
def test_a_wrong_partner_entry_is_one_line_naming_the_key(tmp_path: Path, entry: dict, says: str) -> None:
    with pytest.raises(ConfigError) as e:
        _load(tmp_path, {"rede": entry})
    assert says in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("name, says", [("wfto", "is a bundled source"), ("Rede-BR", "lower-case letters")])
def test_a_partner_cannot_take_a_bundled_sources_name_or_an_unsafe_one(tmp_path: Path, name: str, says: str) -> None:
    with pytest.raises(ConfigError, match=says):
        _load(tmp_path, {name: {"kind": "dcat_catalog", "url": "https://x.example/c"}})


def test_each_partner_gets_the_assets_checks_job_schedule_and_sensor_of_a_source(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": {
        "rede_br": {"kind": "dcat_catalog", "url": "https://rede.example.org/catalog.ttl", "cadence": "weekly"}}}))
    probe = """
import json
from se_pipeline.definitions import build_definitions
d = build_definitions()
g = d.resolve_asset_graph()
keys = {k.to_user_string() for k in g.get_all_asset_keys()}
checks = sorted(c.name for c in g.asset_check_keys if c.asset_key.to_user_string() == "rede_br")
release_deps = sorted(k.to_user_string() for k in g.get(dg.AssetKey("release")).parent_keys)
print(json.dumps({"assets": sorted(k for k in keys if "rede" in k), "checks": checks,
                  "graph_check": [c.name for c in g.asset_check_keys if c.asset_key.to_user_string() == "rede_br_graph"],
                  "release_deps": [k for k in release_deps if "rede" in k],
                  "schedules": [s.name for s in d.schedules if "rede" in s.name],
                  "sensors": [s.name for s in d.sensors if "rede" in s.name],
                  "job": d.resolve_job_def("refresh_rede_br").name}))
"""
    env = {**os.environ, "SE_PIPELINE_CONFIG": str(config), "SE_PIPELINE_OUTPUT": str(tmp_path / "out")}
    done = subprocess.run([sys.executable, "-c", "import dagster as dg\n" + probe], capture_output=True, text=True,
                          env=env, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found == {
        "assets": ["rede_br", "rede_br_graph"],
        "checks": ["fetch_succeeded", "licence_present", "quarantine_share", "record_count_vs_last_good"],
        "graph_check": ["shacl_conforms"], "release_deps": ["rede_br_graph"],
        "schedules": ["refresh_rede_br_weekly"], "sensors": ["rede_br_upstream_changed"], "job": "refresh_rede_br",
    }

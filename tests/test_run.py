"""How `se-pipeline run` chooses its Dagster instance, executor and steps (the runs
themselves: tests/test_cli.py)."""
from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
import yaml

from se_pipeline.run import dagster_home, enabled_assets, executor_config, publish_job
from se_pipeline.settings import Settings
from se_pipeline.sources.registry import all_sources


def test_the_instance_is_the_output_folders_unless_dagster_home_is_set(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DAGSTER_HOME", raising=False)
    settings = Settings(output_dir=tmp_path / "out")
    home = dagster_home(settings)
    assert home == tmp_path / "out" / ".dagster" and home.is_dir()
    config = yaml.safe_load((home / "dagster.yaml").read_text())
    assert config == {"telemetry": {"enabled": False}, "nux": {"enabled": False}}
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: true\n")  # a steward's own settings stay
    assert dagster_home(settings) == home and "true" in (home / "dagster.yaml").read_text()
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "elsewhere"))
    assert dagster_home(settings) == tmp_path / "elsewhere"


def test_the_executors_are_dagsters_own() -> None:
    job = publish_job()
    for name in ("in_process", "multiprocess"):
        config = {"execution": {"config": executor_config(name, 3)}}
        assert dg.validate_run_config(job, config)  # raises if the job's executor does not take it
    assert executor_config("multiprocess", 3)["multiprocess"]["max_concurrent"] == 3
    with pytest.raises(ValueError, match="unknown executor 'threads'"):
        executor_config("threads", 2)


def test_switched_off_sources_have_no_steps(tmp_path: Path) -> None:
    settings = Settings(output_dir=tmp_path, sources={"wfto": {"enabled": False}, "ica": {"enabled": False}})
    job = publish_job(None, str(tmp_path))
    every = set(job.asset_layer.selected_asset_keys)
    kept = set(enabled_assets(job, settings))
    assert every - kept == {dg.AssetKey(k) for k in ("wfto", "wfto_graph", "ica", "ica_graph")}
    assert {dg.AssetKey(k) for k in ("release", "enterprise_links", "partner_exports", *all_sources())} - \
        {dg.AssetKey("wfto"), dg.AssetKey("ica")} <= kept



def test_a_partner_named_by_the_config_is_in_the_run_whoever_calls_run_publish(tmp_path: Path) -> None:
    """`run_publish` itself makes the config's partner catalogs sources of the job it runs
    (the code location reads them from `SE_PIPELINE_CONFIG` when it is first imported),
    then restores the environment: a script calling it, not only the CLI, gets them."""
    import json
    import os
    import subprocess
    import sys

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"sources": {
        "rede_br": {"kind": "dcat_catalog", "url": "https://rede.example.org/catalog.ttl"}}}))
    script = """
import json, os, sys
from se_pipeline import run
from se_pipeline.settings import Settings
seen = {}
def execute(settings, config_file, *args):
    seen["env"] = os.environ.get("SE_PIPELINE_CONFIG")
    job = run.publish_job(config_file, str(settings.output_dir))
    seen["assets"] = sorted(k.to_user_string() for k in job.asset_layer.executable_asset_keys if "rede" in k.to_user_string())
    return run.Outcome(True)
run._execute_publish = execute
ok = run.run_publish(Settings(output_dir=sys.argv[2]), sys.argv[1]).success
print(json.dumps({**seen, "ok": ok, "after": os.environ.get("SE_PIPELINE_CONFIG")}))
"""
    env = {k: v for k, v in os.environ.items() if k != "SE_PIPELINE_CONFIG"}
    done = subprocess.run([sys.executable, "-c", script, str(config), str(tmp_path / "out")],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {
        "env": str(config.resolve()), "assets": ["rede_br", "rede_br_graph"], "ok": True, "after": None}

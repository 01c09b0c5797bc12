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
    with pytest.raises(ValueError, match="unknown executor 'lanes'"):
        executor_config("lanes", 2)


def test_switched_off_sources_have_no_steps(tmp_path: Path) -> None:
    settings = Settings(output_dir=tmp_path, sources={"wfto": {"enabled": False}, "ica": {"enabled": False}})
    job = publish_job(None, str(tmp_path))
    every = set(job.asset_layer.selected_asset_keys)
    kept = set(enabled_assets(job, settings))
    assert every - kept == {dg.AssetKey(k) for k in ("wfto", "wfto_graph", "ica", "ica_graph")}
    assert {dg.AssetKey(k) for k in ("release", "enterprise_links", "partner_exports", *all_sources())} - \
        {dg.AssetKey("wfto"), dg.AssetKey("ica")} <= kept

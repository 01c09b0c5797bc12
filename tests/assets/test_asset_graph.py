"""Snapshot of the asset graph: refactors must not silently change what stewards see.

Regenerate after an intended change with `UPDATE_SNAPSHOTS=1 pytest tests/assets`.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from se_pipeline.definitions import build_definitions
from se_pipeline.sources.registry import all_sources

SNAPSHOT = Path(__file__).with_name("asset_graph.snapshot.json")


def graph_snapshot(defs: dg.Definitions) -> dict:
    repo = defs.get_repository_def()
    graph = repo.asset_graph
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        own_step = repo.assets_defs_by_key[key].check_keys if key in repo.assets_defs_by_key else set()
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "deps": sorted(k.to_user_string() for k in node.parent_keys),
            "checks": sorted(
                (c.name + (" (blocking)" if graph.get(c).blocking else ""))
                for c in graph.asset_check_keys if c.asset_key == key
            ),
            # checks reported by the asset's own step (`check_specs`), not separate steps
            "checks_in_asset_step": sorted(c.name for c in own_step if c.asset_key == key),
            # our op tags: the executor's concurrency limits match them
            "op_tags": {k: v for k, v in (repo.assets_defs_by_key[key].op.tags.items() if key in repo.assets_defs_by_key
                                          and repo.assets_defs_by_key[key].is_executable else ()) if k.startswith("se-pipeline/")},
        }
    return {
        "assets": assets,
        "jobs": sorted(j.name for j in repo.get_all_jobs() if not j.name.startswith("__")),
        # what runs from the UI, schedules and sensors execute with (not the machine's core count)
        "publish_executor": {k: v for k, v in _publish_executor(repo).items() if k in ("tag_concurrency_limits",)},
        "schedules": sorted(s.name for s in repo.schedule_defs),
        "sensors": sorted(s.name for s in repo.sensor_defs),
    }


def _publish_executor(repo: dg.RepositoryDefinition) -> dict:
    """The executor config in the `publish` job's default run config."""
    return repo.get_job("publish").run_config["execution"]["config"]["multiprocess"]  # type: ignore[index, no-any-return]


def test_definitions_load_and_match_snapshot(tmp_path: Path) -> None:
    defs = build_definitions(output_dir=str(tmp_path))
    snap = graph_snapshot(defs)
    if os.environ.get("UPDATE_SNAPSHOTS") or not SNAPSHOT.exists():
        SNAPSHOT.write_text(json.dumps(snap, indent=1, sort_keys=True) + "\n")
    assert snap == json.loads(SNAPSHOT.read_text())


def test_every_source_has_its_asset_pair_and_the_release_depends_on_all(tmp_path: Path) -> None:
    snap = graph_snapshot(build_definitions(output_dir=str(tmp_path)))
    for name in all_sources():
        assert snap["assets"][name]["group"] == "sources"
        assert snap["assets"][f"{name}_graph"]["deps"] == [name]
        assert "shacl_conforms (blocking)" in snap["assets"][f"{name}_graph"]["checks"]
        assert f"{name}_graph" in snap["assets"]["release"]["deps"]

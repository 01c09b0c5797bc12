"""What a steward does in the Dagster UI, run with Dagster's own testing APIs.

* re-run one source alone (`refresh_coops_uk`): only its two assets materialise, and the
  release's automation condition then asks for a new release, which picks it up;
* a source that cannot be fetched: `fetch_succeeded` fails, the release republishes its
  last good data, and the catalog marks it stale;
* a source that shrinks below its `drop_threshold`: the blocking check
  `record_count_vs_last_good` stops the run before the release (`latest` unchanged) until
  `se-pipeline approve`, after which the next run publishes.
"""
import hashlib
import os
from pathlib import Path

import dagster as dg
import pytest
import rdflib

from se_pipeline.cli import main as cli_main
from se_pipeline.definitions import build_definitions
from se_pipeline.namespaces import SE_SOURCE, SEP
from se_pipeline.state import SourceState, read_json
from tests.assets.conftest import check_outcomes, coops_uk_copy, materialized, run_job, write_config

pytestmark = pytest.mark.slow


def latest_target(out: Path) -> str:
    return os.readlink(out / "latest")


def release_meta(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [m for m in result.asset_materializations_for_node("release")]
    return {k: v.value for k, v in event.metadata.items()}


def test_one_source_reruns_alone_and_the_release_picks_it_up(tmp_path: Path, instance: dg.DagsterInstance) -> None:
    out = tmp_path / "out"
    data = coops_uk_copy(tmp_path)
    cfg = write_config(tmp_path / "config.yaml", {"coops_uk": {"url": data.as_uri()}})
    defs = build_definitions(str(cfg), str(out))

    first = run_job(defs, "publish", instance)
    assert first.success
    before = latest_target(out)
    first_sha = hashlib.sha256(data.read_bytes()).hexdigest()
    rows_before = read_json(SourceState.of(out / "state", "coops_uk").good / "status.json")["rows"]
    usfwc_good = SourceState.of(out / "state", "usfwc").good / "status.json"
    usfwc_mtime = usfwc_good.stat().st_mtime_ns
    # The automation condition's first evaluation sets its baseline: nothing to do after a publish.
    baseline = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                 asset_selection=dg.AssetSelection.assets("release"))
    assert baseline.get_num_requested(dg.AssetKey("release")) == 0

    coops_uk_copy(tmp_path, keep=rows_before - 1)  # upstream lost one record (well above the drop threshold)
    refresh = run_job(defs, "refresh_coops_uk", instance)
    assert refresh.success
    assert materialized(refresh) == {"coops_uk", "coops_uk_graph"}
    assert all(check_outcomes(refresh).values())
    # Nothing else moved: the other source, the release and `latest` are as the publish left them.
    assert usfwc_good.stat().st_mtime_ns == usfwc_mtime
    for key in ("usfwc", "usfwc_graph", "release"):
        assert instance.get_latest_materialization_event(dg.AssetKey(key)).run_id == first.run_id
    assert latest_target(out) == before
    rows_after = read_json(SourceState.of(out / "state", "coops_uk").good / "status.json")["rows"]
    assert rows_after < rows_before

    # The automation condition on `release` asks for a new release ...
    evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance,
                                                   asset_selection=dg.AssetSelection.assets("release"),
                                                   cursor=baseline.cursor)
    assert evaluation.get_num_requested(dg.AssetKey("release")) == 1
    # ... and that release picks the refreshed source up.
    released = dg.materialize([defs.resolve_assets_def("release")], instance=instance)  # resources bound by defs
    assert released.success
    assert latest_target(out) != before
    assert release_meta(released)["stale_sources"] == "none"
    # Its catalog names the refreshed fetch of coops_uk (the new file's sha256), and the old one no more.
    catalog = (out / "latest" / "catalog.ttl").read_text(encoding="utf-8")
    assert hashlib.sha256(data.read_bytes()).hexdigest() in catalog
    assert first_sha not in catalog


def test_a_failing_source_is_republished_stale_from_its_last_good_copy(tmp_path: Path,
                                                                        instance: dg.DagsterInstance) -> None:
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "config.yaml")
    defs = build_definitions(str(cfg), str(out))
    first = run_job(defs, "publish", instance)
    assert first.success

    write_config(cfg, {"coops_uk": {"url": "file:///nonexistent.csv"}})  # settings are read at run time
    second = run_job(defs, "publish", instance)
    assert second.success  # fetch_succeeded is not blocking: the rest of the data is published
    checks = check_outcomes(second)
    assert checks["coops_uk:fetch_succeeded"] is False
    assert checks["coops_uk:record_count_vs_last_good"] is True  # judged on the last good copy
    assert checks["coops_uk_graph:shacl_conforms"] is True
    meta = release_meta(second)
    assert meta["stale_sources"] == "coops_uk"
    assert meta["triples"] == release_meta(first)["triples"]  # the same (last good) data
    assert latest_target(out).endswith(meta["release_id"])

    catalog = rdflib.Graph().parse(out / "latest" / "catalog.ttl")
    stale = {str(s).rsplit("/", 1)[-1]: o.toPython() for s, o in catalog.subject_objects(rdflib.URIRef(SEP + "stale"))}
    assert stale["coops_uk"] is True and stale["usfwc"] is False
    reason = catalog.value(rdflib.URIRef(SE_SOURCE + "coops_uk"), rdflib.URIRef(SEP + "staleReason"))
    assert "nonexistent.csv" in str(reason)


def test_a_blocking_check_holds_the_release_until_a_steward_approves(tmp_path: Path,
                                                                     instance: dg.DagsterInstance) -> None:
    out = tmp_path / "out"
    cfg = write_config(tmp_path / "config.yaml")
    defs = build_definitions(str(cfg), str(out))
    assert run_job(defs, "publish", instance).success
    before = latest_target(out)

    shrunk = coops_uk_copy(tmp_path, keep=3)  # far below coops_uk's drop_threshold
    write_config(cfg, {"coops_uk": {"url": shrunk.as_uri()}})
    held = run_job(defs, "publish", instance)
    assert not held.success
    assert check_outcomes(held)["coops_uk:record_count_vs_last_good"] is False
    assert "coops_uk_graph" not in materialized(held)
    assert "release" not in materialized(held)
    assert latest_target(out) == before  # output/latest unchanged

    assert cli_main(["approve", "coops_uk", "--by", "test", "--config", str(cfg), "--output", str(out)]) == 0
    approved = run_job(defs, "publish", instance)
    assert approved.success
    assert check_outcomes(approved)["coops_uk:record_count_vs_last_good"] is True
    assert "release" in materialized(approved)
    assert latest_target(out) != before
    assert read_json(SourceState.of(out / "state", "coops_uk").good / "status.json")["rows"] <= 3
